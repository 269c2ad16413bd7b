/*
 * cpu_clock.c: CPU-time clocks and accounting: clock_gettime(2) and
 * clock_getres(2) on CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID and
 * the clock ids clock_getcpuclockid / pthread_getcpuclockid make (for
 * this process, a child, another thread), clock_nanosleep(2) on CPU
 * clocks, times(2) and getrusage(2) for self, thread and children.
 *
 * CPU times are never printed: only that they grew past coarse thresholds
 * and how they relate to each other.
 */
#include "common.h"
#include <limits.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000L

/* The kernel's encoding of CPU clock ids (include/linux/posix-timers.h). */
#define CPUCLOCK_PROF 0
#define CPUCLOCK_VIRT 1
#define CPUCLOCK_SCHED 2
#define MAKE_PROCESS_CPUCLOCK(pid, clock) ((clockid_t)(~(unsigned)(pid) << 3) | (clock))
#define MAKE_THREAD_CPUCLOCK(tid, clock) (MAKE_PROCESS_CPUCLOCK(tid, clock) | 4)

static const char *ename(int e)
{
	const char *n;

	if (e == 0)
		return "0";
	n = strerrorname_np(e);
	return n ? n : "unknown";
}
#define PT(expr) ({ int e_ = (expr); printf("%s = %s\n", #expr, ename(e_)); e_; })

static long clock_ns(clockid_t clock)
{
	struct timespec t = { -1, 0 };

	if (clock_gettime(clock, &t) != 0)
		return -1;
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static long tv_ns(const struct timeval *tv)
{
	return tv->tv_sec * 1000000000L + tv->tv_usec * 1000L;
}

static long ru_ns(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru) != 0)
		return -1;
	return tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime);
}

static long ru_user_ns(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru) != 0)
		return -1;
	return tv_ns(&ru.ru_utime);
}

static void msleep(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * MS };

	while (nanosleep(&t, &t) == -1 && errno == EINTR)
		;
}

static int load(int *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void store(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

/* Spin in user space until this thread used ms of CPU (at most 3 s wall). */
static volatile unsigned long sink;

static void spin_cpu(long ms)
{
	long cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), wall0 = clock_ns(CLOCK_MONOTONIC);

	while (clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0 < ms * MS &&
	       clock_ns(CLOCK_MONOTONIC) - wall0 < 3000 * MS)
		for (int i = 0; i < 20000; i++)
			sink += i;
}

static void test_self(void)
{
	struct timespec res;
	long p0, t0, p1, t1, m0, m1, r0, r1, rt0, rt1;
	clockid_t cid = -1;

	puts("-- this process and thread");
	SYS(clock_getres, CLOCK_PROCESS_CPUTIME_ID, &res);
	printf("  res %ld.%09ld\n", (long)res.tv_sec, res.tv_nsec);
	SYS(clock_getres, CLOCK_THREAD_CPUTIME_ID, &res);
	printf("  res %ld.%09ld\n", (long)res.tv_sec, res.tv_nsec);

	/* Before any child was reaped, the children's times are zero. */
	SHOW(ru_ns(RUSAGE_CHILDREN) == 0);

	m0 = clock_ns(CLOCK_MONOTONIC);
	p0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	r0 = ru_user_ns(RUSAGE_SELF);
	rt0 = ru_user_ns(RUSAGE_THREAD);
	spin_cpu(150);
	t1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	p1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	m1 = clock_ns(CLOCK_MONOTONIC);
	r1 = ru_user_ns(RUSAGE_SELF);
	rt1 = ru_user_ns(RUSAGE_THREAD);
	SHOW(t1 - t0 >= 150 * MS);
	SHOW(p1 - p0 >= 150 * MS);
	SHOW(p1 >= t1);
	/* One thread cannot use more CPU than wall-clock time. */
	SHOW(t1 - t0 <= m1 - m0 + 10 * MS);
	/* Most of the spinning is user time. */
	SHOW(r1 - r0 >= 75 * MS);
	SHOW(rt1 - rt0 >= 75 * MS);
	/* The thread's total (read first) is within the process's. */
	rt1 = ru_ns(RUSAGE_THREAD);
	r1 = ru_ns(RUSAGE_SELF);
	SHOW(rt1 <= r1);

	/* getrusage and the process clock count the same time. */
	p0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	r0 = ru_ns(RUSAGE_SELF);
	p1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	SHOW(r0 >= p0 - 20 * MS && r0 <= p1 + 20 * MS);

	/* The same clocks under other names. */
	PT(clock_getcpuclockid(0, &cid));
	SHOW(clock_ns(cid) >= p1);
	PT(clock_getcpuclockid(getpid(), &cid));
	SHOW(cid == MAKE_PROCESS_CPUCLOCK(getpid(), CPUCLOCK_SCHED));
	SHOW(clock_ns(cid) >= p1);
	SYS(clock_getres, cid, &res);
	SHOW(res.tv_sec == 0 && res.tv_nsec == 1);
	PT(pthread_getcpuclockid(pthread_self(), &cid));
	SHOW(cid == MAKE_THREAD_CPUCLOCK(gettid(), CPUCLOCK_SCHED));
	SHOW(clock_ns(cid) >= t1);
	SYS(clock_gettime, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED), &res);
	SYS(clock_gettime, MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED), &res);
	SHOW(res.tv_sec * 1000000000L + res.tv_nsec >= t1);
	/* The profiling and virtual flavours exist too. */
	SYS(clock_gettime, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_PROF), &res);
	SHOW(res.tv_sec * 1000000000L + res.tv_nsec >= 100 * MS);
	SYS(clock_gettime, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_VIRT), &res);
	SHOW(res.tv_sec * 1000000000L + res.tv_nsec >= 75 * MS);
	SYS(clock_gettime, MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_VIRT), &res);
	SYS(clock_gettime, MAKE_PROCESS_CPUCLOCK(0, 3), &res);
	SYS(clock_gettime, MAKE_THREAD_CPUCLOCK(0, 3), &res);
	SYS(clock_getres, MAKE_PROCESS_CPUCLOCK(0, 3), &res);
}

/* ---- another thread ---- */

static int thread_spun, thread_release;
static long thread_own_ns;

static void *spinner(void *arg)
{
	(void)arg;
	spin_cpu(100);
	thread_own_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	store(&thread_spun, 1);
	while (!load(&thread_release))
		msleep(1);
	return NULL;
}

static int burner_stop;

static void *burner(void *arg)
{
	(void)arg;
	while (!load(&burner_stop))
		for (int i = 0; i < 20000; i++)
			sink += i;
	return NULL;
}

static void test_thread(void)
{
	pthread_t t;
	clockid_t cid = -1;
	struct timespec res;
	long other, mine, proc, self_before, thread_before;

	puts("-- another thread");
	self_before = ru_ns(RUSAGE_SELF);
	thread_before = ru_ns(RUSAGE_THREAD);
	pthread_create(&t, NULL, spinner, NULL);
	PT(pthread_getcpuclockid(t, &cid));
	while (!load(&thread_spun))
		msleep(1);
	mine = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	other = clock_ns(cid);
	proc = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	SHOW(other >= 100 * MS);
	SHOW(other >= thread_own_ns);
	SHOW(proc >= mine + other);
	SYS(clock_getres, cid, &res);
	SHOW(res.tv_sec == 0 && res.tv_nsec == 1);
	/* A process clock named by a thread's tid (cid is ~tid << 3 | 6). */
	{
		pid_t tid = ~(unsigned)cid >> 3;
		struct timespec ts;

		SYS(clock_gettime, MAKE_PROCESS_CPUCLOCK(tid, CPUCLOCK_SCHED), &ts);
		SYS(clock_getres, MAKE_PROCESS_CPUCLOCK(tid, CPUCLOCK_SCHED), &ts);
	}
	store(&thread_release, 1);
	pthread_join(t, NULL);
	/* The dead thread's time stays in the process's. */
	SHOW(clock_ns(CLOCK_PROCESS_CPUTIME_ID) >= proc);
	SHOW(ru_ns(RUSAGE_SELF) - self_before >= 75 * MS);
	SHOW(ru_ns(RUSAGE_THREAD) - thread_before < 50 * MS);
	/*
	 * The joined thread's clock is gone once the thread is released, which
	 * Linux does just after the futex wake that ends pthread_join: wait
	 * for it.
	 */
	for (int i = 0; i < 1000 && clock_gettime(cid, &res) == 0; i++)
		msleep(1);
	SYS(clock_gettime, cid, &res);

	/* clock_nanosleep on the process clock: wakes as another thread burns. */
	puts("-- clock_nanosleep on CPU clocks");
	burner_stop = 0;
	pthread_create(&t, NULL, burner, NULL);
	proc = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	SYS(clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, &(struct timespec){ 0, 50 * MS }, NULL);
	SHOW(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - proc >= 50 * MS);
	{
		long until = clock_ns(CLOCK_PROCESS_CPUTIME_ID) + 30 * MS;
		struct timespec abs = { until / 1000000000L, until % 1000000000L };

		SYS(clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &abs, NULL);
		SHOW(clock_ns(CLOCK_PROCESS_CPUTIME_ID) >= until);
	}
	SYS(clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &(struct timespec){ 0, 1 }, NULL);
	/* Another thread's clock is allowed, the caller's own is not. */
	PT(pthread_getcpuclockid(t, &cid));
	proc = clock_ns(cid);
	SYS(clock_nanosleep, cid, 0, &(struct timespec){ 0, 30 * MS }, NULL);
	SHOW(clock_ns(cid) - proc >= 30 * MS);
	store(&burner_stop, 1);
	pthread_join(t, NULL);
	SYS(clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &(struct timespec){ 0, 1 * MS }, NULL);
	SYS(clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME, &(struct timespec){ 0, 1 }, NULL);
	SYS(clock_nanosleep, MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED), 0, &(struct timespec){ 0, 1 * MS }, NULL);
	SYS(clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, &(struct timespec){ 0, 1000000000 }, NULL);
	errno = 0;
	printf("glibc clock_nanosleep(CLOCK_THREAD_CPUTIME_ID) = %s\n",
	       ename(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &(struct timespec){ 0, 1 * MS }, NULL)));
}

/* ---- a child process ---- */

static void test_child(void)
{
	int to_child[2], from_child[2], status = 0;
	struct tms a, b;
	struct rusage ru;
	clockid_t cid = -1;
	long r, cpu;
	pid_t pid;
	char c;
	siginfo_t si;

	puts("-- a child process");
	pipe(to_child);
	pipe(from_child);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		pid_t grandchild;

		alarm(10);
		spin_cpu(150);
		/* A grandchild's time counts once this child reaps it. */
		grandchild = fork();
		if (grandchild == 0) {
			spin_cpu(100);
			_exit(0);
		}
		waitpid(grandchild, NULL, 0);
		write(from_child[1], "s", 1);
		read(to_child[0], &c, 1);
		_exit(0);
	}
	read(from_child[0], &c, 1);
	PT(clock_getcpuclockid(pid, &cid));
	SHOW(cid == MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED));
	cpu = clock_ns(cid);
	SHOW(cpu >= 150 * MS);
	SYS(clock_getres, cid, &(struct timespec){ 0, 0 });
	/* Its main thread is not one of ours: no thread clock for it. */
	SYS(clock_gettime, MAKE_THREAD_CPUCLOCK(pid, CPUCLOCK_SCHED), &(struct timespec){ 0, 0 });
	/* Not reaped yet: the children's times are still zero. */
	SHOW(ru_ns(RUSAGE_CHILDREN) == 0);
	times(&a);
	SHOW(a.tms_cutime == 0 && a.tms_cstime == 0);

	write(to_child[1], "x", 1);
	/* A zombie (waited for with WNOWAIT) still does not count. */
	SYS(waitid, P_PID, pid, &si, WEXITED | WNOWAIT, NULL);
	SHOW(ru_ns(RUSAGE_CHILDREN) == 0);
	SHOW(clock_ns(cid) >= cpu);
	r = wait4(pid, &status, 0, &ru);
	SHOW(r == pid);
	SHOW(tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime) >= 200 * MS);
	SHOW(ru_ns(RUSAGE_CHILDREN) >= 200 * MS);
	SHOW(ru_user_ns(RUSAGE_CHILDREN) >= 150 * MS);
	SHOW(ru_ns(RUSAGE_CHILDREN) >= tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime));
	times(&b);
	SHOW(b.tms_cutime + b.tms_cstime >= 20 * sysconf(_SC_CLK_TCK) / 100);
	SHOW(b.tms_cutime > 0);
	/* The reaped child's clock is gone. */
	SYS(clock_gettime, cid, &(struct timespec){ 0, 0 });
	printf("clock_getcpuclockid(reaped child) = %s\n", ename(clock_getcpuclockid(pid, &cid)));
	close(to_child[0]);
	close(to_child[1]);
	close(from_child[0]);
	close(from_child[1]);
}

static void test_times(void)
{
	struct tms a, b;
	clock_t r0, r1;
	long ticks = sysconf(_SC_CLK_TCK);

	puts("-- times");
	printf("_SC_CLK_TCK = %ld\n", ticks);
	r0 = times(&a);
	spin_cpu(150);
	r1 = times(&b);
	SHOW(r1 >= r0);
	SHOW(b.tms_utime - a.tms_utime >= 10 * ticks / 100);
	SHOW(b.tms_utime + b.tms_stime - a.tms_utime - a.tms_stime >= 15 * ticks / 100 - 1);
	SHOW(b.tms_utime >= a.tms_utime && b.tms_stime >= a.tms_stime);
	SHOW(b.tms_cutime == a.tms_cutime && b.tms_cstime == a.tms_cstime);
	SYS_OK(times, &a);
	SYS_OK(times, NULL);
	SYS(times, BAD_PTR);
}

static void test_rusage_errors(void)
{
	struct rusage ru;

	puts("-- getrusage");
	SYS(getrusage, RUSAGE_SELF, &ru);
	SHOW(ru.ru_maxrss > 0);
	SYS(getrusage, RUSAGE_THREAD, &ru);
	SYS(getrusage, RUSAGE_CHILDREN, &ru);
	SYS(getrusage, 2, &ru);
	SYS(getrusage, -2, &ru);
	SYS(getrusage, 100, &ru);
	SYS(getrusage, RUSAGE_SELF, BAD_PTR);
	SYS(getrusage, RUSAGE_SELF, NULL);
	SYS(getrusage, 100, BAD_PTR);
}

static void test_errors(void)
{
	struct timespec ts;
	clockid_t cid = -1;

	puts("-- errors");
	/* A pid that does not exist. */
	SYS(clock_gettime, MAKE_PROCESS_CPUCLOCK(0x3ffffff0, CPUCLOCK_SCHED), &ts);
	SYS(clock_gettime, MAKE_THREAD_CPUCLOCK(0x3ffffff0, CPUCLOCK_SCHED), &ts);
	SYS(clock_getres, MAKE_PROCESS_CPUCLOCK(0x3ffffff0, CPUCLOCK_SCHED), &ts);
	printf("clock_getcpuclockid(no such pid) = %s\n", ename(clock_getcpuclockid(0x3ffffff0, &cid)));
	SYS(clock_gettime, CLOCK_PROCESS_CPUTIME_ID, BAD_PTR);
	SYS(clock_getres, CLOCK_THREAD_CPUTIME_ID, BAD_PTR);
	SYS(clock_getres, CLOCK_THREAD_CPUTIME_ID, NULL);
	/* CPU clocks cannot be set. */
	ts = (struct timespec){ 1, 0 };
	SYS(clock_settime, CLOCK_PROCESS_CPUTIME_ID, &ts);
	SYS(clock_settime, CLOCK_THREAD_CPUTIME_ID, &ts);
}

int main(void)
{
	alarm(20);
	test_self();
	test_thread();
	test_child();
	test_times();
	test_rusage_errors();
	test_errors();
	puts("done");
	return 0;
}
