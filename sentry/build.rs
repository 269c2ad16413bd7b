//! Builds the sandbox's vDSO (vdso/vdso.c) with gcc into OUT_DIR/vdso.so; the
//! sentry embeds it and maps it into every process.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("vdso.so");
    for f in ["vdso/vdso.c", "vdso/vdso.lds", "vdso/layout.lds"] {
        println!("cargo:rerun-if-changed={f}");
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "gcc".into());
    let status = Command::new(&cc)
        .args([
            "-shared",
            "-nostdlib",
            "-fPIC",
            "-O2",
            "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables",
            "-fcf-protection=none",
            "-mno-red-zone",
            "-Wall",
            "-Werror",
            "-Wl,-T,vdso/layout.lds",
            "-Wl,-soname=linux-vdso.so.1",
            "-Wl,--hash-style=both",
            "-Wl,--version-script=vdso/vdso.lds",
            "-Wl,-Bsymbolic",
            "-Wl,--no-undefined",
            "-Wl,-z,max-page-size=4096",
            "-Wl,-z,noexecstack",
            "-Wl,--build-id=none",
            "-o",
        ])
        .arg(&out)
        .arg("vdso/vdso.c")
        .status()
        .unwrap_or_else(|e| panic!("building the vDSO needs a C compiler ({cc}): {e}"));
    assert!(status.success(), "building the vDSO with {cc} failed: {status}");
}
