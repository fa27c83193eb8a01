//! `rapko sbom IMAGE`: SBOMs for an image rapko built before, read from the image itself
//! (its apk database, os-release and packages' own SBOMs), for users who kept only the image.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rapko_oci::ImageName;

use crate::cmd::build::SbomArgs;

#[derive(clap::Args, Debug)]
pub struct SbomCommandArgs {
    /// An OCI image layout directory, or a tarball `rapko build` wrote
    pub image: PathBuf,
    /// Which image of the layout (its tag or full name), when it holds several
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub sbom: SbomArgs,
}

pub fn run(args: &SbomCommandArgs) -> anyhow::Result<()> {
    let unpacked;
    let layout: &Path = if args.image.is_dir() {
        &args.image
    } else {
        unpacked = unpack(&args.image)?;
        unpacked.path()
    };
    let build = rapko_build::inspect::open_layout(layout, args.name.as_deref())?;
    let name = image_name(layout, args.name.as_deref())?;
    // As `rapko build` does (and --sbom-path's help says): beside a tarball, inside a layout.
    let default_dir = if args.image.is_dir() {
        args.image.clone()
    } else {
        args.image
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_owned)
    };
    for path in args.sbom.write(&build, &name, &default_dir)? {
        println!("{}", path.display());
    }
    Ok(())
}

/// Unpacks a layout tarball into a temporary directory.
fn unpack(tarball: &Path) -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let file = std::fs::File::open(tarball)
        .with_context(|| format!("cannot open {}", tarball.display()))?;
    tar::Archive::new(std::io::BufReader::new(file))
        .unpack(dir.path())
        .with_context(|| format!("{} is not an image tarball", tarball.display()))?;
    Ok(dir)
}

/// The image's name: `--name`, else the one `index.json` records, else `image:latest`.
fn image_name(layout: &Path, name: Option<&str>) -> anyhow::Result<ImageName> {
    let recorded = std::fs::read(layout.join("index.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v["manifests"][0]["annotations"]["io.containerd.image.name"]
                .as_str()
                .map(|n| familiar(n).to_owned())
        });
    let text = match (name, recorded) {
        (Some(n), _) if n.contains(':') || n.contains('/') => n.to_owned(),
        (_, Some(r)) => r,
        _ => "image:latest".to_owned(),
    };
    text.parse()
        .with_context(|| format!("invalid image name {text:?}"))
}

/// Docker's familiar form of a normalized name: index.json records `demo:1.0` as
/// `docker.io/library/demo:1.0` and `team/demo:1.0` as `docker.io/team/demo:1.0`; the build's
/// SBOMs name the image as it was given, so these must too.
fn familiar(name: &str) -> &str {
    match name.strip_prefix("docker.io/") {
        Some(rest) => rest
            .strip_prefix("library/")
            .filter(|r| !r.contains('/'))
            .unwrap_or(rest),
        None => name,
    }
}
