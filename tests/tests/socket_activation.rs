//! Socket activation: a server handed its listening TCP socket as fd 3
//! (`run --preserve-fds 1`, as systemd's LISTEN_FDS hands it) accepts,
//! names, receives, sends and shuts down connections on it in the sandbox
//! as natively and under runc. The sandbox has no network of its own; the
//! sockets it is given are the only way out.

use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd as _;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runsc_tests::compile::Variant;
use runsc_tests::oci::Scratch;
use runsc_tests::runsc;

/// Starts `cmd` with a fresh loopback listener as its fd 3 (ours closed)
/// and its stdout in `out`; returns it and the listener's address.
fn start_with_listener(mut cmd: Command, out: &Path) -> (std::process::Child, std::net::SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().unwrap();
    let fd = listener.as_raw_fd();
    // SAFETY: dup2 and fcntl are async-signal-safe and touch only the
    // child's fds (fd 3 inheritable even if the listener is fd 3 itself).
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(fd, 3) == 3 && libc::fcntl(3, libc::F_SETFD, 0) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    cmd.stdin(Stdio::null()).stdout(fs::File::create(out).unwrap()).stderr(Stdio::inherit());
    (cmd.spawn().expect("start the server"), addr)
}

/// Runs `cmd` with a fresh loopback listener as its fd 3, connects to it
/// twice (a line each, read to the end) and returns what the server
/// printed and the answers it gave.
fn serve(cmd: Command, out: &Path) -> (String, Vec<String>) {
    let (printed, answers) = serve_with(cmd, out, |i| format!("hello {i}\n"));
    (printed, answers.into_iter().map(|a| format!("{a:?}")).collect())
}

/// Runs `cmd` with a fresh loopback listener as its fd 3, connects to it
/// twice, sends `request(i)` and reads each answer to its end; returns
/// what the server printed and the answers.
fn serve_with(cmd: Command, out: &Path, request: impl Fn(usize) -> String) -> (String, Vec<String>) {
    let (mut child, addr) = start_with_listener(cmd, out);
    let mut answers = Vec::new();
    for i in 0..2 {
        let mut c = TcpStream::connect(addr).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        c.write_all(request(i).as_bytes()).unwrap();
        let mut got = String::new();
        let r = c.read_to_string(&mut got);
        answers.push(match r {
            Ok(n) => format!("{got} ({n} bytes)"),
            Err(e) => format!("{got} ({:?})", e.kind()),
        });
        let _ = c.shutdown(Shutdown::Both);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not exit: {}", fs::read_to_string(out).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (fs::read_to_string(out).unwrap(), answers)
}

#[test]
fn socket_activated_server_matches_native_and_runc() {
    let exe = runsc_tests::compile(&runsc_tests::tests_dir().join("programs/socket_activated.c"), Variant::Static);
    let s = Scratch::new("sockact");
    let b = s.bundle("b", "true", |spec| spec["process"]["args"] = serde_json::json!(["/server"]));
    fs::copy(&exe, b.join("rootfs/server")).unwrap();
    let native = serve(Command::new(&exe), &s.dir.join("native.out"));
    assert!(native.0.ends_with("bad shutdown: 1\n"), "native: {native:?}");
    assert_eq!(native.1[0], "\"echo 0: hello 0\\n (16 bytes)\"", "native: {native:?}");
    for (bin, name) in [("runc".into(), "runc"), (runsc(), "runsc")] {
        let rt = s.runtime(bin, name);
        let mut c = Command::new(&rt.binary);
        c.arg("--root").arg(&rt.root).args(["run", "--preserve-fds", "1", "--bundle"]).arg(&b).arg("c1");
        let got = serve(c, &s.dir.join(format!("{name}.out")));
        assert_eq!(got, native, "{name} (left) and native (right) differ");
    }
}

/// Python's http.server, handed its listening socket as fd 3
/// (`socket.socket(fileno=3)`, which asks the socket's family, type and
/// protocol), serves two GETs of a file in the sandbox (the host's root,
/// read-only) as natively: the same status lines and bodies.
#[test]
fn python_http_server_socket_activated_matches_native() {
    let python = "/usr/bin/python3";
    let script = r#"
import http.server, socket, socketserver
class Server(http.server.HTTPServer):
    def __init__(self, sock, handler):
        socketserver.BaseServer.__init__(self, sock.getsockname(), handler)
        self.socket = sock
        self.server_name, self.server_port = "localhost", sock.getsockname()[1]
s = socket.socket(fileno=3)
print(s.family.name, s.type.name, flush=True)
srv = Server(s, http.server.SimpleHTTPRequestHandler)
for _ in range(2):
    srv.handle_request()
print("served", flush=True)
"#;
    let s = Scratch::new("sockact-py");
    let b = s.bundle("b", "true", |spec| {
        spec["root"] = serde_json::json!({"path": "/", "readonly": true});
        spec["process"]["args"] = serde_json::json!([python, "-c", script]);
        spec["process"]["cwd"] = "/etc".into();
    });
    let mut native = Command::new(python);
    native.args(["-c", script]).current_dir("/etc");
    let n = serve_http(native, &s.dir.join("native.out"));
    assert_eq!(n.0, "AF_INET SOCK_STREAM\nserved\n", "native: {n:?}");
    assert!(n.1[0].starts_with("HTTP/1.0 200 OK\n"), "native: {n:?}");
    let rt = s.runtime(runsc(), "runsc");
    let mut c = Command::new(&rt.binary);
    c.arg("--root").arg(&rt.root).args(["run", "--preserve-fds", "1", "--bundle"]).arg(&b).arg("c1");
    let ours = serve_http(c, &s.dir.join("runsc.out"));
    assert_eq!(ours, n, "runsc (left) and native (right) differ");
}

/// As [`serve`], with HTTP GETs of /debian_version: each answer's status
/// line and body (the headers name dates).
fn serve_http(cmd: Command, out: &Path) -> (String, Vec<String>) {
    let (printed, answers) = serve_with(cmd, out, |i| format!("GET /debian_version?{i} HTTP/1.0\r\n\r\n"));
    let answers = answers
        .iter()
        .map(|a| {
            let status = a.lines().next().unwrap_or_default();
            let body = a.split_once("\r\n\r\n").map_or(a.as_str(), |(_, b)| b);
            format!("{status}\n{body}")
        })
        .collect();
    (printed, answers)
}

/// Runs `cmd` with a loopback listener as its fd 3, sends it `data` on
/// one connection and reads its answer to the end; returns what the
/// server printed and the answer.
fn echo(cmd: Command, out: &Path, data: &[u8]) -> (String, Vec<u8>) {
    let (mut child, addr) = start_with_listener(cmd, out);
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c.write_all(data).unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).expect("read the echo");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}: {}", fs::read_to_string(out).unwrap_or_default());
    (fs::read_to_string(out).unwrap(), got)
}

/// A megabyte through a host socket each way, in one recv(MSG_WAITALL)
/// and one send: the sandbox moves it in pieces and waits for room, and
/// the server sees and sends what it does natively.
#[test]
fn a_megabyte_each_way_matches_native() {
    let exe = runsc_tests::compile(&runsc_tests::tests_dir().join("programs/socket_bulk.c"), Variant::Static);
    let s = Scratch::new("sockbulk");
    let b = s.bundle("b", "true", |spec| spec["process"]["args"] = serde_json::json!(["/server"]));
    fs::copy(&exe, b.join("rootfs/server")).unwrap();
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i.wrapping_mul(7919) >> 3) as u8).collect();
    let native = echo(Command::new(&exe), &s.dir.join("native.out"), &data);
    assert!(native.0.starts_with("received 1000000, "), "native: {}", native.0);
    assert!(native.1 == data, "native echoed {} bytes, not what it got", native.1.len());
    let rt = s.runtime(runsc(), "runsc");
    let mut c = Command::new(&rt.binary);
    c.arg("--root").arg(&rt.root).args(["run", "--preserve-fds", "1", "--bundle"]).arg(&b).arg("c1");
    let ours = echo(c, &s.dir.join("runsc.out"), &data);
    assert_eq!(ours.0, native.0, "runsc (left) and native (right) differ");
    assert!(ours.1 == data, "runsc echoed {} bytes, not what it got", ours.1.len());
}
