/*
 * common.h: helpers shared by the conformance programs.
 *
 * Every program prints what it observes, one line per check, and its output
 * must be identical natively and under runsc. So a check prints the source
 * text of the call and either its result or "-1 ENAME"; values that differ
 * from run to run (pids, addresses, inode numbers, times) are never printed,
 * only relations between them.
 *
 * Include this header first: it defines _GNU_SOURCE.
 */
#ifndef CONFORMANCE_COMMON_H
#define CONFORMANCE_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* An address that is never mapped: the first page is below mmap_min_addr. */
#define BAD_PTR ((void *)1)

/* A pointer into the kernel half of the address space: access_ok() fails. */
#define KERNEL_PTR ((void *)0xffff800000000000UL)

/*
 * An address (and a length) beyond the user address space with both 4- and
 * 5-level page tables.
 */
#define HIGH_ADDR ((void *)(1UL << 60))
#define HUGE_LEN (1UL << 60)

/* An fd number that is never open in these programs. */
#define BAD_FD 1000

static inline const char *errno_name(int e)
{
	static char unknown[32];

	switch (e) {
#define NAME(x) case x: return #x
	NAME(EPERM); NAME(ENOENT); NAME(ESRCH); NAME(EINTR); NAME(EIO);
	NAME(ENXIO); NAME(E2BIG); NAME(ENOEXEC); NAME(EBADF); NAME(ECHILD);
	NAME(EAGAIN); NAME(ENOMEM); NAME(EACCES); NAME(EFAULT); NAME(EBUSY);
	NAME(EEXIST); NAME(EXDEV); NAME(ENODEV); NAME(ENOTDIR); NAME(EISDIR);
	NAME(EINVAL); NAME(ENFILE); NAME(EMFILE); NAME(ENOTTY); NAME(ETXTBSY);
	NAME(EFBIG); NAME(ENOSPC); NAME(ESPIPE); NAME(EROFS); NAME(EMLINK);
	NAME(EPIPE); NAME(EDOM); NAME(ERANGE); NAME(EDEADLK);
	NAME(ENAMETOOLONG); NAME(ENOLCK); NAME(ENOSYS); NAME(ENOTEMPTY);
	NAME(ELOOP); NAME(ENODATA); NAME(EOVERFLOW); NAME(EBADFD);
	NAME(ENOTSUP); NAME(ETIMEDOUT); NAME(EIDRM); NAME(ENOMSG);
	/* Sockets (EOPNOTSUPP is ENOTSUP on Linux). */
	NAME(ENOTSOCK); NAME(EDESTADDRREQ); NAME(EMSGSIZE); NAME(EPROTOTYPE);
	NAME(ENOPROTOOPT); NAME(EPROTONOSUPPORT); NAME(ESOCKTNOSUPPORT);
	NAME(EAFNOSUPPORT); NAME(EADDRINUSE); NAME(EADDRNOTAVAIL);
	NAME(ECONNABORTED); NAME(ECONNRESET); NAME(ENOBUFS); NAME(EISCONN);
	NAME(ENOTCONN); NAME(ECONNREFUSED); NAME(EALREADY); NAME(EINPROGRESS);
	NAME(ETOOMANYREFS);
#undef NAME
	}
	snprintf(unknown, sizeof(unknown), "errno%d", e);
	return unknown;
}

/*
 * Print "label = value" for a non-negative result, "label = -1 ENAME" for a
 * failed call. Returns the result so the caller can keep using it.
 */
static inline long check_print(const char *label, long r, int err)
{
	if (r == -1)
		printf("%s = -1 %s\n", label, errno_name(err));
	else
		printf("%s = %ld\n", label, r);
	return r;
}

/*
 * Like check_print, but for results that must not be printed (addresses,
 * sizes of host files): prints "label = ok" on success.
 */
static inline long check_ok_print(const char *label, long r, int err)
{
	if (r == -1)
		printf("%s = -1 %s\n", label, errno_name(err));
	else
		printf("%s = ok\n", label);
	return r;
}

/*
 * SYS(read, fd, buf, 4) makes the raw system call syscall(SYS_read, fd, buf,
 * 4), so glibc's wrappers neither translate it (open -> openat, stat ->
 * newfstatat) nor check its arguments, and prints "read(fd, buf, 4) = 4".
 * SYS_OK prints "= ok" instead of the value. Both return the result.
 *
 * syscall() is variadic: pass negative values of 64-bit arguments (offsets,
 * lengths) as longs (-1L), or the kernel sees 0xffffffff.
 *
 * errno is cleared before the call and read right after it, so a stale errno
 * from an earlier call can never be printed.
 */
#define SYS(name, ...) ({ errno = 0; \
	long r_ = syscall(SYS_##name, ##__VA_ARGS__); \
	check_print(#name "(" #__VA_ARGS__ ")", r_, errno); })
#define SYS_OK(name, ...) ({ errno = 0; \
	long r_ = syscall(SYS_##name, ##__VA_ARGS__); \
	check_ok_print(#name "(" #__VA_ARGS__ ")", r_, errno); })

/* For system calls that return an address (mmap, mremap): "= ok". */
#define SYS_PTR(name, ...) ({ errno = 0; \
	long r_ = syscall(SYS_##name, ##__VA_ARGS__); \
	check_ok_print(#name "(" #__VA_ARGS__ ")", r_, errno); \
	(void *)r_; })

/* The same for any expression (library calls, casts): prints its source. */
#define CHECK(expr) ({ errno = 0; long r_ = (long)(expr); \
	check_print(#expr, r_, errno); })

/* Print a relation that must hold: "cond: 1" (or "cond: 0" if it does not). */
#define SHOW(cond) printf("%s: %d\n", #cond, (cond) ? 1 : 0)

/* Print n bytes of buf (at most 256) as a C string literal with escapes. */
static inline void print_bytes(const char *label, const void *buf, long n)
{
	const unsigned char *p = buf;
	char out[256 * 4 + 1];
	size_t len = 0;

	if (n > 256)
		n = 256;
	for (long i = 0; i < n; i++) {
		if (p[i] == '\\' || p[i] == '"')
			len += sprintf(out + len, "\\%c", p[i]);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			out[len++] = p[i];
		else
			len += sprintf(out + len, "\\x%02x", p[i]);
	}
	out[len] = 0;
	printf("%s \"%s\"\n", label, out);
}

/* Read a whole (small) file into buf; returns the length or -1. */
static inline long slurp(const char *path, char *buf, long size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long n = 0, r;

	if (fd < 0)
		return -1;
	while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

/*
 * Find the /proc/self/maps line covering addr and copy its permissions
 * ("rw-p") into perms[5] and its path (or "" for an anonymous mapping) into
 * path[256]. Returns 0, or -1 (perms "none") if nothing is mapped there.
 */
static inline int maps_lookup(const void *addr, char *perms, char *path)
{
	static char maps[1 << 16];
	unsigned long a = (unsigned long)addr;

	strcpy(perms, "none");
	if (path)
		path[0] = 0;
	if (slurp("/proc/self/maps", maps, sizeof(maps)) < 0)
		return -1;
	for (char *line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long start, end;
		char p[5], name[256] = "";

		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %255s",
			   &start, &end, p, name) < 3)
			continue;
		if (a >= start && a < end) {
			strcpy(perms, p);
			if (path)
				strcpy(path, name);
			return 0;
		}
	}
	return -1;
}

/* Print the permissions of the mapping at addr: "  label: rw-p". */
static inline void show_perms(const char *label, const void *addr)
{
	char perms[5];

	maps_lookup(addr, perms, NULL);
	printf("  %s: %s\n", label, perms);
}

/*
 * A path made of `links` repetitions of "/bin/../..": each one follows the
 * /bin -> usr/bin symlink once, so more than 40 of them give ELOOP. Below
 * that the host kernel is not a stable oracle: when its RCU walk falls back
 * to a walk with references under load, the links the first attempt
 * followed still count (nameidata's total_link_count is not reset), so a
 * chain of 39 can give ELOOP too. The tests use 20 (at most 40 in two
 * attempts) and 41.
 */
static inline const char *symlink_chain(int links)
{
	static char path[4096];
	size_t n = 0;

	for (int i = 0; i < links; i++)
		n += snprintf(path + n, sizeof(path) - n, "/bin/../..");
	snprintf(path + n, sizeof(path) - n, "/etc/passwd");
	return path;
}

/* A path of `len` characters: "/" followed by 'a's. */
static inline const char *long_path(size_t len)
{
	static char path[8192];

	if (len >= sizeof(path))
		len = sizeof(path) - 1;
	path[0] = '/';
	memset(path + 1, 'a', len - 1);
	path[len] = 0;
	return path;
}

/*
 * stdout is unbuffered so that every printf is one write(2) and output stays
 * in order with raw writes to fd 1 (and with what a crash leaves behind).
 */
__attribute__((constructor)) static void conformance_init(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
}

/*
 * Whether thread `tid` of this process is asleep: state S in its
 * /proc/self/task/TID/stat (a thread blocked in the kernel).
 */
static inline int thread_asleep(int tid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

#endif /* CONFORMANCE_COMMON_H */
