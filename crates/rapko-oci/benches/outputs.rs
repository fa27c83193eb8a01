//! Output writing speed: `cargo bench -p rapko-oci --bench outputs`.
//!
//! Stores a two-arch image whose layers are ~10 MB tars of /usr/bin (compressed at level
//! 1 to keep set-up short), then times writing it as a tarball and as a layout directory
//! (hard links when on the same filesystem as the store, copies otherwise).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use rapko_oci::{
    BlobStore, GzipOptions, ImageConfig, ImageIndex, ImageManifest, Platform, TaggedImage,
    TarballOptions, write_layout_dir, write_tarball,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let work = tempfile::tempdir()?;
    let store = BlobStore::temporary_in(work.path())?;
    let far_store = BlobStore::temporary()?;
    let image = build(&store)?;
    let far_image = build(&far_store)?;
    let layer_mb = layer_bytes(&store, &image)? as f64 / 1e6;
    println!("image: 2 platforms, {layer_mb:.1} MB of compressed layers");

    let t = time(|i| {
        let dest = work.path().join(format!("out-{i}.tar"));
        write_tarball(
            &store,
            std::slice::from_ref(&image),
            &dest,
            &TarballOptions::default(),
        )?;
        Ok(())
    })?;
    println!("write_tarball:                     {:>7.1} ms", ms(t));
    let t = time(|i| {
        let dest = work.path().join(format!("layout-{i}"));
        write_layout_dir(&store, std::slice::from_ref(&image), &dest)?;
        Ok(())
    })?;
    println!("write_layout_dir (same filesystem): {:>7.1} ms", ms(t));
    let t = time(|i| {
        let dest = work.path().join(format!("far-layout-{i}"));
        write_layout_dir(&far_store, std::slice::from_ref(&far_image), &dest)?;
        Ok(())
    })?;
    println!(
        "write_layout_dir (store in {}): {:>7.1} ms",
        std::env::temp_dir().display(),
        ms(t)
    );
    Ok(())
}

/// Best of 5 runs; `f` gets the run number to pick a fresh destination.
fn time(mut f: impl FnMut(usize) -> Result<()>) -> Result<Duration> {
    let mut best = Duration::MAX;
    for i in 0..5 {
        let start = Instant::now();
        f(i)?;
        best = best.min(start.elapsed());
    }
    Ok(best)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn build(store: &BlobStore) -> Result<TaggedImage> {
    let data = tar_of(Path::new("/usr/bin"), 10 << 20)?;
    let mut manifests = Vec::new();
    for (i, platform) in [
        Platform::new("amd64", "linux"),
        Platform::new("arm64", "linux"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut w = store.layer_writer(GzipOptions::default().with_level(1))?;
        w.write_all(&data)?;
        w.write_all(&[i as u8; 512])?; // different layers per platform
        let layer = w.finish()?;
        let config =
            store.put_config(&ImageConfig::for_platform(&platform, vec![layer.diff_id]))?;
        let m = store.put_manifest(&ImageManifest::new(config, vec![layer.descriptor()]))?;
        manifests.push(m.with_platform(platform));
    }
    let index = store.put_index(&ImageIndex::new(manifests))?;
    Ok(TaggedImage::new(index, vec!["bench:1".parse()?]))
}

fn layer_bytes(store: &BlobStore, image: &TaggedImage) -> Result<u64> {
    let index: ImageIndex = store.read_json(&image.root.digest, "index")?;
    let mut total = 0;
    for m in index.manifests {
        let m: ImageManifest = store.read_json(&m.digest, "manifest")?;
        total += m.layers.iter().map(|l| l.size).sum::<u64>();
    }
    Ok(total)
}

fn tar_of(dir: &Path, limit: usize) -> Result<Vec<u8>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .collect();
    paths.sort();
    let mut b = tar::Builder::new(Vec::new());
    for p in paths {
        let meta = std::fs::symlink_metadata(&p)?;
        if meta.is_file() && meta.len() < (limit / 4) as u64 {
            b.append_path_with_name(&p, p.strip_prefix("/").unwrap_or(&p))?;
        }
        if b.get_ref().len() >= limit {
            break;
        }
    }
    Ok(b.into_inner()?)
}
