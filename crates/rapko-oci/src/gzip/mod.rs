//! The layer writer: uncompressed tar in, gzip out, with diff ID, digest and sizes computed
//! in the same pass.
//!
//! [`LayerWriter`] is fed the uncompressed tar stream. It hashes it (the diff ID), cuts it
//! into fixed-size blocks, deflates the blocks in parallel (see `pool`), writes them to
//! the inner writer in order inside one gzip member, and hashes and counts what it writes
//! (the layer digest and size). Memory stays bounded: at most `2 × threads` blocks are in
//! flight, never the whole layer.
//!
//! The output is deterministic: the same input, level and block size give the same
//! bytes whatever the thread count or how the input was split into `write` calls. The
//! header carries no name and no time.
//!
//! A gzip file may hold several members back to back (RFC 1952 §2.2), and every reader
//! rapko targets decompresses them as one stream. [`LayerWriter::append_gzip_member`]
//! uses that to splice in an already-compressed segment (for instance one package's tar
//! entries, compressed once and cached) without recompressing it.

mod pool;

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::num::NonZeroUsize;

use flate2::Crc;

use crate::descriptor::Descriptor;
use crate::digest::{Digest, DigestHasher, HashingWriter};
use crate::media;
use pool::{Done, Job, Pool, Reply, compress_block};

/// Default compression level. Measured on 10.5 MB of real executables (benches/gzip.rs),
/// CPU time with zlib-rs: level 1 66 ms → 5.25 MB, level 6 165 ms → 4.22 MB, level 9
/// 510 ms → 4.06 MB. zlib-rs's level 1 is much weaker than zlib's (gzip -1 gives 4.42 MB),
/// so 6 buys 20% smaller layers for 2.5× the CPU, while 9 costs 3× more for 4% less.
pub const DEFAULT_LEVEL: u32 = 6;
/// Default block size: big enough that the per-block flush and dictionary priming cost
/// well under 1% in size, small enough to keep two cores busy on a 1 MB layer.
pub const DEFAULT_BLOCK_SIZE: usize = 128 * 1024;
/// Smallest allowed block: a block must hold a whole deflate window, since the next block
/// is primed with the last 32 KiB of this one.
pub const MIN_BLOCK_SIZE: usize = WINDOW;
/// Largest allowed block (keeps memory per block in flight reasonable).
pub const MAX_BLOCK_SIZE: usize = 64 * 1024 * 1024;

/// Deflate's window: how far back a match may reach.
const WINDOW: usize = 32 * 1024;

/// Errors of the gzip layer writer.
#[derive(Debug, thiserror::Error)]
pub enum GzipError {
    /// Level outside 0..=9.
    #[error("invalid gzip level {0}: use 0 (store) to 9 (smallest)")]
    BadLevel(u32),
    /// Block size outside the allowed range.
    #[error("invalid gzip block size {0}: use {MIN_BLOCK_SIZE} to {MAX_BLOCK_SIZE} bytes")]
    BadBlockSize(usize),
    /// Writing the compressed stream (or starting a worker thread) failed.
    #[error("cannot write the gzip stream: {0}")]
    Io(#[from] io::Error),
    /// A segment given to [`LayerWriter::append_gzip_member`] is not one gzip member of
    /// the given uncompressed bytes.
    #[error("invalid pre-compressed gzip member: {0}")]
    BadMember(String),
    /// An earlier error left the stream incomplete.
    #[error("the layer writer failed earlier; discard this layer and write it again")]
    Poisoned,
}

impl From<GzipError> for io::Error {
    fn from(e: GzipError) -> Self {
        match e {
            GzipError::Io(e) => e,
            GzipError::BadLevel(_) | GzipError::BadBlockSize(_) | GzipError::BadMember(_) => {
                io::Error::new(io::ErrorKind::InvalidInput, e)
            }
            GzipError::Poisoned => io::Error::other(e),
        }
    }
}

/// How to compress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GzipOptions {
    /// 0 (store) to 9 (smallest).
    pub level: u32,
    /// Worker threads; 1 compresses on the calling thread. Does not change the output.
    pub threads: usize,
    /// Uncompressed bytes per independently compressed block. Changes the output.
    pub block_size: usize,
}

impl Default for GzipOptions {
    /// Level [`DEFAULT_LEVEL`], [`DEFAULT_BLOCK_SIZE`], one thread per available core.
    fn default() -> Self {
        Self {
            level: DEFAULT_LEVEL,
            threads: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            block_size: DEFAULT_BLOCK_SIZE,
        }
    }
}

impl GzipOptions {
    /// The same options at another level.
    pub fn with_level(mut self, level: u32) -> Self {
        self.level = level;
        self
    }

    /// The same options with another thread count (0 is taken as 1).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The same options with another block size.
    pub fn with_block_size(mut self, block_size: usize) -> Self {
        self.block_size = block_size;
        self
    }

    fn validate(&self) -> Result<(), GzipError> {
        if self.level > 9 {
            return Err(GzipError::BadLevel(self.level));
        }
        if !(MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(&self.block_size) {
            return Err(GzipError::BadBlockSize(self.block_size));
        }
        Ok(())
    }

    /// The gzip header: no name, no time, "unknown" OS (so the bytes do not depend on the
    /// machine), and the XFL hint gzip itself writes for levels 9 and 1.
    fn header(&self) -> [u8; 10] {
        let xfl = match self.level {
            9 => 2,
            1 => 4,
            _ => 0,
        };
        [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]
    }
}

/// What [`LayerWriter::finish`] reports about the layer it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerInfo {
    /// SHA-256 of the uncompressed tar (goes into the config's `rootfs.diff_ids`).
    pub diff_id: Digest,
    /// SHA-256 of the compressed bytes (the blob's name).
    pub digest: Digest,
    /// Compressed size.
    pub size: u64,
    /// Uncompressed size.
    pub uncompressed_size: u64,
}

impl LayerInfo {
    /// The layer's descriptor for a manifest (media type [`media::OCI_LAYER_GZIP`]).
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(media::OCI_LAYER_GZIP, self.digest, self.size)
    }
}

/// Where blocks are deflated: on the calling thread, or on a pool of workers.
enum Engine {
    Inline,
    Pool { pool: Pool, max_in_flight: usize },
}

/// The gzip member being written.
struct Member {
    crc: Crc,
    /// Uncompressed bytes in this member (the trailer keeps it modulo 2^32).
    len: u64,
}

/// Compresses an uncompressed tar stream into a gzip layer, hashing both sides.
///
/// ```
/// use std::io::Write;
/// use rapko_oci::{GzipOptions, LayerWriter};
///
/// let mut w = LayerWriter::new(Vec::new(), GzipOptions::default().with_threads(2))?;
/// w.write_all(b"tar bytes...")?;
/// let (gz, info) = w.finish_into_inner()?;
/// assert_eq!(info.size, gz.len() as u64);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LayerWriter<W: Write> {
    out: HashingWriter<W>,
    opts: GzipOptions,
    engine: Engine,
    /// Input not yet handed to the engine (less than one block).
    block: Vec<u8>,
    /// The last 32 KiB of the previous block of the current member: the next dictionary.
    tail: Vec<u8>,
    /// Blocks handed to the pool, oldest first; written out in this order.
    in_flight: VecDeque<Reply>,
    member: Option<Member>,
    members_written: u64,
    diff: DigestHasher,
    /// Buffers returned by finished blocks, reused for the next ones.
    spare: Vec<Vec<u8>>,
    poisoned: bool,
}

impl<W: Write> std::fmt::Debug for LayerWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerWriter")
            .field("opts", &self.opts)
            .field("uncompressed", &self.diff.size())
            .field("compressed", &self.out.size())
            .finish_non_exhaustive()
    }
}

impl<W: Write> LayerWriter<W> {
    /// A writer compressing into `inner` (which receives large writes; no need to buffer).
    /// Starts `opts.threads` worker threads when it is more than 1.
    pub fn new(inner: W, opts: GzipOptions) -> Result<Self, GzipError> {
        opts.validate()?;
        let engine = if opts.threads <= 1 {
            Engine::Inline
        } else {
            let max_in_flight = opts.threads * 2;
            Engine::Pool {
                pool: Pool::new(opts.threads, opts.level, max_in_flight)?,
                max_in_flight,
            }
        };
        Ok(Self {
            out: HashingWriter::new(inner),
            opts,
            engine,
            block: Vec::with_capacity(opts.block_size),
            tail: Vec::with_capacity(WINDOW),
            in_flight: VecDeque::new(),
            member: None,
            members_written: 0,
            diff: DigestHasher::new(),
            spare: Vec::new(),
            poisoned: false,
        })
    }

    /// The options this writer compresses with.
    pub fn options(&self) -> GzipOptions {
        self.opts
    }

    /// Uncompressed bytes received so far.
    pub fn uncompressed_size(&self) -> u64 {
        self.diff.size()
    }

    /// Appends `member`, one complete gzip member (header, deflate data, trailer) whose
    /// decompressed content is `uncompressed`, without recompressing it. Data written
    /// before is closed into its own member first; data written after starts a new one.
    ///
    /// `uncompressed` is read to compute the diff ID, and checked against the member's
    /// CRC-32 and length, so a mismatched pair is an error rather than a corrupt layer
    /// with a wrong diff ID. Both are streamed. After an error the writer is unusable.
    pub fn append_gzip_member(
        &mut self,
        member: impl Read,
        uncompressed: impl Read,
    ) -> Result<(), GzipError> {
        self.guard(|w| {
            w.close_member()?;
            let trailer = w.copy_member(member)?;
            let (crc, len) = w.hash_uncompressed(uncompressed)?;
            check_trailer(&trailer, crc, len)?;
            w.members_written += 1;
            Ok(())
        })
    }

    /// Ends the stream and reports the layer. The inner writer is flushed and dropped.
    pub fn finish(self) -> Result<LayerInfo, GzipError> {
        self.finish_into_inner().map(|(_, info)| info)
    }

    /// Ends the stream and returns the inner writer (flushed) with the layer's figures.
    pub fn finish_into_inner(mut self) -> Result<(W, LayerInfo), GzipError> {
        self.guard(|w| {
            // An empty layer is still a valid gzip file: one member with no data.
            if w.member.is_none() && w.members_written == 0 {
                w.open_member()?;
            }
            w.close_member()?;
            w.out.flush()?;
            Ok(())
        })?;
        let Self { out, diff, .. } = self;
        let (inner, digest, size) = out.finish();
        let (diff_id, uncompressed_size) = diff.finish();
        Ok((
            inner,
            LayerInfo {
                diff_id,
                digest,
                size,
                uncompressed_size,
            },
        ))
    }

    /// Runs `f`, marking the writer unusable if it fails: a failure can leave a block's
    /// output missing from the middle of the stream.
    fn guard<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, GzipError>,
    ) -> Result<T, GzipError> {
        if self.poisoned {
            return Err(GzipError::Poisoned);
        }
        let r = f(self);
        self.poisoned = r.is_err();
        r
    }

    fn open_member(&mut self) -> io::Result<()> {
        // Every earlier block has been written out, so the header lands in order.
        debug_assert!(self.in_flight.is_empty());
        self.out.write_all(&self.opts.header())?;
        self.member = Some(Member {
            crc: Crc::new(),
            len: 0,
        });
        Ok(())
    }

    /// Compresses what is buffered as the member's last block, waits for every block,
    /// and writes the trailer. Does nothing when no member is open.
    fn close_member(&mut self) -> io::Result<()> {
        if self.member.is_none() {
            return Ok(());
        }
        self.submit(true)?;
        while !self.in_flight.is_empty() {
            self.write_oldest()?;
        }
        let Some(member) = self.member.take() else {
            return Ok(());
        };
        let mut trailer = [0u8; 8];
        trailer[..4].copy_from_slice(&member.crc.sum().to_le_bytes());
        // ISIZE is the length modulo 2^32 (RFC 1952), hence the truncation.
        trailer[4..].copy_from_slice(&(member.len as u32).to_le_bytes());
        self.out.write_all(&trailer)?;
        self.tail.clear();
        self.members_written += 1;
        Ok(())
    }

    /// Hands the buffered block to the engine. `last` ends the member's deflate stream.
    fn submit(&mut self, last: bool) -> io::Result<()> {
        let fresh = self.spare_buffer(self.opts.block_size);
        let data = std::mem::replace(&mut self.block, fresh);
        let next_tail = self.spare_buffer(WINDOW);
        let dict = std::mem::replace(&mut self.tail, next_tail);
        if !last {
            let from = data.len().saturating_sub(WINDOW);
            self.tail.extend_from_slice(&data[from..]);
        }
        let job = Job {
            dict,
            data,
            out: self.spare_buffer(0),
            last,
        };
        match &mut self.engine {
            Engine::Inline => {
                let done = compress_block(self.opts.level, job)?;
                self.write_block(done)
            }
            Engine::Pool {
                pool,
                max_in_flight,
            } => {
                let limit = *max_in_flight;
                let reply = pool.submit(job)?;
                self.in_flight.push_back(reply);
                // Bound memory: wait for the oldest block once enough are queued.
                while self.in_flight.len() > limit {
                    self.write_oldest()?;
                }
                self.write_ready()
            }
        }
    }

    /// Writes out, in order, every block already finished at the front of the queue.
    fn write_ready(&mut self) -> io::Result<()> {
        while let Some(front) = self.in_flight.front() {
            match front.try_recv() {
                Ok(done) => {
                    self.in_flight.pop_front();
                    self.write_block(done?)?;
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return Err(worker_died()),
            }
        }
        Ok(())
    }

    /// Waits for the oldest block in flight and writes it out.
    fn write_oldest(&mut self) -> io::Result<()> {
        let Some(front) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let done = front.recv().map_err(|_| worker_died())??;
        self.write_block(done)
    }

    fn write_block(&mut self, done: Done) -> io::Result<()> {
        self.out.write_all(&done.out)?;
        if let Some(m) = &mut self.member {
            m.crc.combine(&done.crc);
        }
        self.spare.extend([done.dict, done.data, done.out]);
        Ok(())
    }

    /// A cleared buffer from the spare list (or a new one) with at least `capacity`.
    fn spare_buffer(&mut self, capacity: usize) -> Vec<u8> {
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.reserve(capacity);
        buf
    }

    /// Copies one gzip member to the output, checking its header, and returns its last 8
    /// bytes (the trailer).
    fn copy_member(&mut self, mut member: impl Read) -> Result<[u8; 8], GzipError> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        let mut last = [0u8; 8];
        loop {
            let n = read_some(&mut member, &mut buf)?;
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            if total == 0 && !chunk.starts_with(&[0x1f, 0x8b, 8]) {
                return Err(GzipError::BadMember(
                    "it does not start with a gzip header (1f 8b 08)".into(),
                ));
            }
            keep_last_8(&mut last, chunk);
            self.out.write_all(chunk)?;
            total += n as u64;
        }
        // Header (10) + the smallest deflate stream (2) + trailer (8).
        if total < 20 {
            return Err(GzipError::BadMember(format!(
                "{total} bytes is too short for a gzip member"
            )));
        }
        Ok(last)
    }

    /// Feeds the uncompressed bytes of an appended member into the diff ID; returns their
    /// CRC-32 and length for checking against the member's trailer.
    fn hash_uncompressed(&mut self, mut data: impl Read) -> Result<(u32, u64), GzipError> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut crc = Crc::new();
        let mut len = 0u64;
        loop {
            let n = read_some(&mut data, &mut buf)?;
            if n == 0 {
                return Ok((crc.sum(), len));
            }
            crc.update(&buf[..n]);
            self.diff.update(&buf[..n]);
            len += n as u64;
        }
    }
}

impl<W: Write> Write for LayerWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.guard(|w| {
            if w.member.is_none() {
                w.open_member()?;
            }
            let mut rest = buf;
            while !rest.is_empty() {
                let room = w.opts.block_size - w.block.len();
                let (now, later) = rest.split_at(room.min(rest.len()));
                w.block.extend_from_slice(now);
                w.diff.update(now);
                if let Some(m) = &mut w.member {
                    m.len += now.len() as u64;
                }
                if w.block.len() == w.opts.block_size {
                    w.submit(false)?;
                }
                rest = later;
            }
            Ok(())
        })?;
        Ok(buf.len())
    }

    /// Flushes the inner writer. It does not end a block: the output must not depend on
    /// when callers flush.
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn worker_died() -> io::Error {
    io::Error::other("a gzip worker thread stopped unexpectedly")
}

/// `read`, retrying on `Interrupted`.
fn read_some(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Shifts `chunk` into the 8-byte window `last`, which then holds the stream's last 8 bytes.
fn keep_last_8(last: &mut [u8; 8], chunk: &[u8]) {
    if chunk.len() >= 8 {
        last.copy_from_slice(&chunk[chunk.len() - 8..]);
    } else {
        last.rotate_left(chunk.len());
        last[8 - chunk.len()..].copy_from_slice(chunk);
    }
}

fn check_trailer(trailer: &[u8; 8], crc: u32, len: u64) -> Result<(), GzipError> {
    let want_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let want_len = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if want_crc != crc || u64::from(want_len) != len % (1 << 32) {
        return Err(GzipError::BadMember(format!(
            "its trailer says crc32 {want_crc:08x}, length {want_len} but the uncompressed \
             bytes given have crc32 {crc:08x}, length {len}; pass the member together with \
             the exact bytes it was compressed from"
        )));
    }
    Ok(())
}

/// Compresses `data` into one gzip member in memory: the form in which a segment is
/// cached for [`LayerWriter::append_gzip_member`].
pub fn gzip_bytes(data: &[u8], opts: GzipOptions) -> Result<(Vec<u8>, LayerInfo), GzipError> {
    let mut w = LayerWriter::new(Vec::with_capacity(data.len() / 3 + 64), opts)?;
    w.write_all(data)?;
    w.finish_into_inner()
}

#[cfg(test)]
mod tests;
