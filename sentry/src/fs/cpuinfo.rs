//! /proc/cpuinfo, built from CPUID (what the sandbox's CPUs really are), for
//! the CPUs the sandbox may use.

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
    (9, "ssse3"),
    (12, "fma"),
    (13, "cx16"),
    (19, "sse4_1"),
    (20, "sse4_2"),
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
    (3, "bmi1"),
    (5, "avx2"),
    (8, "bmi2"),
    (9, "erms"),
    (16, "avx512f"),
    (18, "rdseed"),
    (19, "adx"),
    (29, "sha_ni"),
];

fn flags() -> String {
    let l1 = cpuid(1, 0);
    let max = cpuid(0, 0).eax;
    let l7 = if max >= 7 { cpuid(7, 0) } else { CpuidResult { eax: 0, ebx: 0, ecx: 0, edx: 0 } };
    let mut out = Vec::new();
    for (reg, table) in [(l1.edx, LEAF1_EDX), (l1.ecx, LEAF1_ECX), (l7.ebx, LEAF7_EBX)] {
        for (bit, name) in table {
            if reg & (1 << bit) != 0 {
                out.push(*name);
            }
        }
    }
    out.join(" ")
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
    let mut s = String::new();
    for c in 0..cpus.max(1) {
        let _ = writeln!(s, "processor\t: {c}");
        let _ = writeln!(s, "vendor_id\t: {vendor}");
        let _ = writeln!(s, "cpu family\t: {family}");
        let _ = writeln!(s, "model\t\t: {model}");
        let _ = writeln!(s, "model name\t: {name}");
        let _ = writeln!(s, "stepping\t: {}", l1 & 0xf);
        let _ = writeln!(s, "physical id\t: 0\nsiblings\t: {}\ncore id\t\t: {c}\ncpu cores\t: {}", cpus, cpus);
        let _ = writeln!(s, "fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: {}\nwp\t\t: yes", cpuid(0, 0).eax);
        let _ = writeln!(s, "flags\t\t: {flags}");
        let _ = writeln!(
            s,
            "clflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 48 bits physical, 48 bits virtual\n"
        );
    }
    s.into_bytes()
}
