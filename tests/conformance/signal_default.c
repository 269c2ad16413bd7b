/*
 * signal_default.c: default actions, in forked children reported through
 * waitpid. Every signal 1-64 sent to a child with SIG_DFL: terminate (with
 * WCOREDUMP for the core-dumping ones, with RLIMIT_CORE 0 and the child not
 * dumpable, so that no core file is ever written), ignore, stop, continue.
 * SIG_IGN; abort(); SIGKILL and SIGSTOP cannot be caught or ignored; invalid
 * signal numbers; kill(pid, 0) on a live, zombie and reaped child; a fatal
 * signal kills every thread; what execve keeps (SIG_IGN, mask, pending
 * signals, the alarm) and resets (handlers).
 *
 * Sending to another user's process is not tested (the tests may run as
 * root).
 */
#include "common.h"
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#define BIT(sig) (1ULL << ((sig) - 1))

struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static uint64_t mask_now(void)
{
	uint64_t m = 0;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
	return m;
}

static uint64_t pending_now(void)
{
	uint64_t p = 0;

	syscall(SYS_rt_sigpending, &p, 8);
	return p;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* In a child: no core file can be written, whatever core_pattern says. */
static void child_setup(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setpgid(0, 0);
	alarm(5);
}

static void describe(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by %d, core dumped %d", WTERMSIG(status),
			 WCOREDUMP(status) ? 1 : 0);
	else if (WIFSTOPPED(status))
		snprintf(buf, size, "stopped by %d", WSTOPSIG(status));
	else
		snprintf(buf, size, "status 0x%x", status);
}

/* Wait for a child; if it stops, continue it and wait again. */
static void wait_and_report(const char *what, pid_t pid)
{
	char a[64], b[64];
	int status;

	waitpid(pid, &status, WUNTRACED);
	describe(status, a, sizeof(a));
	if (WIFSTOPPED(status)) {
		kill(pid, SIGCONT);
		waitpid(pid, &status, 0);
		describe(status, b, sizeof(b));
		printf("%s: %s, then after SIGCONT %s\n", what, a, b);
	} else {
		printf("%s: %s\n", what, a);
	}
}

static void defaults(void)
{
	printf("default actions:\n");
	for (int sig = 1; sig <= 64; sig++) {
		char what[32];
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			struct ksigaction dfl = { SIG_DFL, 0, NULL, 0 };

			child_setup();
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, 8);
			syscall(SYS_kill, getpid(), sig);
			_exit(7);
		}
		setpgid(pid, pid);
		snprintf(what, sizeof(what), "  signal %d", sig);
		wait_and_report(what, pid);
	}
}

/* ---- SIG_IGN, abort, SIGKILL ---- */

static void abort_handler(int sig)
{
	(void)sig;
}

static void ignoring(void)
{
	pid_t pid;

	printf("SIG_IGN, abort, SIGKILL:\n");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		child_setup();
		signal(SIGTERM, SIG_IGN);
		signal(SIGSEGV, SIG_IGN);
		signal(SIGRTMIN, SIG_IGN);
		kill(getpid(), SIGTERM);
		kill(getpid(), SIGSEGV);
		sigqueue(getpid(), SIGRTMIN, (union sigval){ 0 });
		_exit(7);
	}
	wait_and_report("  SIGTERM, SIGSEGV (kill), SIGRTMIN ignored", pid);

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct sigaction sa;

		child_setup();
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = abort_handler;
		sigaction(SIGABRT, &sa, NULL);
		abort();
	}
	wait_and_report("  abort() with a SIGABRT handler that returns", pid);

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		sigset_t set;

		child_setup();
		signal(SIGABRT, SIG_IGN);
		sigemptyset(&set);
		sigaddset(&set, SIGABRT);
		sigprocmask(SIG_BLOCK, &set, NULL);
		abort();
	}
	wait_and_report("  abort() with SIGABRT ignored and blocked", pid);

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int r1, r2;

		child_setup();
		r1 = signal(SIGKILL, SIG_IGN) == SIG_ERR;
		r2 = signal(SIGSTOP, SIG_IGN) == SIG_ERR;
		if (!r1 || !r2)
			_exit(1);
		kill(getpid(), SIGSTOP);
		kill(getpid(), SIGKILL);
		_exit(7);
	}
	wait_and_report("  SIGKILL and SIGSTOP after trying to ignore them", pid);
}

/* ---- errors ---- */

static void errors(void)
{
	struct sigaction sa, old;
	struct ksigaction k = { SIG_DFL, 0, NULL, 0 };
	pid_t me = getpid();
	long tid = syscall(SYS_gettid);

	printf("errors:\n");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = abort_handler;
	CHECK(sigaction(SIGKILL, &sa, NULL));
	CHECK(sigaction(SIGSTOP, &sa, NULL));
	sa.sa_handler = SIG_IGN;
	CHECK(sigaction(SIGKILL, &sa, NULL));
	sa.sa_handler = SIG_DFL;
	CHECK(sigaction(SIGSTOP, &sa, NULL));
	CHECK(sigaction(SIGKILL, NULL, &old));
	printf("  SIGKILL is SIG_DFL %d\n", old.sa_handler == SIG_DFL);
	CHECK(sigaction(0, &sa, NULL));
	CHECK(sigaction(0, NULL, &old));
	CHECK(sigaction(65, &sa, NULL));
	CHECK(sigaction(-1, &sa, NULL));
	CHECK(signal(SIGKILL, SIG_IGN) == SIG_ERR);
	SYS(rt_sigaction, SIGKILL, &k, NULL, 8);
	SYS(rt_sigaction, SIGSTOP, &k, NULL, 8);
	SYS(rt_sigaction, 0, &k, NULL, 8);
	SYS(rt_sigaction, 65, &k, NULL, 8);
	SYS(rt_sigaction, 64, NULL, &k, 8);

	SYS(kill, me, 0);
	SYS(kill, me, 65);
	SYS(kill, me, -1);
	SYS(kill, me, 1000);
	SYS(kill, INT_MAX, 0);
	SYS(kill, INT_MIN, 0);
	SYS(tgkill, me, tid, 0);
	SYS(tgkill, me, tid, 65);
	SYS(tgkill, 0, tid, 0);
	SYS(tgkill, me, 0, 0);
	SYS(tgkill, -1, tid, 0);
	SYS(tgkill, me, -1, 0);
	SYS(tgkill, me, INT_MAX, 0);
	SYS(tgkill, INT_MAX, tid, 0);
	SYS(tkill, 0, 0);
	SYS(tkill, -1, 0);
	SYS(tkill, tid, 65);
	SYS(tkill, INT_MAX, 0);
	CHECK(raise(65));
	CHECK(sigqueue(me, 65, (union sigval){ 0 }));
}

/* ---- existence checks ---- */

static void existence(void)
{
	pid_t pid;
	siginfo_t si;

	sigset_t set;

	printf("kill(pid, 0):\n");
	/* Blocked before the fork, so the child never misses it. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int sig;

		child_setup();
		sigwait(&set, &sig);
		_exit(3);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	setpgid(pid, pid);
	SYS(kill, pid, 0);
	SYS(kill, -pid, 0);
	SYS(tgkill, pid, pid, 0);
	SYS(tgkill, getpid(), pid, 0);
	SYS(kill, pid, SIGUSR1);
	/* A zombie still exists. */
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	printf("  zombie: si_code %d si_status %d\n", si.si_code, si.si_status);
	SYS(kill, pid, 0);
	SYS(kill, pid, SIGKILL);
	SYS(kill, -pid, 0);
	SYS(tgkill, pid, pid, 0);
	int status;
	waitpid(pid, &status, 0);
	printf("  reaped: exited %d (SIGKILL to the zombie changed nothing)\n",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	SYS(kill, pid, 0);
	SYS(kill, -pid, 0);
	SYS(tgkill, pid, pid, 0);
	SYS(kill, pid, SIGKILL);
}

/* ---- threads ---- */

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static volatile int thread_tid;

static void *sleeper_tid(void *arg)
{
	(void)arg;
	thread_tid = syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

static void threads(void)
{
	pid_t pid;

	printf("threads:\n");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		pthread_t t;

		child_setup();
		pthread_create(&t, NULL, sleeper, NULL);
		msleep(20);
		raise(SIGTERM);
		msleep(1000);
		_exit(7);
	}
	wait_and_report("  main thread raises SIGTERM", pid);

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		pthread_t t;

		child_setup();
		pthread_create(&t, NULL, sleeper_tid, NULL);
		while (!thread_tid)
			sched_yield();
		syscall(SYS_tgkill, getpid(), thread_tid, SIGUSR2);
		msleep(1000);
		_exit(7);
	}
	wait_and_report("  tgkill SIGUSR2 to the other thread", pid);

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		pthread_t t;

		child_setup();
		pthread_create(&t, NULL, sleeper_tid, NULL);
		while (!thread_tid)
			sched_yield();
		syscall(SYS_tgkill, getpid(), thread_tid, SIGWINCH);
		msleep(20);
		_exit(7);
	}
	wait_and_report("  tgkill SIGWINCH to the other thread", pid);
}

/* ---- execve ---- */

static void handler(int sig)
{
	(void)sig;
}

static int exec_child(void)
{
	struct sigaction a1, a2, a3;
	stack_t ss;

	sigaction(SIGUSR1, NULL, &a1);
	sigaction(SIGUSR2, NULL, &a2);
	sigaction(SIGHUP, NULL, &a3);
	sigaltstack(NULL, &ss);
	unsigned left = alarm(0);
	int code = (a1.sa_handler == SIG_DFL) | (a2.sa_handler == SIG_IGN) << 1 |
		   (mask_now() == (BIT(SIGHUP) | BIT(SIGUSR1))) << 2 |
		   (pending_now() == BIT(SIGHUP)) << 3 | (left >= 4 && left <= 5) << 4 |
		   (ss.ss_flags == SS_DISABLE) << 5 | (a3.sa_handler == SIG_DFL) << 6;
	return code;
}

static char altstack[1 << 16];

static void execing(void)
{
	pid_t pid;
	int status;

	printf("execve:\n");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		sigset_t set;
		stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };

		child_setup();
		signal(SIGUSR1, handler);
		signal(SIGUSR2, SIG_IGN);
		signal(SIGHUP, handler);
		sigaltstack(&ss, NULL);
		sigemptyset(&set);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		raise(SIGHUP);
		execl("/proc/self/exe", "signal_default", "exec-child", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	int c = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	printf("  exited %d: handler reset to SIG_DFL %d, SIG_IGN kept %d, mask kept %d,"
	       " pending kept %d, alarm kept %d, alt stack disabled %d, pending signal's handler"
	       " reset %d\n", WIFEXITED(status), c & 1, c >> 1 & 1, c >> 2 & 1, c >> 3 & 1,
	       c >> 4 & 1, c >> 5 & 1, c >> 6 & 1);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "exec-child") == 0)
		return exec_child();
	alarm(10);
	defaults();
	ignoring();
	errors();
	existence();
	threads();
	execing();
	return 0;
}
