/*
 * posix_timer.c: timer_create(2), timer_settime(2), timer_gettime(2),
 * timer_getoverrun(2) and timer_delete(2) as raw system calls, with
 * SIGEV_SIGNAL (the siginfo it queues), SIGEV_NONE, SIGEV_THREAD_ID and
 * the NULL default (SIGALRM); relative and absolute expiries, intervals,
 * old values, disarming, overruns while the signal is blocked, fork, and
 * errors. Then glibc's SIGEV_THREAD, and timers on CPU-time clocks last.
 *
 * Timer ids, times and tids are never printed, only relations.
 */
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000L

typedef int ktimer_t;

static long now_ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static long ts_ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000L + t->tv_nsec;
}

static struct timespec ns_ts(long ns)
{
	return (struct timespec){ ns / 1000000000L, ns % 1000000000L };
}

static struct itimerspec its(long value_ns, long interval_ns)
{
	return (struct itimerspec){ ns_ts(interval_ns), ns_ts(value_ns) };
}

static void msleep(long ms)
{
	long end = now_ns(CLOCK_MONOTONIC) + ms * MS, left;

	while ((left = end - now_ns(CLOCK_MONOTONIC)) > 0) {
		struct timespec t = ns_ts(left);

		nanosleep(&t, NULL);
	}
}

static volatile unsigned long sink;

static void spin_cpu(long ms)
{
	long cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID), wall0 = now_ns(CLOCK_MONOTONIC);

	while (now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0 < ms * MS &&
	       now_ns(CLOCK_MONOTONIC) - wall0 < 2000 * MS)
		for (int i = 0; i < 10000; i++)
			sink += i;
}

static int load(int *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void store(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

/* What the handler saw last, and how often it ran. */
static int count;
static volatile int last_sig, last_code, last_value, last_timerid, last_overrun, first_overrun;
static volatile int first_getoverrun;
static volatile pid_t last_tid;
static volatile ktimer_t overrun_timer = -1;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	last_sig = sig;
	last_code = si->si_code;
	last_value = si->si_value.sival_int;
	last_timerid = si->si_timerid;
	last_overrun = si->si_overrun;
	last_tid = gettid();
	if (overrun_timer >= 0 && first_overrun < 0) {
		first_overrun = si->si_overrun;
		first_getoverrun = syscall(SYS_timer_getoverrun, overrun_timer);
	}
	__atomic_add_fetch(&count, 1, __ATOMIC_SEQ_CST);
}

/* Wait (at most 3 s) until the handler ran n times in all. */
static int wait_count(int n)
{
	long start = now_ns(CLOCK_MONOTONIC);

	while (load(&count) < n && now_ns(CLOCK_MONOTONIC) - start < 3000 * MS) {
		struct timespec t = { 0, 1 * MS };

		nanosleep(&t, NULL);
	}
	return load(&count) >= n;
}

static const char *code_name(int code)
{
	return code == SI_TIMER ? "SI_TIMER" : code == SI_USER ? "SI_USER" : "other";
}

static void test_signal(void)
{
	struct sigevent sev = { 0 };
	struct itimerspec cur, old;
	ktimer_t id = -1, id2 = -1;
	long start;
	int n;

	puts("-- SIGEV_SIGNAL");
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;
	sev.sigev_value.sival_int = 1234;
	SYS(timer_create, CLOCK_MONOTONIC, &sev, &id);
	SHOW(id >= 0);
	SYS(timer_gettime, id, &cur);
	SHOW(ts_ns(&cur.it_value) == 0 && ts_ns(&cur.it_interval) == 0);
	count = 0;
	start = now_ns(CLOCK_MONOTONIC);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 0, 30 * MS } }, NULL);
	SYS(timer_gettime, id, &cur);
	SHOW(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 30 * MS);
	SHOW(wait_count(1));
	SHOW(now_ns(CLOCK_MONOTONIC) - start >= 30 * MS);
	printf("sig %s, code %s, value %d, overrun %d\n", sigabbrev_np(last_sig), code_name(last_code),
	       last_value, last_overrun);
	SHOW(last_timerid == id);
	SHOW(last_tid == gettid());
	SYS(timer_gettime, id, &cur);
	SHOW(ts_ns(&cur.it_value) == 0);
	SYS(timer_getoverrun, id);

	/* A second timer has another id and its own value. */
	sev.sigev_value.sival_int = 5678;
	SYS(timer_create, CLOCK_REALTIME, &sev, &id2);
	SHOW(id2 >= 0 && id2 != id);
	SYS(timer_settime, id2, 0, &(struct itimerspec){ { 0, 0 }, { 0, 10 * MS } }, NULL);
	SHOW(wait_count(2));
	printf("value %d\n", last_value);
	SHOW(last_timerid == id2);

	puts("-- absolute expiry");
	{
		struct itimerspec abs = its(now_ns(CLOCK_MONOTONIC) + 30 * MS, 0);

		n = load(&count);
		SYS(timer_settime, id, TIMER_ABSTIME, &abs, NULL);
		SHOW(wait_count(n + 1));
		SHOW(now_ns(CLOCK_MONOTONIC) >= ts_ns(&abs.it_value));
		SHOW(last_timerid == id);
		abs = its(now_ns(CLOCK_REALTIME) + 30 * MS, 0);
		SYS(timer_settime, id2, TIMER_ABSTIME, &abs, NULL);
		SHOW(wait_count(n + 2));
		SHOW(now_ns(CLOCK_REALTIME) >= ts_ns(&abs.it_value));
		SHOW(last_timerid == id2);
		/* A deadline in the past fires at once. */
		start = now_ns(CLOCK_MONOTONIC);
		abs = its(1000000000L, 0);
		SYS(timer_settime, id, TIMER_ABSTIME, &abs, NULL);
		SHOW(wait_count(n + 3));
		SHOW(now_ns(CLOCK_MONOTONIC) - start < 500 * MS);
		SYS(timer_gettime, id, &cur);
		SHOW(ts_ns(&cur.it_value) == 0);
		/* gettime of an absolute timer is still relative. */
		abs = its(now_ns(CLOCK_MONOTONIC) + 5000 * MS, 0);
		SYS(timer_settime, id, TIMER_ABSTIME, &abs, NULL);
		SYS(timer_gettime, id, &cur);
		SHOW(ts_ns(&cur.it_value) > 4900 * MS && ts_ns(&cur.it_value) <= 5000 * MS);
	}

	puts("-- old value, interval, disarm");
	memset(&old, 0x55, sizeof(old));
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 250 * MS }, { 1, 0 } }, &old);
	SHOW(ts_ns(&old.it_value) > 4900 * MS && ts_ns(&old.it_value) <= 5000 * MS);
	SHOW(ts_ns(&old.it_interval) == 0);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 2, 0 } }, &old);
	SHOW(ts_ns(&old.it_value) > 900 * MS && ts_ns(&old.it_value) <= 1000 * MS);
	printf("old interval %ld ms\n", ts_ns(&old.it_interval) / MS);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 0, 0 } }, &old);
	SHOW(ts_ns(&old.it_value) > 1900 * MS && ts_ns(&old.it_value) <= 2000 * MS);
	SYS(timer_gettime, id, &cur);
	SHOW(ts_ns(&cur.it_value) == 0 && ts_ns(&cur.it_interval) == 0);
	/* A zero value disarms, whatever the interval. */
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 10 * MS }, { 0, 0 } }, NULL);
	SYS(timer_gettime, id, &cur);
	SHOW(ts_ns(&cur.it_value) == 0);

	/*
	 * Periodic: 20 ms over 200 ms. A loaded machine can sleep longer and
	 * coalesce expirations, so the count is checked against the time that
	 * really passed: at least one, at most one per 20 ms and two more.
	 */
	n = load(&count);
	long t0 = now_ns(CLOCK_MONOTONIC);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 20 * MS }, { 0, 20 * MS } }, NULL);
	SYS(timer_gettime, id, &cur);
	printf("interval %ld ms\n", ts_ns(&cur.it_interval) / MS);
	SHOW(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 20 * MS);
	msleep(200);
	long fired = load(&count) - n, most = (now_ns(CLOCK_MONOTONIC) - t0) / (20 * MS) + 2;
	SHOW(fired >= 1 && fired <= most);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 0, 0 } }, &old);
	printf("old interval %ld ms\n", ts_ns(&old.it_interval) / MS);
	SHOW(ts_ns(&old.it_value) > 0 && ts_ns(&old.it_value) <= 20 * MS);
	n = load(&count);
	msleep(60);
	SHOW(load(&count) == n);

	puts("-- overrun while the signal is blocked");
	{
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		long blocked_from, blocked_ms;

		n = load(&count);
		first_overrun = -1;
		overrun_timer = id;
		blocked_from = now_ns(CLOCK_MONOTONIC);
		SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 10 * MS }, { 0, 10 * MS } }, NULL);
		msleep(120);
		printf("delivered while blocked %d\n", load(&count) - n);
		blocked_ms = (now_ns(CLOCK_MONOTONIC) - blocked_from) / MS;
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		SHOW(wait_count(n + 1));
		SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 0, 0 } }, NULL);
		overrun_timer = -1;
		/* A loaded machine may sleep longer: at most one per 10 ms blocked. */
		SHOW(first_overrun >= 3 && first_overrun <= blocked_ms / 10 + 1);
		SHOW(first_getoverrun == first_overrun);
	}

	puts("-- fork");
	{
		pid_t pid;
		int status = 0;

		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			struct itimerspec c;

			/* Timers are not inherited. */
			errno = 0;
			long r = syscall(SYS_timer_gettime, id, &c);

			_exit(r == -1 && errno == EINVAL ? 0 : 1);
		}
		waitpid(pid, &status, 0);
		printf("child: timer_gettime EINVAL %d\n", WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}

	puts("-- timer_delete");
	SYS(timer_delete, id);
	SYS(timer_delete, id);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 1, 0 } }, NULL);
	SYS(timer_gettime, id, &cur);
	SYS(timer_getoverrun, id);
	SYS(timer_delete, id2);
	SYS(timer_delete, -1);
	SYS(timer_delete, 1000000);
}

static void test_none(void)
{
	struct sigevent sev = { 0 };
	struct itimerspec a, b;
	ktimer_t id = -1;
	int n = load(&count);

	puts("-- SIGEV_NONE");
	sev.sigev_notify = SIGEV_NONE;
	SYS(timer_create, CLOCK_MONOTONIC, &sev, &id);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 0, 200 * MS } }, NULL);
	SYS(timer_gettime, id, &a);
	msleep(50);
	SYS(timer_gettime, id, &b);
	SHOW(ts_ns(&a.it_value) > 0 && ts_ns(&a.it_value) <= 200 * MS);
	SHOW(ts_ns(&b.it_value) > 0 && ts_ns(&b.it_value) <= ts_ns(&a.it_value) - 50 * MS);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 0, 20 * MS } }, NULL);
	msleep(50);
	SYS(timer_gettime, id, &a);
	SHOW(ts_ns(&a.it_value) == 0);
	/* Periodic: the value keeps counting down within the interval. */
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 30 * MS }, { 0, 30 * MS } }, NULL);
	msleep(100);
	SYS(timer_gettime, id, &a);
	printf("interval %ld ms\n", ts_ns(&a.it_interval) / MS);
	SHOW(ts_ns(&a.it_value) > 0 && ts_ns(&a.it_value) <= 30 * MS);
	SYS(timer_getoverrun, id);
	SHOW(load(&count) == n);
	SYS(timer_delete, id);
}

/* ---- SIGEV_THREAD_ID ---- */

static pid_t target_tid;
static int target_ready, target_stop;

static void *target(void *arg)
{
	(void)arg;
	target_tid = gettid();
	store(&target_ready, 1);
	while (!load(&target_stop)) {
		struct timespec t = { 0, 1 * MS };

		nanosleep(&t, NULL);
	}
	return NULL;
}

static void test_thread_id(void)
{
	struct sigevent sev = { 0 };
	pthread_t t;
	ktimer_t id = -1, bad = -1;
	int n;

	puts("-- SIGEV_THREAD_ID");
	pthread_create(&t, NULL, target, NULL);
	while (!load(&target_ready))
		msleep(1);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR2;
	sev.sigev_value.sival_int = 77;
	sev._sigev_un._tid = target_tid;
	SYS(timer_create, CLOCK_MONOTONIC, &sev, &id);
	for (int i = 0; i < 3; i++) {
		n = load(&count);
		SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 0, 10 * MS } }, NULL);
		SHOW(wait_count(n + 1));
		printf("sig %s, value %d, in the target thread %d, not in main %d\n", sigabbrev_np(last_sig),
		       last_value, last_tid == target_tid, last_tid != gettid());
	}
	SYS(timer_delete, id);
	/* To the main thread. */
	sev._sigev_un._tid = gettid();
	SYS(timer_create, CLOCK_MONOTONIC, &sev, &id);
	n = load(&count);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 0, 10 * MS } }, NULL);
	SHOW(wait_count(n + 1));
	SHOW(last_tid == gettid());
	SYS(timer_delete, id);
	store(&target_stop, 1);
	pthread_join(t, NULL);

	/* Not a thread of this process. */
	sev._sigev_un._tid = 0x3ffffff0;
	SYS(timer_create, CLOCK_MONOTONIC, &sev, &bad);
	sev._sigev_un._tid = 0;
	SYS(timer_create, CLOCK_MONOTONIC, &sev, &bad);
	sev._sigev_un._tid = getppid();
	SYS(timer_create, CLOCK_MONOTONIC, &sev, &bad);
}

static void test_default(void)
{
	ktimer_t id = -1;
	int n = load(&count);

	puts("-- NULL sigevent");
	SYS(timer_create, CLOCK_MONOTONIC, NULL, &id);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 0, 10 * MS } }, NULL);
	SHOW(wait_count(n + 1));
	printf("sig %s, code %s\n", sigabbrev_np(last_sig), code_name(last_code));
	SHOW(last_value == id);
	SHOW(last_timerid == id);
	SYS(timer_delete, id);
}

static void test_errors(void)
{
	struct sigevent sev = { 0 };
	ktimer_t id = -1;

	puts("-- errors");
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;
	SYS(timer_create, 100, &sev, &id);
	SYS(timer_create, -1, &sev, &id);
	SYS(timer_create, CLOCK_MONOTONIC_RAW, &sev, &id);
	SYS(timer_create, CLOCK_REALTIME_COARSE, &sev, &id);
	SYS(timer_create, CLOCK_MONOTONIC, BAD_PTR, &id);
	SYS(timer_create, CLOCK_MONOTONIC, &sev, BAD_PTR);
	sev.sigev_signo = 0;
	SYS(timer_create, CLOCK_MONOTONIC, &sev, &id);
	sev.sigev_signo = 65;
	SYS(timer_create, CLOCK_MONOTONIC, &sev, &id);
	sev.sigev_signo = SIGUSR1;
	sev.sigev_notify = 99;
	SYS(timer_create, CLOCK_MONOTONIC, &sev, &id);
	/* SIGEV_THREAD is glibc's: to the kernel it is SIGEV_SIGNAL. */
	sev.sigev_notify = SIGEV_THREAD;
	SYS(timer_create, CLOCK_MONOTONIC, &sev, &id);
	SYS(timer_delete, id);
	sev.sigev_signo = 0;
	SYS(timer_create, CLOCK_MONOTONIC, &sev, &id);
	sev.sigev_signo = SIGUSR1;
	sev.sigev_notify = SIGEV_NONE;
	sev.sigev_signo = 0;
	SYS(timer_create, CLOCK_MONOTONIC, &sev, &id);
	SYS(timer_delete, id);
	sev.sigev_signo = SIGUSR1;
	sev.sigev_notify = SIGEV_SIGNAL;

	SYS(timer_create, CLOCK_BOOTTIME, &sev, &id);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 0, 1000000000 } }, NULL);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { -1, 0 } }, NULL);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, -1 }, { 1, 0 } }, NULL);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 1000000000 }, { 1, 0 } }, NULL);
	SYS(timer_settime, id, 0, BAD_PTR, NULL);
	SYS(timer_settime, id, 0, NULL, NULL);
	SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 0, 0 } }, BAD_PTR);
	SYS(timer_gettime, id, BAD_PTR);
	SYS(timer_gettime, id, NULL);
	SYS(timer_delete, id);
	SYS(timer_create, CLOCK_TAI, &sev, &id);
	SYS(timer_delete, id);
}

/* ---- glibc's SIGEV_THREAD ---- */

static int notify_count, notify_value, notify_in_main;
static pid_t main_tid;

static void notified(union sigval v)
{
	notify_value = v.sival_int;
	notify_in_main = gettid() == main_tid;
	__atomic_add_fetch(&notify_count, 1, __ATOMIC_SEQ_CST);
}

static void test_sigev_thread(void)
{
	struct sigevent sev = { 0 };
	timer_t t;

	puts("-- SIGEV_THREAD (glibc)");
	main_tid = gettid();
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = notified;
	sev.sigev_value.sival_int = 4321;
	CHECK(timer_create(CLOCK_MONOTONIC, &sev, &t));
	CHECK(timer_settime(t, 0, &(struct itimerspec){ { 0, 0 }, { 0, 10 * MS } }, NULL));
	for (int i = 0; i < 3000 && !load(&notify_count); i++)
		msleep(1);
	printf("notified %d, value %d, in main thread %d\n", load(&notify_count), notify_value, notify_in_main);
	CHECK(timer_delete(t));
}

/* ---- CPU-time clocks, last ---- */

static void test_cpu_clocks(void)
{
	struct sigevent sev = { 0 };
	struct itimerspec cur;
	ktimer_t id = -1;
	int n;
	static const struct { clockid_t clock; const char *name; } clocks[] = {
		{ CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID" },
		{ CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID" },
	};

	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;
	for (int c = 0; c < 2; c++) {
		printf("-- %s\n", clocks[c].name);
		if (SYS(timer_create, clocks[c].clock, &sev, &id) != 0)
			continue;
		n = load(&count);
		SYS(timer_settime, id, 0, &(struct itimerspec){ { 0, 0 }, { 0, 50 * MS } }, NULL);
		/* Sleeping uses no CPU: it does not fire. */
		msleep(100);
		printf("fired while sleeping %d\n", load(&count) - n);
		SYS(timer_gettime, id, &cur);
		SHOW(ts_ns(&cur.it_value) > 30 * MS && ts_ns(&cur.it_value) <= 50 * MS);
		spin_cpu(150);
		SHOW(wait_count(n + 1));
		printf("fired after spinning %d\n", load(&count) - n);
		SHOW(last_timerid == id);
		SYS(timer_gettime, id, &cur);
		SHOW(ts_ns(&cur.it_value) == 0);
		SYS(timer_delete, id);
	}
}

int main(void)
{
	struct sigaction sa = { 0 };

	alarm(20);
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	test_signal();
	test_none();
	test_thread_id();
	/* SIGALRM for the NULL sigevent; the watchdog's alarm is re-armed. */
	alarm(0);
	sigaction(SIGALRM, &sa, NULL);
	test_default();
	signal(SIGALRM, SIG_DFL);
	alarm(20);
	test_errors();
	test_sigev_thread();
	test_cpu_clocks();
	puts("done");
	return 0;
}
