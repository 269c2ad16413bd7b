//! fork: a child address space sharing every page with the parent, private
//! pages copy-on-write. Nothing is copied at fork; the parent's writable
//! private pages become read-only in its host address space, and the first
//! write on either side copies (see `fault`). The child's host address space
//! is made when it first runs.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::RwLock;

use crate::abi::Errno;
use crate::mm::{mmap::coalesce, Inner, MemoryManager, Pma, NEXT_MM_ID};
use crate::platform::MapOp;

impl MemoryManager {
    /// A copy of this address space for a forked child.
    pub fn fork(&self) -> Result<MemoryManager, Errno> {
        let mut i = self.write();
        // Shared file mappings are snapshots of the file in the memory file
        // (until there is one page cache): give them all their pages now, so
        // that both sides share the same snapshot.
        let shared_files: Vec<(u64, u64)> =
            i.vmas.values().filter(|v| v.shared && v.file.is_some() && !v.dontfork).map(|v| (v.start, v.end)).collect();
        for (s, e) in shared_files {
            let mut at = s;
            while at < e {
                match i.pma_at(at).map(|p| p.end) {
                    Some(end) => at = end,
                    None => {
                        let v = i.vma_at(at).cloned().ok_or(Errno::EFAULT)?;
                        self.populate(&mut i, &v, at)?;
                    }
                }
            }
        }
        // Made first, so that on failure its drop releases what it holds.
        let mut mm = MemoryManager {
            id: NEXT_MM_ID.fetch_add(1, Ordering::Relaxed),
            mf: self.mf.clone(),
            platform: self.platform.clone(),
            reserved: self.reserved.clone(),
            inner: RwLock::new(Inner {
                vmas: BTreeMap::new(),
                pmas: BTreeMap::new(),
                aspace: None,
                brk_start: i.brk_start,
                brk: i.brk,
                mmap_top: i.mmap_top,
                args: i.args,
            }),
        };
        let child = mm.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        for v in i.vmas.values().filter(|v| !v.dontfork) {
            child.vmas.insert(v.start, v.clone());
        }
        let mut protect = Vec::new();
        let keys: Vec<u64> = i.pmas.keys().copied().collect();
        for k in keys {
            let Some(p) = i.pmas.get(&k).copied() else { continue };
            let Some(v) = i.vma_at(p.start).cloned() else { continue };
            if v.dontfork {
                continue;
            }
            if v.wipeonfork {
                // The child gets zeros here (its own fresh pages).
                let off = self.mf.allocate(p.len())?;
                child.pmas.insert(k, Pma { mf_off: off, cow: false, mapped: None, ..p });
                continue;
            }
            self.mf.inc_ref(p.mf_off, p.len());
            if v.shared {
                child.pmas.insert(k, Pma { mapped: None, ..p });
                continue;
            }
            child.pmas.insert(k, Pma { cow: true, mapped: None, ..p });
            if let Some(q) = i.pmas.get_mut(&k) {
                q.cow = true;
                if let Some(prot) = q.mapped.filter(|m| m & libc::PROT_WRITE != 0) {
                    let ro = prot & !libc::PROT_WRITE;
                    q.mapped = Some(ro);
                    protect.push(MapOp::Protect { addr: p.start, len: p.len(), prot: ro });
                }
            }
        }
        self.host_apply(&i, &coalesce(protect))?;
        Ok(mm)
    }
}
