//! /proc/cpuinfo, built from CPUID (what the sandbox's CPUs really are), for
//! the CPUs the sandbox may use: identity, the TSC's rate (cpu MHz and
//! bogomips), the cache size (as Linux finds it), the CPUID feature flags in Linux's
//! order, address sizes and power management.

use std::arch::x86_64::{__cpuid_count, CpuidResult};
use std::fmt::Write as _;

/// CPUID (a safe intrinsic on x86_64: it only reads identification
/// registers).
pub(crate) fn cpuid(leaf: u32, sub: u32) -> CpuidResult {
    __cpuid_count(leaf, sub)
}

/// (register bit, flag name) for CPUID leaf 1 EDX.
const LEAF1_EDX: &[(u32, &str)] = &[
    (0, "fpu"),
    (1, "vme"),
    (2, "de"),
    (3, "pse"),
    (4, "tsc"),
    (5, "msr"),
    (6, "pae"),
    (7, "mce"),
    (8, "cx8"),
    (9, "apic"),
    (11, "sep"),
    (12, "mtrr"),
    (13, "pge"),
    (14, "mca"),
    (15, "cmov"),
    (16, "pat"),
    (17, "pse36"),
    (19, "clflush"),
    (23, "mmx"),
    (24, "fxsr"),
    (25, "sse"),
    (26, "sse2"),
    (28, "ht"),
];

/// Leaf 1 ECX.
const LEAF1_ECX: &[(u32, &str)] = &[
    (0, "pni"),
    (1, "pclmulqdq"),
    (3, "monitor"),
    (9, "ssse3"),
    (12, "fma"),
    (13, "cx16"),
    (17, "pcid"),
    (19, "sse4_1"),
    (20, "sse4_2"),
    (21, "x2apic"),
    (22, "movbe"),
    (23, "popcnt"),
    (25, "aes"),
    (26, "xsave"),
    (28, "avx"),
    (29, "f16c"),
    (30, "rdrand"),
    (31, "hypervisor"),
];

/// Leaf 7 EBX.
const LEAF7_EBX: &[(u32, &str)] = &[
    (0, "fsgsbase"),
    (1, "tsc_adjust"),
    (3, "bmi1"),
    (4, "hle"),
    (5, "avx2"),
    (7, "smep"),
    (8, "bmi2"),
    (9, "erms"),
    (10, "invpcid"),
    (11, "rtm"),
    (16, "avx512f"),
    (17, "avx512dq"),
    (18, "rdseed"),
    (19, "adx"),
    (20, "smap"),
    (21, "avx512ifma"),
    (23, "clflushopt"),
    (24, "clwb"),
    (28, "avx512cd"),
    (29, "sha_ni"),
    (30, "avx512bw"),
    (31, "avx512vl"),
];

/// Leaf 0x80000001 EDX.
const EXT1_EDX: &[(u32, &str)] = &[
    (11, "syscall"),
    (19, "mp"),
    (20, "nx"),
    (22, "mmxext"),
    (25, "fxsr_opt"),
    (26, "pdpe1gb"),
    (27, "rdtscp"),
    (29, "lm"),
    (30, "3dnowext"),
    (31, "3dnow"),
];

/// Leaf 0x80000001 ECX.
const EXT1_ECX: &[(u32, &str)] = &[
    (0, "lahf_lm"),
    (1, "cmp_legacy"),
    (2, "svm"),
    (3, "extapic"),
    (4, "cr8_legacy"),
    (5, "abm"),
    (6, "sse4a"),
    (7, "misalignsse"),
    (8, "3dnowprefetch"),
    (9, "osvw"),
    (10, "ibs"),
    (11, "xop"),
    (12, "skinit"),
    (13, "wdt"),
    (15, "lwp"),
    (16, "fma4"),
    (17, "tce"),
    (19, "nodeid_msr"),
    (21, "tbm"),
    (22, "topoext"),
    (23, "perfctr_core"),
    (24, "perfctr_nb"),
    (26, "bpext"),
    (27, "ptsc"),
    (28, "perfctr_llc"),
    (29, "mwaitx"),
];

/// Leaf 0xd sub-leaf 1 EAX.
const XSAVE1_EAX: &[(u32, &str)] = &[(0, "xsaveopt"), (1, "xsavec"), (2, "xgetbv1"), (3, "xsaves")];

/// Leaf 7 ECX.
const LEAF7_ECX: &[(u32, &str)] = &[
    (1, "avx512vbmi"),
    (2, "umip"),
    (3, "pku"),
    (4, "ospke"),
    (5, "waitpkg"),
    (6, "avx512_vbmi2"),
    (8, "gfni"),
    (9, "vaes"),
    (10, "vpclmulqdq"),
    (11, "avx512_vnni"),
    (12, "avx512_bitalg"),
    (14, "avx512_vpopcntdq"),
    (16, "la57"),
    (22, "rdpid"),
    (25, "cldemote"),
    (27, "movdiri"),
    (28, "movdir64b"),
    (29, "enqcmd"),
];

/// Leaf 7 EDX.
const LEAF7_EDX: &[(u32, &str)] = &[
    (4, "fsrm"),
    (8, "avx512_vp2intersect"),
    (10, "md_clear"),
    (14, "serialize"),
    (16, "tsxldtrk"),
    (19, "arch_lbr"),
    (22, "amx_bf16"),
    (23, "avx512_fp16"),
    (24, "amx_tile"),
    (25, "amx_int8"),
];

/// Leaf 0x80000007 EDX (the "power management" line).
const POWER_EDX: &[(u32, &str)] =
    &[(0, "ts"), (1, "fid"), (2, "vid"), (3, "ttp"), (4, "tm"), (5, "stc"), (6, "100mhzsteps"), (7, "hwpstate")];

const EMPTY: CpuidResult = CpuidResult { eax: 0, ebx: 0, ecx: 0, edx: 0 };

/// CPUID `leaf` if the CPU has it (standard or extended range).
fn leaf(leaf: u32, sub: u32) -> CpuidResult {
    let max = cpuid(leaf & 0x8000_0000, 0).eax;
    if leaf > max {
        return EMPTY;
    }
    cpuid(leaf, sub)
}

fn names(regs: &[(u32, &[(u32, &'static str)])]) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (reg, table) in regs {
        for (bit, name) in table.iter() {
            if reg & (1 << bit) != 0 {
                out.push(*name);
            }
        }
    }
    out
}

/// The flags line, in Linux's order of feature words (CPUID bits only;
/// the flags Linux makes up from other knowledge are left out).
fn flags() -> String {
    let l1 = cpuid(1, 0);
    let (e1, l7, x1) = (leaf(0x8000_0001, 0), leaf(7, 0), leaf(0xd, 1));
    let words: [(u32, &[(u32, &str)]); 8] = [
        (l1.edx, LEAF1_EDX),
        (e1.edx, EXT1_EDX),
        (l1.ecx, LEAF1_ECX),
        (e1.ecx, EXT1_ECX),
        (l7.ebx, LEAF7_EBX),
        (x1.eax, XSAVE1_EAX),
        (l7.ecx, LEAF7_ECX),
        (l7.edx, LEAF7_EDX),
    ];
    let mut out = names(&words);
    // Linux clears la57 unless it runs with 5-level page tables.
    if !five_level_paging() {
        out.retain(|&f| f != "la57");
    }
    out.join(" ")
}

/// Whether the host kernel uses 5-level page tables: it then honours a
/// mapping hint above the 47-bit address space (and only then).
fn five_level_paging() -> bool {
    static FIVE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FIVE.get_or_init(|| {
        const HINT: usize = 1 << 52;
        // SAFETY: a fresh inaccessible anonymous mapping (no MAP_FIXED:
        // nothing existing is replaced), unmapped at once below.
        let p = unsafe {
            libc::mmap(
                HINT as *mut libc::c_void,
                4096,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return false;
        }
        // SAFETY: unmaps the page mapped just above, which nothing uses.
        unsafe { libc::munmap(p, 4096) };
        p as usize >= 1 << 47
    })
}

/// The cache size Linux shows: on Intel, the L3's (else the L2's, else
/// the L1s') from CPUID leaf 4, as `init_intel_cacheinfo` finds it;
/// elsewhere the L2's from leaf 0x8000_0006. In KB.
fn cache_kb() -> u32 {
    if vendor() == "GenuineIntel" && leaf(4, 0).eax & 0x1f != 0 {
        let (mut l1, mut l2, mut l3) = (0u64, 0u64, 0u64);
        for sub in 0..16 {
            let r = leaf(4, sub);
            let kind = r.eax & 0x1f;
            if kind == 0 {
                break;
            }
            let level = (r.eax >> 5) & 0x7;
            let ways = u64::from((r.ebx >> 22) & 0x3ff) + 1;
            let parts = u64::from((r.ebx >> 12) & 0x3ff) + 1;
            let line = u64::from(r.ebx & 0xfff) + 1;
            let sets = u64::from(r.ecx) + 1;
            let kb = ways * parts * line * sets / 1024;
            match level {
                1 => l1 += kb,
                2 => l2 = kb,
                3 => l3 = kb,
                _ => {}
            }
        }
        let size = if l3 != 0 {
            l3
        } else if l2 != 0 {
            l2
        } else {
            l1
        };
        return u32::try_from(size).unwrap_or(u32::MAX);
    }
    leaf(0x8000_0006, 0).ecx >> 16
}

/// The TSC's rate in MHz: CPUID leaf 0x16's base frequency where there
/// is one, else measured once against the monotonic clock (10 ms).
fn tsc_mhz() -> f64 {
    static MHZ: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *MHZ.get_or_init(|| {
        let base = leaf(0x16, 0).eax & 0xffff;
        if base != 0 {
            return base as f64;
        }
        // SAFETY: rdtsc only reads the time-stamp counter.
        let t0 = unsafe { std::arch::x86_64::_rdtsc() };
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(10) {
            std::hint::spin_loop();
        }
        // SAFETY: as above.
        let t1 = unsafe { std::arch::x86_64::_rdtsc() };
        (t1.wrapping_sub(t0)) as f64 / start.elapsed().as_secs_f64() / 1e6
    })
}

fn vendor() -> String {
    let r = cpuid(0, 0);
    let mut b = Vec::with_capacity(12);
    for w in [r.ebx, r.edx, r.ecx] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn model_name() -> String {
    if cpuid(0x8000_0000, 0).eax < 0x8000_0004 {
        return "unknown".into();
    }
    let mut b = Vec::with_capacity(48);
    for leaf in 0x8000_0002..=0x8000_0004 {
        let r = cpuid(leaf, 0);
        for w in [r.eax, r.ebx, r.ecx, r.edx] {
            b.extend_from_slice(&w.to_le_bytes());
        }
    }
    String::from_utf8_lossy(&b).trim_matches(char::from(0)).trim().to_string()
}

/// The text of /proc/cpuinfo for `cpus` CPUs (numbered from 0).
pub fn text(cpus: usize) -> Vec<u8> {
    let l1 = cpuid(1, 0).eax;
    let base_family = (l1 >> 8) & 0xf;
    let family = if base_family == 0xf { base_family + ((l1 >> 20) & 0xff) } else { base_family };
    let mut model = (l1 >> 4) & 0xf;
    if base_family == 0x6 || base_family == 0xf {
        model += ((l1 >> 16) & 0xf) << 4;
    }
    let (vendor, name, flags) = (vendor(), model_name(), flags());
    let mhz = tsc_mhz();
    let cache = cache_kb();
    let sizes = leaf(0x8000_0008, 0).eax;
    let (phys, virt) = if sizes != 0 { (sizes & 0xff, (sizes >> 8) & 0xff) } else { (48, 48) };
    let power = names(&[(leaf(0x8000_0007, 0).edx, POWER_EDX)]).join(" ");
    let mut s = String::new();
    for c in 0..cpus.max(1) {
        let _ = writeln!(s, "processor\t: {c}");
        let _ = writeln!(s, "vendor_id\t: {vendor}");
        let _ = writeln!(s, "cpu family\t: {family}");
        let _ = writeln!(s, "model\t\t: {model}");
        let _ = writeln!(s, "model name\t: {name}");
        let _ = writeln!(s, "stepping\t: {}", l1 & 0xf);
        let _ = writeln!(s, "cpu MHz\t\t: {mhz:.3}");
        if cache != 0 {
            let _ = writeln!(s, "cache size\t: {cache} KB");
        }
        let _ = writeln!(s, "physical id\t: 0\nsiblings\t: {}\ncore id\t\t: {c}\ncpu cores\t: {}", cpus, cpus);
        let _ = writeln!(s, "fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: {}\nwp\t\t: yes", cpuid(0, 0).eax);
        let _ = writeln!(s, "flags\t\t: {flags}");
        // Linux's delay loop runs on the TSC: twice its rate.
        let _ = writeln!(s, "bogomips\t: {:.2}", mhz * 2.0);
        let _ = writeln!(s, "clflush size\t: 64\ncache_alignment\t: 64");
        let _ = writeln!(s, "address sizes\t: {phys} bits physical, {virt} bits virtual");
        let _ = writeln!(s, "power management:{}{power}\n", if power.is_empty() { "" } else { " " });
    }
    s.into_bytes()
}
