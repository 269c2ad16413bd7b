/*
 * posix_mq.c: POSIX message queues as raw system calls: mq_open(2)
 * (O_CREAT, O_EXCL, an existing queue, names, attributes and their
 * limits), mq_timedsend(2) and mq_timedreceive(2) (priority order,
 * EMSGSIZE, O_NONBLOCK, timeouts), mq_getsetattr(2) (only O_NONBLOCK
 * changes), mq_notify(2) with SIGEV_SIGNAL and SIGEV_NONE (SI_MESGQ,
 * EBUSY, unregistering, no signal for a queue that was not empty or when a
 * receiver waits, registration dropped on close), read(2) of the queue
 * file (QSIZE and NOTIFY fields), poll(2), mq_unlink(2) (the open
 * descriptor still works), blocking calls woken by a forked child, a
 * descriptor inherited across fork, signals (EINTR, or a restart with
 * SA_RESTART), and permissions for uid 65534. glibc's mq_open and
 * mq_unlink are used only for their own name checks.
 *
 * The natively run program shares the host's IPC namespace: every queue
 * has a name made of the pid and a random number, is created with O_EXCL,
 * and is unlinked by the parent before exit (atexit, and a SIGALRM handler
 * if it hangs). Names are printed as N("tag"), pids never.
 */
#include "common.h"
#include <sys/resource.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

/* ---- names, and cleanup of the queues this process made ---- */

static char prefix[64];
static char made[32][128];
static int nmade;
static pid_t parent;

/* The kernel's name (no leading slash) for tag: unique to this run. */
static const char *N(const char *tag)
{
	static char buf[8][128];
	static int k;
	char *b = buf[k++ % 8];

	snprintf(b, 128, "%s%s", prefix, tag);
	return b;
}

/* The same with a leading slash, for glibc. */
static const char *SLASH_N(const char *tag)
{
	static char buf[4][130];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, 130, "/%s%s", prefix, tag);
	return b;
}

static void track(const char *tag)
{
	const char *name = N(tag);

	for (int i = 0; i < nmade; i++)
		if (strcmp(made[i], name) == 0)
			return;
	if (nmade < 32)
		snprintf(made[nmade++], 128, "%s", name);
}

static void untrack(const char *tag)
{
	const char *name = N(tag);

	for (int i = 0; i < nmade; i++)
		if (strcmp(made[i], name) == 0)
			made[i][0] = 0;
}

static void cleanup(void)
{
	if (getpid() != parent)
		return;
	for (int i = 0; i < nmade; i++)
		if (made[i][0])
			syscall(SYS_mq_unlink, made[i]);
	nmade = 0;
}

static void on_alarm(int sig)
{
	(void)sig;
	cleanup();
	_exit(99);
}

/* mq_open(N(tag), ...), printed as written, the queue remembered if made. */
static int open_q(const char *tag, int flags, int mode, void *attr, const char *text)
{
	char label[200];
	long fd;

	snprintf(label, sizeof(label), "mq_open(N(\"%s\"), %s)", tag, text);
	errno = 0;
	fd = syscall(SYS_mq_open, N(tag), flags, mode, attr);
	check_print(label, fd, errno);
	if (fd >= 0 && (flags & O_CREAT))
		track(tag);
	return fd;
}

#define OPEN(tag, flags, mode, attr) open_q(tag, flags, mode, attr, #flags ", " #mode ", " #attr)

#define UNLINK(tag) ({ long r_ = SYS(mq_unlink, N(tag)); untrack(tag); r_; })

/* Silent versions. */
static long send_quiet(int fd, const char *text, unsigned prio)
{
	return syscall(SYS_mq_timedsend, fd, text, strlen(text), prio, NULL);
}

static long recv_quiet(int fd, char *buf, size_t len)
{
	return syscall(SYS_mq_timedreceive, fd, buf, len, NULL, NULL);
}

/* "mq_timedsend(fd, "text", 4, 5, NULL) = 0" */
static long snd(int fd, const char *fd_text, const char *text, unsigned prio)
{
	char label[160];
	long r;

	snprintf(label, sizeof(label), "mq_timedsend(%s, \"%s\", %zu, %u, NULL)", fd_text, text, strlen(text), prio);
	errno = 0;
	r = syscall(SYS_mq_timedsend, fd, text, strlen(text), prio, NULL);
	return check_print(label, r, errno);
}

#define SEND(fd, text, prio) snd(fd, #fd, text, prio)

/* mq_timedreceive into a buffer of len bytes, printing what came. */
static long rcv(int fd, const char *fd_text, size_t len)
{
	static char buf[16384];
	unsigned prio = 12345;
	char label[160];
	long r;

	memset(buf, 0, sizeof(buf));
	snprintf(label, sizeof(label), "mq_timedreceive(%s, buf, %zu, &prio, NULL)", fd_text, len);
	errno = 0;
	r = syscall(SYS_mq_timedreceive, fd, buf, len, &prio, NULL);
	check_print(label, r, errno);
	if (r >= 0) {
		printf("  prio %u, ", prio);
		print_bytes("data", buf, r);
	}
	return r;
}

#define RECV(fd, len) rcv(fd, #fd, len)

static void show_attr(int fd)
{
	struct mq_attr a;

	memset(&a, 0xff, sizeof(a));
	if (syscall(SYS_mq_getsetattr, fd, NULL, &a) != 0) {
		printf("  getattr: %s\n", errno_name(errno));
		return;
	}
	printf("  flags %s, maxmsg %ld, msgsize %ld, curmsgs %ld\n",
	       a.mq_flags == 0 ? "0" : a.mq_flags == O_NONBLOCK ? "O_NONBLOCK" : "?", a.mq_maxmsg,
	       a.mq_msgsize, a.mq_curmsgs);
}

static struct timespec from_now(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static int reached(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void msleep(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) == -1 && errno == EINTR)
		;
}

/* The state letter of process pid in /proc/PID/stat, or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (slurp(path, buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static int asleep(pid_t pid)
{
	return proc_state(pid) == 'S';
}

/*
 * Wait (at most 5 s) until pid is asleep, then 20 ms more; give up at
 * once if it has exited (its call did not wait).
 */
static int wait_asleep(pid_t pid)
{
	for (int i = 0; i < 5000; i++) {
		char state = proc_state(pid);

		if (state == 'S') {
			msleep(20);
			return asleep(pid);
		}
		if (state == 0 || state == 'Z' || state == 'X')
			return 0;
		msleep(1);
	}
	return 0;
}

/* waitpid that a signal does not cut short; returns the status. */
static int reap(pid_t pid)
{
	int st = 0;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

static void show_status(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: signal %d\n", what, WTERMSIG(st));
	else
		printf("%s: status 0x%x\n", what, st);
}

/*
 * The queue file: "QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n".
 * Printed as it is up to NOTIFY_PID, whose value is shown as 0, self or
 * other.
 */
static void show_file(int fd, pid_t self)
{
	char buf[256], *pidp;
	long n;

	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		printf("  read: -1 %s\n", errno_name(errno));
		return;
	}
	buf[n] = 0;
	pidp = strstr(buf, "NOTIFY_PID:");
	if (!pidp) {
		print_bytes("  file", buf, n);
		return;
	}
	{
		long pid = strtol(pidp + 11, NULL, 10);
		int pad = (int)strspn(pidp + 11 + strspn(pidp + 11, "0123456789"), " ");
		int digits = (int)strspn(pidp + 11, "0123456789");

		pidp[11] = 0;
		print_bytes("  file", buf, pidp + 11 - buf);
		printf("    NOTIFY_PID %s, padded to 6: %d, ends with a newline: %d\n",
		       pid == 0 ? "0" : pid == self ? "self" : "other", digits + pad == 6 || (digits > 6 && pad == 0),
		       buf[n - 1] == '\n');
	}
}

static void test_open(void)
{
	struct mq_attr a;
	struct stat st;
	int fd, fd2, fd3;

	puts("-- mq_open");
	fd = OPEN("a", O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
	show_attr(fd);
	OPEN("a", O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
	fd2 = OPEN("a", O_RDONLY, 0, NULL);
	/* An existing queue keeps its attributes. */
	a = (struct mq_attr){ .mq_maxmsg = 2, .mq_msgsize = 16 };
	fd3 = OPEN("a", O_CREAT | O_WRONLY | O_NONBLOCK, 0600, &a);
	show_attr(fd3);
	OPEN("a", O_RDWR | O_WRONLY, 0, NULL);
	OPEN("missing", O_RDONLY, 0, NULL);
	OPEN("missing", O_RDWR | O_EXCL, 0, NULL);
	printf("F_GETFD %d, F_GETFL O_RDWR %d\n", fcntl(fd, F_GETFD), (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
	printf("F_GETFL: O_RDONLY %d, O_WRONLY|O_NONBLOCK %d\n", (fcntl(fd2, F_GETFL) & O_ACCMODE) == O_RDONLY,
	       (fcntl(fd3, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == (O_WRONLY | O_NONBLOCK));
	CHECK(fstat(fd, &st));
	printf("  S_ISREG %d, mode 0%o, size %ld, nlink %lu, uid == euid %d\n", S_ISREG(st.st_mode),
	       st.st_mode & 07777, (long)st.st_size, (unsigned long)st.st_nlink, st.st_uid == geteuid());
	close(fd2);
	close(fd3);
	fd2 = OPEN("a", O_RDONLY | O_CLOEXEC, 0, NULL);
	printf("F_GETFD %d\n", fcntl(fd2, F_GETFD));
	close(fd2);

	puts("-- names");
	SYS(mq_open, "a/b", O_RDONLY, 0, NULL);
	SYS(mq_open, "/", O_RDONLY, 0, NULL);
	SYS(mq_open, "", O_RDONLY, 0, NULL);
	SYS(mq_open, ".", O_RDONLY, 0, NULL);
	SYS(mq_open, "..", O_RDONLY, 0, NULL);
	SYS(mq_open, ".", O_CREAT | O_RDWR, 0600, NULL);
	SYS(mq_open, NULL, O_RDONLY, 0, NULL);
	SYS(mq_open, BAD_PTR, O_RDONLY, 0, NULL);
	{
		char longname[300];

		snprintf(longname, sizeof(longname), "%s", N(""));
		memset(longname + strlen(longname), 'x', 256 - strlen(longname));
		longname[256] = 0;
		SYS(mq_open, longname, O_CREAT | O_RDWR, 0600, NULL);
		SYS(mq_open, longname, O_RDONLY, 0, NULL);
		SYS(mq_unlink, longname);
	}
	/* glibc wants a leading slash, which it strips. */
	CHECK(mq_open(N("a"), O_RDONLY));
	fd2 = CHECK(mq_open(SLASH_N("a"), O_RDONLY));
	close(fd2);
	CHECK(mq_open("/a/b", O_RDONLY));
	CHECK(mq_unlink(N("a")));

	puts("-- attributes");
	a = (struct mq_attr){ .mq_maxmsg = 4, .mq_msgsize = 64, .mq_flags = O_NONBLOCK, .mq_curmsgs = 3 };
	fd2 = OPEN("b", O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	show_attr(fd2);
	close(fd2);
	UNLINK("b");
	a = (struct mq_attr){ .mq_maxmsg = 0, .mq_msgsize = 64 };
	OPEN("c", O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	a = (struct mq_attr){ .mq_maxmsg = -1, .mq_msgsize = 64 };
	OPEN("c", O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	a = (struct mq_attr){ .mq_maxmsg = 4, .mq_msgsize = 0 };
	OPEN("c", O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	a = (struct mq_attr){ .mq_maxmsg = 4, .mq_msgsize = -1 };
	OPEN("c", O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	/* Beyond the hard limits (65536 messages, 16 MiB), even for root. */
	a = (struct mq_attr){ .mq_maxmsg = 65537, .mq_msgsize = 64 };
	OPEN("c", O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	a = (struct mq_attr){ .mq_maxmsg = 4, .mq_msgsize = (16 << 20) + 1 };
	OPEN("c", O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	OPEN("c", O_CREAT | O_EXCL | O_RDWR, 0600, BAD_PTR);
	OPEN("c", O_RDONLY, 0, NULL);
	/* The attributes are not looked at without O_CREAT. */
	OPEN("a", O_RDONLY, 0, BAD_PTR);
	/* The mode is masked by the umask (022 here). */
	fd2 = OPEN("c", O_CREAT | O_EXCL | O_RDWR, 0777, NULL);
	fstat(fd2, &st);
	printf("  mode 0%o\n", st.st_mode & 07777);
	close(fd2);
	UNLINK("c");
	close(fd);
	UNLINK("a");
}

static void test_send_receive(void)
{
	puts("-- priority order");
	struct mq_attr a = { .mq_maxmsg = 4, .mq_msgsize = 64 };
	int fd = OPEN("q", O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	int ro = OPEN("q", O_RDONLY, 0, NULL), wo = OPEN("q", O_WRONLY, 0, NULL);
	char buf[128];
	int p[2];

	memset(buf, 'b', sizeof(buf));
	SEND(fd, "low", 1);
	SEND(fd, "high", 5);
	SEND(fd, "mid", 3);
	SEND(fd, "high 2", 5);
	show_attr(fd);
	RECV(fd, 64);
	RECV(fd, 64);
	RECV(fd, 64);
	RECV(fd, 64);
	SEND(fd, "", 0);
	SEND(fd, "max prio", 32767);
	SEND(fd, "too high", 32768);
	RECV(fd, 64);
	RECV(ro, 100);
	/* The prio pointer may be NULL. */
	send_quiet(fd, "no prio", 2);
	SYS(mq_timedreceive, fd, buf, 64, NULL, NULL);

	puts("-- sizes");
	SYS(mq_timedsend, fd, buf, 64, 0, NULL);
	SYS(mq_timedsend, fd, buf, 65, 0, NULL);
	SEND(fd, "short", 0);
	SYS(mq_timedreceive, fd, buf, 63, NULL, NULL);
	show_attr(fd);
	RECV(fd, 64);
	RECV(fd, 64);
	/* The buffer size is checked before the queue. */
	SYS(mq_timedreceive, fd, buf, 0, NULL, NULL);

	puts("-- descriptors and pointers");
	SEND(ro, "x", 0);
	SEND(wo, "y", 0);
	RECV(wo, 64);
	RECV(ro, 64);
	if (pipe(p) == 0) {
		SYS(mq_timedsend, p[1], "x", 1, 0, NULL);
		SYS(mq_timedreceive, p[0], buf, 64, NULL, NULL);
		SYS(mq_getsetattr, p[0], NULL, &a);
		SYS(mq_notify, p[0], NULL);
		close(p[0]);
		close(p[1]);
	}
	SYS(mq_timedsend, BAD_FD, "x", 1, 0, NULL);
	SYS(mq_timedreceive, BAD_FD, buf, 64, NULL, NULL);
	SYS(mq_timedsend, fd, BAD_PTR, 1, 0, NULL);
	show_attr(fd);
	/* A message that cannot be copied out is lost. */
	send_quiet(fd, "lost", 0);
	SYS(mq_timedreceive, fd, BAD_PTR, 64, NULL, NULL);
	show_attr(fd);
	send_quiet(fd, "lost too", 0);
	SYS(mq_timedreceive, fd, buf, 64, BAD_PTR, NULL);
	show_attr(fd);
	close(ro);
	close(wo);

	puts("-- O_NONBLOCK");
	{
		int nb = OPEN("q", O_RDWR | O_NONBLOCK, 0, NULL);
		struct timespec ts = from_now(1000);

		RECV(nb, 64);
		SYS(mq_timedreceive, nb, buf, 64, NULL, &ts);
		for (int i = 0; i < 4; i++)
			send_quiet(nb, "fill", i);
		show_attr(nb);
		SEND(nb, "one more", 9);
		SYS(mq_timedsend, nb, "x", 1, 0, &ts);
		/* The blocking descriptor times out instead. */
		ts = from_now(50);
		SYS(mq_timedsend, fd, "x", 1, 0, &ts);
		SHOW(reached(&ts));
		for (int i = 0; i < 4; i++)
			RECV(nb, 64);
		RECV(nb, 64);
		close(nb);
	}

	puts("-- timeouts");
	{
		struct timespec ts = from_now(50);

		SYS(mq_timedreceive, fd, buf, 64, NULL, &ts);
		SHOW(reached(&ts));
		ts = (struct timespec){ 0, 0 };
		SYS(mq_timedreceive, fd, buf, 64, NULL, &ts);
		ts = (struct timespec){ -1, 0 };
		SYS(mq_timedreceive, fd, buf, 64, NULL, &ts);
		ts = (struct timespec){ 0, 1000000000L };
		SYS(mq_timedreceive, fd, buf, 64, NULL, &ts);
		SYS(mq_timedreceive, fd, buf, 64, NULL, BAD_PTR);
		/* Checked even when the call would not wait. */
		send_quiet(fd, "here", 0);
		ts = (struct timespec){ 0, -1 };
		SYS(mq_timedreceive, fd, buf, 64, NULL, &ts);
		SYS(mq_timedsend, fd, "x", 1, 0, &ts);
		ts = (struct timespec){ 0, 0 };
		SYS(mq_timedreceive, fd, buf, 64, NULL, &ts);
		SYS(mq_timedsend, fd, "x", 1, 0, &ts);
		RECV(fd, 64);
	}
	close(fd);
	UNLINK("q");
}

static void test_attr(void)
{
	puts("-- mq_getsetattr");
	struct mq_attr a = { .mq_maxmsg = 3, .mq_msgsize = 32 }, old, set;
	int fd = OPEN("attr", O_CREAT | O_EXCL | O_RDWR, 0600, &a), fd2;
	char buf[32];

	send_quiet(fd, "one", 0);
	memset(&old, 0xff, sizeof(old));
	SYS(mq_getsetattr, fd, NULL, &old);
	printf("  flags %ld, maxmsg %ld, msgsize %ld, curmsgs %ld\n", old.mq_flags, old.mq_maxmsg, old.mq_msgsize,
	       old.mq_curmsgs);
	set = (struct mq_attr){ .mq_flags = O_NONBLOCK, .mq_maxmsg = 99, .mq_msgsize = 99, .mq_curmsgs = 99 };
	memset(&old, 0xff, sizeof(old));
	SYS(mq_getsetattr, fd, &set, &old);
	printf("  old: flags %ld, maxmsg %ld, msgsize %ld, curmsgs %ld\n", old.mq_flags, old.mq_maxmsg,
	       old.mq_msgsize, old.mq_curmsgs);
	show_attr(fd);
	printf("  F_GETFL O_NONBLOCK %d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
	recv_quiet(fd, buf, sizeof(buf));
	SYS(mq_timedreceive, fd, buf, 32, NULL, NULL);
	/* Other descriptors of the queue are not affected. */
	fd2 = OPEN("attr", O_RDWR, 0, NULL);
	show_attr(fd2);
	close(fd2);
	set.mq_flags = 0;
	SYS(mq_getsetattr, fd, &set, NULL);
	show_attr(fd);
	/* fcntl changes the same flag. */
	CHECK(fcntl(fd, F_SETFL, O_NONBLOCK));
	show_attr(fd);
	CHECK(fcntl(fd, F_SETFL, 0));
	show_attr(fd);
	set.mq_flags = O_NONBLOCK | O_APPEND;
	SYS(mq_getsetattr, fd, &set, NULL);
	set.mq_flags = 1;
	SYS(mq_getsetattr, fd, &set, NULL);
	show_attr(fd);
	SYS(mq_getsetattr, fd, NULL, NULL);
	SYS(mq_getsetattr, fd, BAD_PTR, NULL);
	SYS(mq_getsetattr, fd, NULL, BAD_PTR);
	SYS(mq_getsetattr, BAD_FD, NULL, &old);
	close(fd);
	UNLINK("attr");
}

static volatile sig_atomic_t got_signo, got_code, got_value, got_pid, got_uid, handled;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	handled++;
	got_signo = sig;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
	got_pid = si->si_pid;
	got_uid = si->si_uid;
}

static void show_signal(pid_t sender)
{
	printf("  handled %d", handled);
	if (handled)
		printf(", signo %s, si_code %s, si_value %d, si_pid == sender %d, si_uid == uid %d",
		       got_signo == SIGUSR1 ? "SIGUSR1" : "?", got_code == SI_MESGQ ? "SI_MESGQ" : "?",
		       got_value, got_pid == sender, got_uid == (int)getuid());
	printf("\n");
	handled = 0;
	got_code = got_value = 0;
}

static void test_notify(void)
{
	puts("-- mq_notify");
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	int fd = OPEN("n", O_CREAT | O_EXCL | O_RDWR, 0600, NULL), fd2;
	pid_t self = getpid(), pid;
	char buf[8192];
	int st;

	sigaction(SIGUSR1, &sa, NULL);
	sev.sigev_value.sival_int = 42;
	show_file(fd, self);
	SYS(mq_notify, fd, &sev);
	show_file(fd, self);
	SYS(mq_notify, fd, &sev);
	SEND(fd, "wake", 0);
	show_signal(self);
	show_file(fd, self);
	/* The registration is gone: it can be made again. */
	SYS(mq_notify, fd, &sev);
	/* No signal when the queue was not empty. */
	SEND(fd, "second", 0);
	show_signal(self);
	SYS(mq_notify, fd, &sev);
	RECV(fd, 8192);
	RECV(fd, 8192);
	/* Unregistered: nothing. */
	SYS(mq_notify, fd, NULL);
	show_file(fd, self);
	SYS(mq_notify, fd, NULL);
	SEND(fd, "unregistered", 0);
	show_signal(self);
	recv_quiet(fd, buf, sizeof(buf));

	puts("-- mq_notify and other processes");
	SYS(mq_notify, fd, &sev);
	/* Another process cannot register or unregister. */
	pid = fork();
	if (pid == 0) {
		SYS(mq_notify, fd, &sev);
		SYS(mq_notify, fd, NULL);
		_exit(0);
	}
	st = reap(pid);
	SYS(mq_notify, fd, &sev);
	/* A message from a child: si_pid is the sender's. */
	pid = fork();
	if (pid == 0)
		_exit(send_quiet(fd, "from the child", 0) == 0 ? 0 : 1);
	st = reap(pid);
	show_status("child sent", st);
	show_signal(pid);
	recv_quiet(fd, buf, sizeof(buf));
	/* A waiting receiver gets the message: no signal, still registered. */
	SYS(mq_notify, fd, &sev);
	pid = fork();
	if (pid == 0) {
		char b[8192];

		_exit(recv_quiet(fd, b, sizeof(b)) == 4 ? 0 : 1);
	}
	SHOW(wait_asleep(pid));
	SEND(fd, "race", 0);
	st = reap(pid);
	show_status("child received", st);
	show_signal(self);
	SYS(mq_notify, fd, &sev);
	show_file(fd, self);
	/* Closing a descriptor of the queue drops our registration. */
	fd2 = OPEN("n", O_RDWR, 0, NULL);
	close(fd2);
	show_file(fd, self);
	SYS(mq_notify, fd, &sev);
	/* A child that registers loses it when it exits. */
	SYS(mq_notify, fd, NULL);
	pid = fork();
	if (pid == 0)
		_exit(syscall(SYS_mq_notify, fd, &sev) == 0 ? 0 : 1);
	st = reap(pid);
	show_status("child registered", st);
	show_file(fd, self);
	SYS(mq_notify, fd, &sev);
	SYS(mq_notify, fd, NULL);

	puts("-- mq_notify arguments");
	{
		struct sigevent none = { .sigev_notify = SIGEV_NONE };
		struct sigevent bad = { .sigev_notify = 99 };
		struct sigevent sig0 = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = 0 };
		struct sigevent sig65 = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = 65 };
		struct sigevent rt = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN };

		SYS(mq_notify, fd, &none);
		show_file(fd, self);
		SYS(mq_notify, fd, &sev);
		SEND(fd, "none", 0);
		show_signal(self);
		SYS(mq_notify, fd, &sev);
		SYS(mq_notify, fd, NULL);
		recv_quiet(fd, buf, sizeof(buf));
		SYS(mq_notify, fd, &bad);
		SYS(mq_notify, fd, &sig65);
		SYS(mq_notify, fd, BAD_PTR);
		SYS(mq_notify, BAD_FD, &sev);
		SYS(mq_notify, fd, &sig0);
		show_file(fd, self);
		SYS(mq_notify, fd, NULL);
		SYS(mq_notify, fd, &rt);
		show_file(fd, self);
		SYS(mq_notify, fd, NULL);
	}
	signal(SIGUSR1, SIG_DFL);
	close(fd);
	UNLINK("n");
}

static void test_file(void)
{
	puts("-- the queue file");
	struct mq_attr a = { .mq_maxmsg = 4, .mq_msgsize = 64 };
	int fd = OPEN("f", O_CREAT | O_EXCL | O_RDWR, 0600, &a), wo;
	char buf[64];

	show_file(fd, getpid());
	send_quiet(fd, "12345", 0);
	send_quiet(fd, "abc", 1);
	show_file(fd, getpid());
	lseek(fd, 0, SEEK_SET);
	memset(buf, 0, sizeof(buf));
	SYS(read, fd, buf, 10);
	print_bytes("  read", buf, 10);
	SYS(read, fd, buf, 4);
	print_bytes("  read", buf, 4);
	CHECK(lseek(fd, 0, SEEK_CUR));
	CHECK(lseek(fd, 0, SEEK_END));
	SYS(read, fd, buf, 10);
	SYS(write, fd, "x", 1);
	wo = OPEN("f", O_WRONLY, 0, NULL);
	SYS(read, wo, buf, 10);
	close(wo);
	recv_quiet(fd, buf, sizeof(buf));
	show_file(fd, getpid());
	recv_quiet(fd, buf, sizeof(buf));
	show_file(fd, getpid());

	puts("-- poll");
	{
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM };

		CHECK(poll(&p, 1, 0));
		printf("  empty: revents 0x%x\n", p.revents);
		send_quiet(fd, "x", 0);
		CHECK(poll(&p, 1, 0));
		printf("  one message: revents 0x%x\n", p.revents);
		for (int i = 0; i < 3; i++)
			send_quiet(fd, "x", 0);
		CHECK(poll(&p, 1, 0));
		printf("  full: revents 0x%x\n", p.revents);
		p.events = POLLOUT;
		CHECK(poll(&p, 1, 30));
		printf("  full, POLLOUT only: revents 0x%x\n", p.revents);
		for (int i = 0; i < 4; i++)
			recv_quiet(fd, buf, sizeof(buf));
		p.events = POLLIN;
		CHECK(poll(&p, 1, 30));
		printf("  empty, POLLIN only: revents 0x%x\n", p.revents);
		/* Woken by a child's message. */
		pid_t self = getpid(), pid = fork();
		int st;

		if (pid == 0) {
			int ok = wait_asleep(self);

			send_quiet(fd, "wake", 0);
			_exit(ok);
		}
		CHECK(poll(&p, 1, 2000));
		printf("  woken: revents 0x%x\n", p.revents);
		st = reap(pid);
		show_status("child saw us asleep", st);
		recv_quiet(fd, buf, sizeof(buf));
	}
	close(fd);
	UNLINK("f");
}

static void test_unlink(void)
{
	puts("-- mq_unlink");
	int fd = OPEN("u", O_CREAT | O_EXCL | O_RDWR, 0600, NULL), fd2;
	char buf[8192];

	SEND(fd, "before", 0);
	UNLINK("u");
	OPEN("u", O_RDWR, 0, NULL);
	UNLINK("u");
	/* The open descriptor still works. */
	SEND(fd, "after", 0);
	show_attr(fd);
	RECV(fd, 8192);
	/* A new queue of the same name is another queue. */
	fd2 = OPEN("u", O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
	show_attr(fd2);
	show_attr(fd);
	RECV(fd, 8192);
	close(fd2);
	UNLINK("u");
	close(fd);
	SYS(mq_unlink, "a/b");
	SYS(mq_unlink, "");
	SYS(mq_unlink, NULL);
	CHECK(mq_unlink(N("u")));
	CHECK(mq_unlink(SLASH_N("u")));
	(void)buf;
}

static void test_fork(void)
{
	puts("-- a receiver woken by a forked sender");
	struct mq_attr a = { .mq_maxmsg = 1, .mq_msgsize = 64 };
	int fd = OPEN("k", O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	pid_t self = getpid(), pid;
	char buf[64];
	int st;

	pid = fork();
	if (pid == 0) {
		int ok = wait_asleep(self);

		_exit(ok + 2 * (send_quiet(fd, "from the child", 7) == 0));
	}
	RECV(fd, 64);
	st = reap(pid);
	show_status("child saw us asleep (1), sent (2)", st);

	puts("-- a sender woken by a forked receiver");
	send_quiet(fd, "first", 0);
	pid = fork();
	if (pid == 0) {
		char b[64];
		int ok = wait_asleep(self);

		_exit(ok + 2 * (recv_quiet(fd, b, sizeof(b)) == 5));
	}
	SEND(fd, "second", 0);
	st = reap(pid);
	show_status("child saw us asleep (1), received \"first\" (2)", st);
	RECV(fd, 64);

	puts("-- the descriptor across fork");
	pid = fork();
	if (pid == 0) {
		struct mq_attr nb = { .mq_flags = O_NONBLOCK };

		send_quiet(fd, "inherited", 3);
		syscall(SYS_mq_getsetattr, fd, &nb, NULL);
		_exit(0);
	}
	st = reap(pid);
	/* One open file description: the flag set by the child is ours. */
	show_attr(fd);
	RECV(fd, 64);
	RECV(fd, 64);
	close(fd);
	UNLINK("k");
	(void)buf;
}

static volatile sig_atomic_t sigs;

static void on_usr2(int sig)
{
	(void)sig;
	sigs++;
}

/*
 * We wait in mq_timedreceive; a child signals us once we are asleep, then
 * sends a message if we are asleep again (restarted).
 */
static void signal_case(int fd, int restart, int timed)
{
	struct sigaction sa = { .sa_handler = on_usr2, .sa_flags = restart ? SA_RESTART : 0 };
	volatile int *done = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct timespec ts = from_now(5000);
	pid_t self = getpid(), pid;
	char buf[64];
	long r;
	int err, st;

	sigaction(SIGUSR2, &sa, NULL);
	sigs = 0;
	*done = 0;
	pid = fork();
	if (pid == 0) {
		int ok = wait_asleep(self);

		kill(self, SIGUSR2);
		msleep(50);
		if (!*done && wait_asleep(self) && !*done) {
			send_quiet(fd, "after the signal", 0);
			ok += 2;
		}
		_exit(ok);
	}
	errno = 0;
	r = syscall(SYS_mq_timedreceive, fd, buf, sizeof(buf), NULL, timed ? &ts : NULL);
	err = errno;
	*done = 1;
	/* The signal may also come now (if the call did not wait). */
	st = reap(pid);
	printf("%s, %s:", restart ? "SA_RESTART" : "no SA_RESTART", timed ? "with a timeout" : "no timeout");
	check_print("", r, err);
	printf("  handled %d, child saw us asleep (1) and asleep again (2): %d\n", sigs, WEXITSTATUS(st));
	signal(SIGUSR2, SIG_DFL);
	munmap((void *)done, 4096);
}

static void test_signals(void)
{
	puts("-- signals");
	struct mq_attr a = { .mq_maxmsg = 1, .mq_msgsize = 64 };
	int fd = OPEN("s", O_CREAT | O_EXCL | O_RDWR, 0600, &a);

	signal_case(fd, 0, 0);
	signal_case(fd, 1, 0);
	signal_case(fd, 0, 1);
	signal_case(fd, 1, 1);
	show_attr(fd);
	close(fd);
	UNLINK("s");
}

/*
 * RLIMIT_MSGQUEUE: each queue counts maxmsg * msgsize plus the kernel's
 * bookkeeping for maxmsg messages against its creator; over the limit
 * mq_open fails with EMFILE, and the bytes come back when the last
 * reference to an unlinked queue goes.
 */
static void test_rlimit(void)
{
	struct rlimit old, rl;
	struct mq_attr small = { .mq_maxmsg = 4, .mq_msgsize = 1000 };
	/* 4 * 1000, plus 4 * sizeof(struct msg_msg) and 4 tree nodes. */
	const rlim_t one = 4 * 1000 + 4 * 48 + 4 * 48;
	int a, b, c;

	puts("-- RLIMIT_MSGQUEUE");
	getrlimit(RLIMIT_MSGQUEUE, &old);
	rl = (struct rlimit){ 2 * one, old.rlim_max };
	SHOW(setrlimit(RLIMIT_MSGQUEUE, &rl));
	a = OPEN("rl-a", O_CREAT | O_RDWR, 0600, &small);
	b = OPEN("rl-b", O_CREAT | O_RDWR, 0600, &small);
	c = OPEN("rl-c", O_CREAT | O_RDWR, 0600, &small);
	(void)UNLINK("rl-a");
	c = OPEN("rl-c", O_CREAT | O_RDWR, 0600, &small);
	close(a);
	c = OPEN("rl-c", O_CREAT | O_RDWR, 0600, &small);
	rl.rlim_cur = 2 * one - 1;
	SHOW(setrlimit(RLIMIT_MSGQUEUE, &rl));
	(void)UNLINK("rl-b");
	close(b);
	(void)UNLINK("rl-c");
	close(c);
	a = OPEN("rl-a", O_CREAT | O_RDWR, 0600, &small);
	b = OPEN("rl-b", O_CREAT | O_RDWR, 0600, &small);
	(void)UNLINK("rl-a");
	if (b >= 0)
		(void)UNLINK("rl-b");
	close(a);
	close(b);
	SHOW(setrlimit(RLIMIT_MSGQUEUE, &old));
}

static void test_permissions(void)
{
	puts("-- permissions as uid 65534");
	int priv = OPEN("p0600", O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
	int shared = OPEN("p0644", O_CREAT | O_EXCL | O_RDWR, 0644, NULL);
	pid_t pid;
	int st;

	pid = fork();
	if (pid == 0) {
		if (CHECK(setresgid(65534, 65534, 65534)) != 0 || CHECK(setresuid(65534, 65534, 65534)) != 0)
			_exit(1);
		SYS(mq_open, N("p0600"), O_RDONLY, 0, NULL);
		SYS(mq_open, N("p0644"), O_WRONLY, 0, NULL);
		SYS(mq_open, N("p0644"), O_RDWR, 0, NULL);
		SYS(mq_open, N("p0644"), O_RDONLY, 0, NULL);
		/* The inherited descriptor still works. */
		SYS(mq_timedsend, priv, "x", 1, 0, NULL);
		SYS(mq_unlink, N("p0600"));
		_exit(0);
	}
	st = reap(pid);
	show_status("child", st);
	show_attr(priv);
	close(priv);
	close(shared);
	UNLINK("p0600");
	UNLINK("p0644");
}

int main(void)
{
	unsigned int r = 0;

	parent = getpid();
	syscall(SYS_getrandom, &r, sizeof(r), 0);
	snprintf(prefix, sizeof(prefix), "conf-mq-%d-%08x-", (int)parent, r);
	atexit(cleanup);
	signal(SIGALRM, on_alarm);
	alarm(10);
	umask(022);
	test_open();
	test_send_receive();
	test_attr();
	test_notify();
	test_file();
	test_unlink();
	test_fork();
	test_signals();
	test_rlimit();
	test_permissions();
	puts("done");
	return 0;
}
