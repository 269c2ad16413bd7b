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

use runsc_tests::read_only::run_on_read_only_root;
use runsc_tests::run::describe_stderr;
use runsc_tests::{compare, runsc, Cmd};

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
    python_multiprocessing_pool => in_scratch(
        "python3 -c 'import multiprocessing as m\nif __name__ == \"__main__\":\n    with m.Pool(2) as p: print(p.map(abs, range(-5, 5)))'");
    python_tempfile_and_shutil => in_scratch(
        "python3 -c 'import tempfile, shutil, os\nd = tempfile.mkdtemp(dir=\".\")\nwith tempfile.NamedTemporaryFile(dir=d, delete=False) as f: f.write(b\"x\" * 10000)\nshutil.copytree(d, \"copy\")\nprint(sorted(os.path.getsize(os.path.join(\"copy\", n)) for n in os.listdir(\"copy\")))\nshutil.rmtree(d); shutil.rmtree(\"copy\"); print(os.listdir(\".\"))'");
    cp_a_and_mv_across_mounts => in_scratch(
        "cp -a /etc/ssl ssl && diff -r /etc/ssl ssl && echo copied\n\
         echo x > f && mv f /dev/shm/runsc-fs-$$ && cat /dev/shm/runsc-fs-$$ && rm /dev/shm/runsc-fs-$$\n\
         mkdir dir && echo y > dir/z && mv dir /dev/shm/runsc-fsd-$$ && cat /dev/shm/runsc-fsd-$$/z && rm -r /dev/shm/runsc-fsd-$$\n\
         ls");
    find_usr_xdev_counts_the_same => in_scratch("find /usr -xdev | wc -l");
    coreutils_on_the_overlay => in_scratch(
        "echo hello > f; ln f g; ln -s f s; chmod 640 f; stat -c '%a %h %F' f g s\n\
         truncate -s 100 f; stat -c %s f; dd if=/dev/zero of=z bs=4k count=3 status=none; stat -c %s z\n\
         mkdir -p a/b/c; touch a/b/c/x; mv a/b a/bb; find a | sort; rm -r a; ls");
    overlay_root_changes_stay_in_sandbox => check_overlay_keeps_host_unchanged();
    read_only_mount_gives_erofs => check_read_only_errors();
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
