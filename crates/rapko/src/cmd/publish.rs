//! `rapko publish CONFIG REF…`: build exactly as `rapko build` does, then push the image (or
//! index), with its SBOMs attached, to every reference, and print `REPO@sha256:…` for each.

use std::path::PathBuf;

use anyhow::Context;
use rapko_registry::{Options, PushRequest, Reference, Root, Sbom, blocking};

use crate::cmd::build::{SbomArgs, write_atomic};
use crate::cmd::common::{BuildFlags, ConfigArgs, FetchArgs};

#[derive(clap::Args, Debug)]
pub struct PublishArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Where to push, e.g. registry.example/team/app:1.0 (several allowed)
    #[arg(required = true)]
    pub refs: Vec<String>,
    #[command(flatten)]
    pub fetch: FetchArgs,
    #[command(flatten)]
    pub build: BuildFlags,
    #[command(flatten)]
    pub sbom: SbomArgs,
    /// Write the pushed references (REPO@sha256:…), one a line, to this file
    #[arg(long)]
    pub image_refs: Option<PathBuf>,
    /// Use plain HTTP for registries other than localhost
    #[arg(long)]
    pub insecure: bool,
}

pub fn run(args: &PublishArgs) -> anyhow::Result<()> {
    let destinations = args
        .refs
        .iter()
        .map(|r| {
            let reference = r
                .parse::<Reference>()
                .with_context(|| format!("invalid reference {r:?}"))?;
            // Like `rapko build`, docker, crane and apko: a name alone means `:latest`
            // (name@sha256:… still pushes by digest only).
            if reference.tag().is_none() && reference.digest().is_none() {
                return Ok(reference.with_tag("latest")?);
            }
            Ok(reference)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = args.config.load()?;
    let sbom_formats = args.sbom.formats()?;
    if let Some(dir) = &args.sbom.sbom_path {
        // Checked before building, not found unwritable after the push.
        args.sbom.checked_dir(dir)?;
    }
    let options = args.build.options(&args.config, &args.fetch)?;
    let build = rapko_build::build(&config, &options)
        .with_context(|| format!("cannot build {}", args.config.config.display()))?;
    let mut request = PushRequest::new(
        build.store.root(),
        Root::Descriptor(build.root.clone()),
        destinations,
    );
    if args.sbom.sbom {
        let name = args.refs[0]
            .parse::<rapko_oci::ImageName>()
            .map(|n| n.repository().to_owned());
        let name = name.unwrap_or_else(|_| args.refs[0].clone());
        for doc in rapko_build::sbom::documents(&build, &name, sbom_formats)? {
            if let Some(dir) = &args.sbom.sbom_path {
                std::fs::create_dir_all(dir)?;
                write_atomic(&dir.join(&doc.file_name), doc.text.as_bytes())?;
            }
            request.sboms.push(Sbom::new(
                doc.subject.digest,
                doc.media_type,
                doc.text.into_bytes(),
            ));
        }
    }
    let push_options = Options {
        insecure: args.insecure,
        ..Options::default()
    };
    let report = blocking::push(&request, &push_options).context("cannot push the image")?;
    tracing::info!(
        "pushed {} blobs ({} bytes), {} already there, {} mounted; {} manifests",
        report.blobs_uploaded,
        report.bytes_uploaded,
        report.blobs_skipped,
        report.blobs_mounted,
        report.manifests_pushed
    );
    let lines = report.image_refs();
    for line in &lines {
        println!("{line}");
    }
    if let Some(path) = &args.image_refs {
        // As apko: the pushed references, then for a multi-arch image each platform's.
        let mut refs = lines.clone();
        if build.images.len() > 1 {
            for line in &lines {
                let repository = line.split_once('@').map_or(line.as_str(), |(r, _)| r);
                refs.extend(
                    build
                        .images
                        .iter()
                        .map(|i| format!("{repository}@{}", i.manifest.digest)),
                );
            }
        }
        let text: String = refs.iter().map(|l| format!("{l}\n")).collect();
        write_atomic(path, text.as_bytes())?;
    }
    Ok(())
}
