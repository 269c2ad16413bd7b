/*
 * pthread.c: POSIX threads as glibc builds them on clone(2), futex(2),
 * tgkill(2) and the signal machinery: create/join, mutexes of every type,
 * condition variables (with timeouts on both clocks), barriers, rwlocks,
 * thread-local storage, thread and process ids, cancellation (deferred and
 * asynchronous), thread-directed signals and per-thread signal masks, many
 * threads, exit() from a thread, and priority-inheritance mutexes
 * (FUTEX_LOCK_PI) last.
 *
 * Threads only record what they see; the main thread prints it after
 * joining them, in a fixed order. Ids and times are never printed.
 */
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000L

/* A pthread_* result: "expr = 0" or "expr = ENAME". */
static const char *ename(int e)
{
	const char *n;

	if (e == 0)
		return "0";
	n = strerrorname_np(e);
	return n ? n : "unknown";
}
#define PT(expr) ({ int e_ = (expr); printf("%s = %s\n", #expr, ename(e_)); e_; })

static long now_ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static struct timespec deadline(clockid_t clock, long ns)
{
	long t = now_ns(clock) + ns;

	return (struct timespec){ t / 1000000000L, t % 1000000000L };
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

/* Wait (at most 5 s) until *p >= v; returns whether it got there. */
static int wait_ge(int *p, int v)
{
	for (int i = 0; i < 5000 && load(p) < v; i++)
		msleep(1);
	return load(p) >= v;
}

/* Run fn(arg) in a new thread and return what it returned, as an int. */
static int in_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	void *ret = (void *)-1L;

	if (pthread_create(&t, NULL, fn, arg) != 0)
		return -1;
	pthread_join(t, &ret);
	return (int)(intptr_t)ret;
}

/* ---- create/join, ids, TLS ---- */

static __thread int tls = 5;

struct tinfo {
	int idx;
	pid_t tid, pid;
	int tls_initial, tls_final;
	int *tls_addr;
};

static int basic_started;

static void *basic(void *arg)
{
	struct tinfo *ti = arg;

	ti->tid = gettid();
	ti->pid = getpid();
	ti->tls_initial = tls;
	tls = 100 + ti->idx;
	ti->tls_addr = &tls;
	add(&basic_started, 1);
	/* All four are alive at once, each with its own tls. */
	wait_ge(&basic_started, 4);
	msleep(5);
	ti->tls_final = tls;
	return (void *)(intptr_t)(ti->idx * 10 + 1);
}

static void *slow_return(void *arg)
{
	msleep(100);
	return arg;
}

static void test_create_join(void)
{
	struct tinfo ti[4];
	pthread_t t[4], slow;
	void *ret;
	int distinct = 1, same_pid = 1, tls_ok = 1, addr_distinct = 1;
	struct timespec ts;

	puts("-- create/join");
	tls = 7;
	for (int i = 0; i < 4; i++) {
		ti[i] = (struct tinfo){ .idx = i };
		if (pthread_create(&t[i], NULL, basic, &ti[i]) != 0)
			printf("pthread_create %d failed\n", i);
	}
	for (int i = 0; i < 4; i++) {
		ret = NULL;
		int r = pthread_join(t[i], &ret);
		printf("join %d = %s, returned %ld\n", i, ename(r), (long)(intptr_t)ret);
	}
	for (int i = 0; i < 4; i++) {
		if (ti[i].tid == gettid() || ti[i].tid <= 0)
			distinct = 0;
		for (int j = 0; j < i; j++) {
			if (ti[j].tid == ti[i].tid)
				distinct = 0;
			if (ti[j].tls_addr == ti[i].tls_addr)
				addr_distinct = 0;
		}
		if (ti[i].pid != getpid())
			same_pid = 0;
		if (ti[i].tls_initial != 5 || ti[i].tls_final != 100 + i)
			tls_ok = 0;
		if (ti[i].tls_addr == &tls)
			addr_distinct = 0;
	}
	SHOW(distinct);
	SHOW(same_pid);
	SHOW(gettid() == getpid());
	SHOW(tls_ok);
	SHOW(addr_distinct);
	SHOW(tls == 7);

	SHOW(pthread_equal(pthread_self(), pthread_self()));
	PT(pthread_join(pthread_self(), NULL));
	pthread_create(&slow, NULL, slow_return, (void *)42L);
	PT(pthread_tryjoin_np(slow, NULL));
	ts = deadline(CLOCK_REALTIME, 10 * MS);
	PT(pthread_timedjoin_np(slow, NULL, &ts));
	ret = NULL;
	PT(pthread_join(slow, &ret));
	printf("slow returned %ld\n", (long)(intptr_t)ret);
}

/* ---- mutexes ---- */

static void *trylock_other(void *arg)
{
	int r = pthread_mutex_trylock(arg);

	if (r == 0)
		pthread_mutex_unlock(arg);
	return (void *)(intptr_t)r;
}

static void *unlock_other(void *arg)
{
	return (void *)(intptr_t)pthread_mutex_unlock(arg);
}

static pthread_mutex_t *count_mutex;
static long counter;

static void *count_locked(void *arg)
{
	long n = (long)arg;

	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(count_mutex);
		counter++;
		pthread_mutex_unlock(count_mutex);
	}
	return NULL;
}

static void count_in_threads(pthread_mutex_t *m, int nthreads, long each)
{
	pthread_t t[8];

	count_mutex = m;
	counter = 0;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, count_locked, (void *)each);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	printf("counter after %d x %ld locked increments = %ld\n", nthreads, each, counter);
}

static void test_mutexes(void)
{
	pthread_mutex_t m;
	pthread_mutexattr_t a;
	int type;

	puts("-- mutex normal");
	pthread_mutexattr_init(&a);
	pthread_mutexattr_gettype(&a, &type);
	SHOW(type == PTHREAD_MUTEX_DEFAULT);
	PT(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_NORMAL));
	PT(pthread_mutex_init(&m, &a));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_trylock(&m));
	printf("trylock from another thread = %s\n", ename(in_thread(trylock_other, &m)));
	PT(pthread_mutex_unlock(&m));
	printf("trylock from another thread = %s\n", ename(in_thread(trylock_other, &m)));
	PT(pthread_mutex_trylock(&m));
	PT(pthread_mutex_unlock(&m));
	count_in_threads(&m, 4, 50000);
	PT(pthread_mutex_destroy(&m));

	puts("-- mutex recursive");
	PT(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE));
	PT(pthread_mutex_init(&m, &a));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_trylock(&m));
	printf("trylock from another thread = %s\n", ename(in_thread(trylock_other, &m)));
	printf("unlock from another thread = %s\n", ename(in_thread(unlock_other, &m)));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_unlock(&m));
	printf("trylock from another thread = %s\n", ename(in_thread(trylock_other, &m)));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_unlock(&m));
	printf("trylock from another thread = %s\n", ename(in_thread(trylock_other, &m)));
	count_in_threads(&m, 3, 30000);
	PT(pthread_mutex_destroy(&m));

	puts("-- mutex errorcheck");
	PT(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK));
	PT(pthread_mutex_init(&m, &a));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_trylock(&m));
	printf("unlock from another thread = %s\n", ename(in_thread(unlock_other, &m)));
	printf("trylock from another thread = %s\n", ename(in_thread(trylock_other, &m)));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_unlock(&m));
	count_in_threads(&m, 3, 30000);
	PT(pthread_mutex_destroy(&m));

	PT(pthread_mutexattr_settype(&a, 1000));
	pthread_mutexattr_destroy(&a);
}

static pthread_mutex_t *held_mutex;

static void *timedlock_other(void *arg)
{
	int r = pthread_mutex_timedlock(held_mutex, arg);

	if (r == 0)
		pthread_mutex_unlock(held_mutex);
	return (void *)(intptr_t)r;
}

static void test_timedlock(void)
{
	struct timespec ts;
	long start;
	pthread_mutex_t m;

	puts("-- mutex timedlock");
	pthread_mutex_init(&m, NULL);
	held_mutex = &m;
	PT(pthread_mutex_lock(&m));
	ts = deadline(CLOCK_REALTIME, 20 * MS);
	start = now_ns(CLOCK_MONOTONIC);
	printf("timedlock from another thread = %s\n", ename(in_thread(timedlock_other, &ts)));
	SHOW(now_ns(CLOCK_MONOTONIC) - start >= 15 * MS);
	ts = deadline(CLOCK_REALTIME, 0);
	ts.tv_nsec = 1000000000;
	printf("timedlock with bad nsec from another thread = %s\n", ename(in_thread(timedlock_other, &ts)));
	PT(pthread_mutex_unlock(&m));
	ts = deadline(CLOCK_REALTIME, 20 * MS);
	printf("timedlock from another thread = %s\n", ename(in_thread(timedlock_other, &ts)));
	PT(pthread_mutex_destroy(&m));
}

/* ---- condition variables ---- */

static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cwaiting, tokens, ctaken, cgo, cwoken;

static void *token_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cm);
	cwaiting++;
	while (tokens == 0)
		pthread_cond_wait(&cv, &cm);
	tokens--;
	ctaken++;
	pthread_mutex_unlock(&cm);
	return NULL;
}

static void *go_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cm);
	cwaiting++;
	while (!cgo)
		pthread_cond_wait(&cv, &cm);
	cwoken++;
	pthread_mutex_unlock(&cm);
	return NULL;
}

/* Wait until n threads are in pthread_cond_wait (they count under cm). */
static int wait_waiting(int n)
{
	for (int i = 0; i < 5000; i++) {
		pthread_mutex_lock(&cm);
		int w = cwaiting;
		pthread_mutex_unlock(&cm);
		if (w >= n)
			return 1;
		msleep(1);
	}
	return 0;
}

static int locked_read(int *p)
{
	int v;

	pthread_mutex_lock(&cm);
	v = *p;
	pthread_mutex_unlock(&cm);
	return v;
}

static pthread_cond_t tcv;
static int tflag;

static void *timed_waiter(void *arg)
{
	struct timespec ts = deadline(CLOCK_MONOTONIC, 3000 * MS);
	int r = 0;

	(void)arg;
	pthread_mutex_lock(&cm);
	cwaiting++;
	while (!tflag && r == 0)
		r = pthread_cond_timedwait(&tcv, &cm, &ts);
	pthread_mutex_unlock(&cm);
	return (void *)(intptr_t)r;
}

static void timedwait_check(pthread_cond_t *c, clockid_t clock, const char *what)
{
	struct timespec ts = deadline(clock, 30 * MS);
	long start = now_ns(CLOCK_MONOTONIC);
	int r;

	pthread_mutex_lock(&cm);
	r = pthread_cond_timedwait(c, &cm, &ts);
	pthread_mutex_unlock(&cm);
	printf("timedwait %s 30ms = %s\n", what, ename(r));
	SHOW(now_ns(clock) >= ts.tv_sec * 1000000000L + ts.tv_nsec);
	SHOW(now_ns(CLOCK_MONOTONIC) - start >= 25 * MS);
}

static void test_condvars(void)
{
	pthread_t t[4];
	pthread_condattr_t ca;
	pthread_cond_t mono, real;
	clockid_t clock;
	struct timespec ts;

	puts("-- cond signal");
	cwaiting = tokens = ctaken = 0;
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, token_waiter, NULL);
	SHOW(wait_waiting(3));
	pthread_mutex_lock(&cm);
	tokens = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&cm);
	for (int i = 0; i < 5000 && locked_read(&ctaken) < 1; i++)
		msleep(1);
	msleep(30);
	printf("taken after one signal = %d\n", locked_read(&ctaken));
	pthread_mutex_lock(&cm);
	tokens += 2;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&cm);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	printf("taken after broadcast = %d, tokens left = %d\n", ctaken, tokens);

	puts("-- cond broadcast");
	cwaiting = cgo = cwoken = 0;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, go_waiter, NULL);
	SHOW(wait_waiting(4));
	msleep(10);
	printf("woken before broadcast = %d\n", locked_read(&cwoken));
	pthread_mutex_lock(&cm);
	cgo = 1;
	PT(pthread_cond_broadcast(&cv));
	pthread_mutex_unlock(&cm);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("woken after broadcast = %d\n", cwoken);
	PT(pthread_cond_signal(&cv));
	PT(pthread_cond_broadcast(&cv));

	puts("-- cond timedwait");
	pthread_condattr_init(&ca);
	pthread_condattr_getclock(&ca, &clock);
	SHOW(clock == CLOCK_REALTIME);
	PT(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
	pthread_condattr_getclock(&ca, &clock);
	SHOW(clock == CLOCK_MONOTONIC);
	PT(pthread_condattr_setclock(&ca, CLOCK_PROCESS_CPUTIME_ID));
	PT(pthread_condattr_setclock(&ca, 100));
	PT(pthread_cond_init(&mono, &ca));
	PT(pthread_condattr_setclock(&ca, CLOCK_REALTIME));
	PT(pthread_cond_init(&real, &ca));
	pthread_condattr_destroy(&ca);
	timedwait_check(&mono, CLOCK_MONOTONIC, "monotonic");
	timedwait_check(&real, CLOCK_REALTIME, "realtime");
	timedwait_check(&cv, CLOCK_REALTIME, "default");

	pthread_mutex_lock(&cm);
	ts = (struct timespec){ 1, 0 };
	printf("timedwait past deadline = %s\n", ename(pthread_cond_timedwait(&mono, &cm, &ts)));
	ts = (struct timespec){ 0, 1000000000 };
	printf("timedwait bad nsec = %s\n", ename(pthread_cond_timedwait(&mono, &cm, &ts)));
	ts = deadline(CLOCK_MONOTONIC, 20 * MS);
	printf("clockwait monotonic = %s\n", ename(pthread_cond_clockwait(&cv, &cm, CLOCK_MONOTONIC, &ts)));
	ts = deadline(CLOCK_REALTIME, 20 * MS);
	printf("clockwait realtime = %s\n", ename(pthread_cond_clockwait(&cv, &cm, CLOCK_REALTIME, &ts)));
	printf("clockwait bad clock = %s\n", ename(pthread_cond_clockwait(&cv, &cm, 100, &ts)));
	pthread_mutex_unlock(&cm);

	/* Signalled before the timeout: 0. */
	cwaiting = tflag = 0;
	tcv = mono;
	pthread_create(&t[0], NULL, timed_waiter, NULL);
	SHOW(wait_waiting(1));
	pthread_mutex_lock(&cm);
	tflag = 1;
	pthread_cond_signal(&tcv);
	pthread_mutex_unlock(&cm);
	{
		void *ret;

		pthread_join(t[0], &ret);
		printf("timedwait signalled = %s\n", ename((int)(intptr_t)ret));
	}
	PT(pthread_cond_destroy(&mono));
	PT(pthread_cond_destroy(&real));
}

/* ---- barriers ---- */

#define BAR_N 5
#define BAR_ROUNDS 3

static pthread_barrier_t bar;
static int serials[BAR_ROUNDS], arrived[BAR_ROUNDS], early[BAR_ROUNDS], bar_errors;

static void *bar_thread(void *arg)
{
	(void)arg;
	for (int r = 0; r < BAR_ROUNDS; r++) {
		add(&arrived[r], 1);
		int ret = pthread_barrier_wait(&bar);

		if (ret == PTHREAD_BARRIER_SERIAL_THREAD)
			add(&serials[r], 1);
		else if (ret != 0)
			add(&bar_errors, 1);
		/* Nobody passes before everyone arrived. */
		if (load(&arrived[r]) != BAR_N)
			add(&early[r], 1);
	}
	return NULL;
}

static void test_barriers(void)
{
	pthread_t t[BAR_N];
	pthread_barrier_t one;

	puts("-- barrier");
	PT(pthread_barrier_init(&bar, NULL, 0));
	PT(pthread_barrier_init(&bar, NULL, BAR_N));
	for (int i = 0; i < BAR_N; i++)
		pthread_create(&t[i], NULL, bar_thread, NULL);
	for (int i = 0; i < BAR_N; i++)
		pthread_join(t[i], NULL);
	for (int r = 0; r < BAR_ROUNDS; r++)
		printf("round %d: serial threads %d, passed early %d\n", r, serials[r], early[r]);
	printf("other results = %d\n", bar_errors);
	PT(pthread_barrier_destroy(&bar));
	PT(pthread_barrier_init(&one, NULL, 1));
	SHOW(pthread_barrier_wait(&one) == PTHREAD_BARRIER_SERIAL_THREAD);
	SHOW(pthread_barrier_wait(&one) == PTHREAD_BARRIER_SERIAL_THREAD);
	PT(pthread_barrier_destroy(&one));
}

/* ---- rwlocks ---- */

static pthread_rwlock_t rw;
static int readers_in, readers_all, readers_release;

static void *reader(void *arg)
{
	(void)arg;
	int r = pthread_rwlock_rdlock(&rw);

	add(&readers_in, 1);
	if (wait_ge(&readers_in, 3))
		add(&readers_all, 1);
	wait_ge(&readers_release, 1);
	pthread_rwlock_unlock(&rw);
	return (void *)(intptr_t)r;
}

static void *try_rd(void *arg)
{
	int r = pthread_rwlock_tryrdlock(arg);

	if (r == 0)
		pthread_rwlock_unlock(arg);
	return (void *)(intptr_t)r;
}

static void *try_wr(void *arg)
{
	int r = pthread_rwlock_trywrlock(arg);

	if (r == 0)
		pthread_rwlock_unlock(arg);
	return (void *)(intptr_t)r;
}

static void *timed_rd(void *arg)
{
	struct timespec ts = deadline(CLOCK_REALTIME, 20 * MS);
	int r = pthread_rwlock_timedrdlock(arg, &ts);

	if (r == 0)
		pthread_rwlock_unlock(arg);
	return (void *)(intptr_t)r;
}

static void *timed_wr(void *arg)
{
	struct timespec ts = deadline(CLOCK_MONOTONIC, 20 * MS);
	int r = pthread_rwlock_clockwrlock(arg, CLOCK_MONOTONIC, &ts);

	if (r == 0)
		pthread_rwlock_unlock(arg);
	return (void *)(intptr_t)r;
}

static long rw_value;
static int rw_odd_seen;

static void *rw_writer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20000; i++) {
		pthread_rwlock_wrlock(&rw);
		rw_value++;
		__asm__ volatile("" ::: "memory");
		rw_value++;
		pthread_rwlock_unlock(&rw);
	}
	return NULL;
}

static void *rw_reader(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20000; i++) {
		pthread_rwlock_rdlock(&rw);
		if (*(volatile long *)&rw_value % 2)
			add(&rw_odd_seen, 1);
		pthread_rwlock_unlock(&rw);
	}
	return NULL;
}

static void test_rwlocks(void)
{
	pthread_t t[4];
	void *ret;

	puts("-- rwlock readers");
	PT(pthread_rwlock_init(&rw, NULL));
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, reader, NULL);
	SHOW(wait_ge(&readers_in, 3));
	printf("trywrlock with readers in = %s\n", ename(pthread_rwlock_trywrlock(&rw)));
	printf("tryrdlock with readers in = %s\n", ename(pthread_rwlock_tryrdlock(&rw)));
	PT(pthread_rwlock_unlock(&rw));
	store(&readers_release, 1);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], &ret);
		printf("reader %d rdlock = %s\n", i, ename((int)(intptr_t)ret));
	}
	printf("readers that saw all three inside = %d\n", readers_all);

	puts("-- rwlock writer");
	PT(pthread_rwlock_wrlock(&rw));
	printf("tryrdlock from another thread = %s\n", ename(in_thread(try_rd, &rw)));
	printf("trywrlock from another thread = %s\n", ename(in_thread(try_wr, &rw)));
	printf("timedrdlock from another thread = %s\n", ename(in_thread(timed_rd, &rw)));
	printf("clockwrlock from another thread = %s\n", ename(in_thread(timed_wr, &rw)));
	PT(pthread_rwlock_rdlock(&rw));
	PT(pthread_rwlock_wrlock(&rw));
	PT(pthread_rwlock_trywrlock(&rw));
	PT(pthread_rwlock_unlock(&rw));
	printf("tryrdlock from another thread = %s\n", ename(in_thread(try_rd, &rw)));
	printf("trywrlock from another thread = %s\n", ename(in_thread(try_wr, &rw)));

	puts("-- rwlock contended");
	pthread_create(&t[0], NULL, rw_writer, NULL);
	pthread_create(&t[1], NULL, rw_writer, NULL);
	pthread_create(&t[2], NULL, rw_reader, NULL);
	pthread_create(&t[3], NULL, rw_reader, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("value = %ld, odd values seen by readers = %d\n", rw_value, rw_odd_seen);
	PT(pthread_rwlock_destroy(&rw));
}

/* ---- cancellation ---- */

static int cancel_started, cancel_sent;
static char cleanup_order[4][8];
static int after_point[4];
static int cancel_pipe[2];
static volatile unsigned long spin_count;

static void cleanup_a(void *arg)
{
	strcat(arg, "A");
}

static void cleanup_b(void *arg)
{
	strcat(arg, "B");
}

static void *cancel_sleeper(void *arg)
{
	(void)arg;
	pthread_cleanup_push(cleanup_a, cleanup_order[0]);
	pthread_cleanup_push(cleanup_b, cleanup_order[0]);
	add(&cancel_started, 1);
	sleep(10);
	after_point[0] = 1;
	pthread_cleanup_pop(0);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *cancel_reader(void *arg)
{
	char c;

	(void)arg;
	pthread_cleanup_push(cleanup_a, cleanup_order[1]);
	add(&cancel_started, 1);
	if (read(cancel_pipe[0], &c, 1) >= 0)
		after_point[1] = 1;
	after_point[1] |= 2;
	pthread_cleanup_pop(0);
	return NULL;
}

static void *cancel_disabled(void *arg)
{
	int old = -1;

	(void)arg;
	pthread_cleanup_push(cleanup_a, cleanup_order[2]);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	add(&cancel_started, 1);
	wait_ge(&cancel_sent, 1);
	msleep(10);
	/* Still running after a cancellation point: bit 1. */
	after_point[2] = 1 | (old == PTHREAD_CANCEL_ENABLE ? 4 : 0);
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	after_point[2] |= 8;
	pthread_testcancel();
	after_point[2] |= 2;
	pthread_cleanup_pop(0);
	return NULL;
}

static void *cancel_async(void *arg)
{
	int old = -1;

	(void)arg;
	pthread_cleanup_push(cleanup_a, cleanup_order[3]);
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old);
	after_point[3] = old == PTHREAD_CANCEL_DEFERRED ? 4 : 0;
	add(&cancel_started, 1);
	for (;;)
		spin_count++;
	pthread_cleanup_pop(0);
	return NULL;
}

static void cancel_one(void *(*fn)(void *), int i, const char *what)
{
	pthread_t t;
	void *ret = NULL;
	int r;

	cancel_started = cancel_sent = 0;
	pthread_create(&t, NULL, fn, NULL);
	wait_ge(&cancel_started, 1);
	msleep(20);
	r = pthread_cancel(t);
	store(&cancel_sent, 1);
	int j = pthread_join(t, &ret);
	printf("%s: cancel = %s, join = %s, canceled %d, cleanup \"%s\", state %d\n",
	       what, ename(r), ename(j), ret == PTHREAD_CANCELED, cleanup_order[i], after_point[i]);
}

static void test_cancel(void)
{
	puts("-- cancel");
	pipe(cancel_pipe);
	cancel_one(cancel_sleeper, 0, "deferred in sleep");
	cancel_one(cancel_reader, 1, "deferred in read");
	cancel_one(cancel_disabled, 2, "disabled then testcancel");
	cancel_one(cancel_async, 3, "asynchronous busy loop");
	SHOW(spin_count > 0);
	close(cancel_pipe[0]);
	close(cancel_pipe[1]);
	PT(pthread_setcancelstate(5, NULL));
	PT(pthread_setcanceltype(5, NULL));
}

/* ---- thread-directed signals, per-thread masks ---- */

static volatile pid_t handler_tid;
static volatile int handler_sig, handler_code, handler_value;
static int handler_count;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	handler_tid = gettid();
	handler_sig = sig;
	handler_code = si->si_code;
	handler_value = si->si_value.sival_int;
	add(&handler_count, 1);
}

static int kill_stop;
static pid_t kill_tids[3];
static int kill_ready;

static void *kill_target(void *arg)
{
	kill_tids[(intptr_t)arg] = gettid();
	add(&kill_ready, 1);
	while (!load(&kill_stop))
		msleep(1);
	return NULL;
}

static pid_t mask_tid[2];
static int mask_ready, mask_phase;
static int mask_result[2][4];

/* Thread 0 (A) keeps SIGUSR2 blocked, thread 1 (B) unblocks it. */
static void *mask_thread(void *arg)
{
	int i = (intptr_t)arg;
	sigset_t cur, set;

	mask_tid[i] = gettid();
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	mask_result[i][0] = sigismember(&cur, SIGUSR2);
	add(&mask_ready, 1);
	if (i == 1) {
		wait_ge(&mask_phase, 1);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		/* The pending process signal was delivered on unblocking. */
		mask_result[i][1] = load(&handler_count);
		wait_ge(&mask_phase, 2);
	} else {
		wait_ge(&mask_phase, 2);
		pthread_sigmask(SIG_BLOCK, NULL, &cur);
		mask_result[i][1] = sigismember(&cur, SIGUSR2);
		/* tgkill'd to this thread while blocked: pending here. */
		sigpending(&set);
		mask_result[i][2] = sigismember(&set, SIGUSR2);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		mask_result[i][3] = sigtimedwait(&set, NULL, &(struct timespec){ 0, 0 });
	}
	return NULL;
}

static void test_signals(void)
{
	struct sigaction sa = { 0 };
	pthread_t t[3];
	sigset_t set, pend;
	int before;

	puts("-- pthread_kill");
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	for (intptr_t i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, kill_target, (void *)i);
	wait_ge(&kill_ready, 3);
	for (int k = 0; k < 6; k++) {
		int i = (k * 2) % 3, r;

		before = load(&handler_count);
		if (k < 3) {
			r = pthread_kill(t[i], SIGUSR1);
		} else {
			r = pthread_sigqueue(t[i], SIGUSR1, (union sigval){ .sival_int = 100 + k });
		}
		int got = wait_ge(&handler_count, before + 1);
		printf("%s thread %d = %s: handled %d, in that thread %d, sig %d, code %s, value %d\n",
		       k < 3 ? "pthread_kill" : "pthread_sigqueue", i, ename(r), got,
		       handler_tid == kill_tids[i], handler_sig,
		       handler_code == SI_TKILL ? "SI_TKILL" : handler_code == SI_QUEUE ? "SI_QUEUE" : "other",
		       k < 3 ? 0 : handler_value);
	}
	PT(pthread_kill(t[0], 0));
	PT(pthread_kill(t[0], 1000));
	before = load(&handler_count);
	PT(pthread_kill(pthread_self(), SIGUSR1));
	SHOW(load(&handler_count) == before + 1);
	SHOW(handler_tid == gettid());
	store(&kill_stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);

	puts("-- per-thread sigmask");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	handler_count = 0;
	handler_tid = 0;
	for (intptr_t i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, mask_thread, (void *)i);
	wait_ge(&mask_ready, 2);
	SYS(kill, getpid(), SIGUSR2);
	sigpending(&pend);
	SHOW(sigismember(&pend, SIGUSR2));
	msleep(20);
	printf("handled while blocked everywhere = %d\n", load(&handler_count));
	store(&mask_phase, 1);
	SHOW(wait_ge(&handler_count, 1));
	SHOW(handler_tid == mask_tid[1]);
	SHOW(handler_sig == SIGUSR2);
	SHOW(handler_code == SI_USER);
	sigpending(&pend);
	SHOW(sigismember(&pend, SIGUSR2));
	/* Thread-directed to A, which blocks it: pending for A only. */
	SHOW(syscall(SYS_tgkill, getpid(), mask_tid[0], SIGUSR2) == 0);
	sigpending(&pend);
	SHOW(sigismember(&pend, SIGUSR2));
	store(&mask_phase, 2);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("A: inherited blocked %d, still blocked %d, pending %d, sigtimedwait %d\n",
	       mask_result[0][0], mask_result[0][1], mask_result[0][2], mask_result[0][3]);
	printf("B: inherited blocked %d, handled after unblock %d\n", mask_result[1][0], mask_result[1][1]);
	printf("handled in total = %d\n", load(&handler_count));
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
}

/* ---- many threads ---- */

#define MANY 1000
#define BATCH 100

static pthread_barrier_t many_bar;
static pid_t many_tid[MANY];
static int many_ran;

static void *many_thread(void *arg)
{
	intptr_t i = (intptr_t)arg;

	many_tid[i] = gettid();
	add(&many_ran, 1);
	pthread_barrier_wait(&many_bar);
	return (void *)(i * 7 + 3);
}

static void test_many(void)
{
	static pthread_t t[MANY];
	pthread_attr_t attr;
	int created = 0, joined = 0, results_ok = 1, distinct = 1;
	size_t stack;

	puts("-- 1000 threads");
	pthread_attr_init(&attr);
	PT(pthread_attr_setstacksize(&attr, 64 * 1024));
	pthread_attr_getstacksize(&attr, &stack);
	SHOW(stack == 64 * 1024);
	PT(pthread_attr_setstacksize(&attr, 100));
	for (int b = 0; b < MANY; b += BATCH) {
		pthread_barrier_init(&many_bar, NULL, BATCH + 1);
		for (intptr_t i = b; i < b + BATCH; i++)
			if (pthread_create(&t[i], &attr, many_thread, (void *)i) == 0)
				created++;
		/* All of the batch are alive here. */
		pthread_barrier_wait(&many_bar);
		for (int i = b; i < b + BATCH; i++) {
			void *ret = NULL;

			if (pthread_join(t[i], &ret) == 0)
				joined++;
			if ((intptr_t)ret != i * 7 + 3)
				results_ok = 0;
			for (int j = b; j < i; j++)
				if (many_tid[j] == many_tid[i])
					distinct = 0;
		}
		pthread_barrier_destroy(&many_bar);
	}
	pthread_attr_destroy(&attr);
	printf("created %d, ran %d, joined %d, results ok %d, tids distinct per batch %d\n",
	       created, many_ran, joined, results_ok, distinct);
}

/* ---- exit from a thread, in forked children ---- */

static pthread_t child_main;

static void *exit_after(void *arg)
{
	msleep(20);
	exit((int)(intptr_t)arg);
}

static void *exit_group_after(void *arg)
{
	msleep(20);
	syscall(SYS_exit_group, (int)(intptr_t)arg);
	return NULL;
}

static void *return_after(void *arg)
{
	msleep(20);
	return arg;
}

static void *kill_main_after(void *arg)
{
	msleep(20);
	pthread_kill(child_main, (int)(intptr_t)arg);
	msleep(2000);
	return NULL;
}

static void run_child(int mode, const char *what)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		pthread_t t;

		alarm(10);
		child_main = pthread_self();
		switch (mode) {
		case 0:	/* exit(3) from a thread while main is in join */
			pthread_create(&t, NULL, exit_after, (void *)3L);
			pthread_join(t, NULL);
			break;
		case 1: /* main pthread_exits, the last thread returns: 0 */
			pthread_create(&t, NULL, return_after, (void *)9L);
			pthread_exit(NULL);
			break;
		case 2: /* main pthread_exits, the other thread exit(5)s */
			pthread_create(&t, NULL, exit_after, (void *)5L);
			pthread_exit(NULL);
			break;
		case 3: /* exit_group(6) from a thread while main sleeps */
			pthread_create(&t, NULL, exit_group_after, (void *)6L);
			sleep(5);
			break;
		case 4: /* SIGTERM (default action) to main kills all */
			pthread_create(&t, NULL, kill_main_after, (void *)SIGTERM);
			pthread_join(t, NULL);
			break;
		}
		_exit(99);
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status))
		printf("%s: exited %d\n", what, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("%s: killed by %s\n", what, sigabbrev_np(WTERMSIG(status)));
	else
		printf("%s: status 0x%x\n", what, status);
}

static void test_exit(void)
{
	puts("-- exit from threads");
	run_child(0, "exit(3) in a thread");
	run_child(1, "main pthread_exit, last thread returns");
	run_child(2, "main pthread_exit, thread exit(5)");
	run_child(3, "exit_group(6) in a thread");
	run_child(4, "SIGTERM to the main thread");
}

/* ---- priority inheritance (FUTEX_LOCK_PI) ---- */

static void test_pi(void)
{
	pthread_mutexattr_t a;
	pthread_mutex_t m;
	int proto = -1;

	puts("-- PI mutex");
	pthread_mutexattr_init(&a);
	PT(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT));
	pthread_mutexattr_getprotocol(&a, &proto);
	SHOW(proto == PTHREAD_PRIO_INHERIT);
	PT(pthread_mutexattr_setprotocol(&a, 1000));
	if (PT(pthread_mutex_init(&m, &a)) != 0)
		return;
	PT(pthread_mutex_lock(&m));
	printf("trylock from another thread = %s\n", ename(in_thread(trylock_other, &m)));
	PT(pthread_mutex_unlock(&m));
	printf("trylock from another thread = %s\n", ename(in_thread(trylock_other, &m)));
	PT(pthread_mutex_trylock(&m));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_destroy(&m));

	puts("-- PI mutex errorcheck");
	PT(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK));
	PT(pthread_mutex_init(&m, &a));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_lock(&m));
	printf("unlock from another thread = %s\n", ename(in_thread(unlock_other, &m)));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_destroy(&m));

	puts("-- PI mutex recursive");
	PT(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE));
	PT(pthread_mutex_init(&m, &a));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_unlock(&m));
	printf("trylock from another thread = %s\n", ename(in_thread(trylock_other, &m)));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_destroy(&m));

	puts("-- PI mutex contended");
	PT(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_NORMAL));
	PT(pthread_mutex_init(&m, &a));
	count_in_threads(&m, 4, 20000);
	held_mutex = &m;
	PT(pthread_mutex_lock(&m));
	{
		struct timespec ts = deadline(CLOCK_REALTIME, 20 * MS);

		printf("timedlock from another thread = %s\n", ename(in_thread(timedlock_other, &ts)));
	}
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_destroy(&m));
	pthread_mutexattr_destroy(&a);
}

int main(void)
{
	alarm(20);
	test_create_join();
	test_mutexes();
	test_timedlock();
	test_condvars();
	test_barriers();
	test_rwlocks();
	test_cancel();
	test_signals();
	test_many();
	test_exit();
	test_pi();
	puts("done");
	return 0;
}
