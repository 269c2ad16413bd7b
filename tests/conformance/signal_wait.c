/*
 * signal_wait.c: waiting for signals and being interrupted by them.
 * sigsuspend (EINTR after the handler, its temporary mask in effect during
 * the handler, the old mask in uc_sigmask and after), sigtimedwait and
 * sigwaitinfo (a pending signal taken without its handler; timeouts, a zero
 * timeout, bad arguments), pause, nanosleep and clock_nanosleep interrupted
 * (EINTR even with SA_RESTART, the remaining time), wait4 restarted with
 * SA_RESTART and EINTR without it, SIGALRM from an interval timer.
 *
 * Signals come from the process itself or from a forked "kicker" child.
 * When the signal must arrive during a call (pause, nanosleep, wait4), the
 * kicker sends it repeatedly so that one always does.
 */
#include "common.h"
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>

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

static sigset_t sigset_of(uint64_t bits)
{
	sigset_t s;

	sigemptyset(&s);
	for (int i = 1; i <= 64; i++)
		if ((bits & BIT(i)) && i != 32 && i != 33)
			sigaddset(&s, i);
	return s;
}

static volatile int calls;
static volatile uint64_t handler_mask, handler_ucmask;
static volatile int handler_code, handler_pid;

static void handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	calls++;
	handler_mask = mask_now();
	handler_ucmask = *(uint64_t *)&uc->uc_sigmask;
	handler_code = si->si_code;
	handler_pid = si->si_pid;
}

static void install(int sig, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void dfl(int sig)
{
	signal(sig, SIG_DFL);
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A child that sends sig to us after delay_ms, and again every delay_ms
 * if repeat. */
static pid_t kicker(int sig, int delay_ms, int repeat)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(5);
		do {
			msleep(delay_ms);
			kill(parent, sig);
		} while (repeat);
		_exit(0);
	}
	return pid;
}

/* Stop a kicker and discard what it sent. */
static void stop_kicker(pid_t pid, int sig)
{
	uint64_t old = mask_now();
	struct sigaction sa;
	int status;

	set_mask(old | BIT(sig));
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(sig, NULL, &sa);
	signal(sig, SIG_IGN);
	sigaction(sig, &sa, NULL);
	set_mask(old);
}

static long elapsed_ms(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void suspend(void)
{
	sigset_t temp;
	uint64_t ktemp;
	int r;

	printf("sigsuspend:\n");
	install(SIGUSR1, 0);
	set_mask(BIT(SIGUSR1) | BIT(SIGUSR2));
	raise(SIGUSR1);
	printf("  calls before %d, pending 0x%llx\n", calls, (unsigned long long)pending_now());
	temp = sigset_of(BIT(SIGUSR2) | BIT(SIGHUP));
	r = CHECK(sigsuspend(&temp));
	printf("  calls %d, mask in handler 0x%llx, uc_sigmask 0x%llx, mask after 0x%llx\n",
	       calls, (unsigned long long)handler_mask, (unsigned long long)handler_ucmask,
	       (unsigned long long)mask_now());
	(void)r;

	/* From another process, sent while blocked: no race. */
	calls = 0;
	pid_t k = kicker(SIGUSR1, 50, 0);
	temp = sigset_of(0);
	CHECK(sigsuspend(&temp));
	printf("  from a child: calls %d si_code %d si_pid==child %d, mask after 0x%llx\n",
	       calls, handler_code, handler_pid == k, (unsigned long long)mask_now());
	waitpid(k, NULL, 0);

	/* Raw rt_sigsuspend. */
	calls = 0;
	raise(SIGUSR1);
	ktemp = BIT(SIGHUP);
	SYS(rt_sigsuspend, &ktemp, 8);
	printf("  calls %d, mask in handler 0x%llx\n", calls, (unsigned long long)handler_mask);
	SYS(rt_sigsuspend, &ktemp, 4);
	SYS(rt_sigsuspend, &ktemp, 16);
	SYS(rt_sigsuspend, BAD_PTR, 8);
	printf("  pending 0x%llx\n", (unsigned long long)pending_now());
	set_mask(0);
	dfl(SIGUSR1);
}

static void show_info(const char *what, long r, const siginfo_t *si)
{
	printf("  %s: result %ld si_signo %d si_code %d si_pid==getpid() %d si_uid==getuid() %d",
	       what, r, si->si_signo, si->si_code, si->si_pid == getpid(),
	       si->si_uid == getuid());
	if (si->si_code == SI_QUEUE)
		printf(" si_value %d", si->si_value.sival_int);
	printf("\n");
}

static void timedwait(void)
{
	sigset_t set;
	siginfo_t si;
	struct timespec ts, start;
	uint64_t kset;

	printf("sigtimedwait, sigwaitinfo:\n");
	install(SIGUSR1, 0);
	install(SIGUSR2, 0);
	install(SIGRTMIN, 0);
	install(SIGRTMIN + 1, 0);
	calls = 0;
	set_mask(BIT(SIGUSR1) | BIT(SIGUSR2) | BIT(SIGRTMIN) | BIT(SIGRTMIN + 1));
	set = sigset_of(BIT(SIGUSR1));

	raise(SIGUSR1);
	ts = (struct timespec){ 1, 0 };
	kset = BIT(SIGUSR1);
	memset(&si, 0x55, sizeof(si));
	long r = SYS(rt_sigtimedwait, &kset, &si, &ts, 8);
	show_info("raised", r, &si);
	printf("  calls %d, pending 0x%llx\n", calls, (unsigned long long)pending_now());
	/* glibc's sigtimedwait reports SI_TKILL as SI_USER. */
	raise(SIGUSR1);
	memset(&si, 0x55, sizeof(si));
	r = CHECK(sigtimedwait(&set, &si, &ts));
	show_info("raised, libc", r, &si);

	kill(getpid(), SIGUSR1);
	memset(&si, 0x55, sizeof(si));
	r = CHECK(sigwaitinfo(&set, &si));
	show_info("kill", r, &si);
	kill(getpid(), SIGUSR1);
	CHECK(sigwaitinfo(&set, NULL));

	/* Order, queued values. */
	set = sigset_of(BIT(SIGUSR1) | BIT(SIGUSR2) | BIT(SIGRTMIN) | BIT(SIGRTMIN + 1));
	for (int i = 1; i <= 3; i++)
		sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = i });
	sigqueue(getpid(), SIGRTMIN, (union sigval){ .sival_int = 7 });
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGUSR1);
	printf("  taken in order:");
	ts = (struct timespec){ 0, 0 };
	while ((r = sigtimedwait(&set, &si, &ts)) > 0) {
		printf(" %ld", r);
		if (si.si_code == SI_QUEUE)
			printf("(%d)", si.si_value.sival_int);
	}
	printf(", then %s\n", errno_name(errno));
	printf("  calls %d\n", calls);

	/* Timeouts. */
	set = sigset_of(BIT(SIGUSR1));
	ts = (struct timespec){ 0, 0 };
	CHECK(sigtimedwait(&set, &si, &ts));
	ts = (struct timespec){ 0, 50 * 1000000 };
	clock_gettime(CLOCK_MONOTONIC, &start);
	CHECK(sigtimedwait(&set, &si, &ts));
	printf("  waited at least 50 ms: %d\n", elapsed_ms(&start) >= 50);
	ts = (struct timespec){ 0, 50 * 1000000 };
	CHECK(sigtimedwait(&set, NULL, &ts));

	/* Bad arguments: the timespec is checked first, even with a signal
	 * pending, which then stays pending. */
	kill(getpid(), SIGUSR1);
	kset = BIT(SIGUSR1);
	ts = (struct timespec){ 0, 1000000000 };
	SYS(rt_sigtimedwait, &kset, &si, &ts, 8);
	ts = (struct timespec){ 0, -1 };
	SYS(rt_sigtimedwait, &kset, &si, &ts, 8);
	ts = (struct timespec){ -1, 0 };
	SYS(rt_sigtimedwait, &kset, &si, &ts, 8);
	ts = (struct timespec){ 0, 0 };
	SYS(rt_sigtimedwait, &kset, &si, &ts, 4);
	SYS(rt_sigtimedwait, &kset, &si, &ts, 16);
	SYS(rt_sigtimedwait, BAD_PTR, &si, &ts, 8);
	SYS(rt_sigtimedwait, &kset, &si, BAD_PTR, 8);
	printf("  pending 0x%llx\n", (unsigned long long)pending_now());
	/* A bad siginfo pointer: the signal is taken, then EFAULT. */
	SYS(rt_sigtimedwait, &kset, BAD_PTR, &ts, 8);
	printf("  pending 0x%llx\n", (unsigned long long)pending_now());
	/* SIGKILL and SIGSTOP are dropped from the set. */
	kset = BIT(SIGKILL) | BIT(SIGSTOP);
	SYS(rt_sigtimedwait, &kset, &si, &ts, 8);
	kset = 0;
	SYS(rt_sigtimedwait, &kset, &si, &ts, 8);

	/* A signal sent while waiting is taken even if it is not blocked; its
	 * handler does not run. */
	set_mask(0);
	calls = 0;
	pid_t k = kicker(SIGUSR1, 150, 0);
	ts = (struct timespec){ 2, 0 };
	memset(&si, 0, sizeof(si));
	r = CHECK(sigtimedwait(&set, &si, &ts));
	printf("  unblocked, from a child: si_code %d si_pid==child %d, calls %d\n",
	       si.si_code, si.si_pid == k, calls);
	waitpid(k, NULL, 0);

	/* Another signal with a handler interrupts the wait. */
	k = kicker(SIGUSR2, 30, 1);
	ts = (struct timespec){ 2, 0 };
	CHECK(sigtimedwait(&set, &si, &ts));
	stop_kicker(k, SIGUSR2);
	printf("  USR2 handler ran %d\n", calls > 0);
	dfl(SIGUSR1);
	dfl(SIGUSR2);
	dfl(SIGRTMIN);
	dfl(SIGRTMIN + 1);
}

static void pausing(void)
{
	pid_t k;

	printf("pause:\n");
	install(SIGUSR1, SA_RESTART);
	calls = 0;
	k = kicker(SIGUSR1, 30, 1);
	CHECK(pause());
	stop_kicker(k, SIGUSR1);
	printf("  handler ran %d (SA_RESTART does not restart pause)\n", calls > 0);
	dfl(SIGUSR1);
}

static void sleeping(void)
{
	struct timespec req, rem;
	pid_t k;

	printf("nanosleep:\n");
	install(SIGUSR1, SA_RESTART);
	k = kicker(SIGUSR1, 30, 1);
	req = (struct timespec){ 5, 0 };
	rem = (struct timespec){ -1, -1 };
	calls = 0;
	CHECK(nanosleep(&req, &rem));
	printf("  handler ran %d, 0 < rem < req: %d, tv_nsec in range %d\n", calls > 0,
	       (rem.tv_sec > 0 || (rem.tv_sec == 0 && rem.tv_nsec > 0)) && rem.tv_sec < 5,
	       rem.tv_nsec >= 0 && rem.tv_nsec < 1000000000);
	CHECK(nanosleep(&req, NULL));
	rem = (struct timespec){ -1, -1 };
	SYS(clock_nanosleep, CLOCK_MONOTONIC, 0, &req, &rem);
	printf("  0 < rem < req: %d\n",
	       (rem.tv_sec > 0 || (rem.tv_sec == 0 && rem.tv_nsec > 0)) && rem.tv_sec < 5);
	clock_gettime(CLOCK_MONOTONIC, &req);
	req.tv_sec += 5;
	rem = (struct timespec){ -1, -1 };
	SYS(clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &req, &rem);
	printf("  TIMER_ABSTIME: rem untouched %d\n", rem.tv_sec == -1 && rem.tv_nsec == -1);
	stop_kicker(k, SIGUSR1);
	dfl(SIGUSR1);

	/* Signals that are ignored (explicitly or by default) or blocked do
	 * not interrupt a sleep. */
	k = kicker(SIGWINCH, 20, 1);
	req = (struct timespec){ 0, 200 * 1000000 };
	CHECK(nanosleep(&req, &rem));
	stop_kicker(k, SIGWINCH);
	signal(SIGUSR2, SIG_IGN);
	k = kicker(SIGUSR2, 20, 1);
	CHECK(nanosleep(&req, &rem));
	stop_kicker(k, SIGUSR2);
	install(SIGUSR2, 0);
	set_mask(BIT(SIGUSR2));
	calls = 0;
	k = kicker(SIGUSR2, 20, 1);
	CHECK(nanosleep(&req, &rem));
	stop_kicker(k, SIGUSR2);
	printf("  blocked: calls %d\n", calls);
	set_mask(0);
	dfl(SIGUSR2);
}

/* A child that signals us a few times, then exits with status 7. */
static pid_t noisy_child(void)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(5);
		for (int i = 0; i < 3; i++) {
			msleep(30);
			kill(parent, SIGUSR1);
		}
		msleep(30);
		_exit(7);
	}
	return pid;
}

static void waiting(void)
{
	pid_t child;
	int status = 0;
	long r;

	printf("wait4 interrupted:\n");
	install(SIGUSR1, SA_RESTART);
	calls = 0;
	child = noisy_child();
	errno = 0;
	r = wait4(child, &status, 0, NULL);
	printf("  SA_RESTART: wait4 returned the child %d (%s), exit status %d, handler ran %d\n",
	       r == child, r < 0 ? errno_name(errno) : "ok", WEXITSTATUS(status), calls > 0);

	install(SIGUSR1, 0);
	calls = 0;
	child = noisy_child();
	errno = 0;
	r = wait4(child, &status, 0, NULL);
	printf("  no SA_RESTART: wait4 = %ld %s, handler ran %d\n", r < 0 ? r : 0,
	       r < 0 ? errno_name(errno) : "(returned the child)", calls > 0);
	set_mask(BIT(SIGUSR1));
	r = wait4(child, &status, 0, NULL);
	printf("  then, blocked: wait4 returned the child %d, exit status %d\n", r == child,
	       WEXITSTATUS(status));
	signal(SIGUSR1, SIG_IGN);
	set_mask(0);
	dfl(SIGUSR1);
}

static void itimer(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };
	struct timespec ts = { 2, 0 };
	sigset_t set = sigset_of(BIT(SIGALRM));
	siginfo_t si;

	printf("SIGALRM from setitimer:\n");
	unsigned left = alarm(0);
	/* Set to 10 s at the start; the tests before take a few seconds at most. */
	printf("  watchdog alarm pending, at most 10 s left: %d\n", left >= 1 && left <= 10);
	set_mask(BIT(SIGALRM));
	CHECK(setitimer(ITIMER_REAL, &it, NULL));
	memset(&si, 0, sizeof(si));
	long r = CHECK(sigtimedwait(&set, &si, &ts));
	printf("  result %ld si_signo %d si_code %d\n", r, si.si_signo, si.si_code);
	set_mask(0);
	alarm(10);

	/* alarm() is the same timer: setitimer reads it back. */
	alarm(100);
	getitimer(ITIMER_REAL, &it);
	printf("  after alarm(100): 99 <= it_value.tv_sec <= 100: %d, interval 0: %d\n",
	       it.it_value.tv_sec >= 99 && it.it_value.tv_sec <= 100,
	       it.it_interval.tv_sec == 0 && it.it_interval.tv_usec == 0);
	left = alarm(10);
	printf("  alarm(10) returned 99 or 100: %d\n", left == 99 || left == 100);
}

int main(void)
{
	alarm(10);
	suspend();
	timedwait();
	pausing();
	sleeping();
	waiting();
	itimer();
	printf("final: mask 0x%llx pending 0x%llx\n", (unsigned long long)mask_now(),
	       (unsigned long long)pending_now());
	return 0;
}
