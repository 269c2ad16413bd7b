/*
 * unix_stream.c: AF_UNIX SOCK_STREAM sockets. socket(2) and socketpair(2)
 * with their errors; reads and writes (partial reads, coalescing, zero
 * lengths), shutdown(2) and close with EOF, EPIPE, SIGPIPE, MSG_NOSIGNAL and
 * ECONNRESET; non-blocking I/O on an empty and on a full socket; poll(2)
 * readiness at each stage; FIONREAD; the SOL_SOCKET options (SO_TYPE,
 * SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN, SO_ERROR, SO_PEERCRED, buffer
 * sizes, timeouts); the names of unnamed, abstract and autobound sockets;
 * bind/listen/connect/accept4 and their errors, a full backlog; recv flags
 * (MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL with a forked writer) and bad
 * pointers; blocking calls woken by a thread; ENOTSOCK and EBADF.
 *
 * Only abstract names are used, so nothing touches the filesystem: sockets
 * bound to path names are tested in unix_path.c. Abstract names carry the
 * pid, which is never printed: names are shown as "@conf-unix-PID-tag".
 * Children do not print; the parent reports their exit status.
 */
#include "common.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#define UNIX_SOCKET_HELPERS
#include "unix_common.h"

/* Wait for pid and print its exit status. */
static void reap(const char *what, pid_t pid)
{
	int status = -1;
	pid_t r = waitpid(pid, &status, 0);

	printf("  %s: waitpid == child %d", what, r == pid);
	if (WIFEXITED(status))
		printf(" exited %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf(" signaled %d\n", WTERMSIG(status));
	else
		printf(" other\n");
}

/* The lowest free fd number. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

static void section_socket(void)
{
	int fd;
	struct stat st;
	char link[64], path[64];
	ssize_t n;

	puts("-- socket");
	fd = SYS_OK(socket, AF_UNIX, SOCK_STREAM, 0);
	OPT(fd, SO_TYPE);
	OPT(fd, SO_DOMAIN);
	OPT(fd, SO_PROTOCOL);
	show_fd_flags("fd", fd);
	SHOW(fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	SHOW(strncmp(link, "socket:[", 8) == 0);
	close(fd);
	fd = SYS_OK(socket, AF_UNIX, SOCK_STREAM, PF_UNIX);
	OPT(fd, SO_PROTOCOL);
	close(fd);
	fd = SYS_OK(socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	show_fd_flags("fd", fd);
	close(fd);
	/* SOCK_RAW is taken as SOCK_DGRAM. */
	fd = SYS_OK(socket, AF_UNIX, SOCK_RAW, 0);
	OPT(fd, SO_TYPE);
	close(fd);
	SYS(socket, AF_UNIX, SOCK_STREAM, 2);
	SYS(socket, AF_UNIX, SOCK_STREAM, -1);
	SYS(socket, AF_UNIX, 0, 0);
	SYS(socket, AF_UNIX, SOCK_RDM, 0);
	SYS(socket, AF_UNIX, SOCK_DCCP, 0);
	SYS(socket, AF_UNIX, SOCK_PACKET, 0);
	SYS(socket, AF_UNIX, 15, 0);
	SYS(socket, AF_UNIX, SOCK_STREAM | 0x100, 0);
	SYS(socket, AF_UNIX, -1, 0);
	SYS(socket, 12345, SOCK_STREAM, 0);
	SYS(socket, -1, SOCK_STREAM, 0);
	SYS(socket, AF_UNSPEC, SOCK_STREAM, 0);
}

static void section_socketpair(void)
{
	int sv[2] = { -1, -1 }, probe;

	puts("-- socketpair");
	probe = lowest_free_fd();
	SYS(socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
	SHOW(sv[0] == probe && sv[1] == probe + 1);
	show_fd_flags("sv[0]", sv[0]);
	show_fd_flags("sv[1]", sv[1]);
	OPT(sv[0], SO_TYPE);
	close(sv[0]);
	close(sv[1]);
	SYS(socketpair, AF_UNIX, SOCK_STREAM, 0, BAD_PTR);
	SYS(socketpair, AF_UNIX, SOCK_STREAM, 0, NULL);
	/* Nothing is left open by the failures. */
	SHOW(lowest_free_fd() == probe);
	SYS(socketpair, AF_UNIX, SOCK_STREAM, 2, sv);
	SYS(socketpair, AF_UNIX, 15, 0, sv);
	SYS(socketpair, AF_UNIX, SOCK_RDM, 0, sv);
	SYS(socketpair, 12345, SOCK_STREAM, 0, sv);
	SHOW(lowest_free_fd() == probe);
	SYS(socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv);
	show_fd_flags("sv[0]", sv[0]);
	show_fd_flags("sv[1]", sv[1]);
	close(sv[0]);
	close(sv[1]);
}

static void section_read_write(void)
{
	int sv[2], a, b;
	char buf[64];
	long n;

	puts("-- read and write");
	/*
	 * Non-blocking sockets where nothing needs to wait: data that is
	 * missing shows as EAGAIN instead of a hang.
	 */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	show_poll("a fresh", a);
	show_poll("b fresh", b);
	SYS(write, a, "hello world", 11);
	show_inq("b", b);
	show_poll("a", a);
	show_poll("b", b);
	n = SYS(read, b, buf, 5);
	print_bytes("  data", buf, n);
	show_inq("b", b);
	n = SYS(read, b, buf, sizeof(buf));
	print_bytes("  data", buf, n);
	show_inq("b", b);
	show_poll("b drained", b);
	/* Separate writes are read as one stream. */
	SYS(write, a, "ab", 2);
	SYS(write, b, "xy", 2);
	SYS(write, a, "cd", 2);
	n = SYS(read, b, buf, sizeof(buf));
	print_bytes("  data", buf, n);
	n = SYS(read, a, buf, sizeof(buf));
	print_bytes("  data", buf, n);
	/* A zero-length write sends nothing. */
	SYS(write, a, "", 0);
	show_poll("b after empty write", b);
	SYS(read, b, buf, 0);
	{
		struct iovec iov[3] = { { "one ", 4 }, { "", 0 }, { "two", 3 } };
		struct iovec rd[2] = { { buf, 2 }, { buf + 10, 10 } };

		SYS(writev, a, iov, 3);
		n = SYS(readv, b, rd, 2);
		print_bytes("  iov0", buf, 2);
		print_bytes("  iov1", buf + 10, n - 2);
	}
	SYS(sendto, a, "send", 4, 0, NULL, 0);
	n = SYS(recvfrom, b, buf, sizeof(buf), 0, NULL, NULL);
	print_bytes("  data", buf, n);
	close(a);
	close(b);
}

static void section_shutdown(void)
{
	int sv[2], a, b, s, p[2];
	char buf[64];
	long n;

	puts("-- shutdown");
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	SYS(write, a, "before", 6);
	SYS(shutdown, a, SHUT_WR);
	show_poll("a", a);
	show_poll("b", b);
	n = SYS(read, b, buf, sizeof(buf));
	print_bytes("  data", buf, n);
	SYS(read, b, buf, sizeof(buf));
	SYS(read, b, buf, sizeof(buf));
	sigpipes = 0;
	SYS(write, a, "x", 1);
	printf("  SIGPIPE: %d\n", sigpipes);
	SYS(sendto, a, "x", 1, MSG_NOSIGNAL, NULL, 0);
	printf("  SIGPIPE: %d\n", sigpipes);
	SYS(write, a, "", 0);
	printf("  SIGPIPE: %d\n", sigpipes);
	/* Half-closed: the other direction still works. */
	SYS(write, b, "back", 4);
	n = SYS(read, a, buf, sizeof(buf));
	print_bytes("  data", buf, n);
	SYS(shutdown, b, SHUT_WR);
	show_poll("a both", a);
	show_poll("b both", b);
	SYS(read, a, buf, sizeof(buf));
	SYS(shutdown, a, SHUT_RDWR);
	SYS(shutdown, a, SHUT_WR);
	SYS(shutdown, a, 3);
	SYS(shutdown, a, -1);
	close(a);
	close(b);

	/* SHUT_RD: queued data can still be read, then EOF; the peer gets EPIPE. */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	SYS(write, b, "zz", 2);
	SYS(shutdown, a, SHUT_RD);
	show_poll("a after SHUT_RD", a);
	show_poll("b", b);
	n = SYS(read, a, buf, sizeof(buf));
	print_bytes("  data", buf, n > 0 ? n : 0);
	SYS(read, a, buf, sizeof(buf));
	sigpipes = 0;
	SYS(write, b, "y", 1);
	printf("  SIGPIPE: %d\n", sigpipes);
	SYS(write, a, "to b", 4);
	n = SYS(read, b, buf, sizeof(buf));
	print_bytes("  data", buf, n > 0 ? n : 0);
	close(a);
	close(b);

	/* Unconnected sockets, bad fds. */
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(shutdown, s, SHUT_RDWR);
	show_poll("unconnected after shutdown", s);
	close(s);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	show_poll("unconnected", s);
	close(s);
	pipe(p);
	SYS(shutdown, p[0], SHUT_RD);
	SYS(shutdown, BAD_FD, SHUT_RD);
	close(p[0]);
	close(p[1]);
}

static void section_close(void)
{
	int sv[2], a, b;
	char buf[64];
	long n;

	puts("-- close");
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	SYS(write, a, "last", 4);
	SYS(close, a);
	show_poll("b", b);
	OPT(b, SO_ERROR);
	n = SYS(read, b, buf, sizeof(buf));
	print_bytes("  data", buf, n);
	SYS(read, b, buf, sizeof(buf));
	sigpipes = 0;
	SYS(write, b, "x", 1);
	printf("  SIGPIPE: %d\n", sigpipes);
	SYS(sendto, b, "x", 1, MSG_NOSIGNAL, NULL, 0);
	printf("  SIGPIPE: %d\n", sigpipes);
	show_peername("b", b);
	close(b);

	/* Closing with unread data resets the peer: SO_ERROR, then EOF. */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	SYS(write, a, "unread", 6);
	SYS(close, b);
	show_poll("a", a);
	OPT(a, SO_ERROR);
	OPT(a, SO_ERROR);
	show_poll("a after SO_ERROR", a);
	SYS(read, a, buf, sizeof(buf));
	sigpipes = 0;
	SYS(write, a, "x", 1);
	printf("  SIGPIPE: %d\n", sigpipes);
	close(a);

	/* The same, but the error is taken by read. */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	SYS(write, a, "unread", 6);
	SYS(close, b);
	SYS(read, a, buf, sizeof(buf));
	SYS(read, a, buf, sizeof(buf));
	OPT(a, SO_ERROR);
	close(a);

	/* The error is taken by write. */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	SYS(write, a, "unread", 6);
	SYS(close, b);
	sigpipes = 0;
	SYS(write, a, "x", 1);
	printf("  SIGPIPE: %d\n", sigpipes);
	OPT(a, SO_ERROR);
	SYS(read, a, buf, sizeof(buf));
	close(a);
}

#define CHUNK 4096
#define FILL_MAX (64L << 20)

/* Write chunks until the socket is full; returns the bytes written. */
static long fill(int fd, int flags, int *eagain)
{
	static char chunk[CHUNK];
	long total = 0, n;

	*eagain = 0;
	while (total < FILL_MAX) {
		n = send(fd, chunk, sizeof(chunk), flags);
		if (n < 0) {
			*eagain = errno == EAGAIN;
			break;
		}
		total += n;
	}
	return total;
}

static long drain(int fd)
{
	static char chunk[CHUNK];
	long total = 0, n;

	while ((n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT)) > 0)
		total += n;
	return total;
}

static void section_nonblocking(void)
{
	int sv[2], a, b, eagain, inq = -1;
	char buf[64];
	long written, got;

	puts("-- non-blocking");
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	SYS(read, b, buf, sizeof(buf));
	SYS(recvfrom, b, buf, sizeof(buf), 0, NULL, NULL);
	SYS(read, b, buf, 0);
	written = fill(a, 0, &eagain);
	printf("  filled: EAGAIN %d written > 0 %d\n", eagain, written > 0);
	ioctl(b, FIONREAD, &inq);
	SHOW(inq == written);
	show_poll("a full", a);
	show_poll("b", b);
	SYS(write, a, "x", 1);
	SYS(sendto, a, "x", 1, MSG_DONTWAIT, NULL, 0);
	got = drain(b);
	SHOW(got == written);
	SYS(read, b, buf, sizeof(buf));
	show_poll("a drained", a);
	show_poll("b drained", b);
	/* A write larger than the buffer is partly done. */
	{
		size_t big = 1 << 22;
		char *p = calloc(1, big);
		long n = write(a, p, big);

		printf("  write 4 MiB: 0 < n < 4 MiB %d\n", n > 0 && n < (long)big);
		got = drain(b);
		SHOW(got == n);
		free(p);
	}
	close(a);
	close(b);

	/* MSG_DONTWAIT on blocking sockets. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	SYS(recvfrom, b, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
	written = fill(a, MSG_DONTWAIT, &eagain);
	printf("  filled with MSG_DONTWAIT: EAGAIN %d written > 0 %d\n", eagain, written > 0);
	show_poll("a full", a);
	got = drain(b);
	SHOW(got == written);
	show_poll("a drained", a);
	close(a);
	close(b);

	/* A smaller send buffer fills sooner. */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	{
		long full;
		int small = 4096;

		full = fill(a, 0, &eagain);
		drain(b);
		setsockopt(a, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		written = fill(a, 0, &eagain);
		printf("  filled with SO_SNDBUF 4096: EAGAIN %d 0 < written < default %d\n", eagain,
		       written > 0 && written < full);
		drain(b);
	}
	close(a);
	close(b);
}

static void section_sockopt(void)
{
	int sv[2], a, b, s, v;
	struct ucred cred;
	socklen_t len;
	struct timeval tv;
	struct linger lg;
	char buf[16];

	puts("-- socket options");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	OPT(a, SO_TYPE);
	OPT(a, SO_DOMAIN);
	OPT(a, SO_PROTOCOL);
	OPT(a, SO_ACCEPTCONN);
	OPT(a, SO_ERROR);
	OPT(a, SO_PASSCRED);
	OPT(a, SO_REUSEADDR);
	OPT(a, SO_KEEPALIVE);
	OPT(a, SO_BROADCAST);
	OPT(a, SO_DONTROUTE);
	OPT(a, SO_OOBINLINE);
	OPT(a, SO_RCVLOWAT);
	OPT(a, SO_SNDLOWAT);
	len = sizeof(cred);
	memset(&cred, 0x55, sizeof(cred));
	SYS(getsockopt, a, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	printf("  len %u pid == getpid %d uid == getuid %d gid == getgid %d\n", (unsigned)len,
	       cred.pid == self_pid, cred.uid == getuid(), cred.gid == getgid());
	len = sizeof(cred);
	SYS(getsockopt, b, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	printf("  len %u pid == getpid %d uid == getuid %d gid == getgid %d\n", (unsigned)len,
	       cred.pid == self_pid, cred.uid == getuid(), cred.gid == getgid());
	/* A short buffer gets a prefix. */
	len = 4;
	memset(&cred, 0x55, sizeof(cred));
	SYS(getsockopt, a, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	printf("  len %u pid == getpid %d\n", (unsigned)len, cred.pid == self_pid);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	len = sizeof(cred);
	memset(&cred, 0x55, sizeof(cred));
	SYS(getsockopt, s, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	printf("  unconnected: len %u pid %d uid %d gid %d\n", (unsigned)len, (int)cred.pid,
	       (int)cred.uid, (int)cred.gid);

	/* Buffer sizes: Linux doubles what is set. */
	v = get_int_opt(a, SO_SNDBUF);
	printf("  default SO_SNDBUF > 0 %d\n", v > 0);
	v = get_int_opt(a, SO_RCVBUF);
	printf("  default SO_RCVBUF > 0 %d\n", v > 0);
	v = 8192;
	SYS(setsockopt, a, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	OPT(a, SO_SNDBUF);
	v = 65536;
	SYS(setsockopt, a, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	OPT(a, SO_SNDBUF);
	v = 8192;
	SYS(setsockopt, a, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	OPT(a, SO_RCVBUF);
	v = 65536;
	SYS(setsockopt, a, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	OPT(a, SO_RCVBUF);
	v = 0;
	SYS(setsockopt, a, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	v = get_int_opt(a, SO_SNDBUF);
	printf("  SO_SNDBUF 0: raised to a minimum > 0 %d\n", v > 0);

	/* Flags. */
	v = 1;
	SYS(setsockopt, a, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
	OPT(a, SO_REUSEADDR);
	v = 7;
	SYS(setsockopt, a, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v));
	OPT(a, SO_KEEPALIVE);
	v = 1;
	SYS(setsockopt, a, SOL_SOCKET, SO_PASSCRED, &v, sizeof(v));
	OPT(a, SO_PASSCRED);
	v = 0;
	SYS(setsockopt, a, SOL_SOCKET, SO_PASSCRED, &v, sizeof(v));
	OPT(a, SO_PASSCRED);
	v = 100;
	SYS(setsockopt, a, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v));
	OPT(a, SO_RCVLOWAT);
	v = 1;
	SYS(setsockopt, a, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v));

	/* Timeouts: a blocking read times out with EAGAIN. */
	tv.tv_sec = 0;
	tv.tv_usec = 20000;
	SYS(setsockopt, b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&tv, 0, sizeof(tv));
	len = sizeof(tv);
	SYS(getsockopt, b, SOL_SOCKET, SO_RCVTIMEO, &tv, &len);
	printf("  SO_RCVTIMEO: %ld.%06ld len %u\n", (long)tv.tv_sec, (long)tv.tv_usec, (unsigned)len);
	watchdog_start();
	SYS(read, b, buf, sizeof(buf));
	watchdog_stop();
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	SYS(setsockopt, b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	tv.tv_usec = 2000000;
	SYS(setsockopt, b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	SYS(setsockopt, b, SOL_SOCKET, SO_RCVTIMEO, &tv, 4);
	tv.tv_sec = 1;
	tv.tv_usec = 500000;
	SYS(setsockopt, b, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&tv, 0, sizeof(tv));
	len = sizeof(tv);
	SYS(getsockopt, b, SOL_SOCKET, SO_SNDTIMEO, &tv, &len);
	printf("  SO_SNDTIMEO: %ld.%06ld len %u\n", (long)tv.tv_sec, (long)tv.tv_usec, (unsigned)len);
	len = sizeof(lg);
	memset(&lg, 0x55, sizeof(lg));
	SYS(getsockopt, b, SOL_SOCKET, SO_LINGER, &lg, &len);
	printf("  SO_LINGER: %d %d len %u\n", lg.l_onoff, lg.l_linger, (unsigned)len);

	/* Lengths and pointers. */
	len = 2;
	v = -1;
	SYS(getsockopt, a, SOL_SOCKET, SO_TYPE, &v, &len);
	printf("  len %u low bytes %d\n", (unsigned)len, v & 0xffff);
	len = 0;
	SYS(getsockopt, a, SOL_SOCKET, SO_TYPE, &v, &len);
	printf("  len %u\n", (unsigned)len);
	len = 100;
	SYS(getsockopt, a, SOL_SOCKET, SO_TYPE, &v, &len);
	printf("  len %u\n", (unsigned)len);
	{
		int neg = -1;

		SYS(getsockopt, a, SOL_SOCKET, SO_TYPE, &v, &neg);
	}
	len = sizeof(v);
	SYS(getsockopt, a, SOL_SOCKET, SO_TYPE, BAD_PTR, &len);
	SYS(getsockopt, a, SOL_SOCKET, SO_TYPE, &v, BAD_PTR);
	SYS(getsockopt, a, SOL_SOCKET, SO_TYPE, &v, NULL);
	SYS(getsockopt, a, SOL_SOCKET, 9999, &v, &len);
	SYS(getsockopt, a, SOL_TCP, 1, &v, &len);
	SYS(getsockopt, a, SOL_IP, 1, &v, &len);
	v = 1;
	SYS(setsockopt, a, SOL_SOCKET, SO_SNDBUF, &v, 2);
	SYS(setsockopt, a, SOL_SOCKET, SO_SNDBUF, BAD_PTR, sizeof(v));
	SYS(setsockopt, a, SOL_SOCKET, SO_SNDBUF, NULL, sizeof(v));
	SYS(setsockopt, a, SOL_SOCKET, SO_TYPE, &v, sizeof(v));
	SYS(setsockopt, a, SOL_SOCKET, SO_PEERCRED, &v, sizeof(v));
	SYS(setsockopt, a, SOL_SOCKET, 9999, &v, sizeof(v));
	SYS(setsockopt, a, SOL_TCP, 1, &v, sizeof(v));
	SYS(setsockopt, a, SOL_SOCKET, SO_REUSEADDR, &v, -1);
	close(s);
	close(a);
	close(b);
}

static void section_unnamed(void)
{
	int sv[2], a, s, neg = -1;
	struct sockaddr_un sa;
	socklen_t len;

	puts("-- unnamed names");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	len = sizeof(sa);
	memset(&sa, 0x55, sizeof(sa));
	SYS(getsockname, a, &sa, &len);
	show_addr("a", &sa, len);
	len = sizeof(sa);
	memset(&sa, 0x55, sizeof(sa));
	SYS(getpeername, a, &sa, &len);
	show_addr("peer of a", &sa, len);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	len = sizeof(sa);
	SYS(getsockname, s, &sa, &len);
	show_addr("unconnected", &sa, len);
	len = sizeof(sa);
	SYS(getpeername, s, &sa, &len);
	/* A short buffer: the full length is reported. */
	len = 1;
	memset(&sa, 0x55, sizeof(sa));
	SYS(getsockname, a, &sa, &len);
	printf("  len %u first byte 0x%02x second untouched %d\n", (unsigned)len,
	       ((unsigned char *)&sa)[0], ((unsigned char *)&sa)[1] == 0x55);
	len = 0;
	SYS(getsockname, a, &sa, &len);
	printf("  len %u\n", (unsigned)len);
	SYS(getsockname, a, &sa, &neg);
	len = sizeof(sa);
	SYS(getsockname, a, BAD_PTR, &len);
	SYS(getsockname, a, &sa, BAD_PTR);
	SYS(getsockname, a, &sa, NULL);
	SYS(getpeername, a, BAD_PTR, &len);
	SYS(getpeername, a, &sa, NULL);
	close(s);
	close(sv[0]);
	close(sv[1]);
}

struct connect_arg {
	const struct sockaddr_un *addr;
	socklen_t len;
	int fd;
	int r, err;
};

static void *connect_thread(void *p)
{
	struct connect_arg *c = p;

	c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	c->r = connect(c->fd, (const struct sockaddr *)c->addr, c->len);
	c->err = errno;
	return NULL;
}

static void section_abstract(void)
{
	struct sockaddr_un la, other, sa;
	socklen_t lalen, olen, len;
	int l, s, c, n, d, sv[2];
	char buf[64];
	long r;

	puts("-- abstract names");
	lalen = abstract_addr(&la, "listen");
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(bind, l, &la, lalen);
	show_sockname("l", l);
	show_poll("l bound", l);
	olen = abstract_addr(&other, "other");
	SYS(bind, l, &other, olen);
	SYS(bind, l, &la, lalen);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(bind, s, &la, lalen);
	/* Bound but not listening. */
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	SYS(connect, c, &la, lalen);
	SYS(accept, l, NULL, NULL);
	SYS(listen, l, 5);
	OPT(l, SO_ACCEPTCONN);
	show_poll("l listening", l);
	SYS(connect, c, &la, lalen);
	show_poll("l with a pending connection", l);
	show_poll("c connected", c);
	show_sockname("c", c);
	show_peername("peer of c", c);
	SYS(connect, c, &la, lalen);
	SYS(connect, c, &other, olen);
	SYS(listen, c, 5);
	SYS(connect, l, &la, lalen);
	len = sizeof(sa);
	memset(&sa, 0x55, sizeof(sa));
	n = SYS_OK(accept4, l, &sa, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
	show_addr("accepted peer", &sa, len);
	show_fd_flags("accepted", n);
	show_sockname("accepted", n);
	show_peername("peer of accepted", n);
	OPT(n, SO_ACCEPTCONN);
	OPT(n, SO_TYPE);
	show_poll("l after accept", l);
	{
		struct ucred cred = { -1, -1, -1 };

		len = sizeof(cred);
		getsockopt(n, SOL_SOCKET, SO_PEERCRED, &cred, &len);
		printf("  SO_PEERCRED accepted: pid == getpid %d uid == getuid %d\n",
		       cred.pid == self_pid, cred.uid == getuid());
		len = sizeof(cred);
		getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len);
		printf("  SO_PEERCRED client: pid == getpid %d uid == getuid %d\n",
		       cred.pid == self_pid, cred.uid == getuid());
		len = sizeof(cred);
		getsockopt(l, SOL_SOCKET, SO_PEERCRED, &cred, &len);
		printf("  SO_PEERCRED listener: pid == getpid %d uid == getuid %d\n",
		       cred.pid == self_pid, cred.uid == getuid());
	}
	SYS(write, c, "ping", 4);
	r = SYS(read, n, buf, sizeof(buf));
	print_bytes("  data", buf, r);
	SYS(write, n, "pong", 4);
	r = SYS(read, c, buf, sizeof(buf));
	print_bytes("  data", buf, r);
	SYS(read, n, buf, sizeof(buf));
	close(n);
	close(c);

	/* Accept flags and errors. */
	fcntl(l, F_SETFL, O_NONBLOCK);
	SYS(accept, l, NULL, NULL);
	SYS(accept4, l, NULL, NULL, SOCK_NONBLOCK);
	SYS(accept4, l, NULL, NULL, 1);
	SYS(accept4, l, NULL, NULL, O_RDWR | 0x40);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(connect, c, &la, lalen);
	n = SYS_OK(accept, l, NULL, NULL);
	show_fd_flags("accepted from a non-blocking listener", n);
	close(n);
	close(c);
	/* A bad address buffer: the connection is accepted and then lost. */
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	SYS(connect, c, &la, lalen);
	len = sizeof(sa);
	SYS(accept, l, BAD_PTR, &len);
	SYS(accept, l, NULL, NULL);
	show_poll("client of the lost connection", c);
	SYS(read, c, buf, sizeof(buf));
	close(c);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(connect, c, &la, lalen);
	SYS(accept, l, &sa, BAD_PTR);
	SYS(accept, l, NULL, NULL);
	close(c);
	/* An address buffer that is too short. */
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(connect, c, &la, lalen);
	len = 1;
	memset(&sa, 0x55, sizeof(sa));
	n = SYS_OK(accept, l, &sa, &len);
	printf("  len %u\n", (unsigned)len);
	close(n);
	close(c);

	/* Blocking accept woken by a connect from another thread. */
	fcntl(l, F_SETFL, 0);
	{
		pthread_t t;
		struct connect_arg ca = { &la, lalen, -1, -2, 0 };

		pthread_create(&t, NULL, connect_thread, &ca);
		n = SYS_OK(accept4, l, NULL, NULL, SOCK_NONBLOCK);
		pthread_join(t, NULL);
		check_print("  thread connect", ca.r, ca.err);
		SYS(write, ca.fd, "thread", 6);
		r = SYS(read, n, buf, sizeof(buf));
		print_bytes("  data", buf, r);
		close(ca.fd);
		close(n);
	}

	/* Names that do not exist or have the wrong type. */
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(connect, c, &other, olen);
	d = socket(AF_UNIX, SOCK_DGRAM, 0);
	SYS(bind, d, &other, olen);
	SYS(connect, c, &other, olen);
	SYS(listen, d, 5);
	SYS(accept, d, NULL, NULL);
	close(d);
	SYS(listen, c, 5);
	SYS(accept, c, NULL, NULL);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	SYS(accept, sv[0], NULL, NULL);
	SYS(listen, sv[0], 5);
	/* A connected socketpair socket can still be bound; the peer sees it. */
	olen = abstract_addr(&other, "pair");
	SYS(bind, sv[0], &other, olen);
	show_sockname("sv[0]", sv[0]);
	show_peername("peer of sv[1]", sv[1]);
	close(sv[0]);
	close(sv[1]);

	/* Bad addresses. */
	memcpy(&sa, &la, sizeof(sa));
	SYS(bind, c, &sa, 1);
	SYS(bind, c, &sa, 0);
	SYS(bind, c, &sa, sizeof(sa) + 1);
	SYS(bind, c, &sa, 200);
	SYS(bind, c, &sa, -1);
	SYS(bind, c, BAD_PTR, lalen);
	SYS(bind, c, NULL, lalen);
	SYS(bind, c, NULL, 0);
	sa.sun_family = AF_INET;
	SYS(bind, c, &sa, lalen);
	sa.sun_family = AF_UNSPEC;
	SYS(bind, c, &sa, lalen);
	SYS(connect, c, &sa, lalen);
	sa.sun_family = AF_INET;
	SYS(connect, c, &sa, lalen);
	sa.sun_family = AF_UNIX;
	SYS(connect, c, &sa, 1);
	SYS(connect, c, &sa, sizeof(sa) + 1);
	SYS(connect, c, BAD_PTR, lalen);
	SYS(connect, c, NULL, 0);
	/* The failures left it unbound and unconnected. */
	show_sockname("c", c);
	show_peername("c", c);
	close(c);
	close(s);
	close(l);
	/* The name is free again once its socket is closed. */
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(bind, s, &la, lalen);
	close(s);
}

static void section_autobind(void)
{
	struct sockaddr_un sa, name, la;
	socklen_t len, nlen, lalen;
	int s, c, n, one = 1;

	puts("-- autobind");
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	SYS(bind, s, &sa, sizeof(sa_family_t));
	nlen = sizeof(name);
	memset(&name, 0x55, sizeof(name));
	getsockname(s, (struct sockaddr *)&name, &nlen);
	show_addr("s", &name, nlen);
	printf("  name length: %u\n", (unsigned)(nlen - SUN_OFF));
	SYS(bind, s, &sa, sizeof(sa_family_t));
	SYS(listen, s, 5);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(connect, c, &name, nlen);
	n = SYS_OK(accept, s, NULL, NULL);
	len = sizeof(sa);
	getpeername(c, (struct sockaddr *)&sa, &len);
	SHOW(len == nlen && memcmp(&sa, &name, len) == 0);
	close(n);
	close(c);
	/* Two autobound names differ. */
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	SYS(bind, c, &sa, sizeof(sa_family_t));
	len = sizeof(sa);
	getsockname(c, (struct sockaddr *)&sa, &len);
	SHOW(len == nlen && memcmp(&sa, &name, len) != 0);
	close(c);
	close(s);
	/* connect with SO_PASSCRED autobinds the client. */
	lalen = abstract_addr(&la, "passcred");
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(s, (struct sockaddr *)&la, lalen);
	listen(s, 5);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	setsockopt(c, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	SYS(connect, c, &la, lalen);
	show_sockname("c with SO_PASSCRED", c);
	n = accept(s, NULL, NULL);
	show_peername("peer of accepted", n);
	close(n);
	close(c);
	/* Without it, it stays unnamed. */
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(connect, c, &la, lalen);
	show_sockname("c without", c);
	close(c);
	close(s);
}

static void section_backlog(void)
{
	struct sockaddr_un la;
	socklen_t lalen;
	int l, c[6], n;
	char label[64], buf[16];
	long r;

	puts("-- backlog");
	lalen = abstract_addr(&la, "backlog");
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	bind(l, (struct sockaddr *)&la, lalen);
	SYS(listen, l, 1);
	for (int i = 0; i < 4; i++) {
		c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		snprintf(label, sizeof(label), "  connect #%d", i);
		errno = 0;
		r = connect(c[i], (struct sockaddr *)&la, lalen);
		check_print(label, r, errno);
	}
	show_poll("c[3] refused", c[3]);
	n = SYS_OK(accept, l, NULL, NULL);
	close(n);
	c[4] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	SYS(connect, c[4], &la, lalen);
	c[5] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	SYS(connect, c[5], &la, lalen);
	/* listen again raises the backlog. */
	SYS(listen, l, 5);
	SYS(connect, c[5], &la, lalen);
	SYS(listen, l, -1);
	/* Pending connections are reset when the listener closes. */
	SYS(write, c[1], "x", 1);
	SYS(close, l);
	show_poll("c[1] pending", c[1]);
	OPT(c[1], SO_ERROR);
	SYS(read, c[1], buf, sizeof(buf));
	SYS(read, c[4], buf, sizeof(buf));
	SYS(read, c[4], buf, sizeof(buf));
	for (int i = 0; i < 6; i++)
		close(c[i]);
}

static void *reader_thread(void *p)
{
	int *fd = p;
	char buf[16];
	long n = read(fd[0], buf, sizeof(buf));

	fd[1] = n == 5 && memcmp(buf, "wake!", 5) == 0;
	return NULL;
}

static void section_recv_flags(void)
{
	int sv[2], a, b, nb[2];
	struct sockaddr_un sa;
	socklen_t len;
	char buf[64];
	pid_t pid;
	long n;

	puts("-- recv flags");
	/* b blocks only for MSG_WAITALL below. */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	SYS(write, a, "peekdata", 8);
	show_read("recv(b, 4, MSG_PEEK)", b, 4, MSG_PEEK);
	show_read("recv(b, 64, MSG_PEEK)", b, 64, MSG_PEEK);
	show_inq("b", b);
	show_read("recv(b, 64, 0)", b, 64, 0);
	show_read("recv(b, 64, MSG_DONTWAIT)", b, 64, MSG_DONTWAIT);
	show_read("recv(b, 64, MSG_PEEK | MSG_DONTWAIT)", b, 64, MSG_PEEK | MSG_DONTWAIT);
	/* Peeking across two writes. */
	SYS(write, a, "ab", 2);
	SYS(write, a, "cd", 2);
	show_read("recv(b, 64, MSG_PEEK)", b, 64, MSG_PEEK);
	show_read("recv(b, 3, 0)", b, 3, 0);
	show_read("recv(b, 64, MSG_PEEK)", b, 64, MSG_PEEK);
	show_read("recv(b, 64, 0)", b, 64, 0);
	/* MSG_TRUNC on a stream. */
	SYS(write, a, "abcdef", 6);
	show_read("recv(b, 2, MSG_TRUNC)", b, 2, MSG_TRUNC);
	show_inq("b", b);
	show_read("recv(b, 64, 0)", b, 64, 0);

	/* Zero-length buffers. */
	SYS(write, a, "q", 1);
	SYS(recvfrom, b, buf, 0, MSG_DONTWAIT, NULL, NULL);
	SYS(recvfrom, b, NULL, 0, 0, NULL, NULL);
	show_inq("b", b);
	SYS(read, b, buf, 0);
	show_read("recv(b, 64, 0)", b, 64, 0);
	SYS(recvfrom, b, buf, 0, MSG_DONTWAIT, NULL, NULL);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, nb);
	SYS(read, nb[1], buf, 0);
	SYS(recvfrom, nb[1], buf, 0, 0, NULL, NULL);
	close(nb[0]);
	close(nb[1]);

	/* The peer's (empty) address from recvfrom. */
	SYS(write, a, "addr", 4);
	len = sizeof(sa);
	memset(&sa, 0x55, sizeof(sa));
	SYS(recvfrom, b, buf, sizeof(buf), 0, &sa, &len);
	printf("  fromlen %u\n", (unsigned)len);
	SYS(write, a, "addr", 4);
	len = sizeof(sa);
	SYS(recvfrom, b, buf, sizeof(buf), 0, BAD_PTR, &len);
	printf("  fromlen %u\n", (unsigned)len);

	/* Bad buffers: nothing is consumed or sent. */
	SYS(write, a, "efault", 6);
	SYS(recvfrom, b, BAD_PTR, 6, 0, NULL, NULL);
	SYS(read, b, BAD_PTR, 6);
	show_inq("b", b);
	show_read("recv(b, 64, 0)", b, 64, 0);
	SYS(sendto, a, BAD_PTR, 6, 0, NULL, 0);
	SYS(write, a, BAD_PTR, 6);
	show_inq("b", b);
	SYS(write, a, "ok", 2);
	show_read("recv(b, 64, 0)", b, 64, 0);
	SYS(sendmsg, a, BAD_PTR, 0);
	SYS(recvmsg, b, BAD_PTR, 0);
	{
		struct msghdr m = { 0 };
		struct iovec iov = { BAD_PTR, 4 };

		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		SYS(sendmsg, a, &m, 0);
		m.msg_iov = BAD_PTR;
		SYS(sendmsg, a, &m, 0);
		m.msg_iov = &iov;
		m.msg_iovlen = 1025;
		SYS(sendmsg, a, &m, 0);
		SYS(recvmsg, b, &m, 0);
		show_inq("b", b);
	}

	/* An address on a connected stream; a stream without a peer. */
	{
		struct sockaddr_un other;
		socklen_t olen = abstract_addr(&other, "nobody");
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

		SYS(sendto, a, "x", 1, 0, &other, olen);
		sigpipes = 0;
		SYS(sendto, s, "x", 1, 0, &other, olen);
		SYS(sendto, s, "x", 1, 0, NULL, 0);
		SYS(write, s, "x", 1);
		printf("  SIGPIPE: %d\n", sigpipes);
		SYS(read, s, buf, sizeof(buf));
		SYS(recvfrom, s, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
		close(s);
	}

	/* MSG_WAITALL: a forked writer sends the data in pieces. */
	fcntl(b, F_SETFL, 0);
	pid = fork();
	if (pid == 0) {
		struct timespec ts = { 0, 2000000 };

		close(b);
		if (write(a, "abc", 3) != 3)
			_exit(1);
		nanosleep(&ts, NULL);
		if (write(a, "def", 3) != 3)
			_exit(2);
		nanosleep(&ts, NULL);
		if (write(a, "ghi", 3) != 3)
			_exit(3);
		nanosleep(&ts, NULL);
		if (write(a, "jk", 2) != 2)
			_exit(4);
		_exit(0);
	}
	close(a);
	n = SYS(recvfrom, b, buf, 9, MSG_WAITALL, NULL, NULL);
	print_bytes("  data", buf, n > 0 ? n : 0);
	/* The writer exits: WAITALL returns what there is at EOF. */
	n = SYS(recvfrom, b, buf, 9, MSG_WAITALL, NULL, NULL);
	print_bytes("  data", buf, n > 0 ? n : 0);
	SYS(recvfrom, b, buf, 9, MSG_WAITALL, NULL, NULL);
	reap("writer", pid);
	close(b);

	/* MSG_WAITALL with MSG_DONTWAIT returns what is there. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	SYS(write, a, "abc", 3);
	show_read("recv(b, 9, MSG_WAITALL | MSG_DONTWAIT)", b, 9, MSG_WAITALL | MSG_DONTWAIT);
	SYS(write, a, "abc", 3);
	show_read("recv(b, 9, MSG_WAITALL | MSG_PEEK | MSG_DONTWAIT)", b, 9,
		  MSG_WAITALL | MSG_PEEK | MSG_DONTWAIT);
	show_read("recv(b, 9, 0)", b, 9, 0);

	/* A blocking read woken by a write from the main thread. */
	{
		pthread_t t;
		int arg[2] = { b, -1 };

		pthread_create(&t, NULL, reader_thread, arg);
		SYS(write, a, "wake!", 5);
		pthread_join(t, NULL);
		printf("  thread read the data: %d\n", arg[1]);
	}
	/* A blocking read woken by shutdown from another thread. */
	{
		pthread_t t;
		int arg[2] = { b, -1 };

		pthread_create(&t, NULL, reader_thread, arg);
		SYS(shutdown, a, SHUT_WR);
		pthread_join(t, NULL);
		printf("  thread read the data: %d\n", arg[1]);
	}
	close(a);
	close(b);
}

static void section_notsock(void)
{
	int p[2], v = 0, fds[2];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(sa);
	struct msghdr m = { 0 };
	char buf[8];

	puts("-- not sockets");
	pipe(p);
	fds[0] = p[0];
	fds[1] = 0;
	for (int i = 0; i < 3; i++) {
		int fd = i < 2 ? fds[i] : BAD_FD;

		printf("  fd: %s\n", i == 0 ? "pipe" : i == 1 ? "stdin" : "BAD_FD");
		SYS(bind, fd, &sa, sizeof(sa_family_t));
		SYS(connect, fd, &sa, sizeof(sa));
		SYS(listen, fd, 5);
		SYS(accept, fd, NULL, NULL);
		SYS(accept4, fd, NULL, NULL, SOCK_CLOEXEC);
		SYS(getsockname, fd, &sa, &len);
		SYS(getpeername, fd, &sa, &len);
		SYS(shutdown, fd, SHUT_RDWR);
		SYS(getsockopt, fd, SOL_SOCKET, SO_TYPE, &v, &len);
		SYS(setsockopt, fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
		SYS(sendto, fd, "x", 1, MSG_DONTWAIT, NULL, 0);
		SYS(recvfrom, fd, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
		SYS(sendmsg, fd, &m, MSG_DONTWAIT);
		SYS(recvmsg, fd, &m, MSG_DONTWAIT);
	}
	SYS(getsockopt, -1, SOL_SOCKET, SO_TYPE, &v, &len);
	SYS(accept, p[0], BAD_PTR, BAD_PTR);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };

	alarm(10);
	self_pid = getpid();
	sigaction(SIGPIPE, &sa, NULL);

	section_socket();
	section_socketpair();
	section_read_write();
	section_shutdown();
	section_close();
	section_nonblocking();
	section_sockopt();
	section_unnamed();
	section_abstract();
	section_autobind();
	section_backlog();
	section_recv_flags();
	section_notsock();

	puts("done");
	return 0;
}
