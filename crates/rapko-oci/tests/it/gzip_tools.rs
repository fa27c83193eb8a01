//! The layer writer's output checked by the real gzip, on real executables.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use flate2::read::MultiGzDecoder;
use rapko_oci::{Digest, GzipOptions, LayerWriter, gzip_bytes};

/// A tar of regular files from /usr/bin (sorted, so the same on every run), about `limit`
/// bytes: real binaries are what layers hold, and what broke other parallel gzips.
fn real_tar(limit: usize) -> Vec<u8> {
    let mut paths: Vec<_> = std::fs::read_dir("/usr/bin")
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    paths.sort();
    let mut b = tar::Builder::new(Vec::new());
    for p in paths {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if !meta.is_file() || meta.len() > (limit / 2) as u64 {
            continue;
        }
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o755);
        b.append_data(&mut h, p.strip_prefix("/").unwrap_or(&p), &bytes[..])
            .unwrap();
        if b.get_ref().len() > limit {
            break;
        }
    }
    b.into_inner().unwrap()
}

fn opts(level: u32, threads: usize) -> GzipOptions {
    GzipOptions::default()
        .with_level(level)
        .with_threads(threads)
}

/// `gzip -t` on the bytes, then `gzip -dc`; returns the decompressed output.
fn real_gunzip(gzip: &Path, gz: &[u8], dir: &Path) -> Vec<u8> {
    let file = dir.join("layer.gz");
    std::fs::write(&file, gz).unwrap();
    let t = Command::new(gzip).arg("-t").arg(&file).output().unwrap();
    assert!(
        t.status.success(),
        "gzip -t: {}",
        String::from_utf8_lossy(&t.stderr)
    );
    let d = Command::new(gzip)
        .arg("-dc")
        .arg(&file)
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        d.status.success(),
        "gzip -dc: {}",
        String::from_utf8_lossy(&d.stderr)
    );
    d.stdout
}

#[test]
fn real_data_round_trips_through_gzip_at_levels_1_6_9() {
    let Some(gzip) = rapko_test::require_tool("gzip") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = real_tar(3 << 20);
    for level in [1, 6, 9] {
        let (gz, info) = gzip_bytes(&data, opts(level, 2)).unwrap();
        assert_eq!(real_gunzip(&gzip, &gz, tmp.path()), data, "level {level}");
        let mut ours = Vec::new();
        MultiGzDecoder::new(&gz[..]).read_to_end(&mut ours).unwrap();
        assert_eq!(ours, data, "level {level}");
        assert_eq!(info.diff_id, Digest::of(&data));
        assert_eq!(info.digest, Digest::of(&gz));
        assert!(gz.len() < data.len(), "level {level} did not compress");
    }
}

#[test]
fn real_data_same_bytes_for_any_thread_count() {
    let data = real_tar(3 << 20);
    for level in [1, 6] {
        let reference = gzip_bytes(&data, opts(level, 1)).unwrap().0;
        for threads in [2, 3] {
            let (gz, _) = gzip_bytes(&data, opts(level, threads)).unwrap();
            assert!(
                gz == reference,
                "level {level}: {threads} threads gave {} bytes, 1 thread {}",
                gz.len(),
                reference.len()
            );
        }
    }
}

#[test]
fn appended_members_decompress_with_gzip() {
    let Some(gzip) = rapko_test::require_tool("gzip") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = real_tar(1 << 20);
    let (head, tail) = data.split_at(data.len() / 3);
    let (cached, _) = gzip_bytes(tail, opts(6, 1)).unwrap();
    let mut w = LayerWriter::new(Vec::new(), opts(6, 2)).unwrap();
    w.write_all(head).unwrap();
    w.append_gzip_member(&cached[..], tail).unwrap();
    let (gz, info) = w.finish_into_inner().unwrap();
    assert_eq!(real_gunzip(&gzip, &gz, tmp.path()), data);
    assert_eq!(info.diff_id, Digest::of(&data));
}
