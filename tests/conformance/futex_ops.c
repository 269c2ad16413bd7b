/*
 * futex_ops.c: futex(2) as a raw system call: FUTEX_WAIT value checks and
 * timeouts (relative, absolute on both clocks), FUTEX_WAKE counts,
 * bitsets, FUTEX_REQUEUE and FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP (every
 * operation and comparison), private against shared keys, a shared futex
 * across fork, signals interrupting a wait, and argument errors.
 *
 * Waiters are threads (or a forked child) that count themselves just
 * before waiting; the waker waits for the count and then 50 ms more, so
 * they are asleep in the kernel. Only counts and results are printed.
 */
#include "common.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000L
#define SETTLE_MS 50

static long now_ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static struct timespec at(clockid_t clock, long ns_from_now)
{
	long t = now_ns(clock) + ns_from_now;

	return (struct timespec){ t / 1000000000L, t % 1000000000L };
}

static long ts_ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000L + t->tv_nsec;
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

static int add(int *p, int v)
{
	return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
}

/* Wait (at most 5 s) until *p >= v. */
static int wait_ge(int *p, int v)
{
	for (int i = 0; i < 5000 && load(p) < v; i++)
		msleep(1);
	return load(p) >= v;
}

/* ---- waiter threads ---- */

struct waiter {
	int *addr;
	int op, val;
	unsigned val3;		/* the bitset for FUTEX_WAIT_BITSET */
	int no_timeout;		/* else a 3 s safety timeout */
	long ret;
	int err, done;
	int tid;		/* set before it waits */
	pthread_t thread;
};

static int nwaiting;

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;
	struct timespec ts, *tp = NULL;
	int cmd = w->op & FUTEX_CMD_MASK;

	if (!w->no_timeout) {
		if (cmd == FUTEX_WAIT_BITSET)
			ts = at(w->op & FUTEX_CLOCK_REALTIME ? CLOCK_REALTIME : CLOCK_MONOTONIC, 3000 * MS);
		else
			ts = (struct timespec){ 3, 0 };
		tp = &ts;
	}
	store(&w->tid, (int)syscall(SYS_gettid));
	add(&nwaiting, 1);
	errno = 0;
	w->ret = syscall(SYS_futex, w->addr, w->op, w->val, tp, NULL, w->val3);
	w->err = errno;
	store(&w->done, 1);
	return NULL;
}

/*
 * Starts n waiters, one at a time, each asleep in its futex wait before
 * the next starts (after announcing itself a waiter makes no other call
 * that sleeps): they queue in order, and wakes that follow find them all
 * queued even on a loaded machine.
 */
static void start(struct waiter *w, int n)
{
	nwaiting = 0;
	for (int i = 0; i < n; i++) {
		w[i].done = 0;
		w[i].ret = -2;
		w[i].tid = 0;
		pthread_create(&w[i].thread, NULL, waiter_fn, &w[i]);
		wait_ge(&nwaiting, i + 1);
		for (int k = 0; k < 5000 && !load(&w[i].done) && !thread_asleep(load(&w[i].tid)); k++)
			msleep(1);
	}
	msleep(SETTLE_MS);
}

/* How many of the n waiters have returned. */
static int ndone(struct waiter *w, int n)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += load(&w[i].done);
	return c;
}

static int settle_done(struct waiter *w, int n, int expect)
{
	for (int i = 0; i < 2000 && ndone(w, n) < expect; i++)
		msleep(1);
	msleep(20);
	return ndone(w, n);
}

static const char *res(struct waiter *w)
{
	static char buf[8][32];
	static int k;
	char *b = buf[k++ % 8];

	if (w->ret == -1)
		snprintf(b, 32, "-1 %s", errno_name(w->err));
	else
		snprintf(b, 32, "%ld", w->ret);
	return b;
}

static void join_all(struct waiter *w, int n)
{
	for (int i = 0; i < n; i++)
		pthread_join(w[i].thread, NULL);
}

/* The waiters that have returned, as a string of their indices. */
static const char *which(struct waiter *w, int n)
{
	static char buf[4][16];
	static int k;
	char *b = buf[k++ % 4];
	int len = 0;

	for (int i = 0; i < n; i++)
		if (load(&w[i].done))
			b[len++] = '0' + i;
	b[len] = 0;
	return len ? b : "none";
}

static int word, word2;

static void test_wait_basics(void)
{
	struct timespec ts;
	long start;

	puts("-- FUTEX_WAIT value and timeouts");
	word = 0;
	SYS(futex, &word, FUTEX_WAIT, 1, NULL, NULL, 0);
	SYS(futex, &word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
	SYS(futex, &word, FUTEX_WAIT_BITSET, 1, NULL, NULL, FUTEX_BITSET_MATCH_ANY);
	ts = (struct timespec){ 0, 20 * MS };
	start = now_ns(CLOCK_MONOTONIC);
	SYS(futex, &word, FUTEX_WAIT, 0, &ts, NULL, 0);
	SHOW(now_ns(CLOCK_MONOTONIC) - start >= 20 * MS);
	/* FUTEX_CLOCK_REALTIME is only for the absolute-timeout waits. */
	SYS(futex, &word, FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &ts, NULL, 0);
	ts = (struct timespec){ 0, 0 };
	SYS(futex, &word, FUTEX_WAIT, 0, &ts, NULL, 0);
	ts = (struct timespec){ 0, 1000000000 };
	SYS(futex, &word, FUTEX_WAIT, 0, &ts, NULL, 0);
	ts = (struct timespec){ -1, 0 };
	SYS(futex, &word, FUTEX_WAIT, 0, &ts, NULL, 0);
	ts = (struct timespec){ 0, -1 };
	SYS(futex, &word, FUTEX_WAIT, 0, &ts, NULL, 0);
	/* The value is checked before the timeout. */
	ts = (struct timespec){ 0, 1000000000 };
	SYS(futex, &word, FUTEX_WAIT, 1, &ts, NULL, 0);

	puts("-- absolute timeouts");
	ts = at(CLOCK_MONOTONIC, 20 * MS);
	SYS(futex, &word, FUTEX_WAIT_BITSET, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
	SHOW(now_ns(CLOCK_MONOTONIC) >= ts_ns(&ts));
	ts = at(CLOCK_REALTIME, 20 * MS);
	SYS(futex, &word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
	SHOW(now_ns(CLOCK_REALTIME) >= ts_ns(&ts));
	ts = at(CLOCK_MONOTONIC, 20 * MS);
	SYS(futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts, NULL, 0x10);
	SHOW(now_ns(CLOCK_MONOTONIC) >= ts_ns(&ts));
	/* Deadlines in the past. */
	ts = (struct timespec){ 1, 0 };
	start = now_ns(CLOCK_MONOTONIC);
	SYS(futex, &word, FUTEX_WAIT_BITSET, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
	SYS(futex, &word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
	SHOW(now_ns(CLOCK_MONOTONIC) - start < 500 * MS);
	ts = (struct timespec){ 0, 1000000000 };
	SYS(futex, &word, FUTEX_WAIT_BITSET, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
	ts = (struct timespec){ -1, 0 };
	SYS(futex, &word, FUTEX_WAIT_BITSET, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
}

static void test_wake_counts(void)
{
	struct waiter w[4];

	puts("-- FUTEX_WAKE counts");
	word = 0;
	SYS(futex, &word, FUTEX_WAKE, 1, NULL, NULL, 0);
	SYS(futex, &word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	for (int i = 0; i < 3; i++)
		w[i] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT, .val = 0 };
	start(w, 3);
	printf("returned before wake: %d\n", ndone(w, 3));
	SYS(futex, &word, FUTEX_WAKE, 1, NULL, NULL, 0);
	printf("returned after waking 1: %d\n", settle_done(w, 3, 1));
	SYS(futex, &word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	printf("returned after waking all: %d\n", settle_done(w, 3, 3));
	join_all(w, 3);
	printf("results: %s %s %s\n", res(&w[0]), res(&w[1]), res(&w[2]));
	SYS(futex, &word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);

	/* nr_wake 0 (or negative) still wakes one. */
	for (int i = 0; i < 3; i++)
		w[i] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT_PRIVATE, .val = 0 };
	start(w, 3);
	SYS(futex, &word, FUTEX_WAKE_PRIVATE, 0, NULL, NULL, 0);
	printf("returned after waking 0: %d\n", settle_done(w, 3, 1));
	SYS(futex, &word, FUTEX_WAKE_PRIVATE, 2, NULL, NULL, 0);
	printf("returned after waking 2: %d\n", settle_done(w, 3, 3));
	join_all(w, 3);
	printf("results: %s %s %s\n", res(&w[0]), res(&w[1]), res(&w[2]));

	for (int i = 0; i < 2; i++)
		w[i] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT_PRIVATE, .val = 0 };
	start(w, 2);
	SYS(futex, &word, FUTEX_WAKE_PRIVATE, -1, NULL, NULL, 0);
	printf("returned after waking -1: %d\n", settle_done(w, 2, 1));
	SYS(futex, &word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	join_all(w, 2);

	/* A waiter on another word is not woken. */
	w[0] = (struct waiter){ .addr = &word2, .op = FUTEX_WAIT_PRIVATE, .val = 0 };
	word2 = 0;
	start(w, 1);
	SYS(futex, &word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	SYS(futex, &word2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	join_all(w, 1);
	printf("result: %s\n", res(&w[0]));
}

static void test_bitsets(void)
{
	struct waiter w[4];
	static const unsigned bits[4] = { 0x1, 0x2, 0x4, 0x6 };

	puts("-- bitsets");
	word = 0;
	for (int i = 0; i < 4; i++)
		w[i] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT_BITSET_PRIVATE, .val = 0, .val3 = bits[i] };
	start(w, 4);
	SYS(futex, &word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x8);
	printf("returned: %s\n", which(w, 4));
	SYS(futex, &word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x1);
	settle_done(w, 4, 1);
	printf("returned: %s\n", which(w, 4));
	/* 0x2 matches waiters 1 and 3; wake only one of them. */
	SYS(futex, &word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0x2);
	settle_done(w, 4, 2);
	printf("returned count: %d\n", ndone(w, 4));
	SYS(futex, &word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x4);
	settle_done(w, 4, 4);
	printf("returned: %s\n", which(w, 4));
	join_all(w, 4);
	printf("results: %s %s %s %s\n", res(&w[0]), res(&w[1]), res(&w[2]), res(&w[3]));

	/* FUTEX_WAIT matches any bitset; plain FUTEX_WAKE wakes any. */
	w[0] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT_PRIVATE, .val = 0 };
	w[1] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT_BITSET_PRIVATE, .val = 0, .val3 = 0x100 };
	start(w, 2);
	SYS(futex, &word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x40);
	settle_done(w, 2, 1);
	printf("returned: %s\n", which(w, 2));
	SYS(futex, &word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	settle_done(w, 2, 2);
	printf("returned: %s\n", which(w, 2));
	join_all(w, 2);

	SYS(futex, &word, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0);
	SYS(futex, &word, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0);
	SYS(futex, &word, FUTEX_WAIT_BITSET, 1, NULL, NULL, 0);
}

static void test_requeue(void)
{
	struct waiter w[4];

	puts("-- FUTEX_REQUEUE");
	word = word2 = 0;
	for (int i = 0; i < 4; i++)
		w[i] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT_PRIVATE, .val = 0 };
	start(w, 4);
	/* Wake 1, move 2 to word2 (nr_requeue goes in the timeout slot). */
	SYS(futex, &word, FUTEX_REQUEUE_PRIVATE, 1, (void *)2L, &word2, 0);
	printf("returned: %d\n", settle_done(w, 4, 1));
	SYS(futex, &word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	printf("returned: %d\n", settle_done(w, 4, 2));
	SYS(futex, &word2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	printf("returned: %d\n", settle_done(w, 4, 4));
	join_all(w, 4);
	printf("results: %s %s %s %s\n", res(&w[0]), res(&w[1]), res(&w[2]), res(&w[3]));
	SYS(futex, &word, FUTEX_REQUEUE_PRIVATE, 1, (void *)2L, &word2, 0);

	puts("-- FUTEX_CMP_REQUEUE");
	word = 5;
	for (int i = 0; i < 3; i++)
		w[i] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT_PRIVATE, .val = 5 };
	start(w, 3);
	SYS(futex, &word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, &word2, 4);
	printf("returned: %d\n", ndone(w, 3));
	SYS(futex, &word, FUTEX_CMP_REQUEUE_PRIVATE, -1, (void *)1L, &word2, 5);
	SYS(futex, &word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)-1L, &word2, 5);
	SYS(futex, &word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, &word2, 5);
	printf("returned: %d\n", settle_done(w, 3, 1));
	SYS(futex, &word2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	printf("returned: %d\n", settle_done(w, 3, 2));
	SYS(futex, &word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	printf("returned: %d\n", settle_done(w, 3, 3));
	join_all(w, 3);
	printf("results: %s %s %s\n", res(&w[0]), res(&w[1]), res(&w[2]));

	/* Requeue all without waking: then they wake only on word2. */
	for (int i = 0; i < 3; i++)
		w[i] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT_PRIVATE, .val = 5 };
	start(w, 3);
	SYS(futex, &word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)INT_MAX, &word2, 5);
	SYS(futex, &word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	printf("returned: %d\n", settle_done(w, 3, 0));
	SYS(futex, &word2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	printf("returned: %d\n", settle_done(w, 3, 3));
	join_all(w, 3);

	/* Requeue onto the same word. */
	for (int i = 0; i < 2; i++)
		w[i] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT_PRIVATE, .val = 5 };
	start(w, 2);
	SYS(futex, &word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)INT_MAX, &word, 5);
	SYS(futex, &word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	printf("returned: %d\n", settle_done(w, 2, 2));
	join_all(w, 2);
	SYS(futex, &word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, &word2, 5);
}

static const char *const op_names[] = { "SET", "ADD", "OR", "ANDN", "XOR" };
static const char *const cmp_names[] = { "EQ", "NE", "LT", "LE", "GT", "GE" };

static void test_wake_op(void)
{
	struct waiter w[3];

	puts("-- FUTEX_WAKE_OP operations (no waiters)");
	for (int op = 0; op <= 4; op++) {
		for (int shift = 0; shift <= 1; shift++) {
			long r;

			word = 0;
			word2 = 0x0f;
			errno = 0;
			r = syscall(SYS_futex, &word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &word2,
				    FUTEX_OP(op | (shift ? FUTEX_OP_OPARG_SHIFT : 0), 3, FUTEX_OP_CMP_EQ, 0));
			printf("  %s%s 3 on 0x0f: ret %ld, word2 = 0x%x\n", op_names[op],
			       shift ? " shifted" : "", r, word2);
		}
	}
	/* oparg and cmparg are signed 12-bit fields. */
	word2 = 10;
	SYS(futex, &word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &word2,
	    FUTEX_OP(FUTEX_OP_ADD, 0xfff, FUTEX_OP_CMP_EQ, 0));
	printf("  word2 = %d\n", word2);
	/* An unknown operation or comparison. */
	word2 = 1;
	SYS(futex, &word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &word2, FUTEX_OP(7, 1, FUTEX_OP_CMP_EQ, 0));
	printf("  word2 = %d\n", word2);
	word2 = 1;
	SYS(futex, &word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &word2, FUTEX_OP(FUTEX_OP_ADD, 1, 7, 0));
	printf("  word2 = %d\n", word2);
	word2 = 1;
	SYS(futex, &word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, (void *)0x1000, FUTEX_OP(FUTEX_OP_ADD, 1, 0, 0));
	SYS(futex, &word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, (char *)&word2 + 1, FUTEX_OP(FUTEX_OP_ADD, 1, 0, 0));

	/*
	 * The comparison decides whether word2's waiter is woken: 18 cases at
	 * once, each with its own pair of words and a waiter on each.
	 */
	puts("-- FUTEX_WAKE_OP comparisons (old value 5, one waiter on each word)");
	{
		static int w1[18], w2[18];
		struct waiter cw[36];
		int rets[18], n = 0;

		for (int c = 0; c < 18; c++) {
			w1[c] = 0;
			w2[c] = 5;
			cw[2 * c] = (struct waiter){ .addr = &w1[c], .op = FUTEX_WAIT_PRIVATE, .val = 0 };
			cw[2 * c + 1] = (struct waiter){ .addr = &w2[c], .op = FUTEX_WAIT_PRIVATE, .val = 5 };
		}
		start(cw, 36);
		for (int c = 0; c < 18; c++) {
			/* ADD 0 keeps word2 at 5. */
			rets[c] = syscall(SYS_futex, &w1[c], FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &w2[c],
					  FUTEX_OP(FUTEX_OP_ADD, 0, c / 3, (4 + c % 3)));
			n += rets[c] > 0 ? rets[c] : 0;
		}
		settle_done(cw, 36, n);
		for (int c = 0; c < 18; c++)
			printf("  5 %s %d: ret %d, woken on word %d, on word2 %d, word2 = %d\n",
			       cmp_names[c / 3], 4 + c % 3, rets[c], load(&cw[2 * c].done),
			       load(&cw[2 * c + 1].done), w2[c]);
		for (int c = 0; c < 18; c++) {
			syscall(SYS_futex, &w1[c], FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
			syscall(SYS_futex, &w2[c], FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
		}
		join_all(cw, 36);
	}

	/* Both words the same: woken through both counts. */
	word = 0;
	for (int i = 0; i < 3; i++)
		w[i] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT_PRIVATE, .val = 0 };
	start(w, 3);
	SYS(futex, &word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &word, FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_EQ, 0));
	printf("returned: %d\n", settle_done(w, 3, 2));
	SYS(futex, &word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	join_all(w, 3);
}

static void test_private_shared(void)
{
	struct waiter w[1];

	puts("-- private and shared keys");
	word = 0;
	w[0] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT_PRIVATE, .val = 0 };
	start(w, 1);
	SYS(futex, &word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	SYS(futex, &word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	join_all(w, 1);
	printf("result: %s\n", res(&w[0]));
	w[0] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT, .val = 0 };
	start(w, 1);
	SYS(futex, &word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	SYS(futex, &word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	join_all(w, 1);
	printf("result: %s\n", res(&w[0]));
}

/*
 * Across fork. shm[0] is the futex word, shm[1] counts the parent's
 * waits, shm[2] is the child's wake result. mode 0: shared futex on
 * MAP_SHARED memory; 1: private futex there; 2: shared futex on private
 * memory (each process has its own copy).
 */
static void fork_case(int *shm, int *futex_word, int mode, const char *what)
{
	int wait_op = mode == 1 ? FUTEX_WAIT_PRIVATE : FUTEX_WAIT;
	int wake_op = mode == 1 ? FUTEX_WAKE_PRIVATE : FUTEX_WAKE;
	/* Only mode 0 is woken: the others time out. */
	struct timespec ts = mode == 0 ? (struct timespec){ 3, 0 } : (struct timespec){ 0, 200 * MS };
	int status = 0;
	long r;
	pid_t pid;

	shm[0] = shm[1] = 0;
	shm[2] = -2;
	*futex_word = 0;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(10);
		wait_ge(&shm[1], 1);
		msleep(SETTLE_MS);
		store(&shm[2], syscall(SYS_futex, futex_word, wake_op, INT_MAX, NULL, NULL, 0));
		_exit(0);
	}
	add(&shm[1], 1);
	errno = 0;
	r = syscall(SYS_futex, futex_word, wait_op, 0, &ts, NULL, 0);
	printf("%s:", what);
	check_print(" parent wait", r, errno);
	waitpid(pid, &status, 0);
	printf("  child wake = %d, child status %d\n", load(&shm[2]), status);
}

static void test_fork(void)
{
	int *shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	static int private_word;

	puts("-- across fork");
	fork_case(shm, &shm[0], 0, "shared futex, MAP_SHARED");
	fork_case(shm, &shm[0], 1, "private futex, MAP_SHARED");
	fork_case(shm, &private_word, 2, "shared futex, private memory");
	munmap(shm, 4096);
}

/* ---- signals ---- */

static int handled;

static void on_usr1(int sig)
{
	(void)sig;
	add(&handled, 1);
}

static void signal_case(int restart, int timeout, const char *what)
{
	struct sigaction sa = { 0 };
	struct waiter w[1];

	sa.sa_handler = on_usr1;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGUSR1, &sa, NULL);
	handled = 0;
	word = 0;
	w[0] = (struct waiter){ .addr = &word, .op = FUTEX_WAIT_PRIVATE, .val = 0, .no_timeout = !timeout };
	start(w, 1);
	pthread_kill(w[0].thread, SIGUSR1);
	wait_ge(&handled, 1);
	msleep(SETTLE_MS);
	int early = load(&w[0].done);

	syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	join_all(w, 1);
	printf("%s: handled %d, returned on the signal %d, result %s\n", what, handled, early, res(&w[0]));
}

static void test_signals(void)
{
	puts("-- signals");
	signal_case(0, 0, "no SA_RESTART, no timeout");
	signal_case(1, 0, "SA_RESTART, no timeout");
	signal_case(0, 1, "no SA_RESTART, timeout");
	signal_case(1, 1, "SA_RESTART, timeout");
	signal(SIGUSR1, SIG_DFL);
}

static void test_errors(void)
{
	int *unmapped = (int *)0x1000;
	int *misaligned = (int *)((char *)&word + 1);
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	puts("-- errors");
	word = 0;
	SYS(futex, unmapped, FUTEX_WAIT, 0, NULL, NULL, 0);
	SYS(futex, unmapped, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	SYS(futex, unmapped, FUTEX_WAKE, 1, NULL, NULL, 0);
	SYS(futex, unmapped, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	SYS(futex, KERNEL_PTR, FUTEX_WAIT, 0, NULL, NULL, 0);
	SYS(futex, NULL, FUTEX_WAIT, 0, NULL, NULL, 0);
	SYS(futex, page, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	SYS(futex, misaligned, FUTEX_WAIT, 0, NULL, NULL, 0);
	SYS(futex, misaligned, FUTEX_WAKE, 1, NULL, NULL, 0);
	SYS(futex, misaligned, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	SYS(futex, &word, FUTEX_WAIT, 0, BAD_PTR, NULL, 0);
	SYS(futex, &word, FUTEX_WAIT, 1, BAD_PTR, NULL, 0);
	SYS(futex, &word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, unmapped, 0);
	SYS(futex, &word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, misaligned, 0);
	SYS(futex, &word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, &word2, 1);
	SYS(futex, unmapped, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, &word2, 0);

	puts("-- unknown operations");
	SYS(futex, &word, 99, 0, NULL, NULL, 0);
	SYS(futex, &word, 14, 0, NULL, NULL, 0);
	SYS(futex, &word, FUTEX_FD, 0, NULL, NULL, 0);
	SYS(futex, &word, 99 | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0);
	SYS(futex, &word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0);
	SYS(futex, &word, FUTEX_REQUEUE | FUTEX_CLOCK_REALTIME, 1, NULL, &word2, 0);
	SYS(futex, &word, FUTEX_WAKE | 0x200, 1, NULL, NULL, 0);
	munmap(page, 4096);
}

int main(void)
{
	alarm(20);
	test_wait_basics();
	test_wake_counts();
	test_bitsets();
	test_requeue();
	test_wake_op();
	test_private_shared();
	test_fork();
	test_signals();
	test_errors();
	puts("done");
	return 0;
}
