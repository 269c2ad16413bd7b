/* Shared mappings of files in directory argv[1] (a volume in the
 * sandbox): coherent across processes, with read(2) and write(2), across
 * separate opens, written back on msync and after the last close and
 * munmap; truncation. Prints what it sees; the harness then checks the
 * files on the host. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) {
    perror(what);
    exit(1);
}

static int open_at(const char *dir, const char *name, int flags) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, flags, 0644);
    if (fd < 0)
        die(path);
    return fd;
}

/* A new file `name` of `size` bytes, mapped shared; its fd in *fd. */
static char *new_shared(const char *dir, const char *name, size_t size, int *fd) {
    *fd = open_at(dir, name, O_RDWR | O_CREAT | O_TRUNC);
    if (ftruncate(*fd, size) != 0)
        die("ftruncate");
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
    if (p == MAP_FAILED)
        die("mmap");
    return p;
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    const char *dir = argv[1];
    char buf[64] = {0};
    int fd;
    char *p = new_shared(dir, "f", 8192, &fd);
    pid_t pid = fork();
    if (pid == 0) {
        int cfd = open_at(dir, "f", O_RDWR);
        char *q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
        if (q == MAP_FAILED)
            die("child mmap");
        strcpy(q, "child wrote");
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("parent's mapping: %s\n", p);
    if (pread(fd, buf, 11, 0) != 11)
        die("pread");
    printf("read: %s\n", buf);
    if (pwrite(fd, "via write", 9, 4096) != 9)
        die("pwrite");
    printf("mapping sees: %s\n", p + 4096);
    strcpy(p + 100, "synced");
    printf("msync: %d\n", msync(p, 8192, MS_SYNC));
    int fd2 = open_at(dir, "f", O_RDONLY);
    memset(buf, 0, sizeof buf);
    if (pread(fd2, buf, 6, 100) != 6)
        die("pread fd2");
    printf("another open reads: %s\n", buf);
    printf("fsync: %d\n", fsync(fd));

    /* A mapping that outlives its fd. */
    int g;
    char *m = new_shared(dir, "g", 4096, &g);
    close(g);
    strcpy(m, "after close");
    munmap(m, 4096);
    g = open_at(dir, "g", O_RDONLY);
    memset(buf, 0, sizeof buf);
    if (read(g, buf, 11) != 11)
        die("read g");
    printf("after munmap: %s\n", buf);
    close(g);

    /* Truncation: the tail of the last page reads as zeros. */
    if (ftruncate(fd, 104) != 0 || ftruncate(fd, 8192) != 0)
        die("ftruncate again");
    memset(buf, 'x', sizeof buf);
    if (pread(fd, buf, 8, 100) != 8)
        die("pread after truncate");
    printf("after truncate: %.4s %d %d\n", buf, buf[4], buf[7]);
    struct stat sb;
    fstat(fd, &sb);
    printf("size %lld\n", (long long)sb.st_size);
    /* Private mappings do not write through. */
    char *r = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (r == MAP_FAILED)
        die("mmap private");
    strcpy(r, "private");
    memset(buf, 0, sizeof buf);
    if (pread(fd, buf, 11, 0) != 11)
        die("pread private");
    printf("private write unseen: %s\n", buf);
    munmap(r, 4096);
    munmap(p, 8192);
    close(fd);
    close(fd2);
    return 0;
}
