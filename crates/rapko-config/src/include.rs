//! Loading a configuration file and the chain of files it includes.
//!
//! `include` is a path relative to the including file; apko resolves it
//! against the current directory instead (its own example `include:
//! examples/alpine-base.yaml` is relative to the repository root), so that is
//! tried second. Includes nest; a file that includes itself, directly or not,
//! is an error naming the loop. apko's remote includes (`github.com/...@ref`)
//! are not fetched: they are reported as not found.

use std::path::{Path, PathBuf};

use crate::{ConfigError, ImageConfiguration, merge, yaml};

/// A file being loaded: its path as shown to the user, and as compared for loops.
struct Frame {
    shown: PathBuf,
    canonical: PathBuf,
}

/// Reads `path` and everything it includes, merged; no defaults or validation.
pub(crate) fn load_merged(path: &Path) -> Result<ImageConfiguration, ConfigError> {
    load_file(path, &mut Vec::new())
}

/// Parses `text` as if read from `origin` and follows its includes.
pub(crate) fn parse_merged(text: &str, origin: &Path) -> Result<ImageConfiguration, ConfigError> {
    let doc = yaml::parse(text, origin)?;
    let mut stack = Vec::new();
    // The origin may not exist on disk (text from stdin); it is then not part of loop checks.
    if let Ok(canonical) = origin.canonicalize() {
        stack.push(Frame {
            shown: origin.to_path_buf(),
            canonical,
        });
    }
    follow_include(doc, origin, &mut stack)
}

fn load_file(path: &Path, stack: &mut Vec<Frame>) -> Result<ImageConfiguration, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let canonical = path.canonicalize().map_err(read_error)?;
    if let Some(start) = stack.iter().position(|f| f.canonical == canonical) {
        let mut chain: Vec<PathBuf> = stack[start..].iter().map(|f| f.shown.clone()).collect();
        chain.push(path.to_path_buf());
        return Err(ConfigError::IncludeCycle { chain });
    }
    let text = read_capped(path).map_err(read_error)?;
    let doc = yaml::parse(&text, path)?;
    stack.push(Frame {
        shown: path.to_path_buf(),
        canonical,
    });
    let merged = follow_include(doc, path, stack);
    stack.pop();
    merged
}

/// Merges `doc` (read from `file`, already on the stack) over its include, if any.
fn follow_include(
    doc: ImageConfiguration,
    file: &Path,
    stack: &mut Vec<Frame>,
) -> Result<ImageConfiguration, ConfigError> {
    if doc.include.is_empty() {
        return Ok(doc);
    }
    let included = resolve(file, &doc.include)?;
    let base = load_file(&included, stack)?;
    Ok(merge::merge(base, doc))
}

/// Finds the file `include` names: beside `file` first, then from the current directory.
fn resolve(file: &Path, include: &str) -> Result<PathBuf, ConfigError> {
    let named = Path::new(include);
    let mut tried = Vec::new();
    if named.is_relative() {
        let dir = file.parent().unwrap_or(Path::new(""));
        tried.push(dir.join(named));
    }
    if !tried.iter().any(|t| t == named) {
        tried.push(named.to_path_buf());
    }
    if let Some(found) = tried.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    // Something is there but it is not a file: saying "not found" would send the user
    // looking for a typo.
    if let Some((found, meta)) = tried
        .iter()
        .find_map(|p| std::fs::metadata(p).ok().map(|m| (p, m)))
    {
        return Err(ConfigError::IncludeNotAFile {
            file: file.to_path_buf(),
            include: include.to_string(),
            found: found.clone(),
            what: if meta.is_dir() {
                "a directory"
            } else {
                "not a regular file"
            },
        });
    }
    Err(ConfigError::IncludeNotFound {
        file: file.to_path_buf(),
        include: include.to_string(),
        tried,
    })
}

/// The most a config file may hold. apko configs are a few KiB; the cap keeps a mistaken
/// `/dev/zero` (or any endless stream) from eating memory.
pub(crate) const MAX_CONFIG_SIZE: u64 = 16 << 20;

/// Reads a config file as UTF-8, refusing one over [`MAX_CONFIG_SIZE`]. Pipes and process
/// substitutions are still accepted (hence no file-type check).
fn read_capped(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_CONFIG_SIZE + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CONFIG_SIZE {
        return Err(std::io::Error::other(format!(
            "it is larger than {} MiB, which no image configuration is; check the path",
            MAX_CONFIG_SIZE >> 20
        )));
    }
    String::from_utf8(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
}
