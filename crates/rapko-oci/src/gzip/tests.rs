use std::io::{Read, Write};

use flate2::read::{GzDecoder, MultiGzDecoder};

use super::*;

const SMALL_BLOCK: usize = MIN_BLOCK_SIZE;

/// Deterministic test data that compresses like real files: runs of words (text-like,
/// with repeats far enough back to cross block boundaries) mixed with noise.
fn sample(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&[u8]] = &[
        b"usr/lib/",
        b"libc.so.6",
        b"ELF",
        b"\0\0\0\0",
        b"GLIBC_2.34 ",
        b"busybox ",
        b"apk-tools ",
        b"\n",
        b"#!/bin/sh\n",
        b"export PATH=",
        b"0123456789",
    ];
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let r = next();
        if r % 7 == 0 {
            out.extend(r.to_le_bytes());
        } else {
            out.extend_from_slice(WORDS[(r >> 8) as usize % WORDS.len()]);
        }
    }
    out.truncate(len);
    out
}

fn opts(level: u32, threads: usize) -> GzipOptions {
    GzipOptions::default()
        .with_level(level)
        .with_threads(threads)
        .with_block_size(SMALL_BLOCK)
}

fn gunzip(gz: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    MultiGzDecoder::new(gz).read_to_end(&mut out).unwrap();
    out
}

#[test]
fn round_trip_levels_and_boundary_sizes() {
    let b = SMALL_BLOCK;
    let sizes = [0, 1, 100, b - 1, b, b + 1, 2 * b, 3 * b + 5, 5 * b - 1];
    for level in [0, 1, 6, 9] {
        for &len in &sizes {
            let data = sample(len, len as u64 + 1);
            let (gz, info) = gzip_bytes(&data, opts(level, 2)).unwrap();
            // A single member, readable by the single-member decoder too.
            let mut single = Vec::new();
            GzDecoder::new(&gz[..]).read_to_end(&mut single).unwrap();
            assert_eq!(single, data, "level {level} len {len}");
            assert_eq!(info.diff_id, Digest::of(&data));
            assert_eq!(info.uncompressed_size, len as u64);
            assert_eq!(info.digest, Digest::of(&gz));
            assert_eq!(info.size, gz.len() as u64);
        }
    }
}

#[test]
fn empty_input_is_one_empty_member() {
    let (gz, info) = gzip_bytes(&[], opts(6, 1)).unwrap();
    assert_eq!(gunzip(&gz), b"");
    // Header, final empty block, trailer (crc 0, length 0).
    assert_eq!(gz.len(), 20, "{gz:02x?}");
    assert_eq!(&gz[12..], &[0; 8]);
    assert_eq!(info.diff_id, Digest::of(b""));
}

#[test]
fn same_bytes_whatever_the_threads_and_write_sizes() {
    let data = sample(7 * SMALL_BLOCK + 123, 42);
    let reference = gzip_bytes(&data, opts(6, 1)).unwrap().0;
    for threads in [2, 3, 8] {
        let (gz, _) = gzip_bytes(&data, opts(6, threads)).unwrap();
        assert!(gz == reference, "{threads} threads changed the output");
    }
    // Odd write sizes, and flushes, must not change the output either.
    let mut w = LayerWriter::new(Vec::new(), opts(6, 2)).unwrap();
    let mut rest = &data[..];
    let mut step = 1;
    while !rest.is_empty() {
        let (now, later) = rest.split_at(step.min(rest.len()));
        w.write_all(now).unwrap();
        w.flush().unwrap();
        rest = later;
        step = step * 3 % 10_007 + 1;
    }
    let (gz, _) = w.finish_into_inner().unwrap();
    assert!(gz == reference, "write sizes changed the output");
}

#[test]
fn level_0_is_deterministic_too() {
    // zlib sizes stored blocks by the output room it is given.
    let data = sample(4 * SMALL_BLOCK + 7, 3);
    let a = gzip_bytes(&data, opts(0, 1)).unwrap().0;
    let b = gzip_bytes(&data, opts(0, 3)).unwrap().0;
    assert!(a == b);
    assert_eq!(gunzip(&a), data);
}

#[test]
fn block_size_changes_output_but_not_content() {
    let data = sample(300_000, 9);
    let a = gzip_bytes(&data, opts(6, 2)).unwrap().0;
    let b = gzip_bytes(&data, opts(6, 2).with_block_size(DEFAULT_BLOCK_SIZE))
        .unwrap()
        .0;
    assert_ne!(a, b);
    assert_eq!(gunzip(&a), gunzip(&b));
}

#[test]
fn blocks_are_primed_with_the_previous_window() {
    // Incompressible noise repeating every 30 000 bytes (inside deflate's reach): with
    // the dictionary, every block after the first is all back-references; without it,
    // each block would pay for 30 000 bytes of noise again.
    let noise: Vec<u8> = (0..30_000u64)
        .flat_map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32).to_le_bytes())
        .take(30_000)
        .collect();
    let data: Vec<u8> = noise.iter().copied().cycle().take(10 * 64 * 1024).collect();
    let (gz, _) = gzip_bytes(&data, opts(6, 2).with_block_size(64 * 1024)).unwrap();
    assert!(
        gz.len() < 40_000,
        "{} bytes: blocks ignore their dictionary",
        gz.len()
    );
    assert_eq!(gunzip(&gz), data);
}

#[test]
fn header_is_fixed() {
    let (gz, _) = gzip_bytes(b"x", opts(9, 1)).unwrap();
    assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
    let (gz, _) = gzip_bytes(b"x", opts(1, 1)).unwrap();
    assert_eq!(gz[8], 4);
}

#[test]
fn rejects_bad_options() {
    assert!(matches!(
        LayerWriter::new(Vec::new(), opts(10, 1)),
        Err(GzipError::BadLevel(10))
    ));
    assert!(matches!(
        LayerWriter::new(Vec::new(), opts(6, 1).with_block_size(1000)),
        Err(GzipError::BadBlockSize(1000))
    ));
}

#[test]
fn append_members_between_written_data() {
    let a = sample(50_000, 1);
    let b = sample(70_000, 2);
    let c = sample(10_000, 3);
    let (b_gz, _) = gzip_bytes(&b, opts(1, 1)).unwrap();
    let mut w = LayerWriter::new(Vec::new(), opts(6, 2)).unwrap();
    w.write_all(&a).unwrap();
    w.append_gzip_member(&b_gz[..], &b[..]).unwrap();
    w.append_gzip_member(&b_gz[..], &b[..]).unwrap();
    w.write_all(&c).unwrap();
    let (gz, info) = w.finish_into_inner().unwrap();
    let whole = [&a[..], &b, &b, &c].concat();
    assert_eq!(gunzip(&gz), whole);
    assert_eq!(info.diff_id, Digest::of(&whole));
    assert_eq!(info.uncompressed_size, whole.len() as u64);
    assert_eq!(info.digest, Digest::of(&gz));
}

#[test]
fn only_appended_members_need_no_extra_member() {
    let b = sample(1000, 2);
    let (b_gz, _) = gzip_bytes(&b, opts(6, 1)).unwrap();
    let mut w = LayerWriter::new(Vec::new(), opts(6, 1)).unwrap();
    w.append_gzip_member(&b_gz[..], &b[..]).unwrap();
    let (gz, _) = w.finish_into_inner().unwrap();
    assert_eq!(gz, b_gz);
}

#[test]
fn append_rejects_mismatch_and_poisons() {
    let b = sample(1000, 2);
    let (b_gz, _) = gzip_bytes(&b, opts(6, 1)).unwrap();
    let mut w = LayerWriter::new(Vec::new(), opts(6, 1)).unwrap();
    let err = w.append_gzip_member(&b_gz[..], &b[1..]).unwrap_err();
    assert!(matches!(err, GzipError::BadMember(_)), "{err}");
    assert!(w.write_all(b"more").is_err());
    assert!(matches!(w.finish(), Err(GzipError::Poisoned)));

    let mut w = LayerWriter::new(Vec::new(), opts(6, 1)).unwrap();
    let err = w.append_gzip_member(&b"not gzip at all, long enough"[..], &b""[..]);
    assert!(matches!(err, Err(GzipError::BadMember(_))));
}

#[test]
fn write_error_is_reported_and_poisons() {
    struct Failing(usize);
    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("disk full"));
            }
            self.0 -= 1;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let data = sample(10 * SMALL_BLOCK, 1);
    for threads in [1, 2] {
        let mut w = LayerWriter::new(Failing(3), opts(6, threads)).unwrap();
        let r = w
            .write_all(&data)
            .map_err(GzipError::from)
            .and_then(|()| w.finish().map(drop));
        let err = r.unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
    }
}

#[test]
fn trailer_window() {
    let mut last = [0u8; 8];
    for chunk in [&b"abc"[..], b"defgh", b"ij"] {
        keep_last_8(&mut last, chunk);
    }
    assert_eq!(&last, b"cdefghij");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Any input, level, block size and thread count round-trips, and the thread count
    /// never changes the bytes.
    #[test]
    fn any_input_round_trips_deterministically(
        seed in 0u64..1000,
        len in 0usize..300_000,
        level in 0u32..=9,
        block_kib in 32usize..=96,
        threads in 2usize..=4,
    ) {
        let data = sample(len, seed);
        let base = opts(level, 1).with_block_size(block_kib * 1024);
        let (one, info) = gzip_bytes(&data, base).unwrap();
        let (many, _) = gzip_bytes(&data, base.with_threads(threads)).unwrap();
        proptest::prop_assert!(one == many);
        proptest::prop_assert_eq!(gunzip(&one), data);
        proptest::prop_assert_eq!(info.uncompressed_size, len as u64);
    }
}
