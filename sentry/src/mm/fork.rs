//! fork: a child address space sharing every page with the parent, private
//! pages copy-on-write: the parent's writable private pages become
//! read-only in its host address space, and the first write on either side
//! copies (see `fault`). Only the chunk of the parent's stack, which both
//! sides are about to write, is copied at fork. The child's host address space
//! is made when it first runs, and its first fault maps the parent's hot
//! ranges all at once.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::RwLock;

use crate::abi::Errno;
use crate::mm::{mmap::coalesce, Inner, MemoryManager, Pma, Vma, COW_CHUNK, NEXT_MM_ID};
use crate::platform::MapOp;

/// How many of the parent's mapped ranges a forked child's first fault
/// maps at most.
const PREMAP_FORK: usize = 48;

impl MemoryManager {
    /// A copy of this address space for a forked child. `hint`: addresses
    /// the child touches first (its instruction and stack pointers, thread
    /// pointer).
    pub fn fork(&self, hint: &[u64]) -> Result<MemoryManager, Errno> {
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
                premap: Vec::new(),
            }),
        };
        let child = mm.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        for v in i.vmas.values().filter(|v| !v.dontfork) {
            child.vmas.insert(v.start, v.clone());
        }
        let mut protect = Vec::new();
        let stack = hint.get(1).copied();
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
            if let Some((cs, ce)) = hot_chunk(&p, &v, stack) {
                // The chunk the parent's stack pointer is in: the child gets
                // a copy now, and the parent keeps it writable (it writes
                // there as soon as fork returns; sharing it would cost a
                // protection change and a fault to copy it anyway).
                let new = self.mf.allocate(ce - cs)?;
                self.mf.copy(p.mf_off + (cs - p.start), new, ce - cs);
                child.pmas.insert(cs, Pma { start: cs, end: ce, mf_off: new, cow: false, mapped: None });
                i.pmas.remove(&k);
                for (a, b, cow) in [(p.start, cs, true), (cs, ce, false), (ce, p.end, true)] {
                    if a >= b {
                        continue;
                    }
                    let mut q = Pma { cow, ..p.slice(a, b) };
                    if cow {
                        self.mf.inc_ref(q.mf_off, q.len());
                        child.pmas.insert(a, Pma { mapped: None, ..q });
                        if let Some(prot) = q.mapped.filter(|m| m & libc::PROT_WRITE != 0) {
                            let ro = prot & !libc::PROT_WRITE;
                            q.mapped = Some(ro);
                            protect.push(MapOp::Protect { addr: a, len: b - a, prot: ro });
                        }
                    }
                    i.pmas.insert(a, q);
                }
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
        // The child's first fault maps what the parent had mapped around
        // where it runs (its code, stack and thread data first), in one go.
        let mut hot: Vec<u64> =
            hint.iter().copied().filter(|&a| i.pma_at(a).is_some_and(|p| p.mapped.is_some())).collect();
        hot.extend(
            i.pmas.values().filter(|p| p.mapped.is_some()).map(|p| p.start).take(PREMAP_FORK.saturating_sub(hot.len())),
        );
        mm.inner.get_mut().unwrap_or_else(|e| e.into_inner()).premap = hot;
        Ok(mm)
    }
}

/// The part of [`COW_CHUNK`] around `stack` in private pma `p` (of `v`),
/// if the parent holds it alone and has it mapped writable.
fn hot_chunk(p: &Pma, v: &Vma, stack: Option<u64>) -> Option<(u64, u64)> {
    let sp = stack?;
    if v.shared || !v.writable() || p.cow || !(p.start..p.end).contains(&sp) {
        return None;
    }
    p.mapped.filter(|m| m & libc::PROT_WRITE != 0)?;
    let c = sp & !(COW_CHUNK - 1);
    let (cs, ce) = (c.max(p.start).max(v.start), (c + COW_CHUNK).min(p.end).min(v.end));
    (cs < ce).then_some((cs, ce))
}
