/*
 * unix_dgram.c: AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET sockets. Message
 * boundaries, truncation (MSG_TRUNC as a flag and in msg_flags), zero-length
 * datagrams and records, MSG_PEEK, FIONREAD; sendto/recvfrom between bound
 * sockets (the sender's name is reported), connect() as default destination
 * and filter, AF_UNSPEC, sends to names that are missing, not sockets, of the
 * wrong type or closed; a peer that closes (ECONNREFUSED, EOF, EPIPE);
 * shutdown; full queues (EAGAIN, poll); SOCK_SEQPACKET listen/accept;
 * sendmmsg/recvmmsg; EMSGSIZE; a datagram socket connected to itself.
 *
 * Every socket is non-blocking: all data is queued by this thread before it
 * is read, so a datagram that is missing shows as EAGAIN instead of a hang.
 *
 * Only abstract names are used, so nothing touches the filesystem: sockets
 * bound to path names are tested in unix_path.c. Abstract names carry the
 * pid, which is never printed: names are shown as "@conf-unix-PID-tag".
 */
#include "common.h"
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#define UNIX_SOCKET_HELPERS
#include "unix_common.h"

/* Print msg_flags by name. */
static const char *msg_flags_name(int f)
{
	static char buf[128];

	buf[0] = 0;
#define FLAG(x) if (f & x) { strcat(strcat(buf, buf[0] ? "|" : ""), #x); f &= ~x; }
	FLAG(MSG_TRUNC); FLAG(MSG_CTRUNC); FLAG(MSG_EOR); FLAG(MSG_OOB);
	FLAG(MSG_ERRQUEUE); FLAG(MSG_CMSG_CLOEXEC);
#undef FLAG
	if (f)
		sprintf(buf + strlen(buf), "%s0x%x", buf[0] ? "|" : "", f);
	return buf[0] ? buf : "0";
}

/* recvmsg into a len-byte buffer: "label = n flags F" and the data. */
static long show_recvmsg(const char *label, int fd, size_t len, int flags)
{
	char buf[256];
	struct sockaddr_un from;
	struct iovec iov = { buf, len < sizeof(buf) ? len : sizeof(buf) };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	long n;

	memset(buf, 0, sizeof(buf));
	memset(&from, 0x55, sizeof(from));
	m.msg_flags = 0x55550000;
	n = recvmsg(fd, &m, flags);
	if (n < 0) {
		printf("  %s = -1 %s\n", label, errno_name(errno));
		return n;
	}
	printf("  %s = %ld msg_flags %s\n", label, n, msg_flags_name(m.msg_flags));
	print_bytes("    data", buf, (size_t)n < iov.iov_len ? (size_t)n : iov.iov_len);
	show_addr("    msg_name", &from, m.msg_namelen);
	return n;
}

/* recvfrom: the data and who sent it. */
static long show_recvfrom(const char *label, int fd, size_t len, int flags)
{
	char buf[256];
	struct sockaddr_un from;
	socklen_t flen = sizeof(from);
	long n;

	memset(&from, 0x55, sizeof(from));
	n = recvfrom(fd, buf, len < sizeof(buf) ? len : sizeof(buf), flags, (struct sockaddr *)&from,
		     &flen);
	if (n < 0) {
		printf("  %s = -1 %s\n", label, errno_name(errno));
		return n;
	}
	printf("  %s = %ld \"%.*s\"\n", label, n, (int)((size_t)n < len ? (size_t)n : len), buf);
	show_addr("    from", &from, flen);
	return n;
}

/* Send until EAGAIN (at most max messages); returns how many were sent. */
static long fill_msgs(int fd, size_t size, long max, int *eagain)
{
	static char msg[4096];
	long n = 0;

	*eagain = 0;
	while (n < max) {
		if (send(fd, msg, size, MSG_DONTWAIT) < 0) {
			*eagain = errno == EAGAIN;
			break;
		}
		n++;
	}
	return n;
}

static long drain_msgs(int fd)
{
	char msg[4096];
	long n = 0;

	while (recv(fd, msg, sizeof(msg), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

static void section_dgram_pair(void)
{
	int sv[2], a, b;
	char buf[64];

	puts("-- dgram socketpair");
	SYS(socketpair, AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	OPT(a, SO_TYPE);
	show_poll("a fresh", a);
	CHECK(send(a, "one", 3, 0));
	CHECK(send(a, "two2", 4, 0));
	SYS(write, a, "three", 5);
	show_poll("b", b);
	show_inq("b", b);
	show_read("recv(b, 64, 0)", b, 64, 0);
	show_inq("b", b);
	show_read("recv(b, 64, 0)", b, 64, 0);
	SYS(read, b, buf, sizeof(buf));
	show_inq("b", b);
	show_poll("b empty", b);
	show_read("recv(b, 64, MSG_DONTWAIT)", b, 64, MSG_DONTWAIT);
	/* Both directions. */
	CHECK(send(b, "back", 4, 0));
	show_read("recv(a, 64, 0)", a, 64, 0);

	/* Truncation: the rest of the datagram is lost. */
	CHECK(send(a, "truncated!", 10, 0));
	CHECK(send(a, "next", 4, 0));
	show_read("recv(b, 4, 0)", b, 4, 0);
	show_read("recv(b, 64, 0)", b, 64, 0);
	CHECK(send(a, "truncated!", 10, 0));
	show_read("recv(b, 4, MSG_TRUNC)", b, 4, MSG_TRUNC);
	CHECK(send(a, "truncated!", 10, 0));
	show_recvmsg("recvmsg(b, 4, 0)", b, 4, 0);
	CHECK(send(a, "truncated!", 10, 0));
	show_recvmsg("recvmsg(b, 4, MSG_TRUNC)", b, 4, MSG_TRUNC);
	CHECK(send(a, "exact", 5, 0));
	show_recvmsg("recvmsg(b, 5, 0)", b, 5, 0);
	CHECK(send(a, "peeked!", 7, 0));
	show_recvmsg("recvmsg(b, 3, MSG_PEEK)", b, 3, MSG_PEEK);
	show_recvmsg("recvmsg(b, 3, MSG_PEEK | MSG_TRUNC)", b, 3, MSG_PEEK | MSG_TRUNC);
	show_recvmsg("recvmsg(b, 64, 0)", b, 64, 0);
	SHOW(recv(b, buf, sizeof(buf), MSG_DONTWAIT) == -1 && errno == EAGAIN);

	/* Zero-length datagrams are datagrams. */
	CHECK(send(a, "", 0, 0));
	show_poll("b with an empty datagram", b);
	show_inq("b", b);
	show_recvmsg("recvmsg(b, 64, 0)", b, 64, 0);
	show_poll("b", b);
	CHECK(send(a, NULL, 0, 0));
	SYS(write, a, "", 0);
	SYS(read, b, buf, sizeof(buf));
	SYS(read, b, buf, sizeof(buf));
	SYS(read, b, buf, sizeof(buf));
	/* A zero-length read does not consume, a zero-length recv does. */
	CHECK(send(a, "xyz", 3, 0));
	SYS(read, b, buf, 0);
	show_inq("b", b);
	CHECK(recv(b, buf, 0, 0));
	show_inq("b", b);
	CHECK(recv(b, buf, sizeof(buf), MSG_DONTWAIT));
	CHECK(send(a, "xyz", 3, 0));
	CHECK(recv(b, NULL, 0, MSG_TRUNC));
	CHECK(recv(b, buf, sizeof(buf), MSG_DONTWAIT));
	/* Bad buffers: nothing is sent; a datagram that cannot be copied out is lost. */
	CHECK(send(a, BAD_PTR, 4, 0));
	CHECK(recv(b, buf, sizeof(buf), MSG_DONTWAIT));
	CHECK(send(a, "kept", 4, 0));
	CHECK(recv(b, BAD_PTR, 4, 0));
	show_read("recv(b, 64, MSG_DONTWAIT)", b, 64, MSG_DONTWAIT);
	/* The sender of a socketpair datagram has no name. */
	CHECK(send(a, "who", 3, 0));
	show_recvfrom("recvfrom(b, 64)", b, 64, 0);
	/* Shutdown. */
	SYS(shutdown, a, SHUT_WR);
	show_poll("a after SHUT_WR", a);
	show_poll("b", b);
	sigpipes = 0;
	CHECK(send(a, "x", 1, 0));
	printf("  SIGPIPE: %d\n", sigpipes);
	CHECK(send(a, "x", 1, MSG_NOSIGNAL));
	printf("  SIGPIPE: %d\n", sigpipes);
	CHECK(recv(b, buf, sizeof(buf), MSG_DONTWAIT));
	CHECK(send(b, "still", 5, 0));
	show_read("recv(a, 64, 0)", a, 64, 0);
	SYS(shutdown, a, SHUT_RD);
	show_poll("a after SHUT_RD too", a);
	CHECK(send(b, "x", 1, MSG_NOSIGNAL));
	/* A blocking read returns 0, a non-blocking one EAGAIN. */
	fcntl(a, F_SETFL, 0);
	watchdog_start();
	CHECK(recv(a, buf, sizeof(buf), 0));
	watchdog_stop();
	fcntl(a, F_SETFL, O_NONBLOCK);
	CHECK(recv(a, buf, sizeof(buf), 0));
	CHECK(recv(a, buf, sizeof(buf), MSG_DONTWAIT));
	close(a);
	close(b);

	/* The peer closes: queued data stays readable, sends are refused. */
	socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	CHECK(send(b, "queued", 6, 0));
	SYS(close, b);
	show_poll("a", a);
	show_read("recv(a, 64, MSG_DONTWAIT)", a, 64, MSG_DONTWAIT);
	show_read("recv(a, 64, MSG_DONTWAIT)", a, 64, MSG_DONTWAIT);
	sigpipes = 0;
	CHECK(send(a, "x", 1, 0));
	CHECK(send(a, "x", 1, 0));
	printf("  SIGPIPE: %d\n", sigpipes);
	show_poll("a", a);
	show_peername("a", a);
	close(a);

	/* A full queue: EAGAIN, no POLLOUT, then drained. */
	socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	{
		int eagain;
		long sent = fill_msgs(a, 1000, 100000, &eagain);

		printf("  filled: EAGAIN %d sent > 0 %d\n", eagain, sent > 0);
		show_poll("a full", a);
		show_poll("b", b);
		CHECK(send(a, "x", 1, MSG_DONTWAIT));
		SHOW(drain_msgs(b) == sent);
		show_poll("a drained", a);
	}
	close(a);
	close(b);
}

static void section_dgram_names(void)
{
	struct sockaddr_un a1, a2, a3, ax, sa;
	socklen_t l1, l2, l3, lx, len;
	int s1, s2, s3, u;
	char buf[64];

	puts("-- dgram names");
	l1 = abstract_addr(&a1, "d1");
	l2 = abstract_addr(&a2, "d2");
	l3 = abstract_addr(&a3, "d3");
	lx = abstract_addr(&ax, "nobody");
	s1 = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	s2 = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	s3 = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	u = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	SYS(bind, s1, &a1, l1);
	SYS(bind, s2, &a2, l2);
	SYS(bind, s3, &a3, l3);
	SYS(bind, u, &a1, l1);
	show_sockname("s1", s1);
	show_peername("s1", s1);
	show_poll("s1", s1);
	/* The receiver learns the sender's name. */
	SYS(sendto, s1, "from s1", 7, 0, &a2, l2);
	show_recvfrom("recvfrom(s2)", s2, 64, 0);
	SYS(sendto, s3, "from s3", 7, 0, &a2, l2);
	show_recvmsg("recvmsg(s2)", s2, 64, 0);
	SYS(sendto, u, "from unbound", 12, 0, &a2, l2);
	show_recvfrom("recvfrom(s2)", s2, 64, 0);
	show_sockname("u after sendto", u);
	/* A short name buffer. */
	SYS(sendto, s1, "short", 5, 0, &a2, l2);
	len = 4;
	memset(&sa, 0x55, sizeof(sa));
	SYS(recvfrom, s2, buf, sizeof(buf), 0, &sa, &len);
	SHOW(len == l1);
	SHOW(sa.sun_path[0] == 0 && sa.sun_path[1] == 'c' && sa.sun_path[2] == 0x55);
	SYS(sendto, s1, "bad name buffer", 15, 0, &a2, l2);
	len = sizeof(sa);
	SYS(recvfrom, s2, buf, sizeof(buf), MSG_DONTWAIT, BAD_PTR, &len);
	SYS(recvfrom, s2, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
	/* Unconnected without an address. */
	CHECK(send(s1, "x", 1, 0));
	SYS(sendto, s1, "x", 1, 0, NULL, 0);
	SYS(write, s1, "x", 1);
	/* To a name nobody has. */
	SYS(sendto, s1, "x", 1, 0, &ax, lx);
	SYS(connect, s1, &ax, lx);
	/* Bad addresses. */
	SYS(sendto, s1, "x", 1, 0, &a2, 1);
	SYS(sendto, s1, "x", 1, 0, &a2, sizeof(a2) + 1);
	SYS(sendto, s1, "x", 1, 0, BAD_PTR, l2);
	memcpy(&sa, &a2, sizeof(sa));
	sa.sun_family = AF_INET;
	SYS(sendto, s1, "x", 1, 0, &sa, l2);
	CHECK(recv(s2, buf, sizeof(buf), MSG_DONTWAIT));

	/* connect sets the default destination and filters what arrives. */
	SYS(connect, s1, &a2, l2);
	show_peername("s1", s1);
	show_poll("s1 connected", s1);
	CHECK(send(s1, "connected", 9, 0));
	show_recvfrom("recvfrom(s2)", s2, 64, 0);
	/* An explicit address still goes there. */
	SYS(sendto, s1, "to s3", 5, 0, &a3, l3);
	show_recvfrom("recvfrom(s3)", s3, 64, 0);
	/* s2 connected to s1 takes datagrams from s1 only. */
	SYS(connect, s2, &a1, l1);
	SYS(sendto, s3, "x", 1, 0, &a2, l2);
	SYS(sendto, u, "x", 1, 0, &a2, l2);
	CHECK(send(s1, "from s1 again", 13, 0));
	SYS(sendto, s2, "reply", 5, 0, NULL, 0);
	show_recvfrom("recvfrom(s2)", s2, 64, 0);
	show_recvfrom("recvfrom(s1)", s1, 64, 0);
	/* Connecting again to the same peer keeps what is queued. */
	SYS(sendto, s2, "queued", 6, 0, NULL, 0);
	SYS(connect, s1, &a2, l2);
	show_recvfrom("recvfrom(s1)", s1, 64, MSG_DONTWAIT);
	/* Connecting elsewhere drops it, and the old peer gets an error. */
	SYS(sendto, s2, "dropped", 7, 0, NULL, 0);
	SYS(connect, s1, &a3, l3);
	show_recvfrom("recvfrom(s1)", s1, 64, MSG_DONTWAIT);
	OPT(s2, SO_ERROR);
	OPT(s2, SO_ERROR);
	show_peername("s1", s1);
	CHECK(send(s1, "to s3 by connect", 16, 0));
	show_recvfrom("recvfrom(s3)", s3, 64, 0);
	sa.sun_family = AF_UNSPEC;
	SYS(connect, s1, &sa, sizeof(sa_family_t));
	show_peername("s1 after AF_UNSPEC", s1);
	CHECK(send(s1, "x", 1, 0));
	SYS(connect, s1, &sa, sizeof(sa_family_t));
	/* The connected peer closes. */
	SYS(connect, s1, &a2, l2);
	SYS(close, s2);
	sigpipes = 0;
	CHECK(send(s1, "x", 1, 0));
	CHECK(send(s1, "x", 1, 0));
	SYS(sendto, s1, "x", 1, 0, &a2, l2);
	printf("  SIGPIPE: %d\n", sigpipes);
	show_peername("s1", s1);
	/* Its name is free again. */
	s2 = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	SYS(bind, s2, &a2, l2);
	SYS(sendto, s1, "new s2", 6, 0, &a2, l2);
	show_recvfrom("recvfrom(s2)", s2, 64, 0);
	/* A stream socket's name is the wrong type. */
	{
		struct sockaddr_un sta;
		socklen_t stl = abstract_addr(&sta, "stream");
		int st = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

		bind(st, (struct sockaddr *)&sta, stl);
		SYS(sendto, s1, "x", 1, 0, &sta, stl);
		SYS(connect, s1, &sta, stl);
		listen(st, 5);
		SYS(sendto, s1, "x", 1, 0, &sta, stl);
		SYS(connect, s1, &sta, stl);
		close(st);
	}
	/* Names of a socket that is not bound. */
	show_sockname("u", u);
	close(s1);
	close(s2);
	close(s3);
	close(u);

	/* A full receiver queue refuses a connected sender: EAGAIN. */
	s1 = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	s2 = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	bind(s2, (struct sockaddr *)&a2, l2);
	connect(s1, (struct sockaddr *)&a2, l2);
	{
		int eagain;
		long sent = fill_msgs(s1, 1, 100000, &eagain);

		printf("  filled: EAGAIN %d sent > 0 %d\n", eagain, sent > 0);
		show_poll("s1 full", s1);
		show_poll("s2", s2);
		CHECK(send(s1, "x", 1, MSG_DONTWAIT));
		SHOW(drain_msgs(s2) == sent);
		show_poll("s1 drained", s1);
	}
	close(s1);
	close(s2);
}

static void section_seqpacket_pair(void)
{
	int sv[2], a, b;
	char buf[64];

	puts("-- seqpacket socketpair");
	SYS(socketpair, AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	OPT(a, SO_TYPE);
	show_poll("a fresh", a);
	CHECK(send(a, "one", 3, 0));
	CHECK(send(a, "two2", 4, 0));
	SYS(write, a, "three", 5);
	show_poll("b", b);
	show_inq("b", b);
	show_read("recv(b, 64, 0)", b, 64, 0);
	show_read("recv(b, 64, 0)", b, 64, 0);
	show_read("recv(b, 64, 0)", b, 64, 0);
	show_read("recv(b, 64, MSG_DONTWAIT)", b, 64, MSG_DONTWAIT);
	CHECK(send(a, "truncated!", 10, 0));
	CHECK(send(a, "next", 4, 0));
	show_recvmsg("recvmsg(b, 4, 0)", b, 4, 0);
	show_recvmsg("recvmsg(b, 64, 0)", b, 64, 0);
	CHECK(send(a, "truncated!", 10, 0));
	show_recvmsg("recvmsg(b, 4, MSG_TRUNC)", b, 4, MSG_TRUNC);
	CHECK(send(a, "peeked!", 7, 0));
	show_recvmsg("recvmsg(b, 3, MSG_PEEK)", b, 3, MSG_PEEK);
	show_recvmsg("recvmsg(b, 64, 0)", b, 64, 0);
	/* Zero-length records. */
	CHECK(send(a, "", 0, 0));
	show_poll("b with an empty record", b);
	show_recvmsg("recvmsg(b, 64, MSG_DONTWAIT)", b, 64, MSG_DONTWAIT);
	show_recvmsg("recvmsg(b, 64, MSG_DONTWAIT)", b, 64, MSG_DONTWAIT);
	/* Addresses are ignored on a connected seqpacket socket. */
	{
		struct sockaddr_un ax;
		socklen_t lx = abstract_addr(&ax, "nobody");

		SYS(sendto, a, "addr", 4, 0, &ax, lx);
		show_recvfrom("recvfrom(b)", b, 64, 0);
	}
	/* shutdown(SHUT_WR): EOF for the peer, EPIPE here. */
	CHECK(send(a, "last", 4, 0));
	SYS(shutdown, a, SHUT_WR);
	show_poll("a", a);
	show_poll("b", b);
	show_read("recv(b, 64, 0)", b, 64, 0);
	SYS(read, b, buf, sizeof(buf));
	sigpipes = 0;
	CHECK(send(a, "x", 1, 0));
	printf("  SIGPIPE: %d\n", sigpipes);
	CHECK(send(b, "other way", 9, 0));
	show_read("recv(a, 64, 0)", a, 64, 0);
	close(a);
	close(b);

	/* The peer closes: queued records, then EOF; writes get EPIPE. */
	socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	CHECK(send(b, "bye", 3, 0));
	SYS(close, b);
	show_poll("a", a);
	show_read("recv(a, 64, 0)", a, 64, 0);
	SYS(read, a, buf, sizeof(buf));
	CHECK(recv(a, buf, sizeof(buf), MSG_DONTWAIT));
	sigpipes = 0;
	CHECK(send(a, "x", 1, 0));
	printf("  SIGPIPE: %d\n", sigpipes);
	CHECK(send(a, "x", 1, MSG_NOSIGNAL));
	printf("  SIGPIPE: %d\n", sigpipes);
	OPT(a, SO_ERROR);
	close(a);

	/* The peer closes with unread records. */
	socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	CHECK(send(a, "unread", 6, 0));
	SYS(close, b);
	show_poll("a", a);
	OPT(a, SO_ERROR);
	SYS(read, a, buf, sizeof(buf));
	close(a);

	/* Non-blocking and full. */
	socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	CHECK(recv(b, buf, sizeof(buf), 0));
	{
		int eagain;
		long sent = fill_msgs(a, 1000, 100000, &eagain);

		printf("  filled: EAGAIN %d sent > 0 %d\n", eagain, sent > 0);
		show_poll("a full", a);
		CHECK(send(a, "x", 1, 0));
		SHOW(drain_msgs(b) == sent);
		show_poll("a drained", a);
	}
	close(a);
	close(b);
}

static void section_seqpacket_listen(void)
{
	struct sockaddr_un la, sa, ax;
	socklen_t lal, len, lx;
	int l, c, n, s;
	char buf[64];

	puts("-- seqpacket listen");
	lal = abstract_addr(&la, "seqpacket");
	lx = abstract_addr(&ax, "nobody");
	l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
	/* Not connected: sends fail, with or without an address. */
	CHECK(send(l, "x", 1, 0));
	SYS(sendto, l, "x", 1, 0, &ax, lx);
	CHECK(recv(l, buf, sizeof(buf), MSG_DONTWAIT));
	SYS(listen, l, 5);
	SYS(bind, l, &la, lal);
	SYS(listen, l, 5);
	OPT(l, SO_ACCEPTCONN);
	show_poll("l", l);
	CHECK(send(l, "x", 1, 0));
	c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
	SYS(connect, c, &la, lal);
	show_poll("l pending", l);
	show_peername("c", c);
	len = sizeof(sa);
	memset(&sa, 0x55, sizeof(sa));
	n = SYS_OK(accept4, l, &sa, &len, SOCK_CLOEXEC);
	show_addr("accepted peer", &sa, len);
	show_sockname("accepted", n);
	show_fd_flags("accepted", n);
	OPT(n, SO_TYPE);
	CHECK(send(c, "rec1", 4, 0));
	CHECK(send(c, "record2", 7, 0));
	show_recvfrom("recvfrom(n)", n, 64, 0);
	show_recvmsg("recvmsg(n, 3)", n, 3, 0);
	CHECK(send(n, "answer", 6, 0));
	show_read("recv(c, 64, 0)", c, 64, 0);
	SYS(connect, c, &la, lal);
	/* Type mismatches. */
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	SYS(connect, s, &la, lal);
	close(s);
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	SYS(connect, s, &la, lal);
	SYS(sendto, s, "x", 1, 0, &la, lal);
	close(s);
	/* Closing the accepted end: EOF. */
	SYS(close, n);
	show_poll("c", c);
	SYS(read, c, buf, sizeof(buf));
	close(c);
	close(l);
}

static void section_mmsg(void)
{
	int sv[2], a, b;
	char r[5][16];
	struct iovec siov[4] = { { "a", 1 }, { "bb", 2 }, { "ccc", 3 }, { "truncated!", 10 } };
	struct iovec riov[5];
	struct mmsghdr sm[4], rm[5];
	long k;

	puts("-- sendmmsg and recvmmsg");
	socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	memset(sm, 0, sizeof(sm));
	for (int i = 0; i < 4; i++) {
		sm[i].msg_hdr.msg_iov = &siov[i];
		sm[i].msg_hdr.msg_iovlen = 1;
		sm[i].msg_len = 12345;
	}
#define RESET_RM() do { \
		memset(rm, 0, sizeof(rm)); memset(r, 0, sizeof(r)); \
		for (int i = 0; i < 5; i++) { \
			riov[i].iov_base = r[i]; riov[i].iov_len = i == 3 ? 4 : sizeof(r[i]); \
			rm[i].msg_hdr.msg_iov = &riov[i]; rm[i].msg_hdr.msg_iovlen = 1; \
			rm[i].msg_len = 12345; \
		} } while (0)
#define SHOW_RM(n) do { \
		for (long i = 0; i < (n); i++) \
			printf("  msg %ld: msg_len %u msg_flags %s \"%.*s\"\n", i, rm[i].msg_len, \
			       msg_flags_name(rm[i].msg_hdr.msg_flags), \
			       (int)(rm[i].msg_len < riov[i].iov_len ? rm[i].msg_len : riov[i].iov_len), \
			       r[i]); \
	} while (0)
	SYS(sendmmsg, a, sm, 4, 0);
	for (int i = 0; i < 4; i++)
		printf("  sent %d: msg_len %u\n", i, sm[i].msg_len);
	RESET_RM();
	k = SYS(recvmmsg, b, rm, 5, MSG_DONTWAIT, NULL);
	SHOW_RM(k);
	printf("  msg 4: msg_len %u\n", rm[4].msg_len);
	SYS(recvmmsg, b, rm, 5, MSG_DONTWAIT, NULL);
	/* Fewer slots than datagrams. */
	SYS(sendmmsg, a, sm, 3, 0);
	RESET_RM();
	k = SYS(recvmmsg, b, rm, 2, 0, NULL);
	SHOW_RM(k);
	RESET_RM();
	k = SYS(recvmmsg, b, rm, 5, MSG_WAITFORONE, NULL);
	SHOW_RM(k);
	/* With a timeout, and a bad one. */
	SYS(sendmmsg, a, sm, 2, 0);
	{
		struct timespec ts = { 1, 0 };

		RESET_RM();
		k = SYS(recvmmsg, b, rm, 2, 0, &ts);
		SHOW_RM(k);
		SYS(sendmmsg, a, sm, 1, 0);
		SYS(recvmmsg, b, rm, 2, 0, BAD_PTR);
		ts.tv_nsec = 2000000000L;
		SYS(recvmmsg, b, rm, 2, 0, &ts);
		RESET_RM();
		k = SYS(recvmmsg, b, rm, 2, MSG_DONTWAIT, NULL);
		SHOW_RM(k);
	}
	/* Zero messages, bad vectors, a bad message in the middle. */
	SYS(sendmmsg, a, sm, 0, 0);
	SYS(recvmmsg, b, rm, 0, 0, NULL);
	SYS(sendmmsg, a, BAD_PTR, 2, 0);
	SYS(recvmmsg, b, BAD_PTR, 2, MSG_DONTWAIT, NULL);
	{
		struct iovec bad = { BAD_PTR, 4 };

		sm[1].msg_hdr.msg_iov = &bad;
		SYS(sendmmsg, a, sm, 3, 0);
		SYS(sendmmsg, a, sm + 1, 2, 0);
		sm[1].msg_hdr.msg_iov = &siov[1];
		RESET_RM();
		k = SYS(recvmmsg, b, rm, 5, MSG_DONTWAIT, NULL);
		SHOW_RM(k);
	}
	/* A bad buffer in the second slot: the first is returned, the second lost. */
	SYS(sendmmsg, a, sm, 3, 0);
	RESET_RM();
	riov[1].iov_base = BAD_PTR;
	k = SYS(recvmmsg, b, rm, 3, MSG_DONTWAIT, NULL);
	SHOW_RM(k);
	/* The error that stopped it comes with the next call. */
	RESET_RM();
	k = SYS(recvmmsg, b, rm, 5, MSG_DONTWAIT, NULL);
	SHOW_RM(k);
	RESET_RM();
	k = SYS(recvmmsg, b, rm, 5, MSG_DONTWAIT, NULL);
	SHOW_RM(k);
	close(a);
	close(b);

	/* On a stream the messages run together. */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	SYS(sendmmsg, a, sm, 3, 0);
	RESET_RM();
	k = SYS(recvmmsg, b, rm, 5, MSG_DONTWAIT, NULL);
	SHOW_RM(k);
	close(a);
	close(b);

	/* On seqpacket they stay apart. */
	socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	SYS(sendmmsg, a, sm, 4, 0);
	RESET_RM();
	k = SYS(recvmmsg, b, rm, 5, MSG_DONTWAIT, NULL);
	SHOW_RM(k);
	close(a);
	close(b);
#undef RESET_RM
#undef SHOW_RM
}

/* Last: a socket connected to its own name (this has hung the sandbox). */
static void section_self(void)
{
	struct sockaddr_un sa;
	socklen_t len = abstract_addr(&sa, "self");
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	puts("-- dgram connected to itself");
	SYS(bind, s, &sa, len);
	SYS(connect, s, &sa, len);
	show_peername("s", s);
	CHECK(send(s, "myself", 6, 0));
	show_recvfrom("recvfrom(s)", s, 64, 0);
	CHECK(sendto(s, "again", 5, 0, &sa, len));
	show_recvfrom("recvfrom(s)", s, 64, 0);
	close(s);
}

static void section_msgsize(void)
{
	int sv[2], a, b, v;
	size_t big = 1 << 20;
	char *p = calloc(1, big);
	long n;

	puts("-- EMSGSIZE");
	socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	CHECK(send(a, p, big, MSG_DONTWAIT));
	CHECK(send(a, p, 65536, MSG_DONTWAIT));
	n = recv(b, p, big, MSG_DONTWAIT);
	SHOW(n == 65536);
	/* The limit is the send buffer, less 32 bytes. */
	v = 8192;
	setsockopt(a, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	v = get_int_opt(a, SO_SNDBUF);
	SHOW(v == 16384);
	CHECK(send(a, p, 16384 - 31, MSG_DONTWAIT));
	CHECK(send(a, p, 16384 - 32, MSG_DONTWAIT));
	n = recv(b, p, big, MSG_DONTWAIT);
	SHOW(n == 16384 - 32);
	CHECK(send(a, p, 16384, MSG_DONTWAIT));
	close(a);
	close(b);
	socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv);
	a = sv[0];
	b = sv[1];
	CHECK(send(a, p, big, MSG_DONTWAIT));
	CHECK(send(a, p, 65536, MSG_DONTWAIT));
	n = recv(b, p, big, MSG_DONTWAIT);
	SHOW(n == 65536);
	close(a);
	close(b);
	free(p);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };

	alarm(10);
	self_pid = getpid();
	sigaction(SIGPIPE, &sa, NULL);

	section_dgram_pair();
	section_dgram_names();
	section_seqpacket_pair();
	section_seqpacket_listen();
	section_mmsg();
	section_msgsize();
	section_self();

	puts("done");
	return 0;
}
