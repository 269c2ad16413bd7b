/*
 * unix_path.c: AF_UNIX sockets bound to path names. For SOCK_STREAM: bind
 * creates a socket file (S_ISSOCK, mode 0777 & ~umask), EADDRINUSE for a
 * name in use, ECONNREFUSED before listen and after close, a forked child
 * connecting by path (names, SO_PEERCRED), ENOENT, ENOTDIR and EADDRINUSE
 * for names that are missing or not sockets, EPROTOTYPE for a datagram
 * socket's file, a sun_path without a NUL, a relative path (chdir), and a
 * name that can be bound again once unlinked. For SOCK_DGRAM: sendto by
 * path (the sender's name is reported), names that are missing, not
 * sockets or closed, and a connection that outlives its unlinked name.
 *
 * Everything lives in a directory made with mkdtemp under /tmp, printed as
 * "D"; the program writes nowhere else, and removes what it made (rmdir(D)
 * must succeed). If mkdtemp fails (a read-only /tmp), the checks run
 * against a directory that does not exist. Children do not print; the
 * parent reports their exit status.
 */
#include "common.h"
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "unix_common.h"

/* The mkdtemp directory; if that fails, a directory that does not exist. */
static char scratch[64];
static int have_scratch;

static void on_sigpipe(int sig)
{
	(void)sig;
}

/* "<scratch>/<name>", NUL included in the length as Linux reports it. */
static socklen_t path_addr(struct sockaddr_un *a, const char *name)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", scratch, name);
	return SUN_OFF + n + 1;
}

/*
 * Print a returned address without anything that differs between runs: the
 * scratch directory is shown as "D". No abstract names are used here.
 */
static void show_addr(const char *label, const struct sockaddr_un *a, socklen_t len)
{
	char name[128];
	size_t n, plen;

	if (len <= SUN_OFF) {
		printf("  %s: len %u family %s\n", label, (unsigned)len,
		       len < 2 ? "-" : a->sun_family == AF_UNIX ? "AF_UNIX" : "other");
		return;
	}
	if (a->sun_family != AF_UNIX) {
		printf("  %s: len %u family other\n", label, (unsigned)len);
		return;
	}
	if (a->sun_path[0] == 0) {
		printf("  %s: abstract, len - 2 = %u\n", label, (unsigned)(len - SUN_OFF));
		return;
	}
	n = strnlen(a->sun_path, len - SUN_OFF);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, a->sun_path, n);
	name[n] = 0;
	plen = strlen(scratch);
	if (plen && strncmp(name, scratch, plen) == 0)
		printf("  %s: path \"D%s\"", label, name + plen);
	else
		printf("  %s: path \"%s\"", label, name);
	printf(" len - 2 - strlen = %d\n", (int)(len - SUN_OFF - n));
}

static void show_sockname(const char *label, int fd)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);

	memset(&a, 0x55, sizeof(a));
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		printf("  getsockname %s = -1 %s\n", label, errno_name(errno));
	else
		show_addr(label, &a, len);
}

static void show_peername(const char *label, int fd)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);

	memset(&a, 0x55, sizeof(a));
	if (getpeername(fd, (struct sockaddr *)&a, &len) < 0)
		printf("  getpeername %s = -1 %s\n", label, errno_name(errno));
	else
		show_addr(label, &a, len);
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

static void section_path(void)
{
	struct sockaddr_un pa, sa, fa;
	socklen_t palen, len, falen;
	struct stat st;
	int l, s, c, n, f, cwd;
	pid_t pid;
	mode_t mask;
	char buf[64];
	long r;

	puts("-- path names");
	palen = path_addr(&pa, "stream.sock");
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(bind, l, &pa, palen);
	mask = umask(0);
	umask(mask);
	errno = 0;
	r = stat(pa.sun_path, &st);
	check_print("  stat", r, errno);
	printf("  S_ISSOCK %d mode == 0777 & ~umask %d\n", r == 0 && S_ISSOCK(st.st_mode),
	       r == 0 && (st.st_mode & 07777) == (0777 & ~mask));
	show_sockname("l", l);
	SYS(bind, l, &pa, palen);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(bind, s, &pa, palen);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(connect, c, &pa, palen);
	close(c);
	SYS(listen, l, 5);

	/* A forked child connects and talks; the parent checks its creds. */
	pid = fork();
	if (pid == 0) {
		struct sockaddr_un peer;
		socklen_t plen = sizeof(peer);
		char b[16];
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		if (connect(fd, (struct sockaddr *)&pa, palen) < 0)
			_exit(1);
		if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 || plen != palen ||
		    strcmp(peer.sun_path, pa.sun_path) != 0)
			_exit(2);
		if (write(fd, "from child", 10) != 10)
			_exit(3);
		if (read(fd, b, sizeof(b)) != 5 || memcmp(b, "reply", 5) != 0)
			_exit(4);
		_exit(0);
	}
	len = sizeof(sa);
	memset(&sa, 0x55, sizeof(sa));
	n = SYS_OK(accept, l, &sa, &len);
	show_addr("accepted peer", &sa, len);
	show_sockname("accepted", n);
	{
		struct ucred cred = { -1, -1, -1 };

		len = sizeof(cred);
		getsockopt(n, SOL_SOCKET, SO_PEERCRED, &cred, &len);
		printf("  SO_PEERCRED: pid == child %d uid == getuid %d gid == getgid %d\n",
		       cred.pid == pid, cred.uid == getuid(), cred.gid == getgid());
	}
	r = SYS(read, n, buf, sizeof(buf));
	print_bytes("  data", buf, r > 0 ? r : 0);
	SYS(write, n, "reply", 5);
	reap("child", pid);
	fcntl(n, F_SETFL, O_NONBLOCK);
	SYS(read, n, buf, sizeof(buf));
	close(n);

	/* Names that are not sockets, or not there. */
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	len = path_addr(&sa, "missing");
	SYS(connect, c, &sa, len);
	len = path_addr(&sa, "missing/x");
	SYS(connect, c, &sa, len);
	SYS(bind, c, &sa, len);
	falen = path_addr(&fa, "file");
	f = open(fa.sun_path, O_CREAT | O_WRONLY | O_EXCL | O_CLOEXEC, 0600);
	close(f);
	SYS(connect, c, &fa, falen);
	SYS(bind, c, &fa, falen);
	len = path_addr(&sa, "file/x");
	SYS(connect, c, &sa, len);
	SYS(bind, c, &sa, len);
	len = path_addr(&sa, ".");
	SYS(connect, c, &sa, len);
	SYS(bind, c, &sa, len);
	/* Wrong type: a datagram socket on a path. */
	{
		struct sockaddr_un da;
		socklen_t dalen = path_addr(&da, "dgram.sock");
		int d = socket(AF_UNIX, SOCK_DGRAM, 0);

		SYS(bind, d, &da, dalen);
		SYS(connect, c, &da, dalen);
		close(d);
		/* The file stays after close: the name is refused, and in use. */
		SYS(connect, c, &da, dalen);
		SYS(bind, c, &da, dalen);
		unlink(da.sun_path);
	}
	/* A path without a NUL in sun_path: the length ends it. */
	len = path_addr(&sa, "nonul.sock");
	memset(sa.sun_path + strlen(sa.sun_path), 'X', sizeof(sa.sun_path) - strlen(sa.sun_path));
	SYS(bind, c, &sa, len - 1);
	show_sockname("c", c);
	close(c);
	len = path_addr(&sa, "nonul.sock");
	SHOW(stat(sa.sun_path, &st) == 0 && S_ISSOCK(st.st_mode));
	unlink(sa.sun_path);

	/* A relative path is reported as given. */
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (chdir(scratch) == 0) {
		struct sockaddr_un ra = { .sun_family = AF_UNIX, .sun_path = "rel.sock" };
		socklen_t ralen = SUN_OFF + strlen(ra.sun_path) + 1;
		int rl = socket(AF_UNIX, SOCK_STREAM, 0);

		SYS(bind, rl, &ra, ralen);
		show_sockname("rl", rl);
		listen(rl, 5);
		c = socket(AF_UNIX, SOCK_STREAM, 0);
		SYS(connect, c, &ra, ralen);
		show_peername("peer of c", c);
		close(c);
		close(rl);
		unlink("rel.sock");
	} else {
		printf("  chdir scratch = -1 %s\n", errno_name(errno));
	}
	if (fchdir(cwd) < 0)
		printf("  fchdir = -1 %s\n", errno_name(errno));
	close(cwd);

	/* After the listener closes the file remains, refusing connections. */
	close(l);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	SYS(connect, c, &pa, palen);
	SYS(unlink, pa.sun_path);
	SYS(connect, c, &pa, palen);
	/* Unlinked, the path can be bound again. */
	SYS(bind, s, &pa, palen);
	close(s);
	close(c);
	unlink(pa.sun_path);
	unlink(fa.sun_path);
}

static void section_dgram_path(void)
{
	struct sockaddr_un p1, p2, fa, sa;
	socklen_t l1, l2, fl, len;
	int s1, s2, s3, f;
	struct stat st;

	puts("-- dgram path names");
	l1 = path_addr(&p1, "d1.sock");
	l2 = path_addr(&p2, "d2.sock");
	s1 = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	s2 = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	SYS(bind, s1, &p1, l1);
	SYS(bind, s2, &p2, l2);
	SHOW(stat(p1.sun_path, &st) == 0 && S_ISSOCK(st.st_mode));
	show_sockname("s1", s1);
	SYS(sendto, s1, "by path", 7, 0, &p2, l2);
	show_recvfrom("recvfrom(s2)", s2, 64, 0);
	/* Not there, not a socket, no longer bound. */
	len = path_addr(&sa, "missing.sock");
	SYS(sendto, s1, "x", 1, 0, &sa, len);
	SYS(connect, s1, &sa, len);
	fl = path_addr(&fa, "file");
	f = open(fa.sun_path, O_CREAT | O_WRONLY | O_EXCL | O_CLOEXEC, 0600);
	close(f);
	SYS(sendto, s1, "x", 1, 0, &fa, fl);
	SYS(connect, s1, &fa, fl);
	unlink(fa.sun_path);
	/* Connected by path; the connection outlives the name. */
	SYS(connect, s1, &p2, l2);
	show_peername("s1", s1);
	SYS(unlink, p2.sun_path);
	CHECK(send(s1, "after unlink", 12, 0));
	show_recvfrom("recvfrom(s2)", s2, 64, 0);
	show_peername("s1", s1);
	show_sockname("s2", s2);
	SYS(sendto, s1, "x", 1, 0, &p2, l2);
	/* The name of a closed socket is refused. */
	s3 = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	len = path_addr(&sa, "d3.sock");
	SYS(bind, s3, &sa, len);
	close(s3);
	SYS(sendto, s1, "x", 1, 0, &sa, len);
	SYS(connect, s1, &sa, len);
	unlink(sa.sun_path);
	close(s1);
	close(s2);
	unlink(p1.sun_path);
}

/*
 * Every name the sections may leave behind if a check fails. Removing them
 * before rmdir(D) keeps the cleanup complete; the count shows a leftover.
 */
static void remove_leftovers(void)
{
	static const char *const names[] = {
		"stream.sock", "file", "dgram.sock", "nonul.sock", "rel.sock",
		"d1.sock", "d2.sock", "d3.sock", "missing", "missing.sock",
	};
	struct sockaddr_un sa;
	int removed = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_addr(&sa, names[i]);
		if (unlink(sa.sun_path) == 0)
			removed++;
	}
	printf("leftover names removed: %d\n", removed);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };

	alarm(10);
	sigaction(SIGPIPE, &sa, NULL);

	puts("-- scratch directory");
	strcpy(scratch, "/tmp/conf-unix-XXXXXX");
	errno = 0;
	if (!mkdtemp(scratch)) {
		check_ok_print("mkdtemp(\"/tmp/conf-unix-XXXXXX\")", -1, errno);
		strcpy(scratch, "/nonexistent-conf-unix");
	} else {
		check_ok_print("mkdtemp(\"/tmp/conf-unix-XXXXXX\")", 0, 0);
		have_scratch = 1;
	}

	section_path();
	section_dgram_path();

	puts("-- cleanup");
	if (have_scratch) {
		remove_leftovers();
		errno = 0;
		check_print("rmdir(D)", rmdir(scratch), errno);
	}
	puts("done");
	return 0;
}
