//! `rapko build` (the main job) and `rapko build-minirootfs`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rapko_build::BuildOptions;
use rapko_oci::{ImageName, TaggedImage, TarballOptions};

use crate::cmd::common::{BuildFlags, ConfigArgs, FetchArgs, build_time};

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

    /// Writes the build's SBOMs into `dir` (or the --sbom-path); returns the files written.
    pub fn write(
        &self,
        build: &rapko_build::Build,
        image: &ImageName,
        default_dir: &Path,
    ) -> anyhow::Result<Vec<PathBuf>> {
        if !self.sbom {
            return Ok(Vec::new());
        }
        let formats = self.formats()?;
        let dir = self.sbom_path.as_deref().unwrap_or(default_dir);
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut written = Vec::new();
        for doc in rapko_build::sbom::documents(build, image.repository(), formats)? {
            let path = dir.join(&doc.file_name);
            write_atomic(&path, doc.text.as_bytes())?;
            written.push(path);
        }
        Ok(written)
    }
}

/// Writes a file through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
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
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub fn run(args: &BuildArgs) -> anyhow::Result<()> {
    let config = args.config.load()?;
    let name: ImageName = args
        .tag
        .parse()
        .with_context(|| format!("invalid image name {:?}", args.tag))?;
    check_output(&args.output)?;
    args.sbom.formats()?;
    let work = WorkDir::beside(&args.output)?;
    let options = BuildOptions {
        work_dir: Some(work.path().to_owned()),
        ..args.build.options(&args.config, &args.fetch)?
    };
    let build = rapko_build::build(&config, &options)
        .with_context(|| format!("cannot build {}", args.config.config.display()))?;
    let images = [TaggedImage::new(build.root.clone(), vec![name.clone()])];
    let sbom_dir = if args.output.is_dir() {
        rapko_oci::write_layout_dir(&build.store, &images, &args.output)?;
        args.output.clone()
    } else {
        let opts = TarballOptions {
            mtime: build.build_time,
        };
        // Written inside the work directory and renamed: an error or Ctrl-C leaves nothing.
        let tmp = work.path().join("image.tar");
        rapko_oci::write_tarball(&build.store, &images, &tmp, &opts)?;
        std::fs::rename(&tmp, &args.output)
            .with_context(|| format!("cannot write {}", args.output.display()))?;
        work_dir(&args.output).unwrap_or_else(|| PathBuf::from("."))
    };
    for path in args.sbom.write(&build, &name, &sbom_dir)? {
        tracing::info!("wrote {}", path.display());
    }
    tracing::info!("wrote {} ({})", args.output.display(), build.root.digest);
    println!("{}@{}", args.tag, build.root.digest);
    Ok(())
}

/// A temporary directory beside the output for everything a build writes before the final
/// rename: removed when dropped (an error) and by the Ctrl-C handler (an interrupt), so
/// neither leaves anything behind.
pub struct WorkDir {
    dir: tempfile::TempDir,
}

impl WorkDir {
    pub fn beside(output: &Path) -> anyhow::Result<WorkDir> {
        let parent = work_dir(output).unwrap_or_else(|| PathBuf::from("."));
        let dir = tempfile::Builder::new()
            .prefix(".rapko-build-")
            .tempdir_in(&parent)
            .with_context(|| {
                format!(
                    "cannot create a temporary directory in {}",
                    parent.display()
                )
            })?;
        crate::cmd::interrupt::remove_on_interrupt(dir.path());
        Ok(WorkDir { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        crate::cmd::interrupt::forget(self.dir.path());
    }
}

/// Refuses an OUTPUT that cannot be written before any work is done.
fn check_output(output: &Path) -> anyhow::Result<()> {
    if output.is_dir() {
        return Ok(());
    }
    if output.as_os_str().to_string_lossy().ends_with('/') {
        anyhow::bail!(
            "{} is not an existing directory: create it to write an OCI layout there, or name a file for a tarball",
            output.display()
        );
    }
    let parent = work_dir(output).unwrap_or_else(|| PathBuf::from("."));
    if !parent.is_dir() {
        anyhow::bail!(
            "cannot write {}: the directory {} does not exist",
            output.display(),
            parent.display()
        );
    }
    Ok(())
}

/// Temporary files go beside the output so the final rename stays on one file system.
fn work_dir(output: &Path) -> Option<PathBuf> {
    if output.is_dir() {
        return Some(output.to_owned());
    }
    output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_owned)
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
    let (rootfs, build_time) = rapko_build::build_rootfs(&config, arch, &options)?;
    let dir = work_dir(&args.output).unwrap_or_else(|| PathBuf::from("."));
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
