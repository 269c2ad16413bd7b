/*
 * splice.c: splice, tee and vmsplice between pipes, a file in a scratch
 * directory under /tmp and a unix socket pair: offsets by pointer and the
 * files' own, partial moves, blocking until a writer comes, the
 * non-blocking and end-of-file cases, SIGPIPE, and the errnos for bad
 * arguments.
 */
#include "common.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

static char dir[64] = "/tmp/splice.XXXXXX";
static int sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

/* Reads what is in a pipe (non-blocking) and prints it. */
static void drain(const char *label, int fd)
{
	char buf[256];
	int fl = fcntl(fd, F_GETFL);
	long n;

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	n = read(fd, buf, sizeof(buf));
	fcntl(fd, F_SETFL, fl);
	if (n < 0) {
		printf("%s: -1 %s\n", label, errno_name(errno));
		return;
	}
	print_bytes(label, buf, n);
}

/* Empties a pipe without printing. */
static void empty(int fd)
{
	char buf[4096];
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	fcntl(fd, F_SETFL, fl);
}

int main(void)
{
	char buf[256];
	loff_t off;
	int p[2], q[2], f, ap, d, sv[2];
	struct iovec iov[2];
	pid_t pid;
	int st;

	if (!mkdtemp(dir) || chdir(dir)) {
		perror("scratch");
		return 1;
	}
	signal(SIGPIPE, on_sigpipe);
	if (pipe(p) || pipe(q))
		return 1;

	/* Pipe to pipe: a part, then the rest. */
	CHECK(write(p[1], "hello world", 11));
	CHECK(splice(p[0], NULL, q[1], NULL, 5, 0));
	drain("q", q[0]);
	CHECK(splice(p[0], NULL, q[1], NULL, 100, SPLICE_F_MOVE | SPLICE_F_MORE));
	drain("q", q[0]);
	drain("p", p[0]);

	/* File to pipe, with an offset by pointer and with the file's own. */
	f = CHECK(open("a", O_RDWR | O_CREAT, 0644));
	CHECK(write(f, "0123456789abcdef", 16));
	off = 4;
	CHECK(splice(f, &off, p[1], NULL, 6, 0));
	printf("off %ld pos %ld\n", (long)off, (long)lseek(f, 0, SEEK_CUR));
	drain("p", p[0]);
	CHECK(lseek(f, 10, SEEK_SET));
	CHECK(splice(f, NULL, p[1], NULL, 100, 0));
	printf("pos %ld\n", (long)lseek(f, 0, SEEK_CUR));
	drain("p", p[0]);
	CHECK(splice(f, NULL, p[1], NULL, 100, 0));
	off = 100;
	CHECK(splice(f, &off, p[1], NULL, 100, 0));
	printf("off %ld\n", (long)off);

	/* Pipe to file, both ways. */
	CHECK(write(p[1], "XYZ", 3));
	off = 1;
	CHECK(splice(p[0], NULL, f, &off, 2, 0));
	printf("off %ld pos %ld\n", (long)off, (long)lseek(f, 0, SEEK_CUR));
	CHECK(lseek(f, 20, SEEK_SET));
	CHECK(splice(p[0], NULL, f, NULL, 10, 0));
	printf("pos %ld\n", (long)lseek(f, 0, SEEK_CUR));
	CHECK(pread(f, buf, sizeof(buf), 0));
	print_bytes("a", buf, 21);

	/* A whole pipe's worth from a big file. */
	CHECK(ftruncate(f, 200000));
	off = 0;
	CHECK(splice(f, &off, p[1], NULL, 200000, 0));
	CHECK(splice(f, &off, p[1], NULL, 10, SPLICE_F_NONBLOCK));
	CHECK(splice(p[0], NULL, q[1], NULL, 200000, 0));
	CHECK(splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK));
	empty(q[0]);

	/* tee copies without consuming. */
	CHECK(write(p[1], "abcdef", 6));
	CHECK(tee(p[0], q[1], 4, 0));
	drain("q", q[0]);
	CHECK(tee(p[0], q[1], 100, 0));
	drain("q", q[0]);
	drain("p", p[0]);

	/* vmsplice into a pipe and out of one. */
	iov[0].iov_base = "vm";
	iov[0].iov_len = 2;
	iov[1].iov_base = "splice";
	iov[1].iov_len = 6;
	CHECK(vmsplice(p[1], iov, 2, 0));
	memset(buf, 0, sizeof(buf));
	iov[0].iov_base = buf;
	iov[0].iov_len = 3;
	iov[1].iov_base = buf + 10;
	iov[1].iov_len = 10;
	CHECK(vmsplice(p[0], iov, 2, 0));
	print_bytes("buf", buf, 3);
	print_bytes("buf+10", buf + 10, 5);
	CHECK(vmsplice(p[1], iov, 0, 0));

	/* Sockets: into a pipe and out of one. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK(write(sv[1], "sock", 4));
	CHECK(splice(sv[0], NULL, p[1], NULL, 100, 0));
	drain("p", p[0]);
	CHECK(write(p[1], "back", 4));
	CHECK(splice(p[0], NULL, sv[1], NULL, 100, 0));
	CHECK(read(sv[0], buf, sizeof(buf)));
	print_bytes("sv", buf, 4);

	/* Empty pipes: non-blocking, blocking until a writer comes, EOF. */
	CHECK(splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK));
	CHECK(tee(p[0], q[1], 10, SPLICE_F_NONBLOCK));
	CHECK(vmsplice(p[0], iov, 1, SPLICE_F_NONBLOCK));
	CHECK(splice(p[0], NULL, f, NULL, 10, SPLICE_F_NONBLOCK));
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	CHECK(splice(p[0], NULL, q[1], NULL, 10, 0));
	CHECK(splice(p[0], NULL, f, NULL, 10, 0));
	CHECK(tee(p[0], q[1], 10, 0));
	/* vmsplice ignores the pipe's O_NONBLOCK: this one waits. */
	pid = fork();
	if (pid == 0) {
		usleep(50000);
		if (write(p[1], "vmsp", 4) != 4)
			_exit(1);
		_exit(0);
	}
	memset(buf, 0, sizeof(buf));
	iov[0].iov_base = buf;
	iov[0].iov_len = 10;
	CHECK(vmsplice(p[0], iov, 1, 0));
	print_bytes("buf", buf, 4);
	waitpid(pid, &st, 0);
	fcntl(p[0], F_SETFL, 0);
	pid = fork();
	if (pid == 0) {
		usleep(50000);
		if (write(p[1], "late", 4) != 4)
			_exit(1);
		_exit(0);
	}
	CHECK(splice(p[0], NULL, q[1], NULL, 10, 0));
	drain("q", q[0]);
	waitpid(pid, &st, 0);
	pid = fork();
	if (pid == 0) {
		usleep(50000);
		if (write(p[1], "tee", 3) != 3)
			_exit(1);
		_exit(0);
	}
	CHECK(tee(p[0], q[1], 10, 0));
	drain("q", q[0]);
	drain("p", p[0]);
	waitpid(pid, &st, 0);

	/* A full output pipe. */
	CHECK(fcntl(q[1], F_SETPIPE_SZ, 4096));
	memset(buf, 'z', sizeof(buf));
	for (int i = 0; i < 16; i++)
		if (write(q[1], buf, 256) != 256)
			return 1;
	CHECK(write(p[1], "full", 4));
	CHECK(splice(p[0], NULL, q[1], NULL, 4, SPLICE_F_NONBLOCK));
	CHECK(tee(p[0], q[1], 4, SPLICE_F_NONBLOCK));
	off = 0;
	CHECK(splice(f, &off, q[1], NULL, 4, SPLICE_F_NONBLOCK));
	iov[0].iov_base = "v";
	iov[0].iov_len = 1;
	CHECK(vmsplice(q[1], iov, 1, SPLICE_F_NONBLOCK));
	drain("p", p[0]);
	close(q[1]);
	CHECK(splice(q[0], NULL, p[1], NULL, 4096, 0));
	CHECK(splice(q[0], NULL, p[1], NULL, 4096, 0));
	CHECK(tee(q[0], p[1], 4096, 0));
	close(q[0]);
	empty(p[0]);

	/* Writers gone: end of file; readers gone: EPIPE and SIGPIPE. */
	if (pipe(q))
		return 1;
	close(q[0]);
	CHECK(write(p[1], "x", 1));
	CHECK(splice(p[0], NULL, q[1], NULL, 1, 0));
	CHECK(tee(p[0], q[1], 1, 0));
	off = 0;
	CHECK(splice(f, &off, q[1], NULL, 1, 0));
	CHECK(vmsplice(q[1], iov, 1, 0));
	printf("sigpipes %d\n", sigpipes);
	drain("p", p[0]);
	close(q[1]);
	if (pipe(q))
		return 1;
	close(q[1]);
	CHECK(splice(q[0], NULL, p[1], NULL, 1, 0));
	CHECK(tee(q[0], p[1], 1, 0));
	CHECK(vmsplice(q[0], iov, 1, 0));
	CHECK(splice(q[0], NULL, f, NULL, 1, 0));
	close(q[0]);
	if (pipe(q))
		return 1;

	/* Bad arguments. */
	CHECK(splice(p[0], NULL, q[1], NULL, 0, 0));
	CHECK(splice(p[0], NULL, q[1], NULL, 1, 0x100));
	CHECK(splice(BAD_FD, NULL, q[1], NULL, 1, 0));
	CHECK(splice(p[0], NULL, BAD_FD, NULL, 1, 0));
	CHECK(splice(p[1], NULL, q[1], NULL, 1, 0));
	CHECK(splice(p[0], NULL, q[0], NULL, 1, 0));
	CHECK(splice(p[0], NULL, p[1], NULL, 1, 0));
	off = 0;
	CHECK(splice(p[0], &off, q[1], NULL, 1, 0));
	CHECK(splice(p[0], NULL, q[1], &off, 1, 0));
	CHECK(splice(f, NULL, f, NULL, 1, 0));
	CHECK(splice(p[0], &off, f, NULL, 1, 0));
	CHECK(splice(f, NULL, p[1], &off, 1, 0));
	off = -1;
	CHECK(splice(f, &off, p[1], NULL, 1, 0));
	CHECK(splice(f, (loff_t *)BAD_PTR, p[1], NULL, 1, 0));
	ap = CHECK(open("a", O_WRONLY | O_APPEND));
	CHECK(write(p[1], "y", 1));
	CHECK(splice(p[0], NULL, ap, NULL, 1, 0));
	d = CHECK(open(".", O_RDONLY | O_DIRECTORY));
	CHECK(splice(d, NULL, p[1], NULL, 1, 0));
	CHECK(tee(p[0], q[1], 0, 0));
	CHECK(tee(p[0], q[1], 1, 0x100));
	CHECK(tee(f, q[1], 1, 0));
	CHECK(tee(p[0], f, 1, 0));
	CHECK(tee(p[0], p[1], 1, 0));
	CHECK(tee(p[1], q[1], 1, 0));
	CHECK(tee(BAD_FD, q[1], 1, 0));
	CHECK(vmsplice(f, iov, 1, 0));
	CHECK(vmsplice(BAD_FD, iov, 1, 0));
	CHECK(vmsplice(p[1], iov, 1, 0x100));
	CHECK(vmsplice(p[1], iov, 2000, 0));
	CHECK(vmsplice(p[1], (struct iovec *)BAD_PTR, 1, 0));
	iov[0].iov_base = BAD_PTR;
	iov[0].iov_len = 4;
	CHECK(vmsplice(p[1], iov, 1, 0));
	drain("p", p[0]);

	CHECK(unlink("a"));
	CHECK(chdir("/"));
	CHECK(rmdir(dir));
	return 0;
}
