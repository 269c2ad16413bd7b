"""Drives an interactive bash through a pseudo-terminal, as a terminal
emulator would, and prints one line per step saying whether the step saw
what a user would see: a terminal on stdin, ^C ending a foreground job,
^Z stopping one and fg resuming it, job control's process groups, and
bash's exit status. The transcript itself varies with timing, so it is
printed only when a step fails (to stderr). Arguments, if any, are the
command that runs bash (`runsc do -- bash ...`: the sandbox on the host's
terminal)."""
import os
import pty
import select
import sys
import time

pid, fd = pty.fork()
if pid == 0:
    os.environ.update(PS1="$ ", TERM="dumb")
    argv = sys.argv[1:] or ["bash", "--norc", "--noprofile", "-i"]
    os.execvp(argv[0], argv)


def until(marker, limit=10.0):
    """Reads the master until `marker` shows up (or the limit passes)."""
    out = b""
    end = time.time() + limit
    while marker not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                break
            if not d:
                break
            out += d
    return out


def step(name, send, marker, pause=0.0, then=None):
    os.write(fd, send)
    if pause:
        time.sleep(pause)
    if then:
        os.write(fd, then)
    out = until(marker)
    ok = marker in out
    print(name, "ok" if ok else "FAILED")
    if not ok:
        sys.stderr.write(f"{name}: {out!r}\n")


until(b"$ ")
step("tty", b"test -t 0 && echo on-a-tty\n", b"\non-a-tty")
step("pgrp", b"[ $(ps -o tpgid= $$) = $(ps -o pgid= $$) ] && echo fg-is-shell\n", b"\nfg-is-shell")
step("ctrl-c", b"sleep 30\n", b"^C\r\n$ ", pause=0.3, then=b"\x03")
step("ctrl-z", b"sleep 30\n", b"Stopped", pause=0.3, then=b"\x1a")
step("fg", b"fg\n", b"^C\r\n$ ", pause=0.3, then=b"\x03")
step("stty", b"stty -echo; echo hidden; stty echo\n", b"\nhidden")
os.write(fd, b"exit 7\n")
until(b"exit")
_, status = os.waitpid(pid, 0)
print("status", os.waitstatus_to_exitcode(status))
