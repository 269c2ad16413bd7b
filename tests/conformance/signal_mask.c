/*
 * signal_mask.c: the signal mask and pending signals. sigprocmask
 * SIG_BLOCK/SIG_UNBLOCK/SIG_SETMASK; blocked signals stay pending (and
 * standard ones coalesce), are delivered as soon as they are unblocked,
 * before sigprocmask returns; SIGKILL and SIGSTOP cannot be blocked;
 * ignoring a pending signal discards it (but a blocked signal is queued
 * even when ignored); per-thread masks and pending sets; fork; size errors.
 */
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#define BIT(sig) (1ULL << ((sig) - 1))

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

static void set_mask(uint64_t m)
{
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, NULL, 8);
}

static volatile int calls[65];
static volatile int last_tid;

static void handler(int sig)
{
	if (sig > 0 && sig <= 64)
		calls[sig]++;
	last_tid = syscall(SYS_gettid);
}

static void install(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void state(const char *what)
{
	printf("  %s: mask 0x%llx pending 0x%llx\n", what,
	       (unsigned long long)mask_now(), (unsigned long long)pending_now());
}

static void block_unblock(void)
{
	uint64_t set, old;

	printf("block, unblock, setmask:\n");
	install(SIGUSR1, handler);
	install(SIGUSR2, handler);
	install(SIGRTMIN, handler);
	set = BIT(SIGUSR1) | BIT(SIGRTMIN);
	SYS(rt_sigprocmask, SIG_BLOCK, &set, &old, 8);
	printf("  old 0x%llx\n", (unsigned long long)old);
	state("blocked USR1, RTMIN");
	SYS(kill, getpid(), SIGUSR1);
	SYS(kill, getpid(), SIGUSR1);
	SYS(tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	for (int i = 0; i < 3; i++)
		sigqueue(getpid(), SIGRTMIN, (union sigval){ .sival_int = i });
	printf("  calls while blocked: USR1 %d RTMIN %d\n", calls[SIGUSR1], calls[SIGRTMIN]);
	state("sent 3 USR1, 3 RTMIN");
	set = BIT(SIGUSR1);
	SYS(rt_sigprocmask, SIG_UNBLOCK, &set, &old, 8);
	printf("  right after SIG_UNBLOCK USR1: USR1 %d RTMIN %d, old 0x%llx\n",
	       calls[SIGUSR1], calls[SIGRTMIN], (unsigned long long)old);
	state("after");
	set = 0;
	SYS(rt_sigprocmask, SIG_SETMASK, &set, &old, 8);
	printf("  right after SIG_SETMASK 0: USR1 %d RTMIN %d, old 0x%llx\n",
	       calls[SIGUSR1], calls[SIGRTMIN], (unsigned long long)old);
	state("after");

	/* SIG_UNBLOCK of something not blocked, SIG_BLOCK of something
	 * blocked: no change. */
	set = BIT(SIGUSR2);
	SYS(rt_sigprocmask, SIG_UNBLOCK, &set, NULL, 8);
	SYS(rt_sigprocmask, SIG_BLOCK, &set, NULL, 8);
	SYS(rt_sigprocmask, SIG_BLOCK, &set, &old, 8);
	printf("  old 0x%llx\n", (unsigned long long)old);
	/* Unblocking with a SIG_SETMASK that still blocks it: stays pending. */
	SYS(kill, getpid(), SIGUSR2);
	set = BIT(SIGUSR2) | BIT(SIGHUP);
	SYS(rt_sigprocmask, SIG_SETMASK, &set, NULL, 8);
	printf("  USR2 calls %d\n", calls[SIGUSR2]);
	state("USR2 pending, mask HUP|USR2");
	set = 0;
	SYS(rt_sigprocmask, SIG_SETMASK, &set, NULL, 8);
	printf("  USR2 calls %d\n", calls[SIGUSR2]);

	/* The libc wrappers. */
	sigset_t s, o;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGHUP);
	CHECK(sigprocmask(SIG_BLOCK, &s, &o));
	printf("  old has USR1 %d\n", sigismember(&o, SIGUSR1));
	CHECK(sigprocmask(SIG_BLOCK, NULL, &o));
	printf("  now has USR1 %d HUP %d USR2 %d\n", sigismember(&o, SIGUSR1),
	       sigismember(&o, SIGHUP), sigismember(&o, SIGUSR2));
	raise(SIGUSR1);
	CHECK(sigpending(&s));
	printf("  pending has USR1 %d HUP %d\n", sigismember(&s, SIGUSR1), sigismember(&s, SIGHUP));
	sigemptyset(&s);
	CHECK(sigprocmask(SIG_SETMASK, &s, NULL));
	printf("  USR1 calls %d\n", calls[SIGUSR1]);
	CHECK(sigprocmask(12345, &s, NULL));
}

static void unblockable(void)
{
	uint64_t set, old;

	printf("SIGKILL and SIGSTOP:\n");
	set = BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGCONT);
	SYS(rt_sigprocmask, SIG_BLOCK, &set, NULL, 8);
	state("blocked KILL|STOP|CONT");
	set = ~0ULL;
	SYS(rt_sigprocmask, SIG_SETMASK, &set, &old, 8);
	state("set all");
	SHOW((mask_now() & (BIT(SIGKILL) | BIT(SIGSTOP))) == 0);
	set = 0;
	SYS(rt_sigprocmask, SIG_SETMASK, &set, NULL, 8);

	/* A SIGKILL still kills a child that blocks everything. */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		uint64_t all = ~0ULL;

		alarm(5);
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
		syscall(SYS_kill, getpid(), SIGKILL);
		_exit(1);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("  child blocking all, kill(self, SIGKILL): signaled %d sig %d\n",
	       WIFSIGNALED(status), WIFSIGNALED(status) ? WTERMSIG(status) : -1);
}

static void ignoring(void)
{
	uint64_t set;
	struct sigaction sa;

	printf("ignoring pending signals:\n");
	install(SIGUSR1, handler);
	calls[SIGUSR1] = 0;
	set = BIT(SIGUSR1);
	set_mask(set);
	kill(getpid(), SIGUSR1);
	state("USR1 blocked and pending");
	install(SIGUSR1, SIG_IGN);
	state("after SIG_IGN");
	install(SIGUSR1, handler);
	set_mask(0);
	printf("  calls after unblocking %d\n", calls[SIGUSR1]);

	/* A blocked signal is queued even while ignored: the handler may
	 * change before it is unblocked. */
	install(SIGUSR1, SIG_IGN);
	set_mask(set);
	kill(getpid(), SIGUSR1);
	state("ignored, blocked, sent");
	install(SIGUSR1, handler);
	state("handler set again");
	set_mask(0);
	printf("  calls after unblocking %d\n", calls[SIGUSR1]);

	/* Ignored and unblocked: discarded at once. */
	install(SIGUSR1, SIG_IGN);
	kill(getpid(), SIGUSR1);
	state("ignored, unblocked, sent");
	install(SIGUSR1, handler);

	/* Blocked, ignored, sent, then unblocked while still ignored. */
	install(SIGUSR1, SIG_IGN);
	set_mask(set);
	kill(getpid(), SIGUSR1);
	set_mask(0);
	state("unblocked while ignored");
	install(SIGUSR1, handler);
	set_mask(set);
	state("blocked again");
	set_mask(0);
	printf("  calls %d\n", calls[SIGUSR1]);

	/* SIG_DFL for a pending signal whose default is to ignore it discards
	 * it; SIG_DFL for one whose default is to terminate does not. */
	install(SIGWINCH, handler);
	set_mask(BIT(SIGWINCH) | BIT(SIGUSR2));
	kill(getpid(), SIGWINCH);
	kill(getpid(), SIGUSR2);
	state("WINCH and USR2 pending");
	install(SIGWINCH, SIG_DFL);
	state("SIGWINCH set to SIG_DFL");
	install(SIGUSR2, SIG_DFL);
	state("SIGUSR2 set to SIG_DFL");
	install(SIGUSR2, handler);
	calls[SIGUSR2] = 0;
	set_mask(0);
	printf("  USR2 calls %d, WINCH calls %d\n", calls[SIGUSR2], calls[SIGWINCH]);

	/* Reading a disposition does not discard anything. */
	set_mask(BIT(SIGUSR2));
	kill(getpid(), SIGUSR2);
	sigaction(SIGUSR2, NULL, &sa);
	state("after reading the disposition");
	set_mask(0);
	printf("  USR2 calls %d\n", calls[SIGUSR2]);
	install(SIGUSR1, SIG_DFL);
	install(SIGUSR2, SIG_DFL);
	install(SIGWINCH, SIG_DFL);
}

/* ---- threads ---- */

static volatile int thread_tid;
static volatile int thread_ready;
static uint64_t thread_initial_mask, thread_pending_seen, thread_mask_after;
static int thread_suspend_ret, thread_suspend_errno;

static void *thread_fn(void *arg)
{
	sigset_t empty;

	(void)arg;
	thread_tid = syscall(SYS_gettid);
	thread_initial_mask = mask_now();
	thread_pending_seen = pending_now();
	sigemptyset(&empty);
	thread_ready = 1;
	errno = 0;
	thread_suspend_ret = sigsuspend(&empty);
	thread_suspend_errno = errno;
	thread_mask_after = mask_now();
	return NULL;
}

static void threads(void)
{
	pthread_t t;

	printf("threads:\n");
	install(SIGUSR1, handler);
	install(SIGUSR2, handler);
	calls[SIGUSR1] = calls[SIGUSR2] = 0;
	/* The main thread blocks USR1 and USR2; a USR2 for the main thread
	 * is pending before the thread starts. */
	set_mask(BIT(SIGUSR1) | BIT(SIGUSR2) | BIT(SIGHUP));
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
	pthread_create(&t, NULL, thread_fn, NULL);
	while (!thread_ready)
		sched_yield();
	/* The thread is in (or about to enter) sigsuspend with an empty mask:
	 * a process-directed USR1 goes to it, the main thread's USR2 does
	 * not. */
	kill(getpid(), SIGUSR1);
	pthread_join(t, NULL);
	printf("  new thread inherits the mask: 0x%llx\n", (unsigned long long)thread_initial_mask);
	printf("  its pending set (main's tgkill USR2 not in it): 0x%llx\n",
	       (unsigned long long)thread_pending_seen);
	printf("  sigsuspend in the thread = %d %s, mask after 0x%llx\n", thread_suspend_ret,
	       thread_suspend_errno ? errno_name(thread_suspend_errno) : "",
	       (unsigned long long)thread_mask_after);
	printf("  USR1 calls %d, on the thread %d; USR2 calls %d\n", calls[SIGUSR1],
	       last_tid == thread_tid, calls[SIGUSR2]);
	state("main");
	set_mask(0);
	printf("  USR2 calls after unblocking in main %d, on main %d\n", calls[SIGUSR2],
	       last_tid == getpid());
	install(SIGUSR1, SIG_DFL);
	install(SIGUSR2, SIG_DFL);
}

static void forking(void)
{
	printf("fork:\n");
	install(SIGUSR1, handler);
	set_mask(BIT(SIGUSR1) | BIT(SIGHUP));
	kill(getpid(), SIGUSR1);
	state("parent before fork");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		/* The mask is inherited, the pending set is not. */
		int code = (mask_now() == (BIT(SIGUSR1) | BIT(SIGHUP))) |
			   (pending_now() == 0) << 1;
		_exit(code);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("  child: exited %d, mask inherited %d, pending empty %d\n",
	       WIFEXITED(status), WEXITSTATUS(status) & 1, (WEXITSTATUS(status) >> 1) & 1);
	state("parent after fork");
	calls[SIGUSR1] = 0;
	set_mask(0);
	printf("  USR1 calls %d\n", calls[SIGUSR1]);
	install(SIGUSR1, SIG_DFL);
}

static void sizes(void)
{
	uint64_t set = BIT(SIGUSR1), big[2] = { 0, 0 };

	printf("sizes:\n");
	SYS(rt_sigprocmask, SIG_BLOCK, &set, NULL, 0);
	SYS(rt_sigprocmask, SIG_BLOCK, &set, NULL, 4);
	SYS(rt_sigprocmask, SIG_BLOCK, &set, NULL, 7);
	SYS(rt_sigprocmask, SIG_BLOCK, &set, NULL, 9);
	SYS(rt_sigprocmask, SIG_BLOCK, &set, NULL, 16);
	SYS(rt_sigprocmask, SIG_BLOCK, NULL, big, 16);
	state("unchanged");
	/* rt_sigpending accepts a smaller size and copies that much. */
	set_mask(BIT(SIGUSR1) | BIT(40));
	kill(getpid(), SIGUSR1);
	kill(getpid(), 40);
	big[0] = ~0ULL;
	SYS(rt_sigpending, big, 4);
	printf("  with size 4: 0x%llx\n", (unsigned long long)big[0]);
	big[0] = ~0ULL;
	SYS(rt_sigpending, big, 0);
	printf("  with size 0: 0x%llx\n", (unsigned long long)big[0]);
	big[0] = 0;
	SYS(rt_sigpending, big, 8);
	printf("  with size 8: 0x%llx\n", (unsigned long long)big[0]);
	SYS(rt_sigpending, big, 9);
	SYS(rt_sigpending, big, 16);
	SYS(rt_sigpending, BAD_PTR, 8);
	/* Discard them. */
	install(SIGUSR1, SIG_IGN);
	install(40, SIG_IGN);
	state("discarded");
	set_mask(0);
	install(SIGUSR1, SIG_DFL);
	install(40, SIG_DFL);
}

int main(void)
{
	alarm(10);
	state("initial");
	block_unblock();
	unblockable();
	ignoring();
	threads();
	forking();
	sizes();
	state("final");
	return 0;
}
