/*
 * micro.c - syscall microbenchmarks for runsc, runc and the bare host.
 *
 * Usage: micro NAME [ITERATIONS [MAX_SECONDS]]
 *
 *   NAME is one of: getpid, open_close, pread_4k, clock_gettime, mmap_64m.
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
 * Only these syscalls are used, because the sandbox implements little else:
 * read, write, pread64, openat, close, lseek, fstat, mmap, munmap, mprotect,
 * brk, clock_gettime, getpid, exit_group (plus glibc start-up).  Output is
 * formatted with snprintf and sent with write(2) so that stdio does not
 * fstat stdout; build with -static to keep the dynamic loader out of it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MMAP_BYTES (64UL << 20)
#define PAGE_BYTES 4096UL
#define READ_BYTES 4096

/* Files that exist on a Debian-like host; the first one >= 4 KiB is used. */
static const char *const pread_candidates[] = {
    "/usr/bin/env", "/bin/ls", "/bin/sh", "/etc/services", NULL,
};

static char read_buf[READ_BYTES];
static int pread_fd = -1;

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

struct bench {
    const char *name;
    void (*setup)(void);
    void (*op)(void);
    long default_iters;
    long batch; /* operations between two checks of the clock */
};

static const struct bench BENCHES[] = {
    {"getpid", NULL, op_getpid, 2000000, 256},
    {"open_close", NULL, op_open_close, 500000, 64},
    {"pread_4k", setup_pread, op_pread_4k, 1000000, 256},
    {"clock_gettime", NULL, op_clock_gettime, 10000000, 1024},
    {"mmap_64m", NULL, op_mmap_64m, 20, 1},
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
    if (argc < 2 || argc > 4)
        usage();
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

    char out[96];
    snprintf(out, sizeof(out), "ns_per_op=%.1f\niters=%ld\n",
             elapsed / (double)done, done);
    say(1, out);
    return 0;
}
