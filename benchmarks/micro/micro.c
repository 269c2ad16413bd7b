/*
 * micro.c - syscall microbenchmarks for runsc, runc and the bare host.
 *
 * Usage: micro NAME [ITERATIONS [MAX_SECONDS]]
 *
 *   NAME is one of: getpid, open_close, pread_4k, clock_gettime, mmap_64m,
 *   fork_exec_wait, bash_loop100, fork_100m, fork_100m_write,
 *   pipe_pingpong, futex_pingpong, signal_self, thread_create_join,
 *   stat, stat_missing, stat_cold, open_read_close, and per directory (the root's
 *   /tmp, a tmpfs at /dev/shm) create_write_unlink_{tmp,shm},
 *   readdir_10k_{tmp,shm}, write_1m_{tmp,shm}, read_1m_{tmp,shm}
 *   (and "exit", which exits at once: fork_exec_wait's program).
 *   The file benchmarks work in a scratch directory they make under /tmp
 *   or /dev/shm and remove.
 *   ITERATIONS is an upper bound on the number of timed operations
 *   (0 or absent: the per-benchmark default in BENCHES below).
 *   MAX_SECONDS stops the loop early once that much time has passed
 *   (default 1.0), so a slow sandbox still finishes in bounded time.
 *
 * Prints two lines on stdout:
 *   ns_per_op=<float>
 *   iters=<n>
 * and exits 0, or prints a message on stderr and exits 1.
 *
 * Output is formatted with snprintf and sent with write(2) so that stdio
 * does not fstat stdout; build with -static (and -pthread) to keep the
 * dynamic loader out of it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MMAP_BYTES (64UL << 20)
#define FORK_BYTES (100UL << 20)
#define PAGE_BYTES 4096UL
#define READ_BYTES 4096

/* Files that exist on a Debian-like host; the first one >= 4 KiB is used. */
static const char *const pread_candidates[] = {
    "/usr/bin/env", "/bin/ls", "/bin/sh", "/etc/services", NULL,
};

static char read_buf[READ_BYTES];
static int pread_fd = -1;
static const char *self_path;

static void say(int fd, const char *msg) {
    size_t len = strlen(msg);
    while (len > 0) {
        ssize_t n = write(fd, msg, len);
        if (n <= 0)
            return;
        msg += n;
        len -= (size_t)n;
    }
}

static void die(const char *msg) {
    say(2, "micro: ");
    say(2, msg);
    say(2, "\n");
    _exit(1);
}

static double now_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        die("clock_gettime failed");
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void op_getpid(void) {
    if (syscall(SYS_getpid) <= 0)
        die("getpid failed");
}

static void op_open_close(void) {
    int fd = open("/etc/passwd", O_RDONLY);
    if (fd < 0)
        die("open /etc/passwd failed");
    if (close(fd) != 0)
        die("close failed");
}

static void setup_pread(void) {
    for (int i = 0; pread_candidates[i] != NULL; i++) {
        int fd = open(pread_candidates[i], O_RDONLY);
        if (fd < 0)
            continue;
        off_t size = lseek(fd, 0, SEEK_END);
        if (size >= READ_BYTES) {
            pread_fd = fd;
            return;
        }
        close(fd);
    }
    die("no readable file of at least 4 KiB found");
}

static void op_pread_4k(void) {
    if (pread(pread_fd, read_buf, READ_BYTES, 0) != READ_BYTES)
        die("pread failed or was short");
}

static void op_clock_gettime(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        die("clock_gettime failed");
}

static void op_mmap_64m(void) {
    char *p = mmap(NULL, MMAP_BYTES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die("mmap failed");
    for (size_t off = 0; off < MMAP_BYTES; off += PAGE_BYTES)
        ((volatile char *)p)[off] = 1;
    if (munmap(p, MMAP_BYTES) != 0)
        die("munmap failed");
}

/* fork + execve of this program ("micro exit", static) + wait. */
static void op_fork_exec_wait(void) {
    pid_t pid = fork();
    if (pid < 0)
        die("fork failed");
    if (pid == 0) {
        char *argv[] = {(char *)self_path, "exit", NULL};
        execv(self_path, argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("child of fork_exec_wait failed");
}

/* bash running /bin/true 100 times. */
static void op_bash_loop100(void) {
    pid_t pid = fork();
    if (pid < 0)
        die("fork failed");
    if (pid == 0) {
        char *argv[] = {"/bin/bash", "-c", "for i in $(seq 100); do /bin/true; done", NULL};
        execv("/bin/bash", argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("bash loop failed");
}

static char *fork_mem;

static void setup_fork_100m(void) {
    fork_mem = mmap(NULL, FORK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fork_mem == MAP_FAILED)
        die("mmap failed");
    for (size_t off = 0; off < FORK_BYTES; off += PAGE_BYTES)
        fork_mem[off] = 1;
}

static void fork_and_wait(int write_page) {
    pid_t pid = fork();
    if (pid < 0)
        die("fork failed");
    if (pid == 0) {
        if (write_page)
            ((volatile char *)fork_mem)[FORK_BYTES / 2] = 2;
        _exit(0);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        die("waitpid failed");
}

/* fork of a process with 100 MiB touched; the child exits at once. */
static void op_fork_100m(void) {
    fork_and_wait(0);
}

/* The same, and the child writes one page first. */
static void op_fork_100m_write(void) {
    fork_and_wait(1);
}

static int ping[2], pong[2];
static pid_t echo_pid;

static void setup_pipe_pingpong(void) {
    if (pipe(ping) != 0 || pipe(pong) != 0)
        die("pipe failed");
    echo_pid = fork();
    if (echo_pid < 0)
        die("fork failed");
    if (echo_pid == 0) {
        char c;
        close(ping[1]);
        close(pong[0]);
        while (read(ping[0], &c, 1) == 1)
            if (write(pong[1], &c, 1) != 1)
                break;
        _exit(0);
    }
    close(ping[0]);
    close(pong[1]);
}

/* One byte to another process through a pipe and back. */
static void op_pipe_pingpong(void) {
    char c = 'x';
    if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
        die("pipe ping-pong failed");
}

static void teardown_pipe_pingpong(void) {
    close(ping[1]);
    waitpid(echo_pid, NULL, 0);
}

static volatile int turn;
static pthread_t partner;

static long futex(volatile int *addr, int op, int val) {
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

static void *futex_partner(void *arg) {
    (void)arg;
    for (;;) {
        int t = __atomic_load_n(&turn, __ATOMIC_ACQUIRE);
        if (t < 0)
            return NULL;
        if (t % 2 == 1) {
            __atomic_store_n(&turn, t + 1, __ATOMIC_RELEASE);
            futex(&turn, FUTEX_WAKE_PRIVATE, 1);
        } else {
            futex(&turn, FUTEX_WAIT_PRIVATE, t);
        }
    }
}

static void setup_futex_pingpong(void) {
    if (pthread_create(&partner, NULL, futex_partner, NULL) != 0)
        die("pthread_create failed");
}

/* A futex wake to another thread and its wake back. */
static void op_futex_pingpong(void) {
    int t = __atomic_load_n(&turn, __ATOMIC_ACQUIRE) + 1;
    __atomic_store_n(&turn, t, __ATOMIC_RELEASE);
    futex(&turn, FUTEX_WAKE_PRIVATE, 1);
    while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) == t)
        futex(&turn, FUTEX_WAIT_PRIVATE, t);
}

static void teardown_futex_pingpong(void) {
    __atomic_store_n(&turn, -1, __ATOMIC_RELEASE);
    futex(&turn, FUTEX_WAKE_PRIVATE, 1);
    pthread_join(partner, NULL);
}

static volatile long handled;

static void on_usr1(int sig) {
    (void)sig;
    handled++;
}

static void setup_signal_self(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        die("sigaction failed");
}

/* kill(self) + the handler + rt_sigreturn. */
static void op_signal_self(void) {
    long before = handled;
    if (syscall(SYS_kill, getpid(), SIGUSR1) != 0 || handled != before + 1)
        die("signal to self failed");
}

static void *thread_nop(void *arg) {
    return arg;
}

/* pthread_create + pthread_join. */
static void op_thread_create_join(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, thread_nop, NULL) != 0 || pthread_join(t, NULL) != 0)
        die("thread create/join failed");
}

/* ---- files ---- */

static void op_stat(void) {
    struct stat st;
    if (stat("/etc/passwd", &st) != 0)
        die("stat /etc/passwd failed");
}

static void op_stat_missing(void) {
    struct stat st;
    if (stat("/etc/no-such-file-here", &st) == 0)
        die("stat of a missing file succeeded");
}

/* A missing name never looked up before: each a gofer round trip in the
 * sandbox, a new negative dentry natively. */
static void op_stat_cold(void) {
    static long n;
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/usr/share/no-such-file-%d-%ld", (int)getpid(), n++);
    if (stat(path, &st) == 0)
        die("stat of a missing file succeeded");
}

static void op_open_read_close(void) {
    int fd = open(pread_candidates[3], O_RDONLY);
    if (fd < 0)
        die("open /etc/services failed");
    if (read(fd, read_buf, READ_BYTES) != READ_BYTES)
        die("read of 4 KiB failed or was short");
    close(fd);
}

static char scratch[64];
static char file_path[96];
static int data_fd = -1;
static char *mib;
static long mib_index;

#define MIB (1UL << 20)
/* Data files cycle over this much (runc's /dev/shm is 64 MiB). */
#define DATA_MIBS 32

static void make_scratch(const char *base) {
    snprintf(scratch, sizeof(scratch), "%s/micro.XXXXXX", base);
    if (mkdtemp(scratch) == NULL)
        die("mkdtemp failed");
    snprintf(file_path, sizeof(file_path), "%s/f", scratch);
}

static void setup_tmp(void) { make_scratch("/tmp"); }
static void setup_shm(void) { make_scratch("/dev/shm"); }

static void remove_scratch(void) {
    DIR *d = opendir(scratch);
    struct dirent *e;
    char p[160];
    if (data_fd >= 0)
        close(data_fd);
    data_fd = -1;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", scratch, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(scratch);
}

static void op_create_write_unlink(void) {
    int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("create failed");
    if (write(fd, read_buf, READ_BYTES) != READ_BYTES)
        die("write failed");
    close(fd);
    if (unlink(file_path) != 0)
        die("unlink failed");
}

static void setup_readdir(const char *base) {
    char p[160];
    make_scratch(base);
    for (int i = 0; i < 10000; i++) {
        snprintf(p, sizeof(p), "%s/entry-%05d", scratch, i);
        int fd = open(p, O_WRONLY | O_CREAT, 0644);
        if (fd < 0)
            die("creating the directory's entries failed");
        close(fd);
    }
}

static void setup_readdir_tmp(void) { setup_readdir("/tmp"); }
static void setup_readdir_shm(void) { setup_readdir("/dev/shm"); }

static void op_readdir(void) {
    char buf[32768];
    long n, total = 0;
    int fd = open(scratch, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        die("open of the directory failed");
    while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0)
        total += n;
    close(fd);
    if (n < 0 || total == 0)
        die("getdents64 failed");
}

static void setup_data(const char *base, int fill) {
    make_scratch(base);
    mib = malloc(MIB);
    if (mib == NULL)
        die("malloc failed");
    memset(mib, 'x', MIB);
    data_fd = open(file_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (data_fd < 0)
        die("create of the data file failed");
    for (int i = 0; fill && i < DATA_MIBS; i++)
        if (write(data_fd, mib, MIB) != (ssize_t)MIB)
            die("filling the data file failed");
}

static void setup_write_tmp(void) { setup_data("/tmp", 0); }
static void setup_write_shm(void) { setup_data("/dev/shm", 0); }
static void setup_read_tmp(void) { setup_data("/tmp", 1); }
static void setup_read_shm(void) { setup_data("/dev/shm", 1); }

static void op_write_1m(void) {
    off_t off = (off_t)(mib_index++ % DATA_MIBS) * MIB;
    if (pwrite(data_fd, mib, MIB, off) != (ssize_t)MIB)
        die("pwrite of 1 MiB failed");
}

static void op_read_1m(void) {
    off_t off = (off_t)(mib_index++ % DATA_MIBS) * MIB;
    if (pread(data_fd, mib, MIB, off) != (ssize_t)MIB)
        die("pread of 1 MiB failed");
}

struct bench {
    const char *name;
    void (*setup)(void);
    void (*op)(void);
    long default_iters;
    long batch; /* operations between two checks of the clock */
    void (*teardown)(void);
};

static const struct bench BENCHES[] = {
    {"getpid", NULL, op_getpid, 2000000, 256, NULL},
    {"open_close", NULL, op_open_close, 500000, 64, NULL},
    {"pread_4k", setup_pread, op_pread_4k, 1000000, 256, NULL},
    {"clock_gettime", NULL, op_clock_gettime, 10000000, 1024, NULL},
    {"mmap_64m", NULL, op_mmap_64m, 20, 1, NULL},
    {"fork_exec_wait", NULL, op_fork_exec_wait, 2000, 1, NULL},
    {"bash_loop100", NULL, op_bash_loop100, 20, 1, NULL},
    {"fork_100m", setup_fork_100m, op_fork_100m, 200, 1, NULL},
    {"fork_100m_write", setup_fork_100m, op_fork_100m_write, 200, 1, NULL},
    {"pipe_pingpong", setup_pipe_pingpong, op_pipe_pingpong, 200000, 64, teardown_pipe_pingpong},
    {"futex_pingpong", setup_futex_pingpong, op_futex_pingpong, 200000, 64, teardown_futex_pingpong},
    {"signal_self", setup_signal_self, op_signal_self, 200000, 64, NULL},
    {"thread_create_join", NULL, op_thread_create_join, 20000, 16, NULL},
    {"stat", NULL, op_stat, 1000000, 256, NULL},
    {"stat_missing", NULL, op_stat_missing, 1000000, 256, NULL},
    {"stat_cold", NULL, op_stat_cold, 200000, 64, NULL},
    {"open_read_close", NULL, op_open_read_close, 500000, 64, NULL},
    {"create_write_unlink_tmp", setup_tmp, op_create_write_unlink, 200000, 16, remove_scratch},
    {"create_write_unlink_shm", setup_shm, op_create_write_unlink, 200000, 16, remove_scratch},
    {"readdir_10k_tmp", setup_readdir_tmp, op_readdir, 2000, 1, remove_scratch},
    {"readdir_10k_shm", setup_readdir_shm, op_readdir, 2000, 1, remove_scratch},
    {"write_1m_tmp", setup_write_tmp, op_write_1m, 4096, 1, remove_scratch},
    {"write_1m_shm", setup_write_shm, op_write_1m, 4096, 1, remove_scratch},
    {"read_1m_tmp", setup_read_tmp, op_read_1m, 4096, 1, remove_scratch},
    {"read_1m_shm", setup_read_shm, op_read_1m, 4096, 1, remove_scratch},
};

static const struct bench *find_bench(const char *name) {
    for (size_t i = 0; i < sizeof(BENCHES) / sizeof(BENCHES[0]); i++)
        if (strcmp(BENCHES[i].name, name) == 0)
            return &BENCHES[i];
    return NULL;
}

static void usage(void) {
    say(2, "usage: micro NAME [ITERATIONS [MAX_SECONDS]]\nNAME:");
    for (size_t i = 0; i < sizeof(BENCHES) / sizeof(BENCHES[0]); i++) {
        say(2, " ");
        say(2, BENCHES[i].name);
    }
    say(2, "\n");
    _exit(2);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "exit") == 0)
        return 0;
    if (argc < 2 || argc > 4)
        usage();
    self_path = argv[0];
    const struct bench *b = find_bench(argv[1]);
    if (b == NULL)
        usage();
    long iters = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    double max_s = argc > 3 ? strtod(argv[3], NULL) : 1.0;
    if (iters < 0 || !(max_s > 0))
        usage();
    if (iters == 0)
        iters = b->default_iters;

    if (b->setup)
        b->setup();
    b->op(); /* warm-up: fault in code, data and dentries */

    double deadline = max_s * 1e9;
    double start = now_ns();
    double elapsed = 0;
    long done = 0;
    while (done < iters) {
        long n = b->batch < iters - done ? b->batch : iters - done;
        for (long i = 0; i < n; i++)
            b->op();
        done += n;
        elapsed = now_ns() - start;
        if (elapsed >= deadline)
            break;
    }

    if (b->teardown)
        b->teardown();

    char out[96];
    snprintf(out, sizeof(out), "ns_per_op=%.1f\niters=%ld\n",
             elapsed / (double)done, done);
    say(1, out);
    return 0;
}
