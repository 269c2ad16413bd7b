# Processes, threads, signals and waiting in python, as the sandbox's
# workload: each line is deterministic.
import asyncio
import concurrent.futures
import multiprocessing
import os
import resource
import select
import selectors
import signal
import socket
import subprocess
import threading
import time

r = subprocess.run(["echo", "from a child"], capture_output=True, text=True)
print("subprocess.run:", r.returncode, r.stdout.strip())

with concurrent.futures.ThreadPoolExecutor(8) as ex:
    print("thread pool:", sum(ex.map(lambda x: x * x, range(100))))

pid = os.fork()
if pid == 0:
    os._exit(7)
_, st = os.waitpid(pid, 0)
print("fork + waitpid:", os.WEXITSTATUS(st))

got = []
signal.signal(signal.SIGALRM, lambda s, f: got.append("alarm"))
signal.alarm(1)
while not got:
    time.sleep(0.01)
print("signal.alarm:", got)

signal.signal(signal.SIGUSR1, lambda s, f: got.append("usr1"))
os.kill(os.getpid(), signal.SIGUSR1)
print("SIGUSR1 to self:", got[-1])

rfd, wfd = os.pipe()
os.write(wfd, b"x")
print("select on a pipe:", select.select([rfd], [], [], 1)[0] == [rfd])
sel = selectors.DefaultSelector()
sel.register(rfd, selectors.EVENT_READ)
print("selectors:", len(sel.select(1)))
os.read(rfd, 1)

ev, cond, barrier = threading.Event(), threading.Condition(), threading.Barrier(3)
items = []


def worker(i):
    barrier.wait()
    with cond:
        items.append(i)
        cond.notify()
    ev.wait()


ts = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
for t in ts:
    t.start()
barrier.wait()
with cond:
    cond.wait_for(lambda: len(items) == 2)
ev.set()
for t in ts:
    t.join()
print("threading Event/Condition/Barrier:", sorted(items))


async def main():
    await asyncio.sleep(0.01)
    p = await asyncio.create_subprocess_exec("echo", "async child", stdout=asyncio.subprocess.PIPE)
    out, _ = await p.communicate()
    return out.decode().strip(), p.returncode


print("asyncio:", asyncio.run(main()))

a, b = socket.socketpair()
a.sendall(b"ping")
print("socketpair:", b.recv(4))

# multiprocessing with the fork context and a pipe (a Pool needs POSIX
# semaphores in /dev/shm, which comes with writable filesystems).
ctx = multiprocessing.get_context("fork")
parent_end, child_end = ctx.Pipe()
proc = ctx.Process(target=lambda c: c.send(sum(range(10))), args=(child_end,))
proc.start()
print("multiprocessing.Process:", parent_end.recv())
proc.join()
print("exit code:", proc.exitcode)

print("getrusage user time > 0:", resource.getrusage(resource.RUSAGE_SELF).ru_utime > 0)
