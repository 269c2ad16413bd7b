/*
 * vdso_clock.c: run under `runsc --strace`. After the timekeeper has
 * calibrated (a 100 ms sleep), clock_gettime, gettimeofday and time come
 * from the vDSO without trapping: the harness checks that no such syscall
 * appears in the strace after the nanosleep. Meanwhile the clocks must be
 * monotonic across the timekeeper's updates (about 400 ms of readings) and
 * agree with each other.
 */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long ns(struct timespec t)
{
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void)
{
	struct timespec req = { 0, 100 * 1000 * 1000 }, a, b, r;
	struct timeval tv, tv2;
	long long start, prev, backwards = 0, reads = 0;

	nanosleep(&req, NULL);
	clock_gettime(CLOCK_MONOTONIC, &a);
	start = prev = ns(a);
	while (prev - start < 400LL * 1000 * 1000) {
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (ns(b) < prev)
			backwards++;
		prev = ns(b);
		reads++;
	}
	/* Realtime read between two gettimeofday calls lies between them
	 * (however long a preemption between the reads). */
	gettimeofday(&tv, NULL);
	clock_gettime(CLOCK_REALTIME, &r);
	gettimeofday(&tv2, NULL);
	long long before = (long long)tv.tv_sec * 1000000 + tv.tv_usec, after = (long long)tv2.tv_sec * 1000000 + tv2.tv_usec;
	int between = before <= ns(r) / 1000 && ns(r) / 1000 <= after;
	time_t t = time(NULL);
	printf("monotonic backwards: %lld\n", backwards);
	printf("many reads: %d\n", reads > 1000);
	printf("realtime between two gettimeofdays: %d\n", between);
	printf("time() matches: %d\n", t - r.tv_sec >= 0 && t - r.tv_sec <= 1);
	return 0;
}
