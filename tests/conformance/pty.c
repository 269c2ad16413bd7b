/*
 * pty.c: pseudo-terminals: ptmx and the pts node, the default termios,
 * canonical editing and echo, output processing, raw mode with VMIN and
 * VTIME, window size and SIGWINCH, controlling terminals (open and
 * TIOCSCTTY, /dev/tty, TIOCGPGRP/TIOCSPGRP, TIOCGSID), ^C and ^Z to the
 * foreground group, SIGTTIN for a background read, packet mode,
 * TIOCGPTPEER, and hangup when the master closes. Everything happens on
 * pairs this program makes; its own terminal (if any) is never touched.
 */
#include "common.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static volatile sig_atomic_t got;

static void on_sig(int sig)
{
	got = sig;
}

/* Reads what arrives on fd until `want` bytes or 300 ms of quiet. */
static long collect(int fd, char *buf, long want)
{
	long n = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (n < want && poll(&p, 1, 300) == 1) {
		long r = read(fd, buf + n, want - n);
		if (r <= 0)
			break;
		n += r;
	}
	return n;
}

static void show(const char *label, int fd, long want)
{
	char buf[256];
	long n = collect(fd, buf, want);

	print_bytes(label, buf, n);
}

/* Opens a new pair: master and replica (O_NOCTTY), unlocked. */
static int open_pair(int *replica)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);

	if (m < 0 || grantpt(m) || unlockpt(m))
		return -1;
	*replica = open(ptsname(m), O_RDWR | O_NOCTTY);
	return m;
}

static void child_status(const char *label, int st)
{
	if (WIFEXITED(st))
		printf("%s: exit %d\n", label, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: signal %d\n", label, WTERMSIG(st));
	else if (WIFSTOPPED(st))
		printf("%s: stopped %d\n", label, WSTOPSIG(st));
}

int main(void)
{
	int m, s, m2, s2 = -1, n, fd, st, p[2], q[2];
	unsigned int ptn;
	char buf[256], *name;
	struct termios t;
	struct winsize ws;
	struct stat sb;
	pid_t pid, g;

	setvbuf(stdout, NULL, _IONBF, 0);
	m = CHECK(posix_openpt(O_RDWR | O_NOCTTY)) ;
	name = ptsname(m);
	SHOW(name && strncmp(name, "/dev/pts/", 9) == 0);
	CHECK(ioctl(m, TIOCGPTN, &ptn));
	SHOW((unsigned)atoi(name + 9) == ptn);
	CHECK(open(name, O_RDWR | O_NOCTTY));
	CHECK(grantpt(m));
	CHECK(unlockpt(m));
	s = CHECK(open(name, O_RDWR | O_NOCTTY));
	CHECK(fstat(s, &sb));
	SHOW(S_ISCHR(sb.st_mode));
	SHOW(major(sb.st_rdev) == 136 && minor(sb.st_rdev) == ptn);
	CHECK(fstat(m, &sb));
	SHOW(S_ISCHR(sb.st_mode) && major(sb.st_rdev) == 5 && minor(sb.st_rdev) == 2);
	SHOW(isatty(s) && isatty(m));
	SHOW(ttyname(s) && strcmp(ttyname(s), name) == 0);
	CHECK(ioctl(s, TIOCGPTN, &ptn));

	/* The default settings. */
	CHECK(tcgetattr(s, &t));
	printf("iflag %o oflag %o cflag %o lflag %o\n", t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag);
	print_bytes("cc", t.c_cc, 17);
	CHECK(tcgetattr(m, &t));
	printf("master lflag %o\n", t.c_lflag);

	/* Canonical mode: editing, echo, lines, EOF. */
	CHECK(write(m, "ab\x7f" "c\n", 5));
	CHECK(read(s, buf, sizeof(buf)));
	show("echo", m, 12);
	CHECK(write(m, "hello\n", 6));
	CHECK(read(s, buf, 2));
	CHECK(read(s, buf, sizeof(buf)));
	print_bytes("rest", buf, 4);
	CHECK(write(m, "x\x04", 2));
	CHECK(read(s, buf, sizeof(buf)));
	CHECK(write(m, "\x04", 1));
	CHECK(read(s, buf, sizeof(buf)));
	CHECK(write(m, "one two\x17" "\x01\n", 10));
	n = CHECK(read(s, buf, sizeof(buf)));
	print_bytes("line", buf, n);
	show("echo", m, 32);
	CHECK(write(m, "junk\x15" "ok\n", 8));
	n = CHECK(read(s, buf, sizeof(buf)));
	print_bytes("line", buf, n);
	show("echo", m, 32);
	CHECK(write(m, "abc", 3));
	usleep(50000);
	CHECK(ioctl(s, FIONREAD, &n));
	printf("fionread %d\n", n);
	CHECK(write(m, "\n", 1));
	usleep(50000);
	CHECK(ioctl(s, FIONREAD, &n));
	printf("fionread %d\n", n);
	CHECK(read(s, buf, sizeof(buf)));
	show("echo", m, 5);

	/* Output processing. */
	CHECK(write(s, "a\nb\tc", 5));
	show("out", m, 6);
	CHECK(tcgetattr(s, &t));
	t.c_oflag &= ~OPOST;
	CHECK(tcsetattr(s, TCSANOW, &t));
	CHECK(write(s, "a\nb", 3));
	show("out", m, 3);

	/* Raw mode, VMIN and VTIME. */
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	CHECK(tcsetattr(s, TCSANOW, &t));
	CHECK(write(m, "x\ry\x03", 4));
	show("raw", s, 4);
	fcntl(m, F_SETFL, O_NONBLOCK);
	CHECK(read(m, buf, sizeof(buf)));
	fcntl(m, F_SETFL, 0);
	t.c_cc[VMIN] = 0;
	CHECK(tcsetattr(s, TCSANOW, &t));
	CHECK(read(s, buf, sizeof(buf)));
	t.c_cc[VTIME] = 1;
	CHECK(tcsetattr(s, TCSANOW, &t));
	CHECK(read(s, buf, sizeof(buf)));
	CHECK(tcgetattr(s, &t));
	printf("vmin %d vtime %d\n", t.c_cc[VMIN], t.c_cc[VTIME]);

	/* Window size. */
	memset(&ws, 0, sizeof(ws));
	CHECK(ioctl(s, TIOCGWINSZ, &ws));
	printf("rows %d cols %d\n", ws.ws_row, ws.ws_col);
	ws.ws_row = 24;
	ws.ws_col = 80;
	CHECK(ioctl(m, TIOCSWINSZ, &ws));
	memset(&ws, 0, sizeof(ws));
	CHECK(ioctl(s, TIOCGWINSZ, &ws));
	printf("rows %d cols %d\n", ws.ws_row, ws.ws_col);

	/* Not our controlling terminal. */
	CHECK(tcgetpgrp(s));
	CHECK(ioctl(s, TIOCGSID, &n));
	CHECK(tcgetpgrp(m) >= 0);

	/* Packet mode and TIOCGPTPEER. */
	n = 1;
	CHECK(ioctl(m, TIOCPKT, &n));
	CHECK(write(s, "pk", 2));
	show("pkt", m, 3);
	n = 0;
	CHECK(ioctl(m, TIOCPKT, &n));
	fd = CHECK(ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY));
	SHOW(ttyname(fd) && strcmp(ttyname(fd), name) == 0);
	CHECK(close(fd));
	CHECK(ioctl(s, TIOCGPTPEER, O_RDWR));
	CHECK(ioctl(s, TIOCSPTLCK, &n));

	/* A session with this terminal as its controlling terminal. */
	CHECK(tcgetattr(s, &t));
	t.c_lflag |= ICANON | ECHO | ISIG;
	t.c_oflag |= OPOST;
	CHECK(tcsetattr(s, TCSANOW, &t));
	if (pipe(p))
		return 1;
	pid = fork();
	if (pid == 0) {
		int c;

		close(p[0]);
		close(m);
		close(s);
		setsid();
		printf("child: /dev/tty %s\n", open("/dev/tty", O_RDWR) < 0 ? errno_name(errno) : "opened");
		c = open(name, O_RDWR);
		printf("child: fg is me %d\n", tcgetpgrp(c) == getpgrp());
		printf("child: sid is me %d\n", ioctl(c, TIOCGSID, &n) == 0 && n == getsid(0));
		fd = open("/dev/tty", O_RDWR);
		printf("child: /dev/tty %s\n", fd < 0 ? errno_name(errno) : "opened");
		if (fd >= 0 && fstat(fd, &sb) == 0)
			printf("child: /dev/tty rdev %d,%d\n", major(sb.st_rdev), minor(sb.st_rdev));
		/* A job in its own group, made the foreground. */
		if (pipe(q))
			_exit(1);
		g = fork();
		if (g == 0) {
			signal(SIGWINCH, on_sig);
			setpgid(0, 0);
			if (read(q[0], buf, 1) != 1 || write(p[1], "r", 1) != 1)
				_exit(1);
			while (got != SIGWINCH)
				usleep(1000);
			printf("grandchild: SIGWINCH\n");
			if (write(p[1], "w", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		setpgid(g, g);
		signal(SIGTTOU, SIG_IGN);
		printf("child: tcsetpgrp %d\n", tcsetpgrp(c, g));
		printf("child: tcsetpgrp bad %s\n", tcsetpgrp(c, 999999) < 0 ? errno_name(errno) : "ok");
		signal(SIGTTIN, SIG_IGN);
		printf("child: background read %s\n", read(c, buf, 1) < 0 ? errno_name(errno) : "ok");
		if (write(q[1], "g", 1) != 1)
			_exit(1);
		waitpid(g, &st, 0);
		child_status("grandchild", st);
		/* ^Z stops the next foreground job. */
		g = fork();
		if (g == 0) {
			setpgid(0, 0);
			while (tcgetpgrp(c) != getpgrp())
				usleep(1000);
			if (write(p[1], "z", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		setpgid(g, g);
		tcsetpgrp(c, g);
		waitpid(g, &st, WUNTRACED);
		child_status("job", st);
		kill(g, SIGKILL);
		waitpid(g, &st, 0);
		tcsetpgrp(c, getpgrp());
		signal(SIGHUP, on_sig);
		if (write(p[1], "h", 1) != 1)
			_exit(1);
		while (got != SIGHUP)
			usleep(1000);
		printf("child: SIGHUP\n");
		printf("child: read after hangup %ld\n", (long)read(c, buf, 1));
		printf("child: write after hangup %s\n", write(c, "x", 1) < 0 ? errno_name(errno) : "ok");
		_exit(0);
	}
	/* The parent prints nothing until the child is done. */
	close(p[1]);
	n = read(p[0], buf, 1) == 1;
	ws.ws_row = 25;
	n &= ioctl(m, TIOCSWINSZ, &ws) == 0;
	n &= read(p[0], buf, 1) == 1;
	n &= write(m, "\x03", 1) == 1;
	n &= read(p[0], buf, 1) == 1;
	n &= write(m, "\x1a", 1) == 1;
	n &= read(p[0], buf, 1) == 1;
	fd = collect(m, buf, 16);
	/* Hang up: the last master descriptor closes. */
	n &= close(s) == 0;
	n &= close(m) == 0;
	waitpid(pid, &st, 0);
	child_status("child", st);
	printf("parent steps ok %d\n", n);
	print_bytes("echo", buf, fd);

	/* TIOCSCTTY on a terminal another session holds. */
	m2 = open_pair(&s2);
	SHOW(m2 >= 0 && s2 >= 0);
	pid = fork();
	if (pid == 0) {
		setsid();
		printf("a: sctty %d\n", ioctl(s2, TIOCSCTTY, 0));
		printf("a: fg is me %d\n", tcgetpgrp(s2) == getpgrp());
		usleep(500000);
		_exit(0);
	}
	usleep(200000);
	g = fork();
	if (g == 0) {
		setsid();
		printf("b: sctty %s\n", ioctl(s2, TIOCSCTTY, 0) < 0 ? errno_name(errno) : "ok");
		_exit(0);
	}
	waitpid(g, &st, 0);
	g = fork();
	if (g == 0) {
		printf("c: not a leader %s\n", ioctl(s2, TIOCSCTTY, 0) < 0 ? errno_name(errno) : "ok");
		_exit(0);
	}
	waitpid(g, &st, 0);
	waitpid(pid, &st, 0);
	child_status("a", st);
	/* The master sees that every replica closed. */
	CHECK(close(s2));
	CHECK(read(m2, buf, sizeof(buf)));
	CHECK(close(m2));
	return 0;
}
