/*
 * unix_scm.c: control messages on AF_UNIX sockets. SCM_RIGHTS with a pipe
 * and a file (the received fd is the same open file description: shared
 * offset and status flags, separate fd flags), fds closed while in flight,
 * MSG_CMSG_CLOEXEC, MSG_CTRUNC with control buffers of every size and with
 * RLIMIT_NOFILE (the fds that do not fit are not installed), SCM_MAX_FD,
 * malformed control messages, sockets passed over themselves and in
 * cycles, fds and message boundaries on each socket type, fds that are
 * never received, SCM_CREDENTIALS with SO_PASSCRED (own, forged, from an
 * unprivileged child), and fds passed to and from forked children.
 *
 * Open fds are counted with fcntl(F_GETFD), never printed. Abstract names
 * carry the pid, which is never printed. Children print only while the
 * parent waits for them.
 */
#include "common.h"
#include <grp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "unix_common.h"

static int self_pid;

/* "@conf-unix-<pid>-<tag>": returns the address length. */
static socklen_t abstract_addr(struct sockaddr_un *a, const char *tag)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "conf-unix-%d-%s", self_pid, tag);
	return SUN_OFF + 1 + n;
}

/* getsockopt of an int option: "getsockopt(fd, OPT) = 0 value V len L". */
static void show_opt(int fd, int opt, const char *label)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	int r = getsockopt(fd, SOL_SOCKET, opt, &v, &len);

	if (r < 0)
		printf("  getsockopt(%s) = -1 %s\n", label, errno_name(errno));
	else if (opt == SO_ERROR)
		printf("  getsockopt(%s) = 0 value %s len %u\n", label, v ? errno_name(v) : "0",
		       (unsigned)len);
	else
		printf("  getsockopt(%s) = 0 value %d len %u\n", label, v, (unsigned)len);
}
#define OPT(fd, opt) show_opt(fd, opt, #fd ", " #opt)

/* The lowest free fd number. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

/* How many fds are open, found without opening one. */
static int count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 512; fd++)
		n += fcntl(fd, F_GETFD) != -1;
	return n;
}

/* Do two fds refer to the same file? */
static int same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

#define MAX_FDS 300

static union {
	struct cmsghdr h;
	char buf[CMSG_SPACE(sizeof(int) * MAX_FDS) + CMSG_SPACE(sizeof(struct ucred)) + 64];
} cbuf;

/* sendmsg with len bytes of data and n fds in one SCM_RIGHTS message. */
static long send_fds(int sock, const int *fds, int n, const char *data, size_t len, int flags)
{
	struct iovec iov = { (void *)data, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *h;

	if (n > 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf.buf;
		m.msg_controllen = CMSG_SPACE(n * sizeof(int));
		h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(h), fds, n * sizeof(int));
	}
	return sendmsg(sock, &m, flags);
}

/* sendmsg with data and a raw control buffer. */
static long send_control(int sock, const void *control, size_t controllen, const char *data,
			 size_t len)
{
	struct iovec iov = { (void *)data, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = (void *)control,
			    .msg_controllen = controllen };

	return sendmsg(sock, &m, MSG_DONTWAIT);
}

/* sendmsg with data and an SCM_CREDENTIALS message. */
static long send_creds(int sock, pid_t pid, uid_t uid, gid_t gid, const char *data, size_t len)
{
	struct iovec iov = { (void *)data, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct ucred cr = { pid, uid, gid };
	struct cmsghdr *h;

	memset(&cbuf, 0, sizeof(cbuf));
	m.msg_control = cbuf.buf;
	m.msg_controllen = CMSG_SPACE(sizeof(cr));
	h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_CREDENTIALS;
	h->cmsg_len = CMSG_LEN(sizeof(cr));
	memcpy(CMSG_DATA(h), &cr, sizeof(cr));
	return sendmsg(sock, &m, MSG_DONTWAIT);
}

/* What one recvmsg returned. */
struct rcv {
	long n;
	int err;
	int flags;
	size_t controllen;
	char data[64];
	int ncmsg;
	int nfds;		/* in the (first) SCM_RIGHTS message */
	int fds[MAX_FDS];
	int has_cred;
	struct ucred cred;
	char desc[256];		/* the control messages in order */
};

static const char *msg_flags_name(int f)
{
	static char buf[128];

	buf[0] = 0;
#define FLAG(x) if (f & x) { strcat(strcat(buf, buf[0] ? "|" : ""), #x); f &= ~x; }
	FLAG(MSG_TRUNC); FLAG(MSG_CTRUNC); FLAG(MSG_EOR); FLAG(MSG_OOB);
	FLAG(MSG_CMSG_CLOEXEC);
#undef FLAG
	if (f)
		sprintf(buf + strlen(buf), "%s0x%x", buf[0] ? "|" : "", f);
	return buf[0] ? buf : "0";
}

/* recvmsg with a controllen-byte control buffer (none if 0). */
static long recv_fds(int sock, size_t controllen, int flags, struct rcv *r)
{
	struct iovec iov = { r->data, sizeof(r->data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *h;

	memset(r, 0, sizeof(*r));
	memset(&cbuf, 0x55, sizeof(cbuf));
	if (controllen) {
		m.msg_control = cbuf.buf;
		m.msg_controllen = controllen;
	}
	errno = 0;
	r->n = recvmsg(sock, &m, flags);
	r->err = errno;
	if (r->n < 0)
		return r->n;
	r->flags = m.msg_flags;
	r->controllen = m.msg_controllen;
	for (h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		char one[96];
		size_t room = m.msg_controllen - ((char *)h - (char *)m.msg_control);

		r->ncmsg++;
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
			int k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (r->nfds == 0 && k <= MAX_FDS) {
				r->nfds = k;
				memcpy(r->fds, CMSG_DATA(h), k * sizeof(int));
			}
			snprintf(one, sizeof(one), "SCM_RIGHTS(%d fds, cmsg_len == CMSG_LEN %d)", k,
				 h->cmsg_len == CMSG_LEN(k * sizeof(int)));
		} else if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS) {
			if (h->cmsg_len >= CMSG_LEN(sizeof(struct ucred)) &&
			    room >= CMSG_LEN(sizeof(struct ucred))) {
				r->has_cred = 1;
				memcpy(&r->cred, CMSG_DATA(h), sizeof(r->cred));
			}
			snprintf(one, sizeof(one), "SCM_CREDENTIALS(cmsg_len %u)",
				 (unsigned)h->cmsg_len);
		} else {
			snprintf(one, sizeof(one), "level %d type %d len %u", h->cmsg_level,
				 h->cmsg_type, (unsigned)h->cmsg_len);
		}
		if (strlen(r->desc) + strlen(one) + 2 < sizeof(r->desc))
			strcat(strcat(r->desc, r->desc[0] ? " " : ""), one);
	}
	return r->n;
}

static void show_rcv(const char *label, const struct rcv *r)
{
	if (r->n < 0) {
		printf("  %s = -1 %s\n", label, errno_name(r->err));
		return;
	}
	printf("  %s = %ld \"%.*s\" msg_flags %s msg_controllen %u\n", label, r->n,
	       (int)(r->n < 64 ? r->n : 64), r->data, msg_flags_name(r->flags),
	       (unsigned)r->controllen);
	printf("    cmsgs %d: %s\n", r->ncmsg, r->desc[0] ? r->desc : "none");
}

#define RECV(sock, controllen, flags, r) do { \
		recv_fds(sock, controllen, flags, r); \
		show_rcv("recvmsg(" #sock ", " #controllen ", " #flags ")", r); \
	} while (0)

static void close_rcv(const struct rcv *r)
{
	for (int i = 0; i < r->nfds; i++)
		close(r->fds[i]);
}

static void show_cred(const struct rcv *r, pid_t pid)
{
	if (!r->has_cred) {
		printf("    no credentials\n");
		return;
	}
	printf("    pid == expected %d pid == getpid %d pid == 0 %d uid %d gid %d\n",
	       r->cred.pid == pid, r->cred.pid == self_pid, r->cred.pid == 0, (int)r->cred.uid,
	       (int)r->cred.gid);
}

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

static struct rcv r;

static void section_rights(void)
{
	int sv[2], a, b, p[2], file, fds[2], probe, before;
	char buf[64];
	long n;

	puts("-- SCM_RIGHTS");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	pipe(p);
	file = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	fds[0] = p[0];
	fds[1] = file;
	CHECK(send_fds(a, fds, 2, "fds", 3, 0));
	probe = lowest_free_fd();
	before = count_fds();
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	printf("  fds: first == lowest free %d second == next %d open fds + 2 %d\n",
	       r.nfds == 2 && r.fds[0] == probe, r.nfds == 2 && r.fds[1] == probe + 1,
	       count_fds() == before + 2);
	if (r.nfds == 2) {
		int rp = r.fds[0], rf = r.fds[1];

		printf("  same files: pipe %d file %d\n", same_file(rp, p[0]), same_file(rf, file));
		CHECK(fcntl(rp, F_GETFD));
		CHECK(fcntl(rf, F_GETFD));
		printf("  F_GETFL equal: pipe %d file %d\n", fcntl(rp, F_GETFL) == fcntl(p[0], F_GETFL),
		       fcntl(rf, F_GETFL) == fcntl(file, F_GETFL));
		/* The received pipe end reads what is written to the original's pipe. */
		SYS(write, p[1], "via pipe", 8);
		n = SYS(read, rp, buf, sizeof(buf));
		print_bytes("  data", buf, n > 0 ? n : 0);
		/* One open file description: shared offset and status flags. */
		SYS(read, file, buf, 4);
		CHECK(lseek(rf, 0, SEEK_CUR));
		CHECK(lseek(rf, 10, SEEK_SET));
		CHECK(lseek(file, 0, SEEK_CUR));
		fcntl(rp, F_SETFL, O_NONBLOCK);
		printf("  O_NONBLOCK set on the received fd shows on the original: %d\n",
		       (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
		fcntl(rp, F_SETFD, FD_CLOEXEC);
		printf("  FD_CLOEXEC set on the received fd shows on the original: %d\n",
		       (fcntl(p[0], F_GETFD) & FD_CLOEXEC) != 0);
		SYS(read, p[0], buf, sizeof(buf));
		/* Closing the original leaves the received copy working. */
		close(file);
		SYS(read, rf, buf, 4);
		close(rf);
		close(rp);
	}

	/* An fd closed by the sender while in flight stays open. */
	CHECK(send_fds(a, &p[1], 1, "w", 1, 0));
	SYS(close, p[1]);
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	if (r.nfds == 1) {
		SYS(write, r.fds[0], "in flight", 9);
		n = SYS(read, p[0], buf, sizeof(buf));
		print_bytes("  data", buf, n > 0 ? n : 0);
		close(r.fds[0]);
	}
	/* Now no write end is left: EOF. */
	SYS(read, p[0], buf, sizeof(buf));
	close(p[0]);

	/* MSG_CMSG_CLOEXEC. */
	fds[0] = open("/dev/null", O_RDONLY);
	CHECK(send_fds(a, fds, 1, "c", 1, 0));
	RECV(b, sizeof(cbuf), MSG_CMSG_CLOEXEC, &r);
	if (r.nfds == 1) {
		CHECK(fcntl(r.fds[0], F_GETFD));
		SHOW(same_file(r.fds[0], fds[0]));
	}
	close_rcv(&r);
	CHECK(send_fds(a, fds, 1, "c", 1, 0));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	if (r.nfds == 1)
		CHECK(fcntl(r.fds[0], F_GETFD));
	close_rcv(&r);
	close(fds[0]);

	/* Data without fds has no control message. */
	SYS(write, a, "plain", 5);
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close(a);
	close(b);
}

static void section_ctrunc(void)
{
	int sv[2], a, b, fds[4], before, probe;

	puts("-- MSG_CTRUNC");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	for (int i = 0; i < 4; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	before = count_fds();

	/* No control buffer: the fds are dropped. */
	CHECK(send_fds(a, fds, 3, "x", 1, 0));
	RECV(b, 0, MSG_DONTWAIT, &r);
	SHOW(count_fds() == before);
	/* Room for the header only. */
	CHECK(send_fds(a, fds, 3, "x", 1, 0));
	RECV(b, sizeof(struct cmsghdr), MSG_DONTWAIT, &r);
	SHOW(count_fds() == before);
	/* Less than a header. */
	CHECK(send_fds(a, fds, 3, "x", 1, 0));
	RECV(b, 8, MSG_DONTWAIT, &r);
	SHOW(count_fds() == before);
	/* Room for one fd: the first is installed, the others are not. */
	CHECK(send_fds(a, fds, 3, "x", 1, 0));
	probe = lowest_free_fd();
	RECV(b, CMSG_LEN(sizeof(int)), MSG_DONTWAIT, &r);
	printf("  fd == lowest free %d same file %d open fds + 1 %d\n",
	       r.nfds >= 1 && r.fds[0] == probe, r.nfds >= 1 && same_file(r.fds[0], fds[0]),
	       count_fds() == before + 1);
	close_rcv(&r);
	/* CMSG_SPACE(sizeof(int)) has room for two. */
	CHECK(send_fds(a, fds, 3, "x", 1, 0));
	RECV(b, CMSG_SPACE(sizeof(int)), MSG_DONTWAIT, &r);
	SHOW(count_fds() == before + r.nfds);
	close_rcv(&r);
	/* Exactly enough room. */
	CHECK(send_fds(a, fds, 3, "x", 1, 0));
	RECV(b, CMSG_SPACE(3 * sizeof(int)), MSG_DONTWAIT, &r);
	SHOW(count_fds() == before + 3);
	close_rcv(&r);
	CHECK(send_fds(a, fds, 3, "x", 1, 0));
	RECV(b, CMSG_LEN(3 * sizeof(int)), MSG_DONTWAIT, &r);
	close_rcv(&r);
	/* A bad control buffer. */
	CHECK(send_fds(a, fds, 3, "x", 1, 0));
	{
		struct iovec iov = { r.data, sizeof(r.data) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = BAD_PTR,
				    .msg_controllen = 64 };

		SYS(recvmsg, b, &m, MSG_DONTWAIT);
		printf("  msg_flags %s\n", msg_flags_name(m.msg_flags));
	}
	SHOW(count_fds() == before);
	CHECK(recv(b, r.data, sizeof(r.data), MSG_DONTWAIT));

	/*
	 * RLIMIT_NOFILE: with room for two more fds below the limit, two of
	 * four are installed and the others are not.
	 */
	{
		struct rlimit old, lim;
		int limit = 0, free_fds = 0, below = 1;

		while (free_fds < 2) {
			free_fds += fcntl(limit, F_GETFD) == -1;
			limit++;
		}
		getrlimit(RLIMIT_NOFILE, &old);
		CHECK(send_fds(a, fds, 4, "x", 1, 0));
		lim = old;
		lim.rlim_cur = limit;
		SYS(setrlimit, RLIMIT_NOFILE, &lim);
		RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
		setrlimit(RLIMIT_NOFILE, &old);
		for (int i = 0; i < r.nfds; i++)
			below &= r.fds[i] < limit;
		printf("  open fds + 2 %d received fds below the limit %d\n",
		       count_fds() == before + 2, below);
		close_rcv(&r);
	}
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	close(a);
	close(b);
}

static void section_many(void)
{
	int sv[2], a, b, fds[MAX_FDS], null, before, ok;

	puts("-- many fds");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (int i = 0; i < MAX_FDS; i++)
		fds[i] = null;
	before = count_fds();
	CHECK(send_fds(a, fds, 5, "five", 4, 0));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	ok = 1;
	for (int i = 0; i < r.nfds; i++)
		ok &= same_file(r.fds[i], null) && (i == 0 || r.fds[i] > r.fds[i - 1]);
	printf("  all the same file, ascending %d open fds + 5 %d\n", ok,
	       count_fds() == before + 5);
	close_rcv(&r);
	/* SCM_MAX_FD is 253. */
	CHECK(send_fds(a, fds, 253, "max", 3, 0));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	ok = 1;
	for (int i = 0; i < r.nfds; i++)
		ok &= same_file(r.fds[i], null);
	printf("  all the same file %d open fds + 253 %d\n", ok, count_fds() == before + 253);
	close_rcv(&r);
	SHOW(count_fds() == before);
	CHECK(send_fds(a, fds, 254, "over", 4, 0));
	CHECK(send_fds(a, fds, MAX_FDS, "over", 4, 0));
	CHECK(recv(b, r.data, sizeof(r.data), MSG_DONTWAIT));
	/* Two SCM_RIGHTS messages in one sendmsg. */
	{
		struct iovec iov = { "two", 3 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		struct cmsghdr *h;
		int counts[2][2] = { { 2, 3 }, { 200, 100 } };

		for (int t = 0; t < 2; t++) {
			memset(&cbuf, 0, sizeof(cbuf));
			m.msg_control = cbuf.buf;
			m.msg_controllen = CMSG_SPACE(counts[t][0] * sizeof(int)) +
					   CMSG_SPACE(counts[t][1] * sizeof(int));
			h = CMSG_FIRSTHDR(&m);
			for (int i = 0; i < 2; i++) {
				h->cmsg_level = SOL_SOCKET;
				h->cmsg_type = SCM_RIGHTS;
				h->cmsg_len = CMSG_LEN(counts[t][i] * sizeof(int));
				memcpy(CMSG_DATA(h), fds, counts[t][i] * sizeof(int));
				h = CMSG_NXTHDR(&m, h);
			}
			printf("  two SCM_RIGHTS, %d + %d fds:\n", counts[t][0], counts[t][1]);
			SYS(sendmsg, a, &m, MSG_DONTWAIT);
			RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
			close_rcv(&r);
		}
	}
	SHOW(count_fds() == before);
	close(null);
	close(a);
	close(b);
}

static void section_bad_cmsg(void)
{
	int sv[2], a, b, before, null;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} c;
	struct cmsghdr *h = &c.h;

	puts("-- bad control messages");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	before = count_fds();
#define SET(len, level, type, fd) do { \
		memset(&c, 0, sizeof(c)); h->cmsg_len = (len); h->cmsg_level = (level); \
		h->cmsg_type = (type); memcpy(CMSG_DATA(h), &(int){ fd }, sizeof(int)); \
	} while (0)
	SET(CMSG_LEN(sizeof(int)), SOL_SOCKET, SCM_RIGHTS, null);
	CHECK(send_control(a, &c, CMSG_SPACE(sizeof(int)), "ok", 2));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close_rcv(&r);
	/* cmsg_len shorter than the header, or past the buffer. */
	SET(sizeof(struct cmsghdr) - 1, SOL_SOCKET, SCM_RIGHTS, null);
	CHECK(send_control(a, &c, CMSG_SPACE(sizeof(int)), "x", 1));
	SET(0, SOL_SOCKET, SCM_RIGHTS, null);
	CHECK(send_control(a, &c, CMSG_SPACE(sizeof(int)), "x", 1));
	SET(CMSG_SPACE(sizeof(int)) + 1, SOL_SOCKET, SCM_RIGHTS, null);
	CHECK(send_control(a, &c, CMSG_SPACE(sizeof(int)), "x", 1));
	SET(CMSG_LEN(sizeof(int)), SOL_SOCKET, SCM_RIGHTS, null);
	CHECK(send_control(a, &c, CMSG_LEN(sizeof(int)) - 1, "x", 1));
	/* No fds at all; a length that is not a multiple of an int. */
	SET(CMSG_LEN(0), SOL_SOCKET, SCM_RIGHTS, null);
	CHECK(send_control(a, &c, CMSG_SPACE(sizeof(int)), "zero fds", 8));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close_rcv(&r);
	SET(CMSG_LEN(sizeof(int)) + 2, SOL_SOCKET, SCM_RIGHTS, null);
	CHECK(send_control(a, &c, CMSG_SPACE(2 * sizeof(int)), "odd", 3));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close_rcv(&r);
	/* Bad fds. */
	SET(CMSG_LEN(sizeof(int)), SOL_SOCKET, SCM_RIGHTS, BAD_FD);
	CHECK(send_control(a, &c, CMSG_SPACE(sizeof(int)), "x", 1));
	SET(CMSG_LEN(sizeof(int)), SOL_SOCKET, SCM_RIGHTS, -1);
	CHECK(send_control(a, &c, CMSG_SPACE(sizeof(int)), "x", 1));
	/* An O_PATH fd can be passed. */
	{
		int opath = open("/etc", O_PATH | O_CLOEXEC);

		SET(CMSG_LEN(sizeof(int)), SOL_SOCKET, SCM_RIGHTS, opath);
		CHECK(send_control(a, &c, CMSG_SPACE(sizeof(int)), "O_PATH", 6));
		RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
		if (r.nfds == 1)
			SHOW(same_file(r.fds[0], opath));
		close_rcv(&r);
		close(opath);
	}
	/* Unknown types and other levels. */
	SET(CMSG_LEN(sizeof(int)), SOL_SOCKET, 99, null);
	CHECK(send_control(a, &c, CMSG_SPACE(sizeof(int)), "x", 1));
	SET(CMSG_LEN(sizeof(int)), 12345, SCM_RIGHTS, null);
	CHECK(send_control(a, &c, CMSG_SPACE(sizeof(int)), "other level", 11));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close_rcv(&r);
	SET(CMSG_LEN(sizeof(int)), SOL_SOCKET, SCM_CREDENTIALS, null);
	CHECK(send_control(a, &c, CMSG_SPACE(sizeof(int)), "x", 1));
	/* A control buffer too short for a header is ignored. */
	SET(CMSG_LEN(sizeof(int)), SOL_SOCKET, SCM_RIGHTS, null);
	CHECK(send_control(a, &c, sizeof(struct cmsghdr) - 1, "short", 5));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close_rcv(&r);
	CHECK(send_control(a, NULL, 0, "none", 4));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	/* Bad pointers and sizes. */
	CHECK(send_control(a, BAD_PTR, CMSG_SPACE(sizeof(int)), "x", 1));
	CHECK(send_control(a, NULL, CMSG_SPACE(sizeof(int)), "x", 1));
	CHECK(send_control(a, &c, 1UL << 31, "x", 1));
	CHECK(send_control(a, &c, 1UL << 20, "x", 1));
	/* Nothing arrived, nothing leaked. */
	CHECK(recv(b, r.data, sizeof(r.data), MSG_DONTWAIT));
	SHOW(count_fds() == before);
#undef SET
	close(null);
	close(a);
	close(b);
}

static void section_self(void)
{
	int sv[2], a, b, before, l, fds[2];
	char buf[64];
	long n;

	puts("-- sockets passed over sockets");
	before = count_fds();
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	/* a over itself. */
	CHECK(send_fds(a, &a, 1, "self", 4, 0));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	if (r.nfds == 1) {
		SHOW(same_file(r.fds[0], a));
		SYS(write, r.fds[0], "through the copy", 16);
		n = SYS(read, b, buf, sizeof(buf));
		print_bytes("  data", buf, n > 0 ? n : 0);
		OPT(r.fds[0], SO_TYPE);
	}
	close_rcv(&r);
	/* b into its own queue. */
	CHECK(send_fds(a, &b, 1, "own", 3, 0));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	if (r.nfds == 1)
		SHOW(same_file(r.fds[0], b));
	close_rcv(&r);
	/* A cycle: each end in the other's queue, then both closed. */
	CHECK(send_fds(a, &a, 1, "x", 1, 0));
	CHECK(send_fds(b, &b, 1, "y", 1, 0));
	close(a);
	close(b);
	SHOW(count_fds() == before);
	/* Sockets in flight in a cycle through a third socket. */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	fds[0] = sv[0];
	fds[1] = sv[1];
	CHECK(send_fds(sv[0], fds, 2, "both", 4, 0));
	close(sv[0]);
	close(sv[1]);
	SHOW(count_fds() == before);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	/* A listening socket: accept on the received copy. */
	{
		struct sockaddr_un la;
		socklen_t lal = abstract_addr(&la, "scm-listen");
		int c, n2;

		l = socket(AF_UNIX, SOCK_STREAM, 0);
		bind(l, (struct sockaddr *)&la, lal);
		listen(l, 5);
		CHECK(send_fds(a, &l, 1, "listener", 8, 0));
		close(l);
		RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
		c = socket(AF_UNIX, SOCK_STREAM, 0);
		SYS(connect, c, &la, lal);
		if (r.nfds == 1) {
			OPT(r.fds[0], SO_ACCEPTCONN);
			n2 = SYS_OK(accept, r.fds[0], NULL, NULL);
			close(n2);
		}
		close(c);
		close_rcv(&r);
	}
	/* A connected socket of another pair. */
	{
		int other[2];

		socketpair(AF_UNIX, SOCK_SEQPACKET, 0, other);
		CHECK(send_fds(a, &other[0], 1, "pair", 4, 0));
		close(other[0]);
		RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
		if (r.nfds == 1) {
			CHECK(send(r.fds[0], "seq", 3, 0));
			n = SYS(read, other[1], buf, sizeof(buf));
			print_bytes("  data", buf, n > 0 ? n : 0);
			OPT(r.fds[0], SO_TYPE);
		}
		close_rcv(&r);
		close(other[1]);
	}
	close(a);
	close(b);
	SHOW(count_fds() == before);
}

static void section_boundaries(void)
{
	int sv[2], a, b, null, before, base;

	puts("-- fds and message boundaries");
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	before = count_fds();
	/* Stream: a read stops after the data that carried fds. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	CHECK(send_fds(a, &null, 1, "ab", 2, 0));
	SYS(write, a, "cd", 2);
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close_rcv(&r);
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	SYS(write, a, "ef", 2);
	CHECK(send_fds(a, &null, 1, "gh", 2, 0));
	SYS(write, a, "ij", 2);
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close_rcv(&r);
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	/* Two messages with fds are not merged. */
	CHECK(send_fds(a, &null, 1, "kl", 2, 0));
	CHECK(send_fds(a, &null, 1, "mn", 2, 0));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close_rcv(&r);
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close_rcv(&r);
	/* A partial read: the fds come with the first part. */
	CHECK(send_fds(a, &null, 1, "0123456789", 10, 0));
	{
		struct iovec iov = { r.data, 4 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *h;

		memset(&cbuf, 0, sizeof(cbuf));
		if (SYS(recvmsg, b, &m, MSG_DONTWAIT) < 0)
			m.msg_controllen = 0;
		h = CMSG_FIRSTHDR(&m);
		printf("  first part carries SCM_RIGHTS: %d\n",
		       h && h->cmsg_type == SCM_RIGHTS);
		if (h && h->cmsg_type == SCM_RIGHTS)
			close(*(int *)CMSG_DATA(h));
	}
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	/* Peeking does not take the fds. */
	CHECK(send_fds(a, &null, 1, "peek", 4, 0));
	RECV(b, sizeof(cbuf), MSG_PEEK, &r);
	close_rcv(&r);
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close_rcv(&r);
	/* Zero data bytes with fds on a stream. */
	CHECK(send_fds(a, &null, 1, "", 0, 0));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close_rcv(&r);
	close(a);
	close(b);
	SHOW(count_fds() == before);

	/* Datagrams: fds with an empty datagram; peeking installs them too. */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	a = sv[0];
	b = sv[1];
	CHECK(send_fds(a, &null, 1, "", 0, 0));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	if (r.nfds == 1)
		SHOW(same_file(r.fds[0], null));
	close_rcv(&r);
	CHECK(send_fds(a, &null, 1, "peek", 4, 0));
	base = count_fds();
	RECV(b, sizeof(cbuf), MSG_PEEK, &r);
	SHOW(count_fds() == base + r.nfds);
	close_rcv(&r);
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close_rcv(&r);
	/* A truncated datagram still delivers its fds. */
	CHECK(send_fds(a, &null, 1, "0123456789", 10, 0));
	{
		struct iovec iov = { r.data, 4 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *h;

		memset(&cbuf, 0, sizeof(cbuf));
		if (SYS(recvmsg, b, &m, MSG_DONTWAIT) < 0)
			m.msg_controllen = 0;
		h = CMSG_FIRSTHDR(&m);
		printf("  msg_flags %s carries SCM_RIGHTS: %d\n", msg_flags_name(m.msg_flags),
		       h && h->cmsg_type == SCM_RIGHTS);
		if (h && h->cmsg_type == SCM_RIGHTS)
			close(*(int *)CMSG_DATA(h));
	}
	close(a);
	close(b);
	/* Seqpacket. */
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	a = sv[0];
	b = sv[1];
	CHECK(send_fds(a, &null, 1, "rec", 3, 0));
	SYS(write, a, "next", 4);
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close_rcv(&r);
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close(a);
	close(b);
	SHOW(count_fds() == before);
	close(null);
}

static void section_unreceived(void)
{
	int sv[2], a, b, p[2], before;
	char buf[16];

	puts("-- fds never received");
	before = count_fds();
	/* Closing the receiver releases the fds in its queue. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	pipe2(p, O_NONBLOCK);
	CHECK(send_fds(a, &p[1], 1, "w", 1, 0));
	close(p[1]);
	SYS(read, p[0], buf, sizeof(buf));
	SYS(close, b);
	SYS(read, p[0], buf, sizeof(buf));
	close(p[0]);
	close(a);
	/* Closing the sender does not. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	pipe2(p, O_NONBLOCK);
	CHECK(send_fds(a, &p[1], 1, "w", 1, 0));
	close(p[1]);
	SYS(close, a);
	SYS(read, p[0], buf, sizeof(buf));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	if (r.nfds == 1)
		SYS(write, r.fds[0], "late", 4);
	close_rcv(&r);
	SYS(read, p[0], buf, sizeof(buf));
	SYS(read, p[0], buf, sizeof(buf));
	close(p[0]);
	close(b);
	/* Dropped by a receiver without a control buffer. */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	a = sv[0];
	b = sv[1];
	pipe2(p, O_NONBLOCK);
	CHECK(send_fds(a, &p[1], 1, "w", 1, 0));
	close(p[1]);
	CHECK(recv(b, buf, sizeof(buf), MSG_DONTWAIT));
	SYS(read, p[0], buf, sizeof(buf));
	close(p[0]);
	close(a);
	close(b);
	SHOW(count_fds() == before);
}

static void section_creds(void)
{
	int sv[2], a, b, one = 1, zero = 0, null;
	pid_t pid;

	puts("-- SCM_CREDENTIALS");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	OPT(b, SO_PASSCRED);
	SYS(write, a, "before", 6);
	SYS(setsockopt, b, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	OPT(b, SO_PASSCRED);
	/* Written before SO_PASSCRED. */
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	show_cred(&r, self_pid);
	SYS(write, a, "after", 5);
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	show_cred(&r, self_pid);
	SHOW(r.has_cred && r.cred.uid == getuid() && r.cred.gid == getgid());
	/* The other direction has no SO_PASSCRED. */
	SYS(write, b, "back", 4);
	RECV(a, sizeof(cbuf), MSG_DONTWAIT, &r);
	/* Our own credentials, given explicitly. */
	CHECK(send_creds(a, self_pid, getuid(), getgid(), "explicit", 8));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	show_cred(&r, self_pid);
	/* Too little room for the credentials. */
	SYS(write, a, "short", 5);
	RECV(b, CMSG_LEN(4), MSG_DONTWAIT, &r);
	SYS(write, a, "short", 5);
	RECV(b, sizeof(struct cmsghdr), MSG_DONTWAIT, &r);
	/* Credentials and fds together. */
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(send_fds(a, &null, 1, "both", 4, 0));
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	show_cred(&r, self_pid);
	close_rcv(&r);
	/* Bad credentials. */
	CHECK(send_creds(a, self_pid, -1, getgid(), "x", 1));
	CHECK(send_creds(a, self_pid, getuid(), -1, "x", 1));
	CHECK(send_creds(a, 0, getuid(), getgid(), "x", 1));
	CHECK(send_creds(a, -1, getuid(), getgid(), "x", 1));
	CHECK(recv(b, r.data, sizeof(r.data), MSG_DONTWAIT));

	/*
	 * Another pid, uid, gid. CAP_SYS_ADMIN may send the pid of a process
	 * that exists (ESRCH for one that does not), CAP_SETUID/CAP_SETGID
	 * other ids; without them it is EPERM. The outcome is printed, then
	 * checked again in a child that has dropped root.
	 */
	printf("  euid == 0: %d\n", geteuid() == 0);
	{
		int go[2];

		pipe(go);
		pid = fork();
		if (pid == 0) {
			char c;

			close(go[1]);
			read(go[0], &c, 1);
			_exit(0);
		}
		close(go[0]);
		CHECK(send_creds(a, pid, getuid(), getgid(), "child pid", 9));
		RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
		show_cred(&r, pid);
		CHECK(send_creds(a, 4194304, getuid(), getgid(), "no such pid", 11));
		RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
		CHECK(send_creds(a, self_pid, 12345, getgid(), "uid 12345", 9));
		RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
		show_cred(&r, self_pid);
		CHECK(send_creds(a, self_pid, getuid(), 12345, "gid 12345", 9));
		RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
		show_cred(&r, self_pid);
		close(go[1]);
		reap("child", pid);
	}
	/* An unprivileged child: only its own ids are allowed. */
	pid = fork();
	if (pid == 0) {
		pid_t me = getpid(), parent = getppid();

		SYS(setgroups, 0, NULL);
		SYS(setresgid, 65534, 65534, 65534);
		SYS(setresuid, 65534, 65534, 65534);
		CHECK(send_creds(a, me, 65534, 65534, "own", 3));
		RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
		show_cred(&r, me);
		CHECK(send_creds(a, parent, 65534, 65534, "x", 1));
		CHECK(send_creds(a, me, 0, 65534, "x", 1));
		CHECK(send_creds(a, me, 65534, 0, "x", 1));
		CHECK(send_creds(a, 4194304, 65534, 65534, "x", 1));
		/* Without explicit credentials the child's own are sent. */
		SYS(write, a, "implicit", 8);
		RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
		show_cred(&r, me);
		_exit(0);
	}
	reap("unprivileged child", pid);
	CHECK(recv(b, r.data, sizeof(r.data), MSG_DONTWAIT));
	SYS(setsockopt, b, SOL_SOCKET, SO_PASSCRED, &zero, sizeof(zero));
	SYS(write, a, "off", 3);
	RECV(b, sizeof(cbuf), MSG_DONTWAIT, &r);
	close(null);
	close(a);
	close(b);

	/* Datagrams: a sender with SO_PASSCRED is autobound. */
	{
		struct sockaddr_un ra, from;
		socklen_t ral = abstract_addr(&ra, "scm-dgram"), flen;
		int rs = socket(AF_UNIX, SOCK_DGRAM, 0), s = socket(AF_UNIX, SOCK_DGRAM, 0);
		struct iovec iov = { r.data, sizeof(r.data) };
		struct msghdr m = { .msg_name = &from, .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf.buf };
		struct cmsghdr *h;

		bind(rs, (struct sockaddr *)&ra, ral);
		SYS(sendto, s, "plain", 5, 0, &ra, ral);
		m.msg_namelen = sizeof(from);
		m.msg_controllen = sizeof(cbuf);
		SYS(recvmsg, rs, &m, MSG_DONTWAIT);
		printf("  msg_namelen %u msg_controllen %u\n", (unsigned)m.msg_namelen,
		       (unsigned)m.msg_controllen);
		SYS(setsockopt, s, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
		SYS(sendto, s, "passcred", 8, 0, &ra, ral);
		m.msg_namelen = sizeof(from);
		m.msg_controllen = sizeof(cbuf);
		SYS(recvmsg, rs, &m, MSG_DONTWAIT);
		printf("  msg_namelen - 2 = %d msg_controllen %u\n", (int)m.msg_namelen - 2,
		       (unsigned)m.msg_controllen);
		flen = sizeof(from);
		getsockname(s, (struct sockaddr *)&from, &flen);
		printf("  sender autobound: name length %d\n", (int)flen - 2);
		/* Now the receiver asks too. */
		SYS(setsockopt, rs, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
		SYS(sendto, s, "both", 4, 0, &ra, ral);
		m.msg_namelen = sizeof(from);
		m.msg_controllen = sizeof(cbuf);
		memset(&cbuf, 0, sizeof(cbuf));
		if (SYS(recvmsg, rs, &m, MSG_DONTWAIT) < 0)
			m.msg_controllen = 0;
		h = CMSG_FIRSTHDR(&m);
		if (h && h->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cr;

			memcpy(&cr, CMSG_DATA(h), sizeof(cr));
			printf("  SCM_CREDENTIALS: pid == getpid %d uid == getuid %d gid == getgid %d\n",
			       cr.pid == self_pid, cr.uid == getuid(), cr.gid == getgid());
		} else {
			printf("  no SCM_CREDENTIALS\n");
		}
		close(rs);
		close(s);
	}
}

static void section_fork(void)
{
	int sv[2], a, b, p[2], st;
	char buf[64];
	pid_t pid;
	long n;

	puts("-- across fork");
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	pid = fork();
	if (pid == 0) {
		struct rcv cr;

		close(a);
		if (recv_fds(b, sizeof(cbuf), 0, &cr) != 4 || cr.nfds != 1)
			_exit(1);
		if (write(cr.fds[0], "from the child", 14) != 14)
			_exit(2);
		_exit(0);
	}
	/* A pipe the child does not have: its write end goes over. */
	pipe(p);
	CHECK(send_fds(a, &p[1], 1, "take", 4, 0));
	close(p[1]);
	n = SYS(read, p[0], buf, sizeof(buf));
	print_bytes("  data", buf, n > 0 ? n : 0);
	reap("child", pid);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	SYS(read, p[0], buf, sizeof(buf));
	close(p[0]);

	/*
	 * The other way: the child sends the read end of its own pipe, and
	 * its credentials (SO_PASSCRED is set before the fork: creds are
	 * attached when the data is sent).
	 */
	{
		int one = 1;

		setsockopt(b, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	}
	pid = fork();
	if (pid == 0) {
		int q[2];

		close(b);
		if (pipe(q) < 0)
			_exit(1);
		if (send_fds(a, &q[0], 1, "mine", 4, 0) != 4)
			_exit(2);
		if (write(q[1], "child's pipe", 12) != 12)
			_exit(3);
		_exit(0);
	}
	RECV(b, sizeof(cbuf), 0, &r);
	show_cred(&r, pid);
	reap("child", pid);
	if (r.nfds == 1) {
		fcntl(r.fds[0], F_SETFL, O_NONBLOCK);
		n = SYS(read, r.fds[0], buf, sizeof(buf));
		print_bytes("  data", buf, n > 0 ? n : 0);
		SYS(read, r.fds[0], buf, sizeof(buf));
	}
	close_rcv(&r);
	close(b);

	/* The child receives a socket and talks through it. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	a = sv[0];
	b = sv[1];
	pid = fork();
	if (pid == 0) {
		struct rcv cr;

		close(a);
		if (recv_fds(b, sizeof(cbuf), 0, &cr) != 4 || cr.nfds != 1)
			_exit(1);
		if (write(cr.fds[0], "child on a passed socket", 24) != 24)
			_exit(2);
		_exit(0);
	}
	{
		int other[2];

		socketpair(AF_UNIX, SOCK_STREAM, 0, other);
		CHECK(send_fds(a, &other[0], 1, "sock", 4, 0));
		close(other[0]);
		n = SYS(read, other[1], buf, sizeof(buf));
		print_bytes("  data", buf, n > 0 ? n : 0);
		waitpid(pid, &st, 0);
		printf("  child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		fcntl(other[1], F_SETFL, O_NONBLOCK);
		SYS(read, other[1], buf, sizeof(buf));
		close(other[1]);
	}
	close(a);
	close(b);
}

int main(void)
{
	alarm(10);
	self_pid = getpid();
	signal(SIGPIPE, SIG_IGN);

	section_rights();
	section_ctrunc();
	section_many();
	section_bad_cmsg();
	section_self();
	section_boundaries();
	section_unreceived();
	section_creds();
	section_fork();
	puts("done");
	return 0;
}
