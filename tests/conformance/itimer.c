/*
 * itimer.c: alarm(2), setitimer(2) and getitimer(2): ITIMER_REAL (one-shot
 * and periodic, shared with alarm), ITIMER_VIRTUAL and ITIMER_PROF (CPU
 * time: they fire while spinning, not while sleeping), disarming, fork
 * not inheriting them, and argument errors.
 *
 * SIGALRM is under test, so the watchdog is a forked child that kills this
 * process if it is still running after 20 s. Only relations and coarse
 * counts of signals are printed.
 */
#include "common.h"
#include <signal.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000L

static volatile sig_atomic_t n_alrm, n_vtalrm, n_prof;

static void on_signal(int sig)
{
	if (sig == SIGALRM)
		n_alrm++;
	else if (sig == SIGVTALRM)
		n_vtalrm++;
	else if (sig == SIGPROF)
		n_prof++;
}

static long now_ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Sleep ms of wall time, through signals. */
static void msleep(long ms)
{
	long end = now_ns(CLOCK_MONOTONIC) + ms * MS;
	long left;

	while ((left = end - now_ns(CLOCK_MONOTONIC)) > 0) {
		struct timespec t = { left / 1000000000L, left % 1000000000L };

		nanosleep(&t, NULL);
	}
}

/* Spin until this process used ms of CPU time (at most 2 s of wall time). */
static volatile unsigned long sink;

static void spin_cpu(long ms)
{
	long cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), wall0 = now_ns(CLOCK_MONOTONIC);

	while (now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0 < ms * MS &&
	       now_ns(CLOCK_MONOTONIC) - wall0 < 2000 * MS)
		for (int i = 0; i < 10000; i++)
			sink += i;
}

static long tv_us(const struct timeval *tv)
{
	return tv->tv_sec * 1000000L + tv->tv_usec;
}

static int is_zero(const struct itimerval *it)
{
	return tv_us(&it->it_value) == 0 && tv_us(&it->it_interval) == 0;
}

/* Wait (at most 3 s) until n_alrm reaches n, in 10 ms naps. */
static void wait_alrm(int n)
{
	long start = now_ns(CLOCK_MONOTONIC);

	while (n_alrm < n && now_ns(CLOCK_MONOTONIC) - start < 3000 * MS) {
		struct timespec t = { 0, 10 * MS };

		nanosleep(&t, NULL);
	}
}

static pid_t start_watchdog(void)
{
	pid_t parent = getpid(), pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* Hold no pipe of the harness's open. */
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (int i = 0; i < 200 && getppid() == parent; i++) {
			struct timespec t = { 0, 100 * MS };

			nanosleep(&t, NULL);
		}
		if (getppid() == parent)
			kill(parent, SIGKILL);
		_exit(0);
	}
	return pid;
}

static void test_alarm(void)
{
	struct itimerval it;
	long start;

	puts("-- alarm");
	SYS(alarm, 0);
	SYS(alarm, 5);
	SYS(alarm, 3);
	SYS(getitimer, ITIMER_REAL, &it);
	SHOW(tv_us(&it.it_value) > 2000000 && tv_us(&it.it_value) <= 3000000);
	SHOW(tv_us(&it.it_interval) == 0);
	SYS(alarm, 0);
	SYS(alarm, 0);
	/* alarm and ITIMER_REAL are one timer; alarm rounds to seconds. */
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { 2, 600000 } }, NULL);
	SYS(alarm, 0);
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { 0, 300000 } }, NULL);
	SYS(alarm, 0);
	SYS(alarm, 7);
	SYS(getitimer, ITIMER_REAL, &it);
	SHOW(tv_us(&it.it_value) > 6000000 && tv_us(&it.it_value) <= 7000000);
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { 0, 0 } }, &it);
	SHOW(tv_us(&it.it_value) > 6000000 && tv_us(&it.it_value) <= 7000000);

	/* It fires: SIGALRM reaches the handler after about a second. */
	n_alrm = 0;
	start = now_ns(CLOCK_MONOTONIC);
	SYS(alarm, 1);
	wait_alrm(1);
	printf("SIGALRM count after alarm(1) = %d\n", (int)n_alrm);
	SHOW(now_ns(CLOCK_MONOTONIC) - start >= 900 * MS);
	SYS(alarm, 0);
	SYS(getitimer, ITIMER_REAL, &it);
	SHOW(is_zero(&it));
}

static void test_real(void)
{
	struct itimerval it, old;
	long start;
	int n;

	puts("-- ITIMER_REAL one-shot");
	SYS(getitimer, ITIMER_REAL, &it);
	SHOW(is_zero(&it));
	n_alrm = 0;
	memset(&old, 0x55, sizeof(old));
	start = now_ns(CLOCK_MONOTONIC);
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { 0, 50000 } }, &old);
	SHOW(is_zero(&old));
	SYS(getitimer, ITIMER_REAL, &it);
	SHOW(tv_us(&it.it_value) > 0 && tv_us(&it.it_value) <= 50000);
	SHOW(tv_us(&it.it_interval) == 0);
	wait_alrm(1);
	printf("SIGALRM count = %d\n", (int)n_alrm);
	SHOW(now_ns(CLOCK_MONOTONIC) - start >= 50 * MS);
	SYS(getitimer, ITIMER_REAL, &it);
	SHOW(is_zero(&it));
	msleep(100);
	printf("SIGALRM count 100 ms later = %d\n", (int)n_alrm);

	puts("-- ITIMER_REAL interval");
	n_alrm = 0;
	start = now_ns(CLOCK_MONOTONIC);
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 60000 }, { 0, 60000 } }, NULL);
	SYS(getitimer, ITIMER_REAL, &it);
	printf("interval = %ld us\n", tv_us(&it.it_interval));
	SHOW(tv_us(&it.it_value) > 0 && tv_us(&it.it_value) <= 60000);
	msleep(300);
	n = n_alrm;
	SHOW(n >= 2 && n <= 6);
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { 0, 0 } }, &old);
	printf("old interval = %ld us\n", tv_us(&old.it_interval));
	SHOW(tv_us(&old.it_value) > 0 && tv_us(&old.it_value) <= 60000);
	n = n_alrm;
	msleep(150);
	SHOW(n_alrm == n);
	SYS(getitimer, ITIMER_REAL, &it);
	SHOW(is_zero(&it));

	/* A zero value disarms, whatever the interval. */
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 1, 0 }, { 0, 0 } }, NULL);
	SYS(getitimer, ITIMER_REAL, &it);
	SHOW(is_zero(&it));
	/* A long interval, then replaced: old_value has the first one. */
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 5, 0 }, { 10, 0 } }, NULL);
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { 20, 0 } }, &old);
	SHOW(tv_us(&old.it_interval) == 5000000);
	SHOW(tv_us(&old.it_value) > 9000000 && tv_us(&old.it_value) <= 10000000);
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { 0, 0 } }, &old);
	SHOW(tv_us(&old.it_interval) == 0);
	SHOW(tv_us(&old.it_value) > 19000000 && tv_us(&old.it_value) <= 20000000);
	printf("SIGALRM count = %d\n", (int)(n_alrm - n));
}

static void test_cpu(int which, const char *name, volatile sig_atomic_t *count)
{
	struct itimerval it, old;
	int n;

	printf("-- %s\n", name);
	SYS(getitimer, which, &it);
	SHOW(is_zero(&it));
	/* Sleeping uses no CPU time: a 50 ms CPU timer does not fire. */
	*count = 0;
	SYS(setitimer, which, &(struct itimerval){ { 0, 0 }, { 0, 50000 } }, NULL);
	msleep(150);
	printf("signals after sleeping 150 ms = %d\n", (int)*count);
	SYS(getitimer, which, &it);
	/* Nearly all left; Linux adds a scheduler tick to the value. */
	SHOW(tv_us(&it.it_value) > 40000 && tv_us(&it.it_value) <= 60000);
	SHOW(tv_us(&it.it_interval) == 0);
	spin_cpu(150);
	printf("signals after spinning 150 ms = %d\n", (int)*count);
	SYS(getitimer, which, &it);
	SHOW(is_zero(&it));

	/* Periodic, 20 ms: several while spinning 200 ms. */
	*count = 0;
	SYS(setitimer, which, &(struct itimerval){ { 0, 20000 }, { 0, 20000 } }, NULL);
	SYS(getitimer, which, &it);
	printf("interval = %ld us\n", tv_us(&it.it_interval));
	spin_cpu(200);
	n = *count;
	SHOW(n >= 2 && n <= 20);
	SYS(setitimer, which, &(struct itimerval){ { 0, 0 }, { 0, 0 } }, &old);
	printf("old interval = %ld us\n", tv_us(&old.it_interval));
	SHOW(tv_us(&old.it_value) > 0 && tv_us(&old.it_value) <= 20000);
	n = *count;
	spin_cpu(60);
	SHOW(*count == n);
	SYS(getitimer, which, &it);
	SHOW(is_zero(&it));
}

static void test_fork(void)
{
	pid_t pid;
	int status = 0;

	puts("-- fork");
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { 5, 0 } }, NULL);
	SYS(setitimer, ITIMER_VIRTUAL, &(struct itimerval){ { 0, 0 }, { 5, 0 } }, NULL);
	SYS(setitimer, ITIMER_PROF, &(struct itimerval){ { 0, 0 }, { 5, 0 } }, NULL);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct itimerval r, v, p;

		getitimer(ITIMER_REAL, &r);
		getitimer(ITIMER_VIRTUAL, &v);
		getitimer(ITIMER_PROF, &p);
		_exit(is_zero(&r) | is_zero(&v) << 1 | is_zero(&p) << 2 | (alarm(0) == 0) << 3);
	}
	waitpid(pid, &status, 0);
	printf("child: exited %d, REAL/VIRTUAL/PROF zero and alarm 0 = 0x%x\n", WIFEXITED(status),
	       WEXITSTATUS(status));
	SYS(alarm, 0);
	SYS(setitimer, ITIMER_VIRTUAL, &(struct itimerval){ { 0, 0 }, { 0, 0 } }, NULL);
	SYS(setitimer, ITIMER_PROF, &(struct itimerval){ { 0, 0 }, { 0, 0 } }, NULL);
}

static void test_errors(void)
{
	struct itimerval it, old;

	puts("-- errors");
	SYS(getitimer, 3, &it);
	SYS(getitimer, -1, &it);
	SYS(getitimer, 100, &it);
	SYS(setitimer, 3, &(struct itimerval){ { 0, 0 }, { 1, 0 } }, NULL);
	SYS(setitimer, -1, &(struct itimerval){ { 0, 0 }, { 1, 0 } }, NULL);
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { 0, 1000000 } }, NULL);
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 1000000 }, { 1, 0 } }, NULL);
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { 0, -1 } }, NULL);
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { -1, 0 } }, NULL);
	SYS(setitimer, ITIMER_VIRTUAL, &(struct itimerval){ { 0, 0 }, { 0, 1000000 } }, NULL);
	SYS(setitimer, ITIMER_PROF, &(struct itimerval){ { 0, 0 }, { 0, 1000000 } }, NULL);
	SYS(getitimer, ITIMER_REAL, &it);
	SHOW(is_zero(&it));
	SYS(getitimer, ITIMER_REAL, BAD_PTR);
	SYS(getitimer, ITIMER_REAL, NULL);
	SYS(setitimer, ITIMER_REAL, BAD_PTR, NULL);
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { 0, 0 } }, BAD_PTR);
	SYS(setitimer, ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { 0, 0 } }, &old);
	SHOW(is_zero(&old));
}

int main(void)
{
	struct sigaction sa = { 0 };
	pid_t watchdog = start_watchdog();

	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGVTALRM, &sa, NULL);
	sigaction(SIGPROF, &sa, NULL);

	test_alarm();
	test_real();
	test_cpu(ITIMER_VIRTUAL, "ITIMER_VIRTUAL", &n_vtalrm);
	test_cpu(ITIMER_PROF, "ITIMER_PROF", &n_prof);
	test_fork();
	test_errors();

	kill(watchdog, SIGKILL);
	waitpid(watchdog, NULL, 0);
	puts("done");
	return 0;
}
