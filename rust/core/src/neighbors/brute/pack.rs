//! Panels of a tile as the kernel reads them: stored in the index, or packed from the data's rows
//! on demand into a small per-worker cache.

use std::sync::{Mutex, MutexGuard};

use super::{LEAF, NONE, PANEL};
use crate::float::Float;

/// The panels of the tile being searched, packed from the data's rows when a query block first
/// needs them: the kernel reads `PANEL` rows feature-major, and packing them on demand (into a
/// slot of a small [`PanelCache`]) costs far less than the distances computed on them, where a
/// packed copy of the whole data would double the memory a search holds.
pub(super) struct Packer<'b, F> {
    pub(super) data: &'b [F],
    pub(super) ids: Option<&'b [usize]>,
    pub(super) d: usize,
    /// The index's centre: the panels hold the rows shifted by it.
    pub(super) centre: &'b [F],
    /// `LEAF / PANEL` panels: `buf[(p * d + j) * PANEL + w]`.
    pub(super) buf: &'b mut [F],
    /// The tile's panel slots (`NONE` for padding).
    pub(super) prow: &'b [usize],
    /// Bit p: panel p of the tile is in `buf`.
    pub(super) packed: &'b mut u32,
}

impl<F: Float> Packer<'_, F> {
    /// Panel `p` of the current tile, feature-major, its rows shifted by the centre (padding
    /// slots hold zeros).
    #[inline(always)]
    pub(super) fn panel(&mut self, p: usize) -> &[F] {
        let d = self.d;
        let out = &mut self.buf[p * d * PANEL..(p + 1) * d * PANEL];
        if *self.packed & (1 << p) == 0 {
            *self.packed |= 1 << p;
            // Feature by feature, so that the stores run contiguously along the panel while the
            // loads follow PANEL sequential rows (padding slots get zeros).
            let mut rows: [&[F]; PANEL] = [&[]; PANEL];
            let mut pad = 0u32;
            for w in 0..PANEL {
                let i = self.prow[p * PANEL + w];
                if i == NONE {
                    pad |= 1 << w;
                    rows[w] = &self.data[..0];
                } else {
                    let g = self.ids.map_or(i, |v| v[i]);
                    rows[w] = &self.data[g * d..(g + 1) * d];
                }
            }
            let centre = &self.centre[..d];
            if pad == 0 {
                for j in 0..d {
                    let col: &mut [F; PANEL] = (&mut out[j * PANEL..(j + 1) * PANEL])
                        .try_into()
                        .expect("panel");
                    let m = centre[j];
                    for w in 0..PANEL {
                        col[w] = rows[w][j] - m;
                    }
                }
            } else {
                for j in 0..d {
                    for w in 0..PANEL {
                        out[j * PANEL + w] = if pad & (1 << w) != 0 {
                            F::zero()
                        } else {
                            rows[w][j] - centre[j]
                        };
                    }
                }
            }
        }
        out
    }
}

/// One [`PanelCache`] per worker thread of the pool a search runs on, for the whole search: a
/// worker's consecutive tasks share its cache, whichever way the pool splits the work.
pub(super) struct Caches<F>(Vec<Mutex<PanelCache<F>>>);

impl<F: Float> Caches<F> {
    pub(super) fn new(d: usize) -> Self {
        Caches(
            (0..rayon::current_num_threads().max(1))
                .map(|_| Mutex::new(PanelCache::new(d)))
                .collect(),
        )
    }

    /// The calling worker's cache. A task holds it while it runs no parallel work of its own, so
    /// the lock is never contended.
    pub(super) fn get(&self) -> MutexGuard<'_, PanelCache<F>> {
        let i = rayon::current_thread_index().unwrap_or(0) % self.0.len();
        self.0[i].lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The panels of the tile being searched: stored in the index, or packed on demand.
pub(super) enum Panels<'b, F> {
    Stored(&'b [F]),
    Packed(Packer<'b, F>),
}

impl<F: Float> Panels<'_, F> {
    /// Panel `p` of the tile, feature-major.
    #[inline(always)]
    pub(super) fn panel(&mut self, p: usize, d: usize) -> &[F] {
        match self {
            Panels::Stored(all) => &all[p * d * PANEL..(p + 1) * d * PANEL],
            Panels::Packed(pk) => pk.panel(p),
        }
    }
}

/// Bytes of packed panels one worker keeps (a few dozen tiles at 30 features).
const CACHE_BYTES: usize = 1 << 20;

/// The packed panels of the tiles a worker visited last, direct-mapped by tile. Nearby tasks (a
/// worker runs consecutive ones, which the split tree's leaf order makes neighbours) visit the same
/// tiles, so most panels are packed once per worker rather than once per task.
pub(super) struct PanelCache<F> {
    /// Per slot: its tile (`NONE`: empty), which of its panels are packed, and the panels.
    pub(super) tile: Vec<usize>,
    pub(super) packed: Vec<u32>,
    pub(super) bufs: Vec<Vec<F>>,
    /// Elements of one tile's panels.
    pub(super) len: usize,
}

impl<F: Float> PanelCache<F> {
    pub(super) fn new(d: usize) -> Self {
        let len = LEAF.div_ceil(PANEL) * d.max(1) * PANEL;
        let slots = (CACHE_BYTES / (len * std::mem::size_of::<F>())).clamp(1, 64);
        PanelCache {
            tile: vec![NONE; slots],
            packed: vec![0; slots],
            bufs: (0..slots).map(|_| Vec::new()).collect(),
            len,
        }
    }

    /// The packer of tile `t` (whose panel slots are `prow`), reusing what is packed of it.
    pub(super) fn packer<'b>(
        &'b mut self,
        t: usize,
        prow: &'b [usize],
        data: &'b [F],
        ids: Option<&'b [usize]>,
        d: usize,
        centre: &'b [F],
    ) -> Packer<'b, F> {
        let s = t % self.tile.len();
        if self.tile[s] != t {
            self.tile[s] = t;
            self.packed[s] = 0;
        }
        if self.bufs[s].is_empty() {
            self.bufs[s] = vec![F::zero(); self.len];
        }
        Packer {
            data,
            ids,
            d,
            centre,
            buf: &mut self.bufs[s],
            prow,
            packed: &mut self.packed[s],
        }
    }
}
