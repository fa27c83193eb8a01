//! `rapko build` (the main job) and `rapko build-minirootfs`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rapko_build::BuildOptions;
use rapko_oci::{ImageName, TaggedImage, TarballOptions};

use crate::cmd::common::{BuildFlags, ConfigArgs, FetchArgs, build_time};
use crate::cmd::workdir::{self, WorkDir};

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The image name and tag, e.g. example.com/app:1.0
    pub tag: String,
    /// A file: one tarball that is an OCI layout and docker-loadable; an existing
    /// directory: an OCI image layout there
    pub output: PathBuf,
    #[command(flatten)]
    pub fetch: FetchArgs,
    #[command(flatten)]
    pub build: BuildFlags,
    #[command(flatten)]
    pub sbom: SbomArgs,
}

#[derive(clap::Args, Debug)]
pub struct SbomArgs {
    /// Write SBOMs (`--sbom=false` to skip)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub sbom: bool,
    /// Directory for the SBOMs (build: default OUTPUT's directory, or OUTPUT when it is a
    /// layout; publish: written only when given)
    #[arg(long)]
    pub sbom_path: Option<PathBuf>,
    /// SBOM formats, comma separated: spdx, cyclonedx
    #[arg(long, value_delimiter = ',', default_value = "spdx,cyclonedx")]
    pub sbom_formats: Vec<String>,
}

impl SbomArgs {
    /// The formats asked for, checked before any work is done.
    pub fn formats(&self) -> anyhow::Result<rapko_build::sbom::SbomFormats> {
        Ok(rapko_build::sbom::SbomFormats::parse(&self.sbom_formats)?)
    }

    /// The directory the SBOMs go to (`--sbom-path`, else `default_dir`), created and
    /// checked writable now, so that a read-only or mistyped path fails before any work
    /// rather than after the image is written. `None` with `--sbom=false`.
    pub fn checked_dir(&self, default_dir: &Path) -> anyhow::Result<Option<PathBuf>> {
        if !self.sbom {
            return Ok(None);
        }
        let dir = self.sbom_path.as_deref().unwrap_or(default_dir);
        if dir.exists() && !dir.is_dir() {
            anyhow::bail!(
                "--sbom-path {} exists and is not a directory; name a directory for the SBOMs",
                dir.display()
            );
        }
        std::fs::create_dir_all(dir)
            .and_then(|()| tempfile::tempfile_in(dir).map(drop))
            .with_context(|| {
                format!(
                    "cannot write SBOMs in {} (checked before building); fix the directory or \
                     pass another --sbom-path",
                    dir.display()
                )
            })?;
        Ok(Some(dir.to_owned()))
    }

    /// Writes the SBOMs into temporary files in `dir`, to be renamed into place by
    /// [`commit`] together with the image.
    pub fn prepare(
        &self,
        build: &rapko_build::Build,
        image: &ImageName,
        dir: &Path,
    ) -> anyhow::Result<Vec<Pending>> {
        let formats = self.formats()?;
        rapko_build::sbom::documents(build, image.repository(), formats)?
            .into_iter()
            .map(|doc| Pending::new(&dir.join(&doc.file_name), doc.text.as_bytes()))
            .collect()
    }

    /// Writes the build's SBOMs into `dir` (or the --sbom-path); returns the files written.
    pub fn write(
        &self,
        build: &rapko_build::Build,
        image: &ImageName,
        default_dir: &Path,
    ) -> anyhow::Result<Vec<PathBuf>> {
        let Some(dir) = self.checked_dir(default_dir)? else {
            return Ok(Vec::new());
        };
        commit(self.prepare(build, image, &dir)?)
    }
}

/// A file written under a temporary name in its final directory, waiting for its rename.
pub struct Pending {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl Pending {
    pub fn new(path: &Path, bytes: &[u8]) -> anyhow::Result<Pending> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // Mode 0666 less the umask, as for any file a command writes (tempfile's default,
        // 0600, would keep the SBOMs from everyone else).
        let mut tmp = tempfile::Builder::new()
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .tempfile_in(dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        std::io::Write::write_all(&mut tmp, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Pending {
            tmp,
            path: path.to_owned(),
        })
    }
}

/// Renames pending files into place; returns their paths.
pub fn commit(pending: Vec<Pending>) -> anyhow::Result<Vec<PathBuf>> {
    pending
        .into_iter()
        .map(|p| {
            p.tmp
                .persist(&p.path)
                .with_context(|| format!("cannot write {}", p.path.display()))?;
            Ok(p.path)
        })
        .collect()
}

/// Writes a file through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    commit(vec![Pending::new(path, bytes)?]).map(drop)
}

pub fn run(args: &BuildArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let name: ImageName = args
        .tag
        .parse()
        .with_context(|| format!("invalid image name {:?}", args.tag))?;
    // Every output location is checked before any work.
    check_output(&args.output)?;
    args.sbom.formats()?;
    let parent = workdir::parent_of(&args.output);
    let sbom_dir = args.sbom.checked_dir(&parent)?;
    let work = WorkDir::new_in(&parent)?;
    let options = BuildOptions {
        work_dir: Some(work.path().to_owned()),
        ..args.build.options(&args.config, &args.fetch)?
    };
    let build = rapko_build::build(&config, &options)
        .map_err(|e| workdir::name_full_disk(e.into(), work.path()))
        .with_context(|| format!("cannot build {}", args.config.config.display()))?;
    write_outputs(args, &build, &name, &work, sbom_dir.as_deref())
        .map_err(|e| workdir::name_full_disk(e, &parent))?;
    tracing::info!("wrote {} ({})", args.output.display(), build.root.digest);
    println!("{}@{}", args.tag, build.root.digest);
    Ok(())
}

/// Writes the image and the SBOMs as one commit: everything goes to temporary names first
/// (the image in the work directory, the SBOMs in their directory), then the renames.
fn write_outputs(
    args: &BuildArgs,
    build: &rapko_build::Build,
    name: &ImageName,
    work: &WorkDir,
    sbom_dir: Option<&Path>,
) -> anyhow::Result<()> {
    let sboms = match sbom_dir {
        Some(dir) => args.sbom.prepare(build, name, dir)?,
        None => Vec::new(),
    };
    let images = [TaggedImage::new(build.root.clone(), vec![name.clone()])];
    if args.output.is_dir() {
        // The layout writer puts blobs first and index.json last, by rename.
        rapko_oci::write_layout_dir(&build.store, &images, &args.output)?;
    } else {
        let opts = TarballOptions {
            mtime: build.build_time,
        };
        // Written inside the work directory and renamed: an error or Ctrl-C leaves nothing.
        let tmp = work.path().join("image.tar");
        rapko_oci::write_tarball(&build.store, &images, &tmp, &opts)?;
        std::fs::rename(&tmp, &args.output)
            .with_context(|| format!("cannot write {}", args.output.display()))?;
    }
    for path in commit(sboms)? {
        tracing::info!("wrote {}", path.display());
    }
    Ok(())
}

/// Refuses an OUTPUT that cannot be written before any work is done.
fn check_output(output: &Path) -> anyhow::Result<()> {
    refuse_special_file(output)?;
    if output.is_dir() {
        return Ok(());
    }
    if output.as_os_str().to_string_lossy().ends_with('/') {
        anyhow::bail!(
            "{} is not an existing directory: create it to write an OCI layout there, or name a file for a tarball",
            output.display()
        );
    }
    let parent = workdir::parent_of(output);
    if !parent.is_dir() {
        anyhow::bail!(
            "cannot write {}: the directory {} does not exist",
            output.display(),
            parent.display()
        );
    }
    Ok(())
}

/// Renaming over a device or a FIFO would replace it (as root: `/dev/null` for the whole
/// machine), and the SBOMs would land in /dev.
fn refuse_special_file(output: &Path) -> anyhow::Result<()> {
    if let Ok(meta) = std::fs::metadata(output)
        && !meta.is_file()
        && !meta.is_dir()
    {
        anyhow::bail!(
            "{} exists and is {}; OUTPUT must be a tarball file (replaced) or a directory (an \
             OCI layout): name another path",
            output.display(),
            file_kind(&meta)
        );
    }
    Ok(())
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[derive(clap::Args, Debug)]
pub struct MinirootfsArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The .tar.gz to write
    pub output: PathBuf,
    /// The architecture to build (default: the first of the config's)
    #[arg(long)]
    pub build_arch: Option<String>,
    #[command(flatten)]
    pub fetch: FetchArgs,
    /// The build time (see `rapko build --help`)
    #[arg(long)]
    pub build_date: Option<String>,
}

pub fn run_minirootfs(args: &MinirootfsArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let arch = match &args.build_arch {
        Some(a) => rapko_config::Arch::parse(a)?,
        None => *config
            .archs_or_all()
            .first()
            .context("the config names no architecture")?,
    };
    let options = BuildOptions {
        consistent_versions: args.config.consistent_versions,
        fetch: args.fetch.options(args.fetch.progress()),
        build_time: build_time(args.build_date.as_deref())?,
        ..BuildOptions::default()
    };
    refuse_special_file(&args.output)?;
    let (rootfs, build_time) = rapko_build::build_rootfs(&config, arch, &options)?;
    // Beside the output, so the final rename stays on one file system.
    let dir = workdir::parent_of(&args.output);
    let tmp = tempfile::Builder::new()
        .prefix(".rapko-rootfs-")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let gz = flate2::write::GzEncoder::new(
        std::io::BufWriter::new(tmp.as_file()),
        flate2::Compression::new(6),
    );
    let gz = rapko_fs::layer::write_tar(&rootfs.tree, |_, _| true, build_time, gz)?;
    gz.finish()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    tmp.persist(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    Ok(())
}
