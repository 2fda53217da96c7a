//! Compression of image files: gzip, bzip2, xz and zstd, by the names
//! `dcterms:compression` uses or by their magic bytes.

use std::io::{self, Read};

/// A compression format the client can undo (serialised as its extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Codec {
    /// gzip (`gz`), every member.
    Gzip,
    /// bzip2 (`bz2`), every stream.
    Bzip2,
    /// xz (`xz`), every stream.
    Xz,
    /// Zstandard (`zst`), every frame.
    Zstd,
}

impl Codec {
    /// Every codec.
    #[cfg(test)]
    pub(crate) const ALL: [Codec; 4] = [Codec::Gzip, Codec::Bzip2, Codec::Xz, Codec::Zstd];

    /// The codec `dcterms:compression` names: `gz`/`gzip`, `bz2`/`bzip2`,
    /// `xz`, `zst`/`zstd` (any case, an optional leading dot). `None` for an
    /// empty value or `none`; an error for other names.
    pub(crate) fn from_name(name: &str) -> Result<Option<Codec>, String> {
        let n = name.trim().trim_start_matches('.').to_ascii_lowercase();
        Ok(Some(match n.as_str() {
            "" | "none" | "raw" => return Ok(None),
            "gz" | "gzip" | "tgz" => Codec::Gzip,
            "bz2" | "bzip2" | "bz" => Codec::Bzip2,
            "xz" => Codec::Xz,
            "zst" | "zstd" | "zstandard" => Codec::Zstd,
            _ => {
                return Err(format!(
                    "unknown compression '{name}' (this client knows gz, bz2, xz and zst)"
                ));
            }
        }))
    }

    /// The codec whose magic bytes start `data`, if any.
    pub(crate) fn sniff(data: &[u8]) -> Option<Codec> {
        if data.starts_with(&[0x1f, 0x8b]) {
            Some(Codec::Gzip)
        } else if data.starts_with(b"BZh") {
            Some(Codec::Bzip2)
        } else if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Some(Codec::Xz)
        } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Codec::Zstd)
        } else {
            None
        }
    }

    /// The usual file extension, without the dot.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Codec::Gzip => "gz",
            Codec::Bzip2 => "bz2",
            Codec::Xz => "xz",
            Codec::Zstd => "zst",
        }
    }

    /// A reader yielding the decompressed content of `input`; a truncated or
    /// corrupt input is a read error.
    pub(crate) fn decoder<'a, R: Read + 'a>(self, input: R) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
            Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(input)),
            Codec::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(input)),
            Codec::Zstd => Box::new(zstd::stream::read::Decoder::new(input)?),
        })
    }
}

impl serde::Serialize for Codec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.extension())
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.extension())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn compress(codec: Codec, data: &[u8]) -> Vec<u8> {
        match codec {
            Codec::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Codec::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Codec::Xz => {
                let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Codec::Zstd => zstd::encode_all(data, 1).unwrap(),
        }
    }

    #[test]
    fn round_trips_sniffs_and_refuses_truncation() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for codec in Codec::ALL {
            let packed = compress(codec, &data);
            assert_eq!(Codec::sniff(&packed), Some(codec));
            let mut out = Vec::new();
            codec
                .decoder(&packed[..])
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, data, "{codec}");
            let cut = &packed[..packed.len() / 2];
            let mut out = Vec::new();
            let r = codec.decoder(cut).and_then(|mut d| d.read_to_end(&mut out));
            assert!(r.is_err(), "{codec}: a truncated stream is an error");
        }
        assert_eq!(Codec::sniff(b"plain"), None);
    }

    #[test]
    fn names() {
        assert_eq!(Codec::from_name("GZ").unwrap(), Some(Codec::Gzip));
        assert_eq!(Codec::from_name(".bz2").unwrap(), Some(Codec::Bzip2));
        assert_eq!(Codec::from_name("zstd").unwrap(), Some(Codec::Zstd));
        assert_eq!(Codec::from_name("").unwrap(), None);
        assert_eq!(Codec::from_name("none").unwrap(), None);
        assert!(Codec::from_name("rar").is_err());
    }
}
