/*
 * sysv_msg.c: System V message queues: msgget(2), msgsnd(2) and msgrcv(2)
 * with message types (0, positive, negative, MSG_EXCEPT), zero-length
 * messages, MSG_NOERROR truncation against E2BIG, IPC_NOWAIT (EAGAIN,
 * ENOMSG), a full queue (msg_qbytes lowered with IPC_SET; it also limits
 * the number of messages), a receiver woken by a forked sender, a sender
 * woken when a child drains the queue, argument errors (mtype, sizes),
 * msgctl(2) (IPC_STAT counts and pids, IPC_SET, IPC_INFO, MSG_INFO,
 * MSG_STAT), IPC_RMID while a child waits (EIDRM), MSG_COPY, signals
 * interrupting a wait (EINTR, with or without SA_RESTART), and permission
 * checks in a child that drops to uid 65534.
 *
 * A process is known to be waiting when /proc/PID/stat shows it asleep
 * (it makes no other call that sleeps at that point). Children report
 * through a shared page or print while the parent waits for them.
 *
 * The natively run program shares the host's IPC namespace: every queue is
 * made with IPC_PRIVATE or with IPC_CREAT | IPC_EXCL on a random key, and
 * removed by the parent before exit (atexit, and a SIGALRM handler if it
 * hangs). Ids, keys and pids are never printed, only relations.
 */
#include "common.h"
#include <limits.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <time.h>

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

/* ---- cleanup: the queues this process made ---- */

static int made[32];
static int nmade;
static pid_t parent;

static int track(int id)
{
	if (id >= 0 && nmade < (int)(sizeof(made) / sizeof(made[0])))
		made[nmade++] = id;
	return id;
}

/* Removed here: cleanup leaves it alone. */
static void untrack(int id)
{
	for (int i = 0; i < nmade; i++)
		if (made[i] == id)
			made[i] = -1;
}

static void cleanup(void)
{
	if (getpid() != parent)
		return;
	for (int i = 0; i < nmade; i++)
		if (made[i] >= 0)
			syscall(SYS_msgctl, made[i], IPC_RMID, NULL);
	nmade = 0;
}

static void on_alarm(int sig)
{
	(void)sig;
	cleanup();
	_exit(99);
}

static int new_queue(void)
{
	return track(syscall(SYS_msgget, IPC_PRIVATE, IPC_CREAT | 0600));
}

static void remove_queue(int id)
{
	SYS(msgctl, id, IPC_RMID, NULL);
	untrack(id);
}

struct message {
	long mtype;
	char mtext[256];
};

static struct message m;

/* What is sent by the plain msgsnd calls: type 1, "abcd...". */
static struct message out = { 1, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" };

static void show_msg(long n)
{
	printf("  mtype %ld, ", m.mtype);
	print_bytes("mtext", m.mtext, n);
}

/*
 * msgrcv into m, printing the call as written and the message received.
 * The type goes to the kernel as a long (an int passed to syscall() would
 * not be sign-extended).
 */
static long rcv(int id, long size, long type, int flags, const char *text)
{
	char label[128];
	long n;

	memset(&m, 0, sizeof(m));
	snprintf(label, sizeof(label), "msgrcv(id, &m, %s)", text);
	errno = 0;
	n = syscall(SYS_msgrcv, id, &m, size, type, flags);
	check_print(label, n, errno);
	if (n >= 0)
		show_msg(n);
	return n;
}

#define RCV(id, size, type, flags) rcv(id, size, type, flags, #size ", " #type ", " #flags)

/* "msgsnd(id, {2, "two"}, 3, 0) = 0" */
static long snd(int id, long type, const char *text, int flags, const char *flag_text)
{
	struct message s = { .mtype = type };
	size_t len = strlen(text);
	char label[128];
	long r;

	memcpy(s.mtext, text, len);
	snprintf(label, sizeof(label), "msgsnd(id, {%ld, \"%s\"}, %zu, %s)", type, text, len, flag_text);
	errno = 0;
	r = syscall(SYS_msgsnd, id, &s, len, flags);
	return check_print(label, r, errno);
}

#define SND(id, type, text, flags) snd(id, type, text, flags, #flags)

/* Silent versions, for children and set-up. */
static long send_quiet(int id, long type, size_t len, int flags)
{
	struct message s = { .mtype = type };

	memset(s.mtext, 'x', sizeof(s.mtext));
	return syscall(SYS_msgsnd, id, &s, len, flags);
}

static long recv_quiet(int id, long type, size_t len, int flags)
{
	struct message r;

	return syscall(SYS_msgrcv, id, &r, len, type, flags);
}

static void show_queue(int id)
{
	struct msqid_ds ds;

	if (syscall(SYS_msgctl, id, IPC_STAT, &ds) != 0) {
		printf("  IPC_STAT: %s\n", errno_name(errno));
		return;
	}
	printf("  qnum %lu, cbytes %lu\n", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes);
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

/* Results of a child, in a shared page. */
struct result {
	long ret;
	int err;
	volatile int done;
};

static struct result *res;

static void show_result(const char *what, const struct result *r)
{
	printf("%s", what);
	check_print("", r->ret, r->err);
}

static long msgmax = 8192, msgmnb = 16384;

static void test_msgget(void)
{
	struct msginfo mi;
	key_t key = IPC_PRIVATE;
	int id, again;

	puts("-- msgget");
	memset(&mi, 0, sizeof(mi));
	if (syscall(SYS_msgctl, 0, IPC_INFO, &mi) >= 0) {
		msgmax = mi.msgmax;
		msgmnb = mi.msgmnb;
	}
	id = track(SYS_OK(msgget, IPC_PRIVATE, IPC_CREAT | 0600));
	SHOW(id >= 0);
	again = track(SYS_OK(msgget, IPC_PRIVATE, 0600));
	SHOW(again >= 0 && again != id);
	remove_queue(again);
	remove_queue(id);
	SYS(msgctl, id, IPC_RMID, NULL);
	SYS(msgctl, -1, IPC_RMID, NULL);

	puts("-- msgget with a key");
	id = -1;
	for (int i = 0; i < 100 && id < 0; i++) {
		unsigned int r = 0;

		syscall(SYS_getrandom, &r, sizeof(r), 0);
		key = (key_t)(r & 0x7fffffff);
		if (key == IPC_PRIVATE)
			continue;
		id = track(syscall(SYS_msgget, key, IPC_CREAT | IPC_EXCL | 0600));
		if (id < 0 && errno != EEXIST)
			break;
	}
	SHOW(id >= 0);
	SYS(msgget, key, IPC_CREAT | IPC_EXCL | 0600);
	again = SYS_OK(msgget, key, 0);
	SHOW(again == id);
	again = SYS_OK(msgget, key, IPC_CREAT | 0600);
	SHOW(again == id);
	{
		struct msqid_ds ds;

		SYS(msgctl, id, IPC_STAT, &ds);
		SHOW(ds.msg_perm.__key == key);
	}
	remove_queue(id);
	SYS(msgget, key, 0);
	SYS(msgget, key, 0600);
}

static void test_types(void)
{
	int id = new_queue();

	puts("-- message types");
	SND(id, 1, "one", 0);
	SND(id, 2, "two", 0);
	SND(id, 3, "three", 0);
	SND(id, 1, "one again", IPC_NOWAIT);
	SND(id, 2, "two again", 0);
	show_queue(id);
	RCV(id, 64, 2, 0);
	RCV(id, 64, -2, 0);
	RCV(id, 64, 1, MSG_EXCEPT);
	RCV(id, 64, 0, 0);
	show_queue(id);
	RCV(id, 64, 5, IPC_NOWAIT);
	RCV(id, 64, -1, IPC_NOWAIT);
	RCV(id, 64, 2, MSG_EXCEPT | IPC_NOWAIT);
	RCV(id, 64, -2, MSG_EXCEPT | IPC_NOWAIT);
	RCV(id, 64, 3, MSG_EXCEPT | IPC_NOWAIT);
	RCV(id, 64, 0, IPC_NOWAIT);
	show_queue(id);
	/* The lowest type first, in order within a type. */
	SND(id, 5, "five", 0);
	SND(id, 4, "four", 0);
	SND(id, 4, "four again", 0);
	SND(id, 9, "nine", 0);
	RCV(id, 64, -100, 0);
	RCV(id, 64, -100, 0);
	RCV(id, 64, LONG_MIN, IPC_NOWAIT);
	RCV(id, 64, -100, 0);
	/* Large types. */
	SND(id, LONG_MAX, "max", 0);
	RCV(id, 64, LONG_MAX, IPC_NOWAIT);
	SND(id, LONG_MAX, "max", 0);
	RCV(id, 64, -LONG_MAX, IPC_NOWAIT);
	RCV(id, 64, LONG_MAX, IPC_NOWAIT);
	show_queue(id);
	remove_queue(id);
}

static void test_sizes(void)
{
	int id = new_queue();
	char *big;

	puts("-- sizes");
	SND(id, 1, "", 0);
	show_queue(id);
	RCV(id, 0, 0, 0);
	SND(id, 1, "0123456789", 0);
	RCV(id, 4, 0, IPC_NOWAIT);
	show_queue(id);
	RCV(id, 4, 0, MSG_NOERROR);
	show_queue(id);
	SND(id, 1, "0123456789", 0);
	RCV(id, 0, 0, MSG_NOERROR);
	SND(id, 1, "0123456789", 0);
	RCV(id, 10, 0, 0);
	RCV(id, -1L, 0, IPC_NOWAIT);
	/* The largest message and one byte more. */
	big = calloc(1, sizeof(long) + msgmax + 16);
	*(long *)big = 1;
	SYS(msgsnd, id, big, msgmax + 1, IPC_NOWAIT);
	SYS(msgsnd, id, big, -1L, IPC_NOWAIT);
	SHOW(syscall(SYS_msgsnd, id, big, msgmax, IPC_NOWAIT) == 0);
	SHOW(syscall(SYS_msgrcv, id, big, msgmax + 16, 0, IPC_NOWAIT) == msgmax);
	free(big);

	puts("-- argument errors");
	SND(id, 0, "zero", 0);
	SND(id, -1, "negative", 0);
	SND(id, LONG_MIN, "min", IPC_NOWAIT);
	SYS(msgsnd, id, BAD_PTR, 4, 0);
	SYS(msgsnd, id, NULL, 4, 0);
	SYS(msgsnd, -1, &out, 4, 0);
	SYS(msgsnd, id, &out, 4, ~0);
	SND(id, 1, "x", 0);
	/* A message that cannot be copied out is lost. */
	SYS(msgrcv, id, BAD_PTR, 4, 0, IPC_NOWAIT);
	show_queue(id);
	SYS(msgrcv, id, NULL, 4, 0, IPC_NOWAIT);
	SYS(msgrcv, -1, &m, 4, 0, IPC_NOWAIT);
	RCV(id, 4, 0, IPC_NOWAIT);
	remove_queue(id);
	SYS(msgsnd, id, &out, 4, IPC_NOWAIT);
	SYS(msgrcv, id, &m, 4, 0, IPC_NOWAIT);
}

static void test_full(void)
{
	int id = new_queue();
	struct msqid_ds ds;

	puts("-- a full queue");
	SYS(msgctl, id, IPC_STAT, &ds);
	SHOW(ds.msg_qbytes == (unsigned long)msgmnb);
	ds.msg_qbytes = 64;
	SYS(msgctl, id, IPC_SET, &ds);
	SYS(msgctl, id, IPC_STAT, &ds);
	printf("  qbytes %lu\n", (unsigned long)ds.msg_qbytes);
	SYS(msgsnd, id, &out, 40, IPC_NOWAIT);
	SYS(msgsnd, id, &out, 25, IPC_NOWAIT);
	SYS(msgsnd, id, &out, 24, IPC_NOWAIT);
	SYS(msgsnd, id, &out, 0, IPC_NOWAIT);
	show_queue(id);
	SYS(msgrcv, id, &m, 64, 0, IPC_NOWAIT);
	/* A message larger than the queue can never be sent. */
	SYS(msgsnd, id, &out, 65, IPC_NOWAIT);
	/* qbytes also bounds the number of messages. */
	while (recv_quiet(id, 0, 64, IPC_NOWAIT) >= 0)
		;
	ds.msg_qbytes = 3;
	SYS(msgctl, id, IPC_SET, &ds);
	for (int i = 0; i < 4; i++)
		SYS(msgsnd, id, &out, 0, IPC_NOWAIT);
	show_queue(id);
	/* qbytes 0: nothing fits. */
	while (recv_quiet(id, 0, 64, IPC_NOWAIT) >= 0)
		;
	ds.msg_qbytes = 0;
	SYS(msgctl, id, IPC_SET, &ds);
	SYS(msgsnd, id, &out, 0, IPC_NOWAIT);
	remove_queue(id);
}

static void test_stat(void)
{
	int id = new_queue();
	struct msqid_ds ds;
	struct msginfo mi;
	pid_t self = getpid(), pid;
	long r;
	int st;

	puts("-- IPC_STAT and IPC_SET");
	memset(&ds, 0xff, sizeof(ds));
	SYS(msgctl, id, IPC_STAT, &ds);
	printf("  mode 0%o, qnum %lu, cbytes %lu\n", ds.msg_perm.mode & 07777, (unsigned long)ds.msg_qnum,
	       (unsigned long)ds.__msg_cbytes);
	SHOW(ds.msg_perm.__key == IPC_PRIVATE);
	SHOW(ds.msg_perm.uid == geteuid() && ds.msg_perm.cuid == geteuid());
	SHOW(ds.msg_perm.gid == getegid() && ds.msg_perm.cgid == getegid());
	SHOW(ds.msg_lspid == 0 && ds.msg_lrpid == 0);
	SHOW(ds.msg_stime == 0 && ds.msg_rtime == 0 && ds.msg_ctime != 0);
	send_quiet(id, 1, 7, 0);
	send_quiet(id, 2, 5, 0);
	SYS(msgctl, id, IPC_STAT, &ds);
	printf("  qnum %lu, cbytes %lu\n", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes);
	SHOW(ds.msg_lspid == self && ds.msg_lrpid == 0);
	SHOW(ds.msg_stime != 0 && ds.msg_rtime == 0);
	pid = fork();
	if (pid == 0)
		_exit(recv_quiet(id, 0, 64, IPC_NOWAIT) == 7 ? 0 : 1);
	st = reap(pid);
	show_status("child received", st);
	SYS(msgctl, id, IPC_STAT, &ds);
	printf("  qnum %lu, cbytes %lu\n", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes);
	SHOW(ds.msg_lspid == self && ds.msg_lrpid == pid);
	SHOW(ds.msg_rtime != 0);
	/* A failed receive changes nothing. */
	recv_quiet(id, 9, 64, IPC_NOWAIT);
	SYS(msgctl, id, IPC_STAT, &ds);
	SHOW(ds.msg_lrpid == pid);
	ds.msg_perm.mode = 07640;
	ds.msg_qbytes = 1000;
	ds.msg_qnum = 77;
	SYS(msgctl, id, IPC_SET, &ds);
	SYS(msgctl, id, IPC_STAT, &ds);
	printf("  mode 0%o, qbytes %lu, qnum %lu\n", ds.msg_perm.mode & 07777, (unsigned long)ds.msg_qbytes,
	       (unsigned long)ds.msg_qnum);
	SYS(msgctl, id, IPC_STAT, BAD_PTR);
	SYS(msgctl, id, IPC_SET, BAD_PTR);
	SYS(msgctl, id, 99, &ds);
	SYS(msgctl, -1, IPC_STAT, &ds);

	puts("-- IPC_INFO, MSG_INFO, MSG_STAT");
	memset(&mi, 0, sizeof(mi));
	r = SYS_OK(msgctl, 0, IPC_INFO, &mi);
	SHOW(r >= (id & 0x7fff));
	SHOW(mi.msgmax >= 1 && mi.msgmnb >= mi.msgmax && mi.msgmni >= 1);
	SHOW(mi.msgssz >= 1 && mi.msgseg >= 1 && mi.msgtql >= 1 && mi.msgmap >= 1 && mi.msgpool >= 1);
	memset(&mi, 0, sizeof(mi));
	r = SYS_OK(msgctl, 0, MSG_INFO, &mi);
	SHOW(r >= (id & 0x7fff));
	/* In use: queues (msgpool), messages (msgmap) and bytes (msgtql). */
	SHOW(mi.msgpool >= 1 && mi.msgmap >= 1 && mi.msgtql >= 5);
	memset(&ds, 0, sizeof(ds));
	r = SYS_OK(msgctl, id & 0x7fff, MSG_STAT, &ds);
	SHOW(r == id);
	printf("  mode 0%o, qnum %lu\n", ds.msg_perm.mode & 07777, (unsigned long)ds.msg_qnum);
	r = SYS_OK(msgctl, id & 0x7fff, MSG_STAT_ANY, &ds);
	SHOW(r == id);
	SYS(msgctl, -1, MSG_STAT, &ds);
	SYS(msgctl, 0, IPC_INFO, BAD_PTR);
	remove_queue(id);
}

static void test_blocking(void)
{
	int id = new_queue();
	struct msqid_ds ds;
	pid_t pid, self = getpid();
	int st;

	puts("-- a receiver woken by a forked sender");
	pid = fork();
	if (pid == 0) {
		int ok = wait_asleep(self);

		/* A message of another type does not wake it. */
		send_quiet(id, 5, 3, 0);
		msleep(20);
		ok += 2 * asleep(self);
		send_quiet(id, 7, 4, 0);
		_exit(ok);
	}
	RCV(id, 64, 7, 0);
	st = reap(pid);
	show_status("child saw us asleep (1), still asleep after type 5 (2)", st);
	show_queue(id);
	SYS(msgctl, id, IPC_STAT, &ds);
	SHOW(ds.msg_lspid == pid && ds.msg_lrpid == self);
	recv_quiet(id, 0, 64, IPC_NOWAIT);

	puts("-- a sender woken when the queue drains");
	ds.msg_qbytes = 64;
	syscall(SYS_msgctl, id, IPC_SET, &ds);
	send_quiet(id, 1, 40, 0);
	pid = fork();
	if (pid == 0) {
		int ok = wait_asleep(self);

		_exit(ok + 2 * (recv_quiet(id, 0, 64, 0) == 40));
	}
	SYS(msgsnd, id, &out, 30, 0);
	st = reap(pid);
	show_status("child saw us asleep (1), received 40 bytes (2)", st);
	show_queue(id);
	SYS(msgctl, id, IPC_STAT, &ds);
	SHOW(ds.msg_lspid == self && ds.msg_lrpid == pid);
	remove_queue(id);
}

static void test_rmid_waiter(void)
{
	int id = new_queue();
	struct msqid_ds ds;
	pid_t pid;

	puts("-- IPC_RMID while a child waits");
	res->ret = -2;
	pid = fork();
	if (pid == 0) {
		errno = 0;
		res->ret = recv_quiet(id, 0, 64, 0);
		res->err = errno;
		_exit(0);
	}
	SHOW(wait_asleep(pid));
	remove_queue(id);
	reap(pid);
	show_result("child msgrcv", res);
	/* A sender waiting for room. */
	id = new_queue();
	syscall(SYS_msgctl, id, IPC_STAT, &ds);
	ds.msg_qbytes = 16;
	syscall(SYS_msgctl, id, IPC_SET, &ds);
	send_quiet(id, 1, 16, 0);
	res->ret = -2;
	pid = fork();
	if (pid == 0) {
		errno = 0;
		res->ret = send_quiet(id, 1, 1, 0);
		res->err = errno;
		_exit(0);
	}
	SHOW(wait_asleep(pid));
	remove_queue(id);
	reap(pid);
	show_result("child msgsnd", res);
}

static void test_copy(void)
{
	int id = new_queue();

	puts("-- MSG_COPY");
	SND(id, 3, "first", 0);
	SND(id, 1, "second", 0);
	SND(id, 2, "third", 0);
	RCV(id, 64, 1, MSG_COPY | IPC_NOWAIT);
	RCV(id, 64, 0, MSG_COPY | IPC_NOWAIT);
	RCV(id, 64, 2, MSG_COPY | IPC_NOWAIT);
	show_queue(id);
	RCV(id, 64, 3, MSG_COPY | IPC_NOWAIT);
	RCV(id, 64, -1, MSG_COPY | IPC_NOWAIT);
	RCV(id, 64, 1, MSG_COPY);
	RCV(id, 64, 1, MSG_COPY | MSG_EXCEPT | IPC_NOWAIT);
	RCV(id, 3, 1, MSG_COPY | IPC_NOWAIT);
	RCV(id, 3, 1, MSG_COPY | MSG_NOERROR | IPC_NOWAIT);
	show_queue(id);
	RCV(id, 64, 0, 0);
	RCV(id, 64, 0, MSG_COPY | IPC_NOWAIT);
	remove_queue(id);
}

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

/*
 * A child signals us once we are asleep in the call, and again every 100
 * ms until we say it returned.
 */
static pid_t start_signaller(void)
{
	pid_t self = getpid(), pid;

	res->done = 0;
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 50 && !res->done; i++) {
			if (wait_asleep(self) && !res->done)
				kill(self, SIGUSR1);
			for (int k = 0; k < 100 && !res->done; k++)
				msleep(1);
		}
		_exit(0);
	}
	return pid;
}

static void signal_case(int id, int restart, int send)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0 };
	pid_t pid;
	long r;
	int err;

	sigaction(SIGUSR1, &sa, NULL);
	handled = 0;
	pid = start_signaller();
	errno = 0;
	r = send ? send_quiet(id, 1, 8, 0) : recv_quiet(id, 0, 64, 0);
	err = errno;
	res->done = 1;
	/* A last signal may come now. */
	reap(pid);
	printf("%s, %s:", restart ? "SA_RESTART" : "no SA_RESTART", send ? "msgsnd to a full queue" : "msgrcv");
	check_print("", r, err);
	printf("  handled >= 1: %d\n", handled >= 1);
	signal(SIGUSR1, SIG_DFL);
}

static void test_signals(void)
{
	int id = new_queue();
	struct msqid_ds ds;

	puts("-- signals");
	signal_case(id, 0, 0);
	signal_case(id, 1, 0);
	syscall(SYS_msgctl, id, IPC_STAT, &ds);
	ds.msg_qbytes = 8;
	syscall(SYS_msgctl, id, IPC_SET, &ds);
	send_quiet(id, 1, 8, 0);
	signal_case(id, 0, 1);
	signal_case(id, 1, 1);
	show_queue(id);
	remove_queue(id);
}

static void test_permissions(void)
{
	int priv = new_queue(), shared = track(syscall(SYS_msgget, IPC_PRIVATE, IPC_CREAT | 0644));
	pid_t pid;
	int st;

	puts("-- permissions as uid 65534");
	SHOW(priv >= 0 && shared >= 0);
	send_quiet(priv, 1, 4, 0);
	send_quiet(shared, 1, 4, 0);
	pid = fork();
	if (pid == 0) {
		struct msqid_ds ds;

		if (CHECK(setresgid(65534, 65534, 65534)) != 0 || CHECK(setresuid(65534, 65534, 65534)) != 0)
			_exit(1);
		SYS(msgsnd, priv, &out, 4, IPC_NOWAIT);
		SYS(msgrcv, priv, &m, 64, 0, IPC_NOWAIT);
		SYS(msgctl, priv, IPC_STAT, &ds);
		SYS(msgsnd, shared, &out, 4, IPC_NOWAIT);
		SYS(msgrcv, shared, &m, 64, 0, IPC_NOWAIT);
		SYS(msgctl, shared, IPC_STAT, &ds);
		SYS(msgctl, shared, IPC_SET, &ds);
		SYS(msgctl, shared, IPC_RMID, NULL);
		_exit(0);
	}
	st = reap(pid);
	show_status("child", st);
	show_queue(priv);
	show_queue(shared);
	remove_queue(priv);
	remove_queue(shared);
}

int main(void)
{
	parent = getpid();
	atexit(cleanup);
	signal(SIGALRM, on_alarm);
	alarm(10);
	res = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	test_msgget();
	test_types();
	test_sizes();
	test_full();
	test_stat();
	test_blocking();
	test_rmid_waiter();
	test_copy();
	test_signals();
	test_permissions();
	puts("done");
	return 0;
}
