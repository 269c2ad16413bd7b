/*
 * memfd.c: memfd_create(2) and seals, and shared mappings of files kept in
 * memory (a memfd, and a file under /dev/shm): writes through one mapping
 * are seen through read(2), through another mapping and in a forked
 * child's mapping, and write(2) is seen through the mappings.
 */
#include "common.h"

#include <sys/wait.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#define MFD_ALLOW_SEALING 2U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 1
#define F_SEAL_SHRINK 2
#define F_SEAL_GROW 4
#define F_SEAL_WRITE 8
#endif

static void coherence(const char *what, int fd)
{
	char buf[16];
	char *a, *b;
	pid_t pid;
	int st;

	printf("-- %s\n", what);
	CHECK(ftruncate(fd, 8192));
	a = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	SHOW(a != MAP_FAILED && b != MAP_FAILED);
	memcpy(a + 4096, "via map", 8);
	CHECK(pread(fd, buf, 8, 4096));
	print_bytes("read after map write", buf, 8);
	print_bytes("other mapping", b + 4096, 8);
	CHECK(pwrite(fd, "via write", 10, 100));
	print_bytes("map after write", a + 100, 10);
	pid = fork();
	if (pid == 0) {
		memcpy(b, "child", 6);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	print_bytes("parent sees child", a, 6);
	CHECK(pread(fd, buf, 6, 0));
	print_bytes("file has child", buf, 6);
	CHECK(munmap(a, 8192));
	CHECK(munmap(b, 8192));
	/* The data outlives the mappings. */
	CHECK(pread(fd, buf, 6, 0));
	print_bytes("after munmap", buf, 6);
}

int main(void)
{
	char path[64] = "/dev/shm/memfd.XXXXXX", proc[64], link[128];
	struct stat st;
	int fd, fd2;
	long n;

	fd = CHECK(syscall(SYS_memfd_create, "test", MFD_ALLOW_SEALING));
	CHECK(fstat(fd, &st));
	printf("mode %o size %ld nlink %ld\n", st.st_mode, (long)st.st_size, (long)st.st_nlink);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	printf("link %s\n", link);
	CHECK(fcntl(fd, F_GET_SEALS));
	CHECK(write(fd, "hello", 5));
	coherence("memfd", fd);

	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK));
	CHECK(fcntl(fd, F_GET_SEALS));
	CHECK(ftruncate(fd, 100000));
	CHECK(ftruncate(fd, 10));
	CHECK(pwrite(fd, "x", 1, 8191));
	CHECK(pwrite(fd, "x", 1, 9000));
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	CHECK(write(fd, "x", 1));
	CHECK(pwrite(fd, "x", 1, 0));
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	CHECK(fcntl(fd, F_GET_SEALS));
	CHECK(fcntl(fd, F_ADD_SEALS, 0x1000));
	CHECK(close(fd));

	fd = CHECK(syscall(SYS_memfd_create, "nosealing", MFD_CLOEXEC));
	CHECK(fcntl(fd, F_GET_SEALS));
	CHECK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	CHECK(fcntl(fd, F_GETFD));
	fd2 = CHECK(open(proc, O_RDONLY));
	CHECK(close(fd2));
	CHECK(close(fd));
	CHECK(syscall(SYS_memfd_create, "bad", 0x100));
	CHECK(syscall(SYS_memfd_create, BAD_PTR, 0));
	{
		char longname[300];

		memset(longname, 'n', 299);
		longname[299] = 0;
		CHECK(syscall(SYS_memfd_create, longname, 0));
	}
	CHECK(fcntl(0, F_GET_SEALS) == -1);

	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	CHECK(unlink(path));
	coherence("/dev/shm file", fd);
	CHECK(close(fd));
	return 0;
}
