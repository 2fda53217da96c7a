//! Streaming a download to disk while verifying it.
//!
//! The bytes as served go to a partial file (`F.part`, kept for resuming)
//! and, chunk by chunk over bounded channels, to the verification: either
//! straight to the hashers (the checksums describe the file as served) or
//! through a decompressor on its own thread whose output goes to the
//! hashers and, when the decompressed image is what is kept, to a temporary
//! file. The hashers are [`crate::digest::digest_reader`] (one thread per
//! algorithm). A resumed download replays the partial file through the same
//! pipeline first, so the whole file is always verified.

use crate::codec::Codec;
use crate::digest::{self, Digests};
use marketplace_format::{Algorithm, Checksum};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Size of the chunks read from the network and from the decompressor.
pub(crate) const CHUNK: usize = 256 * 1024;

/// Chunks in flight between two stages.
const DEPTH: usize = 16;

/// What the metadata says about the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expected {
    /// `slreq:bytes`.
    pub bytes: u64,
    /// Every `slreq:checksum`.
    pub checksums: Vec<Checksum>,
}

/// Which bytes the size and checksums describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verify {
    /// The file as served.
    Raw,
    /// The file after decompression with this codec.
    Decoded(Codec),
}

/// Why a transfer did not produce a verified file.
#[derive(Debug)]
pub(crate) enum TransferError {
    /// Reading from the network failed (the partial file is worth keeping).
    Network(String),
    /// The content is not the image described (the files must go).
    Mismatch(String),
    /// A local file could not be read or written.
    Local(io::Error),
}

impl std::fmt::Display for TransferError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransferError::Network(m) | TransferError::Mismatch(m) => f.write_str(m),
            TransferError::Local(e) => write!(f, "local file error: {e}"),
        }
    }
}

/// A transfer whose size and checksums all matched.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    /// Bytes of the file as served.
    pub raw_bytes: u64,
    /// Bytes of the image (after decompression when verifying decoded bytes).
    pub image_bytes: u64,
    /// The digests of the image.
    pub digests: Digests,
}

/// A [`Read`] over chunks arriving on a channel (end of input when the
/// sender is dropped).
pub(crate) struct ChannelReader {
    rx: Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
}

impl ChannelReader {
    /// Reads what `rx` receives.
    pub(crate) fn new(rx: Receiver<Vec<u8>>) -> Self {
        ChannelReader {
            rx,
            buf: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.buf.len() {
            match self.rx.recv() {
                Ok(b) => {
                    self.buf = b;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The verification stages of one transfer.
pub(crate) struct Pipeline {
    tx: Option<SyncSender<Vec<u8>>>,
    decoder: Option<JoinHandle<io::Result<u64>>>,
    hasher: JoinHandle<io::Result<Digests>>,
    verify: Verify,
    expected: Expected,
    raw: u64,
}

impl Pipeline {
    /// Starts the stages; `decoded_out` receives the decompressed image
    /// (only with [`Verify::Decoded`]).
    pub(crate) fn start(
        verify: Verify,
        expected: &Expected,
        decoded_out: Option<File>,
    ) -> Pipeline {
        let algorithms: Vec<Algorithm> = expected.checksums.iter().map(|c| c.algorithm).collect();
        let (hash_tx, hash_rx) = sync_channel::<Vec<u8>>(DEPTH);
        let hasher = std::thread::spawn(move || {
            digest::digest_reader(
                ChannelReader::new(hash_rx),
                &algorithms,
                digest::CHUNK_SIZE,
                |_| {},
            )
        });
        let (tx, decoder) = match verify {
            Verify::Raw => (hash_tx, None),
            Verify::Decoded(codec) => {
                let (raw_tx, raw_rx) = sync_channel::<Vec<u8>>(DEPTH);
                let limit = expected.bytes;
                let handle = std::thread::spawn(move || {
                    decode(
                        codec,
                        ChannelReader::new(raw_rx),
                        hash_tx,
                        decoded_out,
                        limit,
                    )
                });
                (raw_tx, Some(handle))
            }
        };
        Pipeline {
            tx: Some(tx),
            decoder,
            hasher,
            verify,
            expected: expected.clone(),
            raw: 0,
        }
    }

    /// Passes on one chunk of the file as served. `Ok(false)` when a stage
    /// has stopped (its reason comes from [`Pipeline::finish`]).
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Result<bool, TransferError> {
        self.raw += chunk.len() as u64;
        if self.verify == Verify::Raw && self.raw > self.expected.bytes {
            return Err(TransferError::Mismatch(format!(
                "size mismatch: the location serves more than the {} bytes the metadata gives",
                self.expected.bytes
            )));
        }
        let Some(tx) = &self.tx else {
            return Ok(false);
        };
        Ok(tx.send(chunk.to_vec()).is_ok())
    }

    /// Ends the input, waits for the stages and checks size and every checksum.
    pub(crate) fn finish(mut self) -> Result<Verified, TransferError> {
        drop(self.tx.take());
        let decoded = self.decoder.take().map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(io::Error::other("the decompressor panicked")))
        });
        let digests = self
            .hasher
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("a hasher panicked")));
        let image_bytes = match decoded {
            Some(Ok(n)) => n,
            Some(Err(e)) if e.kind() == io::ErrorKind::StorageFull => {
                return Err(TransferError::Local(e));
            }
            Some(Err(e)) => {
                let codec = match self.verify {
                    Verify::Decoded(c) => c.to_string(),
                    Verify::Raw => String::new(),
                };
                return Err(TransferError::Mismatch(format!(
                    "the file is not the {codec}-compressed image the metadata describes: {e}"
                )));
            }
            None => self.raw,
        };
        let digests = digests.map_err(TransferError::Local)?;
        check(&self.expected, image_bytes, &digests)?;
        Ok(Verified {
            raw_bytes: self.raw,
            image_bytes,
            digests,
        })
    }
}

/// The decompression stage: decoded chunks to the hashers and `out`.
fn decode(
    codec: Codec,
    input: ChannelReader,
    hash_tx: SyncSender<Vec<u8>>,
    mut out: Option<File>,
    limit: u64,
) -> io::Result<u64> {
    let mut decoder = codec.decoder(input)?;
    let mut buf = vec![0u8; CHUNK];
    let mut total: u64 = 0;
    loop {
        let n = match decoder.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        total += n as u64;
        if total > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("it decompresses to more than the {limit} bytes the metadata gives"),
            ));
        }
        if let Some(f) = out.as_mut() {
            f.write_all(&buf[..n])
                .map_err(|e| io::Error::new(e.kind(), format!("cannot write the image: {e}")))?;
        }
        if hash_tx.send(buf[..n].to_vec()).is_err() {
            return Err(io::Error::other("the hashers stopped"));
        }
    }
    if let Some(f) = out.as_mut() {
        f.flush()?;
        f.sync_all()?;
    }
    Ok(total)
}

/// Compares size and every checksum; the error lists every difference.
pub(crate) fn check(
    expected: &Expected,
    bytes: u64,
    digests: &Digests,
) -> Result<(), TransferError> {
    let mut wrong = Vec::new();
    if bytes != expected.bytes {
        wrong.push(format!(
            "size: the metadata gives {} bytes, the image has {bytes}",
            expected.bytes
        ));
    }
    for c in &expected.checksums {
        let got = digests.hex(c.algorithm).unwrap_or_default();
        if !got.eq_ignore_ascii_case(c.value.trim()) {
            wrong.push(format!(
                "{}: the metadata gives {}, the image has {got}",
                c.algorithm, c.value
            ));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(TransferError::Mismatch(format!(
            "the image does not match its metadata:\n  {}",
            wrong.join("\n  ")
        )))
    }
}

/// Feeds the first `len` bytes of the file at `path` to `pipeline`.
pub(crate) fn replay(
    path: &Path,
    len: u64,
    pipeline: &mut Pipeline,
) -> Result<bool, TransferError> {
    let file = File::open(path).map_err(TransferError::Local)?;
    let mut reader = file.take(len);
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(true),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(TransferError::Local(e)),
        };
        if !pipeline.feed(&buf[..n])? {
            return Ok(false);
        }
    }
}

/// Copies `body` to `part` and through `pipeline`, calling `progress` with
/// the bytes written so far. Stops early when a stage stops.
pub(crate) fn stream(
    body: &mut dyn Read,
    part: &mut File,
    pipeline: &mut Pipeline,
    mut progress: impl FnMut(u64),
) -> Result<(), TransferError> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = part.flush();
                return Err(TransferError::Network(format!(
                    "the transfer broke off: {}",
                    crate::client::chain(&e)
                )));
            }
        };
        part.write_all(&buf[..n]).map_err(TransferError::Local)?;
        progress(n as u64);
        if !pipeline.feed(&buf[..n])? {
            break;
        }
    }
    part.flush().map_err(TransferError::Local)?;
    part.sync_all().map_err(TransferError::Local)?;
    Ok(())
}

/// Decompresses the file at `src` into `dst` when it starts with a known
/// codec's magic bytes; returns the codec (None: not compressed, nothing written).
pub(crate) fn decompress_file(src: &Path, dst: &Path) -> io::Result<Option<Codec>> {
    let mut head = [0u8; 8];
    let mut f = File::open(src)?;
    let n = f.read(&mut head)?;
    let Some(codec) = Codec::sniff(&head[..n]) else {
        return Ok(None);
    };
    let input = io::BufReader::new(File::open(src)?);
    let mut decoder = codec.decoder(input)?;
    let mut out = File::create(dst)?;
    io::copy(&mut decoder, &mut out)?;
    out.sync_all()?;
    Ok(Some(codec))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected_for(data: &[u8]) -> Expected {
        let d = digest::digest_reader(data, &Algorithm::ALL, 4096, |_| {}).unwrap();
        Expected {
            bytes: data.len() as u64,
            checksums: Algorithm::ALL
                .iter()
                .map(|a| Checksum {
                    algorithm: *a,
                    value: d.hex(*a).unwrap(),
                })
                .collect(),
        }
    }

    #[test]
    fn raw_and_decoded_streams_verify() {
        let data: Vec<u8> = (0..700_000u32).map(|i| (i * 7 % 253) as u8).collect();
        let expected = expected_for(&data);
        let mut p = Pipeline::start(Verify::Raw, &expected, None);
        for chunk in data.chunks(100_000) {
            assert!(p.feed(chunk).unwrap());
        }
        let v = p.finish().unwrap();
        assert_eq!(v.image_bytes, data.len() as u64);

        let packed = zstd::encode_all(&data[..], 1).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = File::create(dir.path().join("img")).unwrap();
        let mut p = Pipeline::start(Verify::Decoded(Codec::Zstd), &expected, Some(out));
        for chunk in packed.chunks(1000) {
            assert!(p.feed(chunk).unwrap());
        }
        let v = p.finish().unwrap();
        assert_eq!(v.raw_bytes, packed.len() as u64);
        assert_eq!(std::fs::read(dir.path().join("img")).unwrap(), data);
    }

    #[test]
    fn mismatches_are_reported() {
        let data = vec![1u8; 10_000];
        let mut expected = expected_for(&data);
        expected.checksums[2].value = "0".repeat(64);
        let mut p = Pipeline::start(Verify::Raw, &expected, None);
        p.feed(&data).unwrap();
        let e = p.finish().unwrap_err().to_string();
        assert!(e.contains("SHA-256") && !e.contains("SHA-1:"), "{e}");

        let mut p = Pipeline::start(Verify::Raw, &expected_for(&data), None);
        assert!(matches!(
            p.feed(&[0u8; 10_001]),
            Err(TransferError::Mismatch(_))
        ));

        let mut p = Pipeline::start(Verify::Decoded(Codec::Gzip), &expected_for(&data), None);
        let _ = p.feed(b"not gzip at all");
        assert!(matches!(p.finish(), Err(TransferError::Mismatch(_))));
    }
}
