//! The spec's hooks, run as runc runs them: prestart, createRuntime and
//! createContainer at create, startContainer inside the container at
//! start, poststart after it, poststop at delete; each with the state on
//! stdin, its own args and environment. A failing hook fails its step and
//! leaves nothing behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use runsc_tests::oci::{processes_mentioning, run_in, Outcome, Runtime, Scratch};
use runsc_tests::runsc;

const KINDS: [&str; 6] = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];

/// Runs `rt` with `args`, for at most a minute.
fn cmd(s: &Scratch, rt: &Runtime, args: &[&str]) -> Outcome {
    let mut c = Command::new(&rt.binary);
    c.arg("--root").arg(&rt.root).args(args);
    run_in(&s.dir, c, b"", Duration::from_secs(60))
}

/// A host hook script appending what it sees to `log`; it fails with
/// status 3 when its first argument is `fail`, sleeps when it is `sleep`.
fn host_hook(s: &Scratch, log: &Path) -> PathBuf {
    let path = s.dir.join("hook.sh");
    let script = format!(
        "#!/bin/sh\nst=$(cat)\necho \"$1 argc=$# cwd=$(pwd) env=$(env | sort | tr '\\n' ,) state=$st\" >> {}\n\
         [ \"$1\" = fail ] && {{ echo out-text; echo err-text >&2; exit 3; }}\n\
         [ \"$1\" = sleep ] && sleep 30\nexit 0\n",
        log.display()
    );
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

/// Bundle `name` whose hooks are `hooks` (kind → list), with a
/// startContainer-able script at /bin/inhook in its rootfs and a writable
/// root; the container prints what the in-container hook logged.
fn bundle(s: &Scratch, name: &str, hooks: serde_json::Value) -> PathBuf {
    let b = s.bundle(name, "echo in-container; cat /tmp/inlog 2>&1", |spec| {
        spec["root"]["readonly"] = false.into();
        spec["process"]["cwd"] = "/tmp".into();
        spec["hooks"] = hooks;
    });
    let inhook = b.join("rootfs/bin/inhook");
    fs::write(
        &inhook,
        "#!/bin/sh\necho \"start $0 $* uid=$(id -u) pwd=$(pwd) state=$(cat)\" >> /tmp/inlog\nenv >> /tmp/inlog\n",
    )
    .unwrap();
    fs::set_permissions(&inhook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    b
}

fn hook(path: &Path, kind: &str) -> serde_json::Value {
    serde_json::json!({"path": path, "args": [format!("argv0-{kind}"), kind], "env": [format!("K={kind}")]})
}

/// The log's lines with pids and the spec version made alike.
fn normalized(log: &Path) -> Vec<String> {
    let text = fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .map(|l| {
            let mut out = String::new();
            let mut rest = l;
            while let Some(i) = rest.find("\"pid\":") {
                out.push_str(&rest[..i + 6]);
                rest = rest[i + 6..].trim_start_matches(|c: char| c.is_ascii_digit());
                out.push('N');
            }
            out.push_str(rest);
            let v = out.find("\"ociVersion\":\"").map(|i| i + 14);
            if let Some(i) = v {
                if let Some(j) = out[i..].find('"') {
                    out.replace_range(i..i + j, "V");
                }
            }
            out
        })
        .collect()
}

#[test]
fn hooks_run_as_runcs_do() {
    let s = Scratch::new("hooks");
    let mut logs = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (PathBuf::from("runc"), "runc")] {
        let log = s.dir.join(format!("log-{name}"));
        let h = host_hook(&s, &log);
        let mut hooks = serde_json::Map::new();
        for kind in KINDS {
            let list = if kind == "startContainer" {
                serde_json::json!([{"path": "/bin/inhook", "args": ["inhook", "a1"], "env": ["K=start"]}])
            } else {
                serde_json::json!([hook(&h, kind)])
            };
            hooks.insert(kind.into(), list);
        }
        let b = bundle(&s, &format!("b-{name}"), hooks.into());
        let rt = s.runtime(bin, name);
        // runc's container writes the image itself (ours, its overlay).
        let runc_log = b.join("rootfs/tmp/inlog");
        let b = b.to_str().unwrap();
        // create runs the create hooks; start the rest; delete poststop.
        cmd(&s, &rt, &["create", "--bundle", b, "c1"]).ok();
        let after_create = normalized(&log);
        cmd(&s, &rt, &["start", "c1"]).ok();
        rt.wait_status("c1", "stopped");
        let after_start = normalized(&log);
        cmd(&s, &rt, &["delete", "c1"]).ok();
        let all = normalized(&log);
        // And `run` does it all in one.
        let _ = fs::remove_file(&runc_log);
        let out = cmd(&s, &rt, &["run", "--bundle", b, "c2"]).ok();
        logs.push((after_create, after_start, all, out.stdout));
    }
    let (ours, runcs) = (&logs[0], &logs[1]);
    let kinds = |v: &[String]| v.iter().map(|l| l.split(' ').next().unwrap_or("").to_string()).collect::<Vec<_>>();
    // runc runs poststart hooks within create (and says "created"); the
    // spec, and we, after the container's process starts.
    assert_eq!(kinds(&ours.0), ["prestart", "createRuntime", "createContainer"], "{ours:?}");
    assert_eq!(kinds(&ours.1), ["prestart", "createRuntime", "createContainer", "poststart"], "{ours:?}");
    assert_eq!(kinds(&ours.2), kinds(&runcs.2), "ours {ours:?}\nrunc's {runcs:?}");
    for (a, b) in ours.2.iter().zip(&runcs.2) {
        if a.starts_with("poststart") {
            assert!(a.contains("\"status\":\"running\""), "{a}");
            assert_eq!(a.replace("\"running\"", "\"created\""), b.replace("b-runc", "b-runsc"));
            continue;
        }
        let cwd_ok = a.replace("b-runsc", "b-runc").replace("state-runsc", "state-runc") == *b;
        // createContainer: runc's is pid 1 in the container's pid
        // namespace; ours sees the sandbox's host pid (normalized alike).
        assert!(cwd_ok, "ours: {a}\nrunc: {b}");
    }
    // The in-container hook's view (its own args, environment, init's
    // user and working directory, pid 1), printed by the container.
    assert!(ours.3.contains("start /bin/inhook a1 uid=0 pwd=/tmp state="), "{ours:?}");
    assert!(ours.3.contains("\"status\":\"created\",\"pid\":1,"), "{ours:?}");
    let strip =
        |t: &str| t.replace("b-runsc", "b-runc").replace("\"ociVersion\":\"1.0.2\"", "\"ociVersion\":\"1.0.2-dev\"");
    assert_eq!(strip(&ours.3), runcs.3, "the container's output");
}

#[test]
fn failing_hooks_fail_their_step_and_leave_nothing() {
    let s = Scratch::new("hookfail");
    for (bin, name) in [(runsc(), "runsc"), (PathBuf::from("runc"), "runc")] {
        let log = s.dir.join(format!("log-{name}"));
        let h = host_hook(&s, &log);
        let rt = s.runtime(bin.clone(), name);
        // A failing createRuntime hook: create fails with its output, and
        // the container is destroyed (poststop runs).
        let b = bundle(
            &s,
            &format!("cr-{name}"),
            serde_json::json!({"createRuntime": [{"path": h, "args": ["x", "fail"], "env": ["A=1"]}],
                               "poststop": [hook(&h, "poststop")]}),
        );
        let out = cmd(&s, &rt, &["create", "--bundle", b.to_str().unwrap(), "c1"]);
        assert_ne!(out.code, 0, "{name}: {out:?}");
        for want in ["exit status 3", "out-text", "err-text"] {
            assert!(out.stderr.contains(want), "{name}: {want}: {out:?}");
        }
        assert_eq!(rt.leftovers(), Vec::<String>::new(), "{name}");
        let kinds: Vec<String> = normalized(&log).iter().map(|l| l.split(' ').next().unwrap_or("").into()).collect();
        assert_eq!(kinds, ["fail", "poststop"], "{name}");

        // A startContainer hook that is not in the container: start fails,
        // the container is stopped, delete clears it.
        let b = bundle(&s, &format!("sc-{name}"), serde_json::json!({"startContainer": [{"path": "/bin/nohook"}]}));
        cmd(&s, &rt, &["create", "--bundle", b.to_str().unwrap(), "c2"]).ok();
        let out = cmd(&s, &rt, &["start", "c2"]);
        if name == "runsc" {
            // runc's start returns before its init runs the hook; ours
            // reports the hook's failure.
            assert_ne!(out.code, 0, "{name}: {out:?}");
            assert!(out.stderr.contains("/bin/nohook") && out.stderr.contains("no such file"), "{name}: {out:?}");
        }
        rt.wait_status("c2", "stopped");
        cmd(&s, &rt, &["delete", "c2"]).ok();
        assert_eq!(rt.leftovers(), Vec::<String>::new(), "{name}");
    }
    // A hook past its timeout is killed and fails create.
    let h = host_hook(&s, &s.dir.join("log-timeout"));
    let b = bundle(&s, "slow", serde_json::json!({"prestart": [{"path": h, "args": ["x", "sleep"], "timeout": 1}]}));
    let rt = s.runtime(runsc(), "runsc");
    let t = std::time::Instant::now();
    cmd(&s, &rt, &["create", "--bundle", b.to_str().unwrap(), "c3"]).fails_with("timed out after 1 s");
    assert!(t.elapsed() < Duration::from_secs(20), "killed at its timeout: {:?}", t.elapsed());
    assert_eq!(rt.leftovers(), Vec::<String>::new());
    assert!(
        processes_mentioning(s.dir.to_str().unwrap()).is_empty(),
        "{:?}",
        processes_mentioning(s.dir.to_str().unwrap())
    );
}

#[test]
fn bad_hooks_are_named_by_their_json_path() {
    let s = Scratch::new("hookbad");
    let rt = s.runtime(runsc(), "runsc");
    let cases = [
        (serde_json::json!({"prestart": [{"path": "hook.sh"}]}), "hooks.prestart[0].path"),
        (
            serde_json::json!({"poststop": [{"path": "/bin/true"}, {"path": "/bin/true", "env": ["NOVALUE"]}]}),
            "hooks.poststop[1].env[0]",
        ),
        (
            serde_json::json!({"startContainer": [{"path": "/bin/true", "timeout": 0}]}),
            "hooks.startContainer[0].timeout",
        ),
    ];
    for (i, (hooks, want)) in cases.into_iter().enumerate() {
        let b = bundle(&s, &format!("b{i}"), hooks);
        cmd(&s, &rt, &["create", "--bundle", b.to_str().unwrap(), "c"]).fails_with(want);
        assert_eq!(rt.leftovers(), Vec::<String>::new());
    }
}
