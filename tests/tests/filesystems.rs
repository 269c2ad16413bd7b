//! Filesystem workloads: compilers, archivers, databases, version control
//! and language runtimes writing files, each run natively and under `runsc
//! do` with the same output (the native run works only in a scratch
//! directory the script makes under /tmp and removes); and the overlay
//! root's promise, checked with the host's `/` mounted read-only around
//! runsc so that a leak fails instead of writing: every change the sandbox
//! makes all over the tree is seen inside and none reaches the host. Known
//! failures are listed in `known_failures.txt` as `filesystems/<test>`.

use std::collections::BTreeMap;
use std::fs;
use std::hash::{DefaultHasher, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use std::path::PathBuf;
use std::time::Instant;

use runsc_tests::read_only::run_on_read_only_root;
use runsc_tests::run::describe_stderr;
use runsc_tests::{compare, runsc, Cmd, Variant};

macro_rules! fs_tests {
    ($($test:ident => $check:expr;)*) => {
        $(
            #[test]
            fn $test() {
                runsc_tests::check_known(concat!("filesystems/", stringify!($test)), $check);
            }
        )*
    };
}

/// Runs `script` in bash in a fresh scratch directory under /tmp (removed
/// afterwards), natively and under runsc, and compares.
fn in_scratch(script: &str) -> Result<(), String> {
    let wrapped =
        format!("set -e; d=$(mktemp -d /tmp/runsc-fs.XXXXXX); trap 'cd /; rm -rf \"$d\"' EXIT; cd \"$d\"\n{script}");
    let cmd = Cmd::new(["/bin/bash", "-c", &wrapped]).timeout(Duration::from_secs(240));
    let native = cmd.run_native();
    let sandboxed = cmd.run_runsc(&[]);
    compare(&cmd, &native, &sandboxed)
}

fs_tests! {
    gcc_compiles_and_runs => in_scratch(
        "printf '#include <stdio.h>\\nint main(void){puts(\"hello\");return 3;}\\n' > hello.c\n\
         gcc -O2 -o /tmp/h.$$ hello.c; set +e; /tmp/h.$$; echo \"status $?\"; rm /tmp/h.$$");
    make_j2_builds_a_project => in_scratch(
        "for i in 1 2 3; do printf 'int f%d(void){return %d;}\\n' $i $i > f$i.c; done\n\
         printf 'int f1(void);int f2(void);int f3(void);\\n#include <stdio.h>\\nint main(void){printf(\"%%d\\\\n\",f1()+f2()+f3());return 0;}\\n' > main.c\n\
         printf 'prog: main.o f1.o f2.o f3.o\\n\\tgcc -o $@ $^\\n%%.o: %%.c\\n\\tgcc -O2 -c -o $@ $<\\n' > Makefile\n\
         make -s -j2 && ./prog && make -s -q prog; echo \"up to date: $?\"; ls *.o | wc -l");
    tar_round_trip_of_usr_include => in_scratch(
        "tar czf inc.tgz -C /usr include && mkdir out && tar xzf inc.tgz -C out\n\
         diff -r /usr/include out/include && echo same; find out | wc -l");
    sqlite3_wal_database => in_scratch(
        "{ echo 'pragma journal_mode=wal;'; echo 'create table t(x integer primary key, y text);'\n\
           for b in $(seq 0 9); do echo 'begin;'; seq $((b*1000+1)) $((b*1000+1000)) | sed \"s/.*/insert into t values (&,'v&');/\"; echo 'commit;'; done\n\
           echo 'select count(*), sum(x), max(y) from t;'; } | sqlite3 db.sqlite\n\
         sqlite3 db.sqlite 'select count(*) from t where y like \"v9%\";'; ls db.sqlite*");
    python_sqlite_file_database => in_scratch(
        "python3 - <<'EOF'\n\
import sqlite3\n\
c = sqlite3.connect('py.db')\n\
c.execute('pragma journal_mode=wal')\n\
c.execute('create table t(x integer, y text)')\n\
for b in range(10):\n\
    with c:\n\
        c.executemany('insert into t values (?, ?)', [(i, 'v%d' % i) for i in range(b*1000, b*1000+1000)])\n\
print(c.execute('select count(*), sum(x) from t').fetchone())\n\
c.close()\n\
print(sqlite3.connect('py.db').execute('select max(x) from t').fetchone())\n\
EOF");
    git_init_add_commit_log => in_scratch(
        "export HOME=$PWD GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z'\n\
         git init -q -b main repo && cd repo && git config user.email t@example.com && git config user.name t\n\
         echo one > a && mkdir d && echo two > d/b && git add . && git commit -qm first\n\
         echo three >> a && git mv d/b c && git commit -qam second\n\
         git log --format='%H %s' && git status --short && git ls-files");
    python_venv_pip_installs_a_local_wheel =>
        in_scratch(&format!("bash {}", runsc_tests::tests_dir().join("programs/venv_wheel.sh").display()));
    python_multiprocessing_pool => in_scratch(
        "python3 -c 'import multiprocessing as m\nif __name__ == \"__main__\":\n    with m.Pool(2) as p: print(p.map(abs, range(-5, 5)))'");
    python_tempfile_and_shutil => in_scratch(
        "python3 -c 'import tempfile, shutil, os\nd = tempfile.mkdtemp(dir=\".\")\nwith tempfile.NamedTemporaryFile(dir=d, delete=False) as f: f.write(b\"x\" * 10000)\nshutil.copytree(d, \"copy\")\nprint(sorted(os.path.getsize(os.path.join(\"copy\", n)) for n in os.listdir(\"copy\")))\nshutil.rmtree(d); shutil.rmtree(\"copy\"); print(os.listdir(\".\"))'");
    cp_a_and_mv_across_mounts => in_scratch(
        "cp -a /etc/ssl ssl && diff -r /etc/ssl ssl && echo copied\n\
         echo x > f && mv f /dev/shm/runsc-fs-$$ && cat /dev/shm/runsc-fs-$$ && rm /dev/shm/runsc-fs-$$\n\
         mkdir dir && echo y > dir/z && mv dir /dev/shm/runsc-fsd-$$ && cat /dev/shm/runsc-fsd-$$/z && rm -r /dev/shm/runsc-fsd-$$\n\
         ls");
    lsattr_chattr_on_tmpfs =>
        in_scratch(&format!("bash {}", runsc_tests::tests_dir().join("programs/chattr.sh").display()));
    find_usr_xdev_counts_the_same => in_scratch("find /usr -xdev | wc -l");
    // Cold paths of several components (walked in one gofer round trip),
    // through symlinks, `..`, missing names and a file in the middle.
    cold_multi_component_walks => in_scratch(
        "stat -c '%n %F' /usr/lib/x86_64-linux-gnu/../../bin/sh /lib/x86_64-linux-gnu/libc.so.6 \
         /usr/share/zoneinfo/../doc/bash /usr/lib/python3.11/json/../encodings/utf_8.py\n\
         stat /etc/passwd/x 2>&1 | sed 's/.*: //'; stat /usr/no/such/dir 2>&1 | sed 's/.*: //'\n\
         stat /usr/share/doc/no-such-pkg/copyright 2>&1 | sed 's/.*: //'\n\
         ls /usr/share/doc/*/copyright | wc -l; cat /usr/share/doc/*/copyright | md5sum");
    coreutils_on_the_overlay => in_scratch(
        "echo hello > f; ln f g; ln -s f s; chmod 640 f; stat -c '%a %h %F' f g s\n\
         truncate -s 100 f; stat -c %s f; dd if=/dev/zero of=z bs=4k count=3 status=none; stat -c %s z\n\
         mkdir -p a/b/c; touch a/b/c/x; mv a/b a/bb; find a | sort; rm -r a; ls");
    sys_cpu_files_match_the_host => in_scratch(
        "cat /sys/devices/system/cpu/online /sys/devices/system/cpu/possible; getconf _NPROCESSORS_ONLN; \
         cat /sys/devices/system/cpu/cpu0/topology/physical_package_id");
    proc_sys_and_sys_are_the_sandboxs => check_proc_sys();
    proc_cpuinfo_matches_the_host => check_cpuinfo();
    mount_and_umount_inside => check_mount("mount.sh");
    pivot_root_inside => check_mount("pivot_root.sh");
    overlay_root_changes_stay_in_sandbox => check_overlay_keeps_host_unchanged();
    overlay_upper_layer_in_a_host_file => check_filestore();
    volume_changes_reach_the_host_and_back => check_volume_both_ways();
    read_only_volume_gives_erofs => check_read_only_volume();
    volume_shared_mappings_are_coherent => check_volume_mmap();
    xattrs_of_the_image_and_volumes => check_gofer_xattrs();
    fifos_and_sockets_on_a_volume => check_volume_fifo();
    volume_walks_never_follow_swapped_symlinks => check_symlink_swap();
    read_only_mount_gives_erofs => check_read_only_errors();
    image_hard_links_stay_one_file => check_image_hard_links();
}

/// What the host's tree holds under `dirs`: path to (mode, uid, gid, size,
/// mtime, content hash or link target).
fn manifest(dirs: &[&str]) -> BTreeMap<String, String> {
    fn walk(p: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(md) = fs::symlink_metadata(p) else { return };
        let what = if md.file_type().is_symlink() {
            format!("-> {:?}", fs::read_link(p).ok())
        } else if md.is_file() {
            let mut h = DefaultHasher::new();
            h.write(&fs::read(p).unwrap_or_default());
            format!("{:x}", h.finish())
        } else {
            String::new()
        };
        out.insert(
            p.display().to_string(),
            format!("{:o} {} {} {} {} {what}", md.mode(), md.uid(), md.gid(), md.size(), md.mtime()),
        );
        if md.is_dir() {
            if let Ok(rd) = fs::read_dir(p) {
                for e in rd.flatten() {
                    walk(&e.path(), out);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    for d in dirs {
        walk(Path::new(d), &mut out);
    }
    out
}

/// The script for the overlay check: changes of every kind to the image's
/// files, each looked at inside.
const CHANGES: &str = r#"
set -u
cd /
echo appended >> /etc/passwd && tail -1 /etc/passwd
echo replaced > /etc/hostname && cat /etc/hostname
printf 'new file\n' > /etc/runsc-new && cat /etc/runsc-new
mkdir -p /usr/local/runsc/deep/er && echo deep > /usr/local/runsc/deep/er/f && cat /usr/local/runsc/deep/er/f
mv /etc/shells /etc/shells.moved && test ! -e /etc/shells && head -1 /etc/shells.moved
ln /etc/shells.moved /etc/shells.link && stat -c %h /etc/shells.link
ln -s /etc/group /etc/group.sym && readlink /etc/group.sym && head -c 5 /etc/group.sym && echo
chmod 600 /etc/issue && stat -c %a /etc/issue
chown 1234:5678 /etc/issue.net && stat -c '%u %g' /etc/issue.net
truncate -s 3 /etc/debian_version && cat /etc/debian_version && echo
touch -d 2001-02-03T04:05:06Z /etc/os-release && stat -L -c %Y /etc/os-release /usr/lib/os-release | uniq
rm -r /etc/apt && test ! -e /etc/apt && echo apt gone
rm /etc/passwd- 2>/dev/null; echo again > /etc/apt && cat /etc/apt && rm /etc/apt
mkdir /etc/apt && ls -A /etc/apt | wc -l
rmdir /usr/local/runsc/deep/er && ls /usr/local/runsc/deep
echo tmp > /tmp/runsc-overlay-probe && cat /tmp/runsc-overlay-probe
ls /etc | grep -c runsc-new
"#;

const CHANGES_SEEN: &str = "appended\nreplaced\nnew file\ndeep\n";

/// The sandbox changes the image all over and sees its changes; the host's
/// tree stays as it was.
fn check_overlay_keeps_host_unchanged() -> Result<(), String> {
    let dirs = ["/etc", "/usr/local", "/tmp/runsc-overlay-probe"];
    let before = manifest(&dirs);
    let cmd = Cmd::new([runsc().into_os_string(), "do".into(), "/bin/bash".into(), "-c".into(), CHANGES.into()]);
    let out = run_on_read_only_root(&cmd);
    let after = manifest(&dirs);
    let text = out.stdout_text();
    let changed: Vec<&String> = before.keys().chain(after.keys()).filter(|k| before.get(*k) != after.get(*k)).collect();
    if !changed.is_empty() {
        return Err(format!("the host's tree changed: {changed:?}"));
    }
    let want_tail = "1\n";
    if out.status.code() != Some(0) || !text.starts_with(CHANGES_SEEN) || !text.ends_with(want_tail) {
        return Err(format!(
            "`runsc do bash -c CHANGES`: {}; stdout:\n{text}\n{}",
            out.status,
            describe_stderr("runsc", &out)
        ));
    }
    let expect_lines = ["2", "/etc/group", "root:", "600", "1234 5678", "981173106", "apt gone", "again", "0", "tmp"];
    let lines: Vec<&str> = text.lines().collect();
    for w in expect_lines {
        if !lines.contains(&w) {
            return Err(format!("inside the sandbox, {w:?} was not seen; stdout:\n{text}"));
        }
    }
    Ok(())
}

/// What the container does with the image's hard links: one file with
/// three names (two directories), changed, linked, removed and covered;
/// and one with two names, one removed before the other is written.
const HARD_LINKS: &str = r#"s() { for f; do echo "$f $(busybox stat -c '%h %s' $f)"; done; }
ino() { busybox stat -c %i $1; }
s /etc/a /etc/b /usr/c /etc/x /etc/y
echo two >> /etc/a; cat /etc/b /usr/c; s /etc/a /etc/b /usr/c
busybox ln /usr/c /tmp/d; s /tmp/d /etc/a
[ "$(ino /etc/a)" = "$(ino /tmp/d)" ] && [ "$(ino /etc/a)" = "$(ino /etc/b)" ] && echo one inode
busybox rm /etc/b; s /etc/a /tmp/d
echo new > /tmp/n; busybox mv /tmp/n /usr/c; s /etc/a /usr/c /tmp/d; cat /etc/a /usr/c
busybox rm /etc/y; s /etc/x; echo more >> /etc/x; s /etc/x; cat /etc/x
"#;

/// The image's hard links stay one file through copy-up (as runc, on the
/// bundle's own tree, shows), where Docker's overlay2 (`index=off`)
/// breaks them.
fn check_image_hard_links() -> Result<(), String> {
    let s = runsc_tests::oci::Scratch::new("hardlinks");
    let mut outs = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (PathBuf::from("runc"), "runc")] {
        // Each its own bundle: runc writes to the tree itself.
        let b = s.bundle(name, HARD_LINKS, |spec| spec["root"]["readonly"] = false.into());
        let root = b.join("rootfs");
        fs::create_dir_all(root.join("usr")).map_err(|e| e.to_string())?;
        fs::write(root.join("etc/a"), "one\n").map_err(|e| e.to_string())?;
        fs::hard_link(root.join("etc/a"), root.join("etc/b")).map_err(|e| e.to_string())?;
        fs::hard_link(root.join("etc/a"), root.join("usr/c")).map_err(|e| e.to_string())?;
        fs::write(root.join("etc/x"), "x\n").map_err(|e| e.to_string())?;
        fs::hard_link(root.join("etc/x"), root.join("etc/y")).map_err(|e| e.to_string())?;
        let rt = s.runtime(bin, name);
        let out = rt.cmd(&["run", "--bundle", b.to_str().unwrap_or_default(), "c1"]);
        if out.code != 0 {
            return Err(format!("{name} run: {out:?}"));
        }
        outs.push(out.stdout);
    }
    if outs[0] != outs[1] {
        return Err(format!("runsc:\n{}\nrunc:\n{}", outs[0], outs[1]));
    }
    Ok(())
}

/// With `--overlay2=none` the root is the read-only image: every change is
/// EROFS (Linux's answer; gVisor's is EPERM).
fn check_read_only_errors() -> Result<(), String> {
    let script = "for c in 'touch /etc/x' 'mkdir /etc/d' 'rm /etc/hostname' 'mv /etc/shells /etc/s2' \
                  'chmod 600 /etc/issue' 'ln -s a /etc/l' 'truncate -s 0 /etc/issue'; do \
                  $c 2>&1 | grep -c 'Read-only file system'; done";
    let cmd = Cmd::new(["/bin/bash", "-c", script]);
    let out = cmd.run_runsc(&["--overlay2=none"]);
    if out.stdout_text() == "1\n".repeat(7) {
        Ok(())
    } else {
        Err(format!("stdout {:?}\n{}", out.stdout_text(), describe_stderr("runsc", &out)))
    }
}

/// A scratch directory on the host, removed when dropped.
struct HostScratch(PathBuf);

impl HostScratch {
    fn new(what: &str) -> HostScratch {
        let p = std::env::temp_dir().join(format!("runsc-fs-{what}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("make a scratch directory");
        HostScratch(p)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    fn volume(&self, rel: &str, at: &str, ro: bool) -> String {
        format!("--volume={}:{at}{}", self.path(rel).display(), if ro { ":ro" } else { "" })
    }
}

impl Drop for HostScratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn runsc_do(flags: &[String], script: &str) -> std::process::Child {
    let mut c = std::process::Command::new(runsc());
    c.arg("do").args(flags).args(["/bin/sh", "-c", script]);
    c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    c.spawn().expect("start runsc")
}

fn wait_for(p: &Path, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if p.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A writable volume: the sandbox's changes are on the host at once (the
/// host sees a file before the sandbox exits), and the host's changes are
/// seen inside while it runs.
/// `programs/volume_mmap.c` on a volume prints what it does natively in a
/// host directory (shared mappings coherent across processes, with read,
/// write and other opens; msync; truncation), and leaves the same files
/// on the host.
fn check_volume_mmap() -> Result<(), String> {
    let prog = runsc_tests::compile(&runsc_tests::tests_dir().join("programs/volume_mmap.c"), Variant::Static);
    let s = HostScratch::new("volume-mmap");
    for d in ["native", "sandbox"] {
        fs::create_dir(s.path(d)).map_err(|e| e.to_string())?;
    }
    let native = Cmd::new([prog.as_os_str(), s.path("native").as_os_str()]).run_native();
    // `runsc do --volume=... PROG /vol`.
    let volume = s.volume("sandbox", "/vol", false);
    let cmd = Cmd::new([std::ffi::OsStr::new(&volume), prog.as_os_str(), std::ffi::OsStr::new("/vol")]);
    let sandboxed = cmd.run_runsc(&[]);
    compare(&cmd, &native, &sandboxed)?;
    for f in ["f", "g"] {
        let (n, b) = (fs::read(s.path(&format!("native/{f}"))), fs::read(s.path(&format!("sandbox/{f}"))));
        match (n, b) {
            (Ok(n), Ok(b)) if n == b => {}
            (n, b) => return Err(format!("host file {f}: native {n:?}, from the sandbox {b:?}")),
        }
    }
    Ok(())
}

/// A FIFO made on a volume is a pipe between the sandbox's processes
/// (blocking opens, O_RDWR), and so is a unix socket bound there.
fn check_volume_fifo() -> Result<(), String> {
    let s = HostScratch::new("volume-fifo");
    fs::create_dir(s.path("v")).map_err(|e| e.to_string())?;
    let script = "mkfifo /vol/p && (echo through-fifo > /vol/p &); cat /vol/p; \
                  (sleep 0.2; echo second > /vol/p) & cat /vol/p; exec 3<>/vol/p; echo rw >&3; read x <&3; echo $x; \
                  /usr/bin/python3 -c 'import socket\ns = socket.socket(socket.AF_UNIX); s.bind(\"/vol/s\"); s.listen(1)\n\
                  c = socket.socket(socket.AF_UNIX); c.connect(\"/vol/s\"); a, _ = s.accept(); c.send(b\"via socket\")\n\
                  print(a.recv(20).decode())'; ls -l /vol | cut -c1";
    let out = runsc_do(&[s.volume("v", "/vol", false)], script).wait_with_output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let want = "through-fifo\nsecond\nrw\nvia socket\nt\np\ns\n";
    if stdout != want {
        return Err(format!("stdout {stdout:?}, want {want:?}; stderr {}", String::from_utf8_lossy(&out.stderr)));
    }
    use std::os::unix::fs::FileTypeExt;
    let is_fifo = fs::symlink_metadata(s.path("v/p")).is_ok_and(|m| m.file_type().is_fifo());
    if !is_fifo {
        return Err("the FIFO is not on the host".into());
    }
    Ok(())
}

/// Sets a user xattr on a host file (in a scratch directory).
fn set_host_xattr(path: &Path, name: &str, value: &str) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    let n = std::ffi::CString::new(name).map_err(|e| e.to_string())?;
    // SAFETY: both strings are NUL-terminated; the value is readable for
    // its length.
    let r = unsafe { libc::setxattr(p.as_ptr(), n.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    if r != 0 {
        return Err(format!("setxattr {}: {}", path.display(), std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Extended attributes through the gofer: an image file's (as the lower
/// layer shows it, and after copy-up), and a volume file's, which the
/// sandbox changes on the host.
fn check_gofer_xattrs() -> Result<(), String> {
    let s = HostScratch::new("xattr");
    fs::create_dir(s.path("v")).map_err(|e| e.to_string())?;
    fs::write(s.path("img"), "i").map_err(|e| e.to_string())?;
    fs::write(s.path("v/f"), "f").map_err(|e| e.to_string())?;
    set_host_xattr(&s.path("img"), "user.origin", "image")?;
    set_host_xattr(&s.path("v/f"), "user.origin", "volume")?;
    let script = format!(
        "import os\np = '{}'\nprint(os.getxattr(p, 'user.origin'), os.listxattr(p))\n\
         os.chmod(p, 0o600)\nprint(os.getxattr(p, 'user.origin'), oct(os.stat(p).st_mode & 0o777))\n\
         v = '/vol/f'\nprint(os.getxattr(v, 'user.origin'))\nos.setxattr(v, 'user.new', b'made inside')\n\
         os.removexattr(v, 'user.origin')\nprint(sorted(os.listxattr(v)))\n\
         try: os.getxattr(v, 'user.origin')\nexcept OSError as e: print(e.strerror)",
        s.path("img").display()
    );
    let volume = s.volume("v", "/vol", false);
    let cmd = Cmd::new([volume.as_str(), "/usr/bin/python3", "-c", &script]);
    let out = cmd.run_runsc(&[]);
    let want = "b'image' ['user.origin']\nb'image' 0o600\nb'volume'\n['user.new']\nNo data available\n";
    if out.stdout_text() != want {
        return Err(format!("stdout {:?}, want {want:?}\n{}", out.stdout_text(), describe_stderr("runsc", &out)));
    }
    let host = |p: &Path| {
        let mut names: Vec<String> = xattr_names(p);
        names.sort();
        names
    };
    if host(&s.path("v/f")) != ["user.new"] || host(&s.path("img")) != ["user.origin"] {
        return Err(format!(
            "host xattrs: volume file {:?}, image file {:?}",
            host(&s.path("v/f")),
            host(&s.path("img"))
        ));
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(s.path("img")).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    if mode != 0o644 {
        return Err(format!("the image file's mode changed on the host: {mode:o}"));
    }
    Ok(())
}

/// The names of a host file's xattrs.
fn xattr_names(path: &Path) -> Vec<String> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(p) = std::ffi::CString::new(path.as_os_str().as_bytes()) else { return Vec::new() };
    let mut buf = vec![0u8; 4096];
    // SAFETY: `p` is NUL-terminated and `buf` writable for its length.
    let n = unsafe { libc::listxattr(p.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return vec![format!("<{}>", std::io::Error::last_os_error())];
    }
    buf[..n as usize]
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect()
}

fn check_volume_both_ways() -> Result<(), String> {
    let s = HostScratch::new("volume");
    fs::create_dir(s.path("v")).map_err(|e| e.to_string())?;
    fs::write(s.path("v/old"), "old\n").map_err(|e| e.to_string())?;
    fs::write(s.path("v/edit"), "before\n").map_err(|e| e.to_string())?;
    let script = "set -e; cd /vol; echo made > made; mkdir -p dir/sub; echo deep > dir/sub/f; \
                  mv old renamed; ln renamed hard; ln -s renamed soft; chmod 640 made; rm -r dir/sub; \
                  echo appended >> renamed; \
                  while [ ! -e go ]; do sleep 0.05; done; cat go edit; ls | sort | tr '\\n' ' '";
    let mut child = runsc_do(&[s.volume("v", "/vol", false)], script);
    if !wait_for(&s.path("v/made"), Duration::from_secs(30)) {
        let _ = child.kill();
        let _ = child.wait();
        return Err("the sandbox's file did not reach the host while it ran".into());
    }
    let wrote = fs::write(s.path("v/edit"), "after\n").and_then(|()| fs::write(s.path("v/go"), "go\n"));
    if let Err(e) = wrote {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e.to_string());
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let want = "go\nafter\ndir edit go hard made renamed soft ";
    if !out.status.success() || stdout != want {
        return Err(format!(
            "{}: stdout {stdout:?}, want {want:?}; stderr {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    use std::os::unix::fs::PermissionsExt;
    let host = |p: &str| fs::read_to_string(s.path(p)).unwrap_or_else(|e| format!("<{e}>"));
    let checks = [
        (host("v/made"), "made\n".to_owned()),
        (host("v/renamed"), "old\nappended\n".to_owned()),
        (host("v/hard"), "old\nappended\n".to_owned()),
        (fs::read_link(s.path("v/soft")).map(|p| p.display().to_string()).unwrap_or_default(), "renamed".to_owned()),
        (
            format!("{:o}", fs::metadata(s.path("v/made")).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)),
            "640".to_owned(),
        ),
        (s.path("v/old").exists().to_string(), "false".to_owned()),
        (s.path("v/dir/sub").exists().to_string(), "false".to_owned()),
    ];
    for (got, want) in checks {
        if got != want {
            return Err(format!("on the host: got {got:?}, want {want:?}"));
        }
    }
    Ok(())
}

/// A read-only volume: reads work, every change is EROFS, the host's
/// directory is unchanged.
fn check_read_only_volume() -> Result<(), String> {
    let s = HostScratch::new("rovolume");
    fs::create_dir(s.path("v")).map_err(|e| e.to_string())?;
    fs::write(s.path("v/f"), "data\n").map_err(|e| e.to_string())?;
    let before = manifest(&[s.path("v").to_str().unwrap_or_default()]);
    let script =
        "cat /vol/f; for c in 'touch /vol/x' 'rm /vol/f' 'mkdir /vol/d' 'chmod 600 /vol/f' 'mv /vol/f /vol/g'; do \
                  $c 2>&1 | grep -c 'Read-only file system'; done";
    let out = runsc_do(&[s.volume("v", "/vol", true)], script).wait_with_output().map_err(|e| e.to_string())?;
    let after = manifest(&[s.path("v").to_str().unwrap_or_default()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if before != after {
        return Err("the read-only volume changed on the host".into());
    }
    if stdout != format!("data\n{}", "1\n".repeat(5)) {
        return Err(format!("stdout {stdout:?}; stderr {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

/// A host process swaps a directory of the volume with a symlink to a
/// directory outside it, as fast as it can, while the sandbox creates files
/// through that name. The gofer never follows the symlink (the sandbox
/// resolves it in its own view, where the target is in the overlay), so
/// nothing may appear in the outside directory. Without O_NOFOLLOW on the
/// gofer's walks, files land there.
fn check_symlink_swap() -> Result<(), String> {
    let s = HostScratch::new("swap");
    for d in ["v/d", "outside"] {
        fs::create_dir_all(s.path(d)).map_err(|e| e.to_string())?;
    }
    std::os::unix::fs::symlink(s.path("outside"), s.path("v/link")).map_err(|e| e.to_string())?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let (a, b) = (
            std::ffi::CString::new(s.path("v/d").as_os_str().as_encoded_bytes()).unwrap_or_default(),
            std::ffi::CString::new(s.path("v/link").as_os_str().as_encoded_bytes()).unwrap_or_default(),
        );
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: two NUL-terminated paths in the test's scratch
                // directory; renameat2 exchanges them atomically.
                unsafe {
                    libc::syscall(
                        libc::SYS_renameat2,
                        libc::AT_FDCWD,
                        a.as_ptr(),
                        libc::AT_FDCWD,
                        b.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
                swaps += 1;
            }
            swaps
        })
    };
    let script = "i=0; while [ $i -lt 300 ]; do echo x > /vol/d/f$i 2>/dev/null; mkdir /vol/d/m$i 2>/dev/null; \
                  cat /vol/d/f$i >/dev/null 2>&1; i=$((i+1)); done; echo done";
    let out = runsc_do(&[s.volume("v", "/vol", false)], script).wait_with_output().map_err(|e| e.to_string())?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swaps = swapper.join().unwrap_or(0);
    let leaked: Vec<String> = fs::read_dir(s.path("outside"))
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if !leaked.is_empty() {
        return Err(format!("files reached the directory outside the volume: {leaked:?}"));
    }
    let landed = fs::read_dir(s.path("v/d")).map(|r| r.count()).unwrap_or(0)
        + fs::read_dir(s.path("v/link")).map(|r| r.count()).unwrap_or(0);
    if !out.status.success() || String::from_utf8_lossy(&out.stdout) != "done\n" || swaps < 100 || landed == 0 {
        return Err(format!(
            "{}: stdout {:?}, {swaps} swaps, {landed} files in the volume; stderr {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// The largest file under `dir` that some process has open (an unnamed
/// file shows as `dir/#N (deleted)`), by allocated bytes.
fn open_file_bytes_in(dir: &Path) -> u64 {
    let mut most = 0;
    let Ok(procs) = fs::read_dir("/proc") else { return 0 };
    for p in procs.flatten() {
        let Ok(fds) = fs::read_dir(p.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            let Ok(target) = fs::read_link(fd.path()) else { continue };
            if target.starts_with(dir) {
                if let Ok(m) = fs::metadata(fd.path()) {
                    most = most.max(m.blocks() * 512);
                }
            }
        }
    }
    most
}

/// `--overlay2=root:DIR` keeps the upper layer's data in an unnamed file
/// in DIR, not in sandbox memory: 64 MiB written to /tmp in the sandbox
/// take 64 MiB of that file while the sandbox runs, read back the same,
/// and DIR is empty afterwards. A directory that does not exist is a
/// clear error.
fn check_filestore() -> Result<(), String> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = PathBuf::from(format!("/tmp/runsc-filestore.{}.{nanos}", std::process::id()));
    fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let flag = format!("--overlay2=root:{}", dir.display());
    let script = "dd if=/dev/zero of=/tmp/big bs=1M count=64 status=none; echo written; sleep 3; \
                  head -c 67108864 /dev/zero | cmp - /tmp/big && echo same";
    let cmd = Cmd::new(["/bin/sh", "-c", script]).timeout(Duration::from_secs(60));
    let (out, seen) = std::thread::scope(|s| {
        let run = s.spawn(|| cmd.run_runsc(&[&flag]));
        let mut seen = 0;
        let start = Instant::now();
        while !run.is_finished() && start.elapsed() < Duration::from_secs(30) {
            seen = seen.max(open_file_bytes_in(&dir));
            std::thread::sleep(Duration::from_millis(100));
        }
        (run.join(), seen)
    });
    let out = out.map_err(|_| "runsc thread panicked".to_string())?;
    let left: Vec<_> = fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    let _ = fs::remove_dir(&dir);
    let missing = Cmd::new(["/bin/true"]).run_runsc(&["--overlay2=root:/nonexistent-runsc-dir"]);
    let mut why = String::new();
    if out.stdout_text() != "written\nsame\n" {
        why += &format!("stdout {:?}\n{}", out.stdout_text(), describe_stderr("runsc", &out));
    }
    if seen < 64 << 20 {
        why += &format!("the file store held at most {seen} bytes, want 64 MiB\n");
    }
    if !left.is_empty() {
        why += &format!("left in the store's directory: {left:?}\n");
    }
    if missing.status.code() == Some(0) || !missing.stderr_text().contains("nonexistent-runsc-dir") {
        why += &format!("a missing directory: {}\n", describe_stderr("runsc", &missing));
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(why)
    }
}

/// The first processor's `field` in a /proc/cpuinfo text.
fn cpuinfo_field<'a>(text: &'a str, field: &str) -> Option<&'a str> {
    text.lines()
        .find(|l| l.split(':').next().is_some_and(|k| k.trim() == field))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim())
}

/// /proc/cpuinfo says what the host's says of the same CPU: identity,
/// cache size, address sizes, the TSC rate (cpu MHz and bogomips, within
/// 5%); its flags are the host's (the host has more: Linux adds some
/// from other knowledge than CPUID).
fn check_cpuinfo() -> Result<(), String> {
    let host = fs::read_to_string("/proc/cpuinfo").map_err(|e| format!("/proc/cpuinfo: {e}"))?;
    let out = Cmd::new(["/bin/cat", "/proc/cpuinfo"]).run_runsc(&[]);
    let sb = out.stdout_text();
    let mut why = String::new();
    for f in ["vendor_id", "cpu family", "model", "model name", "stepping", "cache size", "address sizes"] {
        if cpuinfo_field(&host, f) != cpuinfo_field(&sb, f) {
            why += &format!("{f}: host {:?}, sandbox {:?}\n", cpuinfo_field(&host, f), cpuinfo_field(&sb, f));
        }
    }
    for f in ["cpu MHz", "bogomips"] {
        let num = |t: &str| cpuinfo_field(t, f).and_then(|v| v.parse::<f64>().ok());
        match (num(&host), num(&sb)) {
            (Some(h), Some(s)) if (s - h).abs() <= h * 0.05 => {}
            (h, s) => why += &format!("{f}: host {h:?}, sandbox {s:?}\n"),
        }
    }
    let host_flags: Vec<&str> = cpuinfo_field(&host, "flags").unwrap_or("").split(' ').collect();
    let sb_flags: Vec<&str> = cpuinfo_field(&sb, "flags").unwrap_or("").split(' ').collect();
    let extra: Vec<&&str> = sb_flags.iter().filter(|f| !host_flags.contains(f)).collect();
    if !extra.is_empty() || sb_flags.len() < 20 {
        why += &format!("flags not the host's: {extra:?} ({} flags)\n", sb_flags.len());
    }
    let count = |t: &str| t.lines().filter(|l| l.starts_with("processor")).count();
    if count(&sb) == 0 || count(&sb) > count(&host) {
        why += &format!("{} processors, host {}\n", count(&sb), count(&host));
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(format!("{why}{}", describe_stderr("runsc", &out)))
    }
}

/// /proc/sys gives the limits the sentry enforces, /proc/config.gz the
/// facilities it has, /proc/stat the CPU time tasks use, and /sys is the
/// sandbox's own (an empty cgroup
/// directory, read-only), never the host's.
fn check_proc_sys() -> Result<(), String> {
    let script = "cat /proc/sys/fs/pipe-max-size /proc/sys/kernel/cap_last_cap /proc/sys/kernel/ostype \
                  /proc/sys/kernel/pid_max /proc/sys/net/core/somaxconn /proc/sys/fs/mqueue/msg_max; \
                  ls -A /sys/fs/cgroup | wc -l; [ \"$(cat /proc/sys/kernel/random/boot_id)\" = \
                  \"$(cat /proc/sys/kernel/random/boot_id)\" ] && echo stable; \
                  [ \"$(cat /proc/sys/kernel/random/uuid)\" != \"$(cat /proc/sys/kernel/random/uuid)\" ] && echo fresh; \
                  touch /sys/x 2>&1 | grep -c 'Read-only'; grep -c '^nodev' /proc/filesystems; \
                  zcat /proc/config.gz | grep -cE '^CONFIG_(INOTIFY_USER|FUTEX|UNIX98_PTYS|RSEQ)=y$|^# CONFIG_AIO is not set$'; \
                  a=$(awk '/^cpu /{print $2 + $4}' /proc/stat); i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; \
                  b=$(awk '/^cpu /{print $2 + $4}' /proc/stat); [ \"$b\" -gt \"$a\" ] && echo cpu-time-moves";
    let out = Cmd::new(["/bin/sh", "-c", script]).run_runsc(&[]);
    let want = "1048576\n40\nLinux\n4194304\n4096\n10\n0\nstable\nfresh\n1\n9\n5\ncpu-time-moves\n";
    if out.stdout_text() == want {
        Ok(())
    } else {
        Err(format!("stdout {:?}, want {want:?}\n{}", out.stdout_text(), describe_stderr("runsc", &out)))
    }
}

/// A script of mount, umount or pivot_root in the sandbox (as root)
/// matches Linux's, run natively in a private mount namespace so the
/// host's mounts never change.
fn check_mount(name: &str) -> Result<(), String> {
    let script = runsc_tests::tests_dir().join("programs").join(name);
    let cmd = Cmd::new([std::ffi::OsString::from("/bin/bash"), script.clone().into_os_string()]);
    let native = Cmd::new([
        std::ffi::OsString::from("unshare"),
        "--mount".into(),
        "--propagation".into(),
        "private".into(),
        "/bin/bash".into(),
        script.into_os_string(),
    ])
    .run_native();
    let sandboxed = cmd.run_runsc(&[]);
    compare(&cmd, &native, &sandboxed)
}
