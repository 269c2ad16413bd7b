/*
 * futex_requeue_pi.c: FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI, the
 * condition-variable hand-off onto a PI mutex: the requeue with the mutex
 * free (the first waiter gets it at once) and held (every waiter moves and
 * gets it in turn from FUTEX_UNLOCK_PI), the requeue limit, what plain
 * wakes and requeues do to such waiters, timeouts and signals before and
 * after the requeue, and argument errors.
 *
 * Waiters are threads asleep in the kernel before the waker acts; each
 * one that gets the mutex records its turn and unlocks it. Only results,
 * turns and word bits are printed.
 */
#include "common.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#define MS 1000000L

static int cond, mutex, other;
static int turn;

static long fx(int *addr, int op, int val, void *timeout, int *addr2, int val3)
{
	return syscall(SYS_futex, addr, op | FUTEX_PRIVATE_FLAG, val, timeout, addr2, val3);
}

static const char *show(long r)
{
	static char buf[8][32];
	static int k;
	char *b = buf[k++ % 8];

	if (r == -1)
		snprintf(b, 32, "-1 %s", errno_name(errno));
	else
		snprintf(b, 32, "%ld", r);
	return b;
}

static void msleep(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * MS };

	while (nanosleep(&t, &t) == -1 && errno == EINTR)
		;
}

static struct timespec at(long ns)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	ns += t.tv_nsec;
	t.tv_sec += ns / 1000000000L;
	t.tv_nsec = ns % 1000000000L;
	return t;
}

struct waiter {
	long timeout_ms;
	int *target;
	long ret;
	int err, tid, done, my_turn, owned;
	pthread_t thread;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;
	struct timespec ts = at(w->timeout_ms * MS);

	__atomic_store_n(&w->tid, (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	errno = 0;
	w->ret = fx(&cond, FUTEX_WAIT_REQUEUE_PI, 0, &ts, w->target, 0);
	w->err = errno;
	if (w->ret == 0) {
		w->owned = (__atomic_load_n(w->target, __ATOMIC_SEQ_CST) & FUTEX_TID_MASK) == w->tid;
		w->my_turn = __atomic_add_fetch(&turn, 1, __ATOMIC_SEQ_CST);
		fx(w->target, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
	}
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void start(struct waiter *w, int n, long timeout_ms, int *target)
{
	for (int i = 0; i < n; i++) {
		w[i] = (struct waiter){ .timeout_ms = timeout_ms, .target = target };
		pthread_create(&w[i].thread, NULL, waiter_fn, &w[i]);
		for (int k = 0; k < 5000 && !__atomic_load_n(&w[i].tid, __ATOMIC_SEQ_CST); k++)
			msleep(1);
		for (int k = 0; k < 5000 && !w[i].done && !thread_asleep(w[i].tid); k++)
			msleep(1);
		msleep(10);
	}
	msleep(30);
}

static int ndone(struct waiter *w, int n)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += __atomic_load_n(&w[i].done, __ATOMIC_SEQ_CST);
	return c;
}

static void settle(void)
{
	msleep(60);
}

static void report(const char *what, struct waiter *w, int n)
{
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].ret == -1)
			printf("%s: waiter %d: -1 %s\n", what, i, errno_name(w[i].err));
		else
			printf("%s: waiter %d: %ld, turn %d, owned %d\n", what, i, w[i].ret, w[i].my_turn, w[i].owned);
	}
}

static int lock_main(int *m)
{
	return (int)fx(m, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
}

static void test_free_mutex(void)
{
	struct waiter w[3];
	int word;

	cond = mutex = turn = 0;
	start(w, 3, 5000, &mutex);
	/* Hold the lock word fixed while looking at it: the first waiter owns it. */
	printf("free: cmp_requeue_pi(INT_MAX) = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)(long)INT_MAX, &mutex, 0)));
	settle();
	word = __atomic_load_n(&mutex, __ATOMIC_SEQ_CST);
	printf("free: all returned: %d, mutex free after: %d\n", ndone(w, 3) == 3, word == 0);
	report("free", w, 3);
}

static void test_held_mutex(void)
{
	struct waiter w[3];
	int word;

	cond = mutex = turn = 0;
	printf("held: lock_pi by main = %d\n", lock_main(&mutex));
	start(w, 3, 5000, &mutex);
	printf("held: cmp_requeue_pi(INT_MAX) = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)(long)INT_MAX, &mutex, 0)));
	settle();
	word = __atomic_load_n(&mutex, __ATOMIC_SEQ_CST);
	printf("held: none returned: %d, main owns: %d, FUTEX_WAITERS: %d\n", ndone(w, 3) == 0,
	       (word & FUTEX_TID_MASK) == (int)syscall(SYS_gettid), !!(word & FUTEX_WAITERS));
	printf("held: a plain wake of cond = %s\n", show(fx(&cond, FUTEX_WAKE, 1, NULL, NULL, 0)));
	printf("held: unlock_pi by main = %s\n", show(fx(&mutex, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0)));
	settle();
	printf("held: all returned: %d, mutex free after: %d\n", ndone(w, 3) == 3, __atomic_load_n(&mutex, __ATOMIC_SEQ_CST) == 0);
	report("held", w, 3);
}

static void test_limits(void)
{
	struct waiter w[4];

	cond = mutex = turn = 0;
	printf("limit: lock_pi by main = %d\n", lock_main(&mutex));
	start(w, 4, 5000, &mutex);
	printf("limit: futex_wake on cond = %s\n", show(fx(&cond, FUTEX_WAKE, 1, NULL, NULL, 0)));
	printf("limit: cmp_requeue on cond = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE, 1, (void *)1L, &other, 0)));
	printf("limit: cmp_requeue_pi to another mutex = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1L, &other, 0)));
	printf("limit: cmp_requeue_pi(0) = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)0L, &mutex, 0)));
	printf("limit: cmp_requeue_pi(1) = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1L, &mutex, 0)));
	printf("limit: cmp_requeue_pi(5) = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)5L, &mutex, 0)));
	printf("limit: cmp_requeue_pi with nobody left = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)5L, &mutex, 0)));
	printf("limit: unlock_pi by main = %s\n", show(fx(&mutex, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0)));
	settle();
	report("limit", w, 4);
}

static void test_timeouts(void)
{
	struct waiter w[2];

	cond = mutex = turn = 0;
	start(w, 1, 50, &mutex);
	settle();
	report("timeout before the requeue", w, 1);

	printf("timeout: lock_pi by main = %d\n", lock_main(&mutex));
	start(w, 1, 200, &mutex);
	printf("timeout: cmp_requeue_pi = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1L, &mutex, 0)));
	msleep(300);
	report("timeout after the requeue", w, 1);
	printf("timeout: unlock_pi by main = %s\n", show(fx(&mutex, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0)));
	printf("timeout: mutex free after: %d\n", __atomic_load_n(&mutex, __ATOMIC_SEQ_CST) == 0);
}

static int handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static void test_signals(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct waiter w[1];

	sigaction(SIGUSR1, &sa, NULL);
	cond = mutex = turn = handled = 0;
	start(w, 1, 5000, &mutex);
	syscall(SYS_tgkill, getpid(), w[0].tid, SIGUSR1);
	settle();
	printf("signal before the requeue: handled %d, still waiting %d\n", handled, !w[0].done);
	printf("signal: lock_pi by main = %d\n", lock_main(&mutex));
	printf("signal: cmp_requeue_pi = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1L, &mutex, 0)));
	settle();
	syscall(SYS_tgkill, getpid(), w[0].tid, SIGUSR1);
	settle();
	printf("signal after the requeue: handled %d, still waiting %d\n", handled, !w[0].done);
	report("signal after the requeue", w, 1);
	printf("signal: unlock_pi by main = %s\n", show(fx(&mutex, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0)));
}

static void test_errors(void)
{
	struct timespec ts = at(10 * MS);

	cond = 0;
	mutex = 0;
	printf("wait_requeue_pi, value changed = %s\n", show(fx(&cond, FUTEX_WAIT_REQUEUE_PI, 1, &ts, &mutex, 0)));
	printf("wait_requeue_pi, same futex = %s\n", show(fx(&cond, FUTEX_WAIT_REQUEUE_PI, 0, &ts, &cond, 0)));
	printf("wait_requeue_pi, bad uaddr2 = %s\n", show(fx(&cond, FUTEX_WAIT_REQUEUE_PI, 0, &ts, BAD_PTR, 0)));
	printf("wait_requeue_pi, realtime flag, timeout = %s\n",
	       show(syscall(SYS_futex, &cond, FUTEX_WAIT_REQUEUE_PI | FUTEX_CLOCK_REALTIME, 0, &(struct timespec){ 0, 0 }, &mutex, 0)));
	printf("cmp_requeue_pi, nr_wake 2 = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 2, (void *)1L, &mutex, 0)));
	printf("cmp_requeue_pi, nr_wake 0 = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 0, (void *)1L, &mutex, 0)));
	printf("cmp_requeue_pi, same futex = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1L, &cond, 0)));
	printf("cmp_requeue_pi, value changed = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1L, &mutex, 7)));
	printf("cmp_requeue_pi, nr_requeue -1 = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)-1L, &mutex, 0)));
	printf("cmp_requeue_pi, nobody waiting = %s\n", show(fx(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)1L, &mutex, 0)));
	printf("cmp_requeue_pi, bad uaddr = %s\n", show(fx(BAD_PTR, FUTEX_CMP_REQUEUE_PI, 1, (void *)1L, &mutex, 0)));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_free_mutex();
	test_held_mutex();
	test_limits();
	test_timeouts();
	test_signals();
	test_errors();
	return 0;
}
