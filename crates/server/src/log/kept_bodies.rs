//! Response bodies that never change once served, kept in memory: a tile's
//! bytes once the tree holds it (a partial tile's path names its width),
//! and an inclusion proof for a leaf in a tree of a given size (sites check
//! the same entries against the same checkpoint until it changes). A copy
//! is never stale. Bounded: the oldest copies go first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::body::Bytes;

/// The most bodies kept, of each kind (full hash tiles are 8 KiB: about
/// 32 MiB at most, entry bundles somewhat more; proofs about 2 KiB).
const CAPACITY: usize = 4096;

/// Served bodies by key (a tile's path, a proof's index and size).
#[derive(Debug, Default)]
pub(crate) struct KeptBodies {
    kept: Mutex<(HashMap<String, Bytes>, VecDeque<String>)>,
}

impl KeptBodies {
    /// The bytes served for `path`, if kept.
    pub(crate) fn get(&self, path: &str) -> Option<Bytes> {
        self.kept.lock().ok()?.0.get(path).cloned()
    }

    /// Keeps `bytes` as the tile at `path`.
    pub(crate) fn put(&self, path: String, bytes: Bytes) {
        let Ok(mut kept) = self.kept.lock() else {
            return;
        };
        let (map, order) = &mut *kept;
        if map.insert(path.clone(), bytes).is_none() {
            order.push_back(path);
        }
        while order.len() > CAPACITY {
            if let Some(oldest) = order.pop_front() {
                map.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_tiles_go_first() {
        let cache = KeptBodies::default();
        for i in 0..=CAPACITY {
            cache.put(format!("tile/0/{i}"), Bytes::from(vec![1]));
        }
        assert!(cache.get("tile/0/0").is_none());
        assert!(cache.get(&format!("tile/0/{CAPACITY}")).is_some());
    }
}
