//! C2SP tlog-tiles: the tree served as immutable files that any static mirror
//! or CDN can hold. A hash tile at level `L`, index `N` holds up to 256
//! consecutive hashes of level `8·L` of the tree; an entry tile (entry bundle)
//! holds up to 256 consecutive leaves, each prefixed by its length as a
//! 16-bit big-endian number. A partial tile (`.p/<W>`) holds the first `W`.
//!
//! `tlog_tiles` writes Go sumdb paths, which carry the tile height
//! (`tile/8/0/x001/234`); C2SP paths leave it out (`tile/0/x001/234`) and
//! name entry bundles `tile/entries/…` instead of `tile/8/data/…`. The
//! translation below is the only difference.

use tlog_tiles::tile::Tile;

use crate::tree::{HashReader, TreeError};

/// The tile height of C2SP tlog-tiles: 2⁸ = 256 hashes or leaves per tile.
pub const TILE_HEIGHT: u8 = 8;

/// The most leaves or hashes in a tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// A tile requested by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileRequest {
    tile: Tile,
}

/// Why a tile path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TilePathError {
    /// Not a C2SP tile path.
    #[error("'{0}' is not a tile path (tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>])")]
    Malformed(String),
    /// A tile the tree does not hold yet.
    #[error("the tile {path} is beyond the tree of {size} leaves")]
    Beyond {
        /// The path.
        path: String,
        /// The tree size.
        size: u64,
    },
}

impl TileRequest {
    /// Reads a path relative to the log's root (`tile/…`).
    pub fn parse(path: &str) -> Result<Self, TilePathError> {
        let malformed = || TilePathError::Malformed(path.to_string());
        let rest = path.strip_prefix("tile/").ok_or_else(malformed)?;
        // `Tile::from_path` panics on a level over 63 or a width of 0:
        // both are refused here first.
        let (level, _) = rest.split_once('/').ok_or_else(malformed)?;
        if level != "entries" && canonical_number(level).is_none_or(|l| l >= 64) {
            return Err(malformed());
        }
        if let Some((_, width)) = rest.split_once(".p/")
            && !canonical_number(width).is_some_and(|w| (1..TILE_WIDTH).contains(&w))
        {
            return Err(malformed());
        }
        let go_path = match rest.strip_prefix("entries/") {
            Some(n) => format!("tile/{TILE_HEIGHT}/data/{n}"),
            None => format!("tile/{TILE_HEIGHT}/{rest}"),
        };
        let tile = Tile::from_path(&go_path).map_err(|_| malformed())?;
        Ok(Self { tile })
    }

    /// The hash tile at `level`, index `index`, `width` hashes wide.
    pub fn hashes(level: u8, index: u64, width: u32) -> Self {
        Self {
            tile: Tile::new(TILE_HEIGHT, level, index, width, false),
        }
    }

    /// The entry bundle `index`, `width` leaves wide.
    pub fn entries(index: u64, width: u32) -> Self {
        Self {
            tile: Tile::new(TILE_HEIGHT, 0, index, width, true),
        }
    }

    /// Its C2SP path (`tile/…`).
    pub fn path(&self) -> String {
        let go = self.tile.path();
        let after_height = go
            .strip_prefix(&format!("tile/{TILE_HEIGHT}/"))
            .unwrap_or(&go);
        match after_height.strip_prefix("data/") {
            Some(n) => format!("tile/entries/{n}"),
            None => format!("tile/{after_height}"),
        }
    }

    /// Whether this is an entry bundle.
    pub fn is_entries(&self) -> bool {
        self.tile.is_data()
    }

    /// Whether the tile holds its full 256 hashes or leaves (then it never
    /// changes; a partial tile is replaced by wider ones as the tree grows,
    /// but each partial tile's content never changes either).
    pub fn is_full(&self) -> bool {
        u64::from(self.tile.width()) == TILE_WIDTH
    }

    /// The leaves an entry bundle holds, `first..end`.
    pub fn leaf_range(&self) -> std::ops::Range<u64> {
        let first = self.tile.level_index() * TILE_WIDTH;
        first..first + u64::from(self.tile.width())
    }

    /// How many leaves a tree needs to hold the whole tile (saturating).
    pub fn leaves_needed(&self) -> u64 {
        // The tile's last hash covers the leaves up to this one (exclusive);
        // u128 keeps the shift of a huge index from overflowing.
        let level = u32::from(self.tile.level()) * u32::from(TILE_HEIGHT);
        let hashes = u128::from(self.tile.level_index()) * u128::from(TILE_WIDTH)
            + u128::from(self.tile.width());
        hashes
            .checked_shl(level)
            .filter(|end| end >> level == hashes)
            .and_then(|end| u64::try_from(end).ok())
            .unwrap_or(u64::MAX)
    }

    /// Checks that the tree of `size` leaves holds the whole tile.
    pub fn check_within(&self, size: u64) -> Result<(), TilePathError> {
        if self.leaves_needed() <= size {
            Ok(())
        } else {
            Err(TilePathError::Beyond {
                path: self.path(),
                size,
            })
        }
    }

    /// A hash tile's bytes, read from the stored hashes.
    pub fn hash_data<R: HashReader>(&self, r: &R) -> Result<Vec<u8>, TreeError> {
        self.tile
            .read_data(r)
            .map_err(|e| TreeError::OutOfRange(e.to_string()))
    }
}

/// A decimal number written without leading zeros.
fn canonical_number(text: &str) -> Option<u64> {
    let ok = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
        && text.len() <= 19;
    ok.then(|| text.parse().ok()).flatten()
}

/// An entry bundle of `leaves`: each leaf prefixed by its length (16 bits,
/// big-endian).
pub fn entry_bundle(leaves: &[Vec<u8>]) -> Result<Vec<u8>, TreeError> {
    let mut out = Vec::with_capacity(leaves.iter().map(|l| l.len() + 2).sum());
    for leaf in leaves {
        let length = u16::try_from(leaf.len())
            .map_err(|_| TreeError::OutOfRange(format!("a leaf of {} bytes", leaf.len())))?;
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(leaf);
    }
    Ok(out)
}

/// The leaves of an entry bundle.
pub fn read_entry_bundle(mut data: &[u8]) -> Result<Vec<Vec<u8>>, TreeError> {
    let mut leaves = Vec::new();
    while !data.is_empty() {
        let (length, rest) = data
            .split_at_checked(2)
            .ok_or_else(|| TreeError::OutOfRange("a truncated entry bundle".into()))?;
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        let (leaf, rest) = rest
            .split_at_checked(length)
            .ok_or_else(|| TreeError::OutOfRange("a truncated entry bundle".into()))?;
        leaves.push(leaf.to_vec());
        data = rest;
    }
    Ok(leaves)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{MemoryTree, record_hash};

    #[test]
    fn paths_are_the_c2sp_ones() {
        for path in [
            "tile/0/000",
            "tile/0/x001/234",
            "tile/1/000.p/7",
            "tile/entries/x001/234.p/255",
            "tile/entries/000",
        ] {
            assert_eq!(TileRequest::parse(path).unwrap().path(), path);
        }
        for bad in [
            "tile/8/0/000",
            "tile/0/1234",
            "tile/0/000.p/256",
            "tile/0/000.p/0",
            "tile/entries/",
            "tiles/0/000",
            "tile/0/0001",
            "tile/64/000",
            "tile/255/000",
            "tile/0/000.p/00",
            "tile/0/000.p/",
            "tile/entries/000.p/0",
            "tile/00/000",
        ] {
            assert!(TileRequest::parse(bad).is_err(), "{bad}");
        }
        assert!(TileRequest::parse("tile/entries/000").unwrap().is_entries());
        assert_eq!(
            TileRequest::parse("tile/entries/001.p/3")
                .unwrap()
                .leaf_range(),
            256..259
        );
    }

    #[test]
    fn tiles_hold_the_tree_and_stay_within_it() {
        let mut tree = MemoryTree::new();
        let leaves: Vec<Vec<u8>> = (0..300).map(|i| format!("{i}").into_bytes()).collect();
        for leaf in &leaves {
            tree.push(leaf).unwrap();
        }
        let full = TileRequest::parse("tile/0/000").unwrap();
        full.check_within(300).unwrap();
        let data = full.hash_data(tree.hashes()).unwrap();
        assert_eq!(data.len(), 256 * 32);
        assert_eq!(&data[32..64], &record_hash(&leaves[1]).0);
        let partial = TileRequest::parse("tile/0/001.p/44").unwrap();
        partial.check_within(300).unwrap();
        assert!(
            TileRequest::parse("tile/0/001.p/45")
                .unwrap()
                .check_within(300)
                .is_err()
        );
        assert!(
            TileRequest::parse("tile/1/000.p/1")
                .unwrap()
                .check_within(300)
                .is_ok()
        );
        assert!(
            TileRequest::parse("tile/1/000.p/2")
                .unwrap()
                .check_within(300)
                .is_err()
        );
        assert!(
            TileRequest::parse("tile/2/000.p/1")
                .unwrap()
                .check_within(300)
                .is_err()
        );
        assert!(
            TileRequest::parse("tile/0/x999/999")
                .unwrap()
                .check_within(300)
                .is_err()
        );
    }

    proptest::proptest! {
        /// Whatever a client sends as a tile path is parsed or refused,
        /// never a panic, and what parses prints back as it was sent.
        #[test]
        fn any_path_is_parsed_or_refused(path in "tile/[0-9.px/entries]{0,40}") {
            if let Ok(tile) = TileRequest::parse(&path) {
                proptest::prop_assert_eq!(tile.path(), path);
            }
        }
    }

    #[test]
    fn entry_bundles_round_trip() {
        let leaves = vec![b"a".to_vec(), Vec::new(), vec![7; 300]];
        let bundle = entry_bundle(&leaves).unwrap();
        assert_eq!(&bundle[..3], &[0, 1, b'a']);
        assert_eq!(read_entry_bundle(&bundle).unwrap(), leaves);
        assert!(read_entry_bundle(&bundle[..bundle.len() - 1]).is_err());
        assert!(entry_bundle(&[vec![0; 70_000]]).is_err());
    }
}
