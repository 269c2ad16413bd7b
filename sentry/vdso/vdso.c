/*
 * The sandbox's vDSO: clock_gettime, gettimeofday and time read the time
 * page the sentry keeps current (one page just below this image), so they
 * cost no trap. Anything else, or a time page not yet enabled, falls back to
 * the real syscall instruction, which the platform traps like any other.
 *
 * Built by sentry/build.rs with gcc; no libc, no writable data.
 */
#include <stdint.h>

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define NR_gettimeofday 96
#define NR_time 201
#define NR_clock_gettime 228
#define NR_clock_getres 229
#define NR_getcpu 309

struct timespec { int64_t tv_sec; int64_t tv_nsec; };
struct timeval { int64_t tv_sec; int64_t tv_usec; };

/* Must match sentry/src/kernel/vdso.rs. */
struct time_page {
	uint32_t seq;
	uint32_t enabled;
	uint64_t tsc_base;
	int64_t mono_base;
	int64_t real_base;
	uint64_t mult;
	uint32_t shift;
	uint32_t pad;
};

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static inline const volatile struct time_page *page(void)
{
	/* The page below the image; laundered through asm so the compiler
	 * does not reason about bounds of __ehdr_start. */
	uintptr_t a = (uintptr_t)__ehdr_start;
	__asm__("" : "+r"(a));
	return (const volatile struct time_page *)(a - 4096);
}

static inline long sys2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static inline long sys3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Nanoseconds on the clock `realtime` selects; 0 if the page is not ready. */
static inline int read_ns(int realtime, int64_t *out)
{
	const volatile struct time_page *p = page();
	uint32_t seq;
	int64_t base, ns;

	do {
		seq = p->seq;
		__asm__ volatile("" ::: "memory");
		if (seq & 1)
			continue;
		if (!p->enabled)
			return 0;
		uint64_t delta = rdtsc() - p->tsc_base;
		ns = (int64_t)(((unsigned __int128)delta * p->mult) >> p->shift);
		base = realtime ? p->real_base : p->mono_base;
		__asm__ volatile("" ::: "memory");
	} while (seq & 1 || seq != p->seq);
	*out = base + ns;
	return 1;
}

int __vdso_clock_gettime(int clock, struct timespec *ts)
{
	int64_t ns;
	int realtime;

	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		realtime = 1;
		break;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_BOOTTIME:
		realtime = 0;
		break;
	default:
		return (int)sys2(NR_clock_gettime, clock, (long)ts);
	}
	if (!read_ns(realtime, &ns))
		return (int)sys2(NR_clock_gettime, clock, (long)ts);
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	return 0;
}

int __vdso_gettimeofday(struct timeval *tv, void *tz)
{
	int64_t ns;

	if (tz || !read_ns(1, &ns))
		return (int)sys2(NR_gettimeofday, (long)tv, (long)tz);
	if (tv) {
		tv->tv_sec = ns / 1000000000;
		tv->tv_usec = (ns % 1000000000) / 1000;
	}
	return 0;
}

long __vdso_time(long *t)
{
	int64_t ns;

	if (!read_ns(1, &ns))
		return sys2(NR_time, (long)t, 0);
	if (t)
		*t = ns / 1000000000;
	return ns / 1000000000;
}

int __vdso_clock_getres(int clock, struct timespec *res)
{
	return (int)sys2(NR_clock_getres, clock, (long)res);
}

long __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
	return sys3(NR_getcpu, (long)cpu, (long)node, (long)cache);
}

int clock_gettime(int, struct timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
int clock_getres(int, struct timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
