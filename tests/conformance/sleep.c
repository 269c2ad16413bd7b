/*
 * sleep.c: nanosleep(2) and clock_nanosleep(2): they sleep at least as long
 * as asked, relative and absolute, and reject bad times and clocks.
 * Durations are never printed, only that they were long enough.
 */
#include "common.h"
#include <time.h>

#define MS 1000000L

static long now(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

int main(void)
{
	struct timespec req = { 0, 10 * MS }, rem = { 7, 7 }, abs;
	long start;

	start = now(CLOCK_MONOTONIC);
	SYS(nanosleep, &req, &rem);
	SHOW(now(CLOCK_MONOTONIC) - start >= 10 * MS);
	/* rem is only written when the sleep is interrupted. */
	SHOW(rem.tv_sec == 7 && rem.tv_nsec == 7);
	SYS(nanosleep, &req, NULL);
	req = (struct timespec){ 0, 0 };
	SYS(nanosleep, &req, NULL);

	SYS(nanosleep, &(struct timespec){ 0, 1000000000 }, NULL);
	SYS(nanosleep, &(struct timespec){ 0, -1 }, NULL);
	SYS(nanosleep, &(struct timespec){ -1, 0 }, NULL);
	SYS(nanosleep, BAD_PTR, NULL);
	SYS(nanosleep, NULL, NULL);

	/* clock_nanosleep, relative. */
	req = (struct timespec){ 0, 10 * MS };
	start = now(CLOCK_MONOTONIC);
	SYS(clock_nanosleep, CLOCK_MONOTONIC, 0, &req, &rem);
	SHOW(now(CLOCK_MONOTONIC) - start >= 10 * MS);
	start = now(CLOCK_MONOTONIC);
	SYS(clock_nanosleep, CLOCK_REALTIME, 0, &req, NULL);
	SHOW(now(CLOCK_MONOTONIC) - start >= 10 * MS);
	SYS(clock_nanosleep, CLOCK_BOOTTIME, 0, &req, NULL);

	/* Absolute: until a deadline; one in the past returns at once. */
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 20 * MS;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	SYS(clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
	SHOW(now(CLOCK_MONOTONIC) >= abs.tv_sec * 1000000000L + abs.tv_nsec);
	abs = (struct timespec){ 1, 0 };
	start = now(CLOCK_MONOTONIC);
	SYS(clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
	SYS(clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &abs, NULL);
	SHOW(now(CLOCK_MONOTONIC) - start < 1000 * MS);

	/* Errors. */
	SYS(clock_nanosleep, CLOCK_MONOTONIC, 0, &(struct timespec){ 0, 1000000000 }, NULL);
	SYS(clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &(struct timespec){ -1, 0 }, NULL);
	SYS(clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL);
	SYS(clock_nanosleep, 100, 0, &req, NULL);
	SYS(clock_nanosleep, CLOCK_MONOTONIC, 0, BAD_PTR, NULL);
	SYS(clock_nanosleep, CLOCK_MONOTONIC, 0, NULL, NULL);
	req = (struct timespec){ 0, 1 * MS };
	SYS(clock_nanosleep, CLOCK_MONOTONIC, 0x2, &req, NULL);
	return 0;
}
