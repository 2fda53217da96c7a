//! Checksums of image files: MD5, SHA-1, SHA-256 and SHA-512 in one read.
//!
//! Images are large (GiB), so the file is read once and each algorithm runs on
//! its own thread. The calling thread reads the file in [`CHUNK_SIZE`] chunks
//! and hands every chunk, shared through an [`Arc`], to one hashing thread per
//! algorithm over bounded channels (so memory stays bounded and a slow hash
//! slows the reader down instead of queueing the whole file). Buffers are
//! recycled once every hasher is done with them. Hashing uses OpenSSL's
//! assembly implementations, the fastest measured on this project's machines
//! (design note `rust-stack.md` §3.16).

use marketplace_format::Algorithm;
use openssl::hash::{Hasher, MessageDigest};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

/// Size of the chunks the file is read in: 1 MiB was the fastest of the
/// sizes tried from 256 KiB to 4 MiB (`docs/performance.md`).
pub(crate) const CHUNK_SIZE: usize = 1024 * 1024;

/// Chunks waiting in each hasher's channel before the reader blocks.
const QUEUE_DEPTH: usize = 4;

/// The digests of one input, and its length.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Digests {
    /// Number of bytes read.
    pub bytes: u64,
    values: BTreeMap<Algorithm, Vec<u8>>,
}

impl Digests {
    /// The raw digest for `algorithm`, if it was computed.
    pub(crate) fn get(&self, algorithm: Algorithm) -> Option<&[u8]> {
        self.values.get(&algorithm).map(Vec::as_slice)
    }

    /// The digest for `algorithm` in lowercase hexadecimal, if it was computed.
    pub(crate) fn hex(&self, algorithm: Algorithm) -> Option<String> {
        self.get(algorithm).map(to_hex)
    }
}

/// Lowercase hexadecimal form of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Computes the `algorithms` digests of the file at `path`, reading it once.
///
/// `progress` is called on the calling thread after each chunk with the
/// total number of bytes read so far (use it to drive a progress bar).
/// Errors are those of opening or reading the file (with the path in the
/// message), or of OpenSSL. Asking for no algorithm just counts the bytes.
///
/// ```ignore
/// let d = digest_file(Path::new("disk.img"), &Algorithm::ALL, |_| {})?;
/// println!("{}", d.hex(Algorithm::Sha1).unwrap());
/// ```
pub(crate) fn digest_file(
    path: &Path,
    algorithms: &[Algorithm],
    progress: impl FnMut(u64),
) -> io::Result<Digests> {
    let with_path = |e: io::Error, what: &str| {
        io::Error::new(e.kind(), format!("cannot {what} '{}': {e}", path.display()))
    };
    let file = File::open(path).map_err(|e| with_path(e, "open"))?;
    digest_reader(file, algorithms, CHUNK_SIZE, progress).map_err(|e| with_path(e, "read"))
}

/// Computes the `algorithms` digests of everything `reader` yields, reading it
/// in chunks of `chunk_size` bytes (see [`digest_file`]).
pub(crate) fn digest_reader(
    mut reader: impl Read,
    algorithms: &[Algorithm],
    chunk_size: usize,
    mut progress: impl FnMut(u64),
) -> io::Result<Digests> {
    assert!(chunk_size > 0, "chunk_size must be positive");
    let mut algorithms = algorithms.to_vec();
    algorithms.sort();
    algorithms.dedup();

    thread::scope(|scope| {
        // Buffers come back here once the last hasher has dropped them.
        let (recycle_tx, recycle_rx) = sync_channel::<Vec<u8>>(QUEUE_DEPTH + 2);
        let mut senders: Vec<SyncSender<Arc<Vec<u8>>>> = Vec::new();
        let mut workers = Vec::new();
        for &algorithm in &algorithms {
            let (tx, rx) = sync_channel::<Arc<Vec<u8>>>(QUEUE_DEPTH);
            let recycle = recycle_tx.clone();
            senders.push(tx);
            workers.push((
                algorithm,
                scope.spawn(move || hash_chunks(algorithm, rx, recycle)),
            ));
        }
        drop(recycle_tx);

        let mut total: u64 = 0;
        let mut spare: Option<Vec<u8>> = None;
        let read_result = loop {
            let mut buf = spare
                .take()
                .or_else(|| recycle_rx.try_recv().ok())
                .unwrap_or_default();
            buf.resize(chunk_size, 0);
            let n = match read_full(&mut reader, &mut buf) {
                Ok(n) => n,
                Err(e) => break Err(e),
            };
            if n == 0 {
                break Ok(());
            }
            buf.truncate(n);
            total += n as u64;
            let chunk = Arc::new(buf);
            // A send fails only when a hasher has stopped on an error, which
            // joining it below reports.
            if senders
                .iter()
                .any(|tx| tx.send(Arc::clone(&chunk)).is_err())
            {
                break Ok(());
            }
            spare = Arc::into_inner(chunk);
            progress(total);
            if n < chunk_size {
                break Ok(());
            }
        };
        drop(senders); // hashers finish once their channel is drained

        let mut values = BTreeMap::new();
        let mut first_error = read_result.err();
        for (algorithm, worker) in workers {
            match worker.join() {
                Ok(Ok(digest)) => {
                    values.insert(algorithm, digest);
                }
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(Digests {
                bytes: total,
                values,
            }),
        }
    })
}

/// One hashing thread: digests every chunk received, in order.
fn hash_chunks(
    algorithm: Algorithm,
    chunks: Receiver<Arc<Vec<u8>>>,
    recycle: SyncSender<Vec<u8>>,
) -> io::Result<Vec<u8>> {
    let openssl = |e: openssl::error::ErrorStack| {
        io::Error::other(format!("OpenSSL {algorithm} digest failed: {e}"))
    };
    let mut hasher = Hasher::new(message_digest(algorithm)).map_err(openssl)?;
    for chunk in chunks {
        hasher.update(&chunk).map_err(openssl)?;
        if let Some(buf) = Arc::into_inner(chunk) {
            let _ = recycle.try_send(buf);
        }
    }
    Ok(hasher.finish().map_err(openssl)?.to_vec())
}

fn message_digest(algorithm: Algorithm) -> MessageDigest {
    match algorithm {
        Algorithm::Md5 => MessageDigest::md5(),
        Algorithm::Sha1 => MessageDigest::sha1(),
        Algorithm::Sha256 => MessageDigest::sha256(),
        Algorithm::Sha512 => MessageDigest::sha512(),
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8], chunk: usize) -> Digests {
        digest_reader(data, &Algorithm::ALL, chunk, |_| {}).unwrap()
    }

    #[test]
    fn empty_input() {
        let d = all(b"", CHUNK_SIZE);
        assert_eq!(d.bytes, 0);
        assert_eq!(
            d.hex(Algorithm::Md5).unwrap(),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            d.hex(Algorithm::Sha1).unwrap(),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            d.hex(Algorithm::Sha256).unwrap(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            d.hex(Algorithm::Sha512).unwrap(),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
             47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        );
    }

    #[test]
    fn abc() {
        let d = all(b"abc", CHUNK_SIZE);
        assert_eq!(d.bytes, 3);
        assert_eq!(
            d.hex(Algorithm::Md5).unwrap(),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            d.hex(Algorithm::Sha1).unwrap(),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            d.hex(Algorithm::Sha256).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            d.hex(Algorithm::Sha512).unwrap(),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
    }

    #[test]
    fn many_chunks_match_a_single_pass() {
        // Not a multiple of the chunk size, and chunks smaller than a block.
        let data: Vec<u8> = (0..1_000_003u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for chunk in [1000, 4096, 65_537, CHUNK_SIZE] {
            let d = all(&data, chunk);
            assert_eq!(d.bytes, data.len() as u64);
            for algorithm in Algorithm::ALL {
                let single = openssl::hash::hash(message_digest(algorithm), &data).unwrap();
                assert_eq!(
                    d.get(algorithm).unwrap(),
                    &single[..],
                    "{algorithm} {chunk}"
                );
            }
        }
    }

    #[test]
    fn only_the_requested_algorithms() {
        let d = digest_reader(
            &b"abc"[..],
            &[Algorithm::Sha1, Algorithm::Sha1],
            CHUNK_SIZE,
            |_| {},
        )
        .unwrap();
        assert!(d.get(Algorithm::Md5).is_none());
        assert!(d.get(Algorithm::Sha1).is_some());
        let none = digest_reader(&b"abcdef"[..], &[], 4, |_| {}).unwrap();
        assert_eq!(none.bytes, 6);
    }

    #[test]
    fn progress_reports_cumulative_bytes() {
        let mut seen = Vec::new();
        digest_reader(&[7u8; 10][..], &[Algorithm::Md5], 4, |n| seen.push(n)).unwrap();
        assert_eq!(seen, [4, 8, 10]);
    }

    #[test]
    fn read_errors_are_reported() {
        struct Failing(u8);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk on fire"));
                }
                self.0 -= 1;
                buf[0] = 1;
                Ok(1)
            }
        }
        let e = digest_reader(Failing(5), &Algorithm::ALL, 2, |_| {}).unwrap_err();
        assert!(e.to_string().contains("disk on fire"));
        let missing = digest_file(Path::new("/nonexistent/image"), &Algorithm::ALL, |_| {});
        let message = missing.unwrap_err().to_string();
        assert!(
            message.contains("cannot open '/nonexistent/image'"),
            "{message}"
        );
    }
}
