/*
 * futex_waitv.c: futex_waitv(2): which futex of a vector a wake reports,
 * private and shared futexes in one vector, a vector of 128, value
 * mismatches before sleeping, absolute timeouts on both clocks, a signal
 * with and without SA_RESTART, and argument errors.
 *
 * A waiter is a thread that is asleep in the kernel (state S in its
 * /proc stat) before the waker acts. Only results are printed.
 */
#include "common.h"
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 0x02
#define FUTEX2_PRIVATE FUTEX_PRIVATE_FLAG
#endif

#define MS 1000000L

struct fwv {
	uint64_t val, uaddr;
	uint32_t flags, reserved;
};

static int words[128];
static struct fwv vec[128];

static long waitv(struct fwv *v, unsigned n, unsigned flags, struct timespec *ts, int clock)
{
	return syscall(SYS_futex_waitv, v, n, flags, ts, clock);
}

static const char *show(long r)
{
	static char buf[4][32];
	static int k;
	char *b = buf[k++ % 4];

	if (r == -1)
		snprintf(b, 32, "-1 %s", errno_name(errno));
	else
		snprintf(b, 32, "%ld", r);
	return b;
}

static struct timespec at(clockid_t clock, long ns)
{
	struct timespec t;

	clock_gettime(clock, &t);
	ns += t.tv_nsec;
	t.tv_sec += ns / 1000000000L;
	t.tv_nsec = ns % 1000000000L;
	return t;
}

static void msleep(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * MS };

	while (nanosleep(&t, &t) == -1 && errno == EINTR)
		;
}

static void fill(int n, unsigned flags)
{
	for (int i = 0; i < n; i++) {
		words[i] = i;
		vec[i] = (struct fwv){ .val = (uint64_t)i, .uaddr = (uintptr_t)&words[i], .flags = flags };
	}
}

struct waiter {
	int n;
	long ret;
	int err, tid, done;
	pthread_t thread;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;
	struct timespec ts = at(CLOCK_MONOTONIC, 5000 * MS);

	__atomic_store_n(&w->tid, (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	errno = 0;
	w->ret = waitv(vec, w->n, 0, &ts, CLOCK_MONOTONIC);
	w->err = errno;
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void start(struct waiter *w, int n)
{
	*w = (struct waiter){ .n = n };
	pthread_create(&w->thread, NULL, waiter_fn, w);
	for (int k = 0; k < 5000 && !__atomic_load_n(&w->tid, __ATOMIC_SEQ_CST); k++)
		msleep(1);
	for (int k = 0; k < 5000 && !w->done && !thread_asleep(w->tid); k++)
		msleep(1);
	msleep(30);
}

static const char *finish(struct waiter *w)
{
	static char buf[32];

	pthread_join(w->thread, NULL);
	if (w->ret == -1)
		snprintf(buf, sizeof(buf), "-1 %s", errno_name(w->err));
	else
		snprintf(buf, sizeof(buf), "%ld", w->ret);
	return buf;
}

static long wake(int *addr, int n, int private)
{
	return syscall(SYS_futex, addr, FUTEX_WAKE | (private ? FUTEX_PRIVATE_FLAG : 0), n, NULL, NULL, 0);
}

static void test_wakes(void)
{
	struct waiter w;

	fill(3, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
	start(&w, 3);
	printf("asleep before a wake: %d\n", !w.done);
	printf("wake(words[1], private) = %s\n", show(wake(&words[1], 1, 1)));
	printf("waitv of 3, woken at 1 = %s\n", finish(&w));

	fill(3, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
	start(&w, 3);
	printf("wake(words[2], shared) on a private waiter = %s\n", show(wake(&words[2], 1, 0)));
	printf("wake(words[2], private) = %s\n", show(wake(&words[2], 1, 1)));
	printf("waitv of 3, woken at 2 = %s\n", finish(&w));

	/* Mixed: entry 0 shared, entry 1 private. */
	fill(2, FUTEX2_SIZE_U32);
	vec[1].flags |= FUTEX2_PRIVATE;
	start(&w, 2);
	printf("wake(words[0], shared) = %s\n", show(wake(&words[0], 1, 0)));
	printf("waitv mixed, woken at 0 = %s\n", finish(&w));

	fill(128, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
	start(&w, 128);
	printf("wake(words[127]) = %s\n", show(wake(&words[127], 1, 1)));
	printf("waitv of 128, woken at 127 = %s\n", finish(&w));

	/* A wake count covers the waitv waiter once. */
	fill(2, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
	vec[1].uaddr = (uintptr_t)&words[0];
	vec[1].val = 0;
	start(&w, 2);
	printf("wake(words[0], 10) with the word twice in the vector = %s\n", show(wake(&words[0], 10, 1)));
	printf("waitv with a repeated word = %s\n", finish(&w));
}

static void test_no_sleep(void)
{
	struct timespec ts;

	fill(4, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
	words[2] = 99;
	printf("waitv with words[2] changed = %s\n", show(waitv(vec, 4, 0, NULL, 0)));
	fill(4, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
	ts = at(CLOCK_MONOTONIC, 30 * MS);
	printf("waitv, monotonic deadline = %s\n", show(waitv(vec, 4, 0, &ts, CLOCK_MONOTONIC)));
	ts = at(CLOCK_REALTIME, 30 * MS);
	printf("waitv, realtime deadline = %s\n", show(waitv(vec, 4, 0, &ts, CLOCK_REALTIME)));
	ts = (struct timespec){ 0, 0 };
	printf("waitv, deadline in the past = %s\n", show(waitv(vec, 4, 0, &ts, CLOCK_MONOTONIC)));
}

static void test_errors(void)
{
	struct timespec ts = at(CLOCK_MONOTONIC, 10 * MS), bad = { 0, 1000000000L };

	fill(2, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
	printf("nr 0 = %s\n", show(waitv(vec, 0, 0, &ts, CLOCK_MONOTONIC)));
	printf("nr 129 = %s\n", show(waitv(vec, 129, 0, &ts, CLOCK_MONOTONIC)));
	printf("NULL vector = %s\n", show(waitv(NULL, 1, 0, &ts, CLOCK_MONOTONIC)));
	printf("flags 1 = %s\n", show(waitv(vec, 2, 1, &ts, CLOCK_MONOTONIC)));
	printf("clock CLOCK_BOOTTIME = %s\n", show(waitv(vec, 2, 0, &ts, CLOCK_BOOTTIME)));
	printf("clock 99 without a timeout, mismatch = %s\n", (words[0] = 5, show(waitv(vec, 2, 0, NULL, 99))));
	words[0] = 0;
	printf("tv_nsec 1e9 = %s\n", show(waitv(vec, 2, 0, &bad, CLOCK_MONOTONIC)));
	printf("bad timeout pointer = %s\n", show(waitv(vec, 2, 0, BAD_PTR, CLOCK_MONOTONIC)));
	printf("bad vector pointer = %s\n", show(waitv(BAD_PTR, 2, 0, &ts, CLOCK_MONOTONIC)));
	vec[1].flags = FUTEX2_PRIVATE;
	printf("entry without a size = %s\n", show(waitv(vec, 2, 0, &ts, CLOCK_MONOTONIC)));
	vec[1].flags = 0x03 | FUTEX2_PRIVATE;
	printf("entry of size 64 = %s\n", show(waitv(vec, 2, 0, &ts, CLOCK_MONOTONIC)));
	vec[1].flags = 0x00 | FUTEX2_PRIVATE;
	vec[1].flags = FUTEX2_SIZE_U32 | 0x40;
	printf("entry with an unknown flag = %s\n", show(waitv(vec, 2, 0, &ts, CLOCK_MONOTONIC)));
	vec[1].flags = FUTEX2_SIZE_U32;
	vec[1].reserved = 1;
	printf("entry with reserved set = %s\n", show(waitv(vec, 2, 0, &ts, CLOCK_MONOTONIC)));
	vec[1].reserved = 0;
	vec[1].val = 1ULL << 32;
	printf("entry value above 32 bits = %s\n", show(waitv(vec, 2, 0, &ts, CLOCK_MONOTONIC)));
	vec[1].val = 1;
	vec[1].uaddr = (uintptr_t)&words[1] + 1;
	printf("misaligned word = %s\n", show(waitv(vec, 2, 0, &ts, CLOCK_MONOTONIC)));
	vec[1].uaddr = (uintptr_t)BAD_PTR + 3;
	printf("unmapped word = %s\n", show(waitv(vec, 2, 0, &ts, CLOCK_MONOTONIC)));
}

static int handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static void test_signal(int restart)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0 };
	struct waiter w;

	sigaction(SIGUSR1, &sa, NULL);
	fill(2, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
	handled = 0;
	start(&w, 2);
	syscall(SYS_tgkill, getpid(), w.tid, SIGUSR1);
	msleep(50);
	printf("%s: after a signal, still waiting: %d, handled %d\n", restart ? "SA_RESTART" : "no SA_RESTART", !w.done,
	       handled);
	if (!w.done)
		wake(&words[0], 1, 1);
	printf("%s: waitv = %s\n", restart ? "SA_RESTART" : "no SA_RESTART", finish(&w));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_wakes();
	test_no_sleep();
	test_errors();
	test_signal(0);
	test_signal(1);
	return 0;
}
