/*
 * time.c: clock_gettime(2), clock_getres(2), gettimeofday(2) and time(2) as
 * raw system calls (glibc would use the vDSO). Times are never printed, only
 * their consistency.
 */
#include "common.h"
#include <sys/time.h>
#include <time.h>

#define JAN_2020 1577836800L

static long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000L + t->tv_nsec;
}

int main(void)
{
	static const struct { clockid_t id; const char *name; } clocks[] = {
		{ CLOCK_REALTIME, "REALTIME" },
		{ CLOCK_MONOTONIC, "MONOTONIC" },
		{ CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME_ID" },
		{ CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME_ID" },
		{ CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW" },
		{ CLOCK_REALTIME_COARSE, "REALTIME_COARSE" },
		{ CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE" },
		{ CLOCK_BOOTTIME, "BOOTTIME" },
		{ CLOCK_TAI, "TAI" },
	};
	struct timespec a, b, c, res;
	struct timeval tv;
	struct timezone tz;
	volatile unsigned long spin = 0;
	time_t t, t2;

	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		long r1 = syscall(SYS_clock_gettime, clocks[i].id, &a);
		long r2 = syscall(SYS_clock_getres, clocks[i].id, &res);

		printf("  %s: gettime %ld nsec ok %d getres %ld res > 0 %d\n",
		       clocks[i].name, r1, a.tv_nsec >= 0 && a.tv_nsec < 1000000000,
		       r2, res.tv_sec > 0 || res.tv_nsec > 0);
	}
	/* High-resolution clocks report 1ns. */
	SYS(clock_getres, CLOCK_MONOTONIC, &res);
	printf("  res %ld.%09ld\n", (long)res.tv_sec, res.tv_nsec);
	SYS(clock_getres, CLOCK_REALTIME, &res);
	printf("  res %ld.%09ld\n", (long)res.tv_sec, res.tv_nsec);
	SYS(clock_getres, CLOCK_MONOTONIC, NULL);

	/* Monotonic never goes back; CPU time advances while spinning. */
	SYS(clock_gettime, CLOCK_MONOTONIC, &a);
	SYS(clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &c);
	for (long i = 0; i < 20000000; i++)
		spin += i;
	SYS(clock_gettime, CLOCK_MONOTONIC, &b);
	SHOW(ns(&b) > ns(&a));
	SYS(clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &a);
	SHOW(ns(&a) > ns(&c));
	SYS(clock_gettime, CLOCK_THREAD_CPUTIME_ID, &b);
	SHOW(ns(&b) > 0 && ns(&b) <= ns(&a) + 1000000);
	SYS(clock_gettime, CLOCK_MONOTONIC, &a);
	SYS(clock_gettime, CLOCK_BOOTTIME, &b);
	SHOW(ns(&b) >= ns(&a));

	/* The wall clocks agree with each other. */
	SYS(clock_gettime, CLOCK_REALTIME, &a);
	SHOW(a.tv_sec > JAN_2020);
	SYS(gettimeofday, &tv, NULL);
	SHOW(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	SHOW(tv.tv_sec >= a.tv_sec && tv.tv_sec - a.tv_sec <= 2);
	t = syscall(SYS_time, &t2);
	/* time(2) reads the tick-updated seconds: it may lag behind. */
	SHOW(t == t2 && labs(t - tv.tv_sec) <= 2);
	SHOW(syscall(SYS_time, NULL) >= t);
	SYS(gettimeofday, &tv, &tz);
	SYS(gettimeofday, NULL, &tz);
	SYS(gettimeofday, NULL, NULL);

	/* Errors. */
	SYS(clock_gettime, 100, &a);
	SYS(clock_gettime, 12, &a);
	SYS(clock_gettime, CLOCK_MONOTONIC, BAD_PTR);
	SYS(clock_gettime, CLOCK_MONOTONIC, NULL);
	SYS(clock_getres, 100, &res);
	SYS(clock_getres, 100, NULL);
	SYS(clock_getres, CLOCK_MONOTONIC, BAD_PTR);
	SYS(gettimeofday, BAD_PTR, NULL);
	SYS(gettimeofday, &tv, BAD_PTR);
	SYS(time, BAD_PTR);
	return 0;
}
