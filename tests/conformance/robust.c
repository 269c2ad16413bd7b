/*
 * robust.c: robust futexes. glibc's robust mutexes (the next locker gets
 * EOWNERDEAD when a thread or a process dies holding one), the robust list
 * glibc registers for every thread (get_robust_list), and the kernel's
 * handling of a hand-made list at thread exit: FUTEX_OWNER_DIED set in the
 * words the dead thread owned, a waiter woken. Priority-inheritance robust
 * mutexes (FUTEX_LOCK_PI) come last.
 */
#include "common.h"
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000L

static const char *ename(int e)
{
	const char *n;

	if (e == 0)
		return "0";
	n = strerrorname_np(e);
	return n ? n : "unknown";
}
#define PT(expr) ({ int e_ = (expr); printf("%s = %s\n", #expr, ename(e_)); e_; })

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

static int wait_ge(int *p, int v)
{
	for (int i = 0; i < 5000 && load(p) < v; i++)
		msleep(1);
	return load(p) >= v;
}

/* ---- threads dying with glibc robust mutexes ---- */

static void *lock_and_return(void *arg)
{
	return (void *)(intptr_t)pthread_mutex_lock(arg);
}

static void *try_other(void *arg)
{
	int r = pthread_mutex_trylock(arg);

	if (r == 0 || r == EOWNERDEAD)
		pthread_mutex_unlock(arg);
	return (void *)(intptr_t)r;
}

static int in_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	void *ret = (void *)-1L;

	pthread_create(&t, NULL, fn, arg);
	pthread_join(t, &ret);
	return (int)(intptr_t)ret;
}

/* A locker that blocks while the owner is still alive. */
static int blocked_started;

static void *blocked_locker(void *arg)
{
	store(&blocked_started, 1);
	int r = pthread_mutex_lock(arg);

	if (r == EOWNERDEAD) {
		pthread_mutex_consistent(arg);
		pthread_mutex_unlock(arg);
	}
	return (void *)(intptr_t)r;
}

static int owner_release, owner_locked;

static void *lock_wait_return(void *arg)
{
	int r = pthread_mutex_lock(arg);

	store(&owner_locked, 1);
	wait_ge(&owner_release, 1);
	return (void *)(intptr_t)r;
}

static void test_threads(void)
{
	pthread_mutexattr_t a;
	pthread_mutex_t m, plain;
	pthread_t owner, waiter;
	void *ret;
	int robust = -1;

	puts("-- robust mutex, owner thread exits");
	pthread_mutexattr_init(&a);
	pthread_mutexattr_getrobust(&a, &robust);
	SHOW(robust == PTHREAD_MUTEX_STALLED);
	PT(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST));
	pthread_mutexattr_getrobust(&a, &robust);
	SHOW(robust == PTHREAD_MUTEX_ROBUST);
	PT(pthread_mutexattr_setrobust(&a, 5));
	PT(pthread_mutex_init(&m, &a));
	PT(pthread_mutex_consistent(&m));
	printf("owner thread lock = %s\n", ename(in_thread(lock_and_return, &m)));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_consistent(&m));
	PT(pthread_mutex_consistent(&m));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_unlock(&m));
	printf("trylock from another thread = %s\n", ename(in_thread(try_other, &m)));

	/* trylock sees it too; unlocking without consistent: unrecoverable. */
	printf("owner thread lock = %s\n", ename(in_thread(lock_and_return, &m)));
	PT(pthread_mutex_trylock(&m));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_trylock(&m));
	PT(pthread_mutex_consistent(&m));
	PT(pthread_mutex_destroy(&m));

	/* A locker blocked in the kernel is woken by the owner's death. */
	puts("-- robust mutex, waiter blocked when the owner exits");
	PT(pthread_mutex_init(&m, &a));
	owner_release = owner_locked = 0;
	blocked_started = 0;
	pthread_create(&owner, NULL, lock_wait_return, &m);
	wait_ge(&owner_locked, 1);
	pthread_create(&waiter, NULL, blocked_locker, &m);
	wait_ge(&blocked_started, 1);
	msleep(50);
	store(&owner_release, 1);
	pthread_join(owner, &ret);
	printf("owner lock = %s\n", ename((int)(intptr_t)ret));
	pthread_join(waiter, &ret);
	printf("blocked locker = %s\n", ename((int)(intptr_t)ret));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_destroy(&m));

	puts("-- robust errorcheck mutex");
	PT(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK));
	PT(pthread_mutex_init(&m, &a));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_unlock(&m));
	printf("owner thread lock = %s\n", ename(in_thread(lock_and_return, &m)));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_consistent(&m));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_destroy(&m));

	puts("-- robust recursive mutex");
	PT(pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE));
	PT(pthread_mutex_init(&m, &a));
	printf("owner thread lock = %s\n", ename(in_thread(lock_and_return, &m)));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_consistent(&m));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_destroy(&m));
	pthread_mutexattr_destroy(&a);

	/* A stalled (non-robust) mutex stays locked: trylock says EBUSY. */
	puts("-- stalled mutex, owner thread exits");
	pthread_mutex_init(&plain, NULL);
	printf("owner thread lock = %s\n", ename(in_thread(lock_and_return, &plain)));
	PT(pthread_mutex_trylock(&plain));
	PT(pthread_mutex_consistent(&plain));
}

/* ---- processes dying with a process-shared robust mutex ---- */

struct shared {
	pthread_mutex_t m;
	int child_locked, parent_waiting;
};

static void child_case(struct shared *sh, int mode, const char *what)
{
	int status = 0, r;
	pid_t pid;

	sh->child_locked = sh->parent_waiting = 0;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(10);
		if (pthread_mutex_lock(&sh->m) != 0)
			_exit(1);
		store(&sh->child_locked, 1);
		if (mode == 1) {
			/* Die while the parent is blocked in lock. */
			wait_ge(&sh->parent_waiting, 1);
			msleep(50);
		}
		if (mode == 2)
			kill(getpid(), SIGKILL);
		_exit(0);
	}
	wait_ge(&sh->child_locked, 1);
	if (mode == 0)
		waitpid(pid, &status, 0);
	store(&sh->parent_waiting, 1);
	r = pthread_mutex_lock(&sh->m);
	printf("%s: lock = %s", what, ename(r));
	if (r == EOWNERDEAD)
		printf(", consistent = %s", ename(pthread_mutex_consistent(&sh->m)));
	printf(", unlock = %s\n", ename(pthread_mutex_unlock(&sh->m)));
	if (mode != 0)
		waitpid(pid, &status, 0);
	printf("  child %s\n", WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) : "exited");
}

static void test_processes(void)
{
	struct shared *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_t a;
	int pshared = -1;

	puts("-- process-shared robust mutex, owner process dies");
	pthread_mutexattr_init(&a);
	pthread_mutexattr_getpshared(&a, &pshared);
	SHOW(pshared == PTHREAD_PROCESS_PRIVATE);
	PT(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED));
	pthread_mutexattr_getpshared(&a, &pshared);
	SHOW(pshared == PTHREAD_PROCESS_SHARED);
	PT(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST));
	PT(pthread_mutex_init(&sh->m, &a));
	pthread_mutexattr_destroy(&a);
	child_case(sh, 0, "child exited holding it");
	child_case(sh, 1, "child exited while the parent waits");
	child_case(sh, 2, "child killed holding it");
	PT(pthread_mutex_lock(&sh->m));
	PT(pthread_mutex_unlock(&sh->m));
	PT(pthread_mutex_destroy(&sh->m));
	munmap(sh, 4096);
}

/* ---- the raw system calls ---- */

struct entry {
	struct robust_list list;
	int word;
};

static struct robust_list_head *thread_head;
static long thread_len;
static pid_t thread_tid;
static int thread_ready, thread_done;
static int head_relations[4];

static void *report_head(void *arg)
{
	struct robust_list_head *head = NULL;
	size_t len = 0;
	pthread_mutex_t *m = arg;

	thread_tid = gettid();
	syscall(SYS_get_robust_list, 0, &head, &len);
	thread_head = head;
	thread_len = len;
	/* glibc's head lives in the thread descriptor, at the thread pointer. */
	head_relations[0] = (char *)head > (char *)pthread_self() &&
			    (char *)head < (char *)pthread_self() + 4096;
	head_relations[1] = head->list.next == &head->list;
	pthread_mutex_lock(m);
	head_relations[2] = (void *)head->list.next == (void *)&m->__data.__list.__next &&
			    head->list_op_pending == NULL;
	pthread_mutex_unlock(m);
	head_relations[3] = head->list.next == &head->list;
	store(&thread_ready, 1);
	wait_ge(&thread_done, 1);
	return NULL;
}

/* A hand-made robust list: what the kernel does with it at exit. */
static struct robust_list_head my_head;
static struct entry owned, pending, foreign, contended;
static int my_ready, my_exit, my_waiting;
static long my_set_result;

static void *custom_list_owner(void *arg)
{
	int tid = gettid();

	(void)arg;
	owned.word = tid;
	pending.word = tid;
	foreign.word = (tid + 1) & FUTEX_TID_MASK;
	contended.word = tid | FUTEX_WAITERS;
	owned.list.next = &foreign.list;
	foreign.list.next = &contended.list;
	contended.list.next = &my_head.list;
	my_head.list.next = &owned.list;
	my_head.futex_offset = offsetof(struct entry, word) - offsetof(struct entry, list);
	my_head.list_op_pending = &pending.list;
	my_set_result = syscall(SYS_set_robust_list, &my_head, sizeof(my_head));
	store(&my_ready, 1);
	wait_ge(&my_exit, 1);
	/* Exit at once, so glibc cannot touch the robust list. */
	syscall(SYS_exit, 0);
	return NULL;
}

static long contended_wait_result;
static int contended_wait_errno;

static void *contended_waiter(void *arg)
{
	int v = load(&contended.word);

	(void)arg;
	store(&my_waiting, 1);
	errno = 0;
	struct timespec ts = { 3, 0 };

	contended_wait_result = syscall(SYS_futex, &contended.word, FUTEX_WAIT, v, &ts, NULL, 0);
	contended_wait_errno = errno;
	return NULL;
}

static void test_syscalls(void)
{
	struct robust_list_head *head = NULL, *head2 = NULL, mine;
	size_t len = 0, len2 = 0;
	pthread_mutex_t m;
	pthread_mutexattr_t a;
	pthread_t t, w;
	int foreign_before;

	puts("-- get_robust_list");
	SYS(get_robust_list, 0, &head, &len);
	SHOW(head != NULL);
	SHOW(len == sizeof(struct robust_list_head));
	SHOW((char *)head > (char *)pthread_self() && (char *)head < (char *)pthread_self() + 4096);
	SHOW(head->list.next == &head->list);
	SHOW(head->futex_offset == (long)offsetof(pthread_mutex_t, __data.__lock) -
		(long)offsetof(pthread_mutex_t, __data.__list.__next));
	SHOW(head->list_op_pending == NULL);
	SYS(get_robust_list, getpid(), &head2, &len2);
	SHOW(head2 == head && len2 == len);
	SYS(get_robust_list, INT_MAX, &head2, &len2);
	SYS(get_robust_list, -1, &head2, &len2);
	SYS(get_robust_list, 0, NULL, &len2);
	SYS(get_robust_list, 0, &head2, NULL);
	SYS(get_robust_list, 0, BAD_PTR, &len2);

	/* Another thread's head, by tid: its own, and the list it keeps. */
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&m, &a);
	pthread_mutexattr_destroy(&a);
	pthread_create(&t, NULL, report_head, &m);
	wait_ge(&thread_ready, 1);
	SYS(get_robust_list, thread_tid, &head2, &len2);
	SHOW(head2 == thread_head && len2 == (size_t)thread_len);
	SHOW(head2 != head);
	printf("thread: head in its descriptor %d, empty %d, mutex listed while locked %d, empty again %d\n",
	       head_relations[0], head_relations[1], head_relations[2], head_relations[3]);
	store(&thread_done, 1);
	pthread_join(t, NULL);

	/* A robust mutex the main thread holds is on its list. */
	pthread_mutex_lock(&m);
	SHOW((void *)head->list.next == (void *)&m.__data.__list.__next);
	pthread_mutex_unlock(&m);
	SHOW(head->list.next == &head->list);

	puts("-- set_robust_list");
	SYS(set_robust_list, &mine, sizeof(mine) - 1);
	SYS(set_robust_list, &mine, sizeof(mine) + 8);
	SYS(set_robust_list, &mine, 0);
	SYS(set_robust_list, &mine, sizeof(mine));
	SYS(get_robust_list, 0, &head2, &len2);
	SHOW(head2 == &mine);
	SYS(set_robust_list, NULL, sizeof(mine));
	SYS(get_robust_list, 0, &head2, &len2);
	SHOW(head2 == NULL);
	SYS(set_robust_list, head, len);
	SYS(get_robust_list, 0, &head2, &len2);
	SHOW(head2 == head);

	puts("-- a hand-made list at thread exit");
	pthread_create(&t, NULL, custom_list_owner, NULL);
	wait_ge(&my_ready, 1);
	printf("set_robust_list in the thread = %ld\n", my_set_result);
	foreign_before = foreign.word;
	pthread_create(&w, NULL, contended_waiter, NULL);
	wait_ge(&my_waiting, 1);
	msleep(50);
	store(&my_exit, 1);
	pthread_join(w, NULL);
	pthread_join(t, NULL);
	printf("owned word = 0x%x\n", owned.word);
	printf("pending word = 0x%x\n", pending.word);
	SHOW(foreign.word == foreign_before);
	printf("contended word = 0x%x\n", contended.word);
	check_print("contended waiter", contended_wait_result, contended_wait_errno);
}

/* ---- priority inheritance (FUTEX_LOCK_PI), last ---- */

static void test_pi(void)
{
	pthread_mutexattr_t a;
	pthread_mutex_t m;

	puts("-- robust PI mutex, owner thread exits");
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	PT(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT));
	if (PT(pthread_mutex_init(&m, &a)) != 0)
		return;
	printf("owner thread lock = %s\n", ename(in_thread(lock_and_return, &m)));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_consistent(&m));
	PT(pthread_mutex_unlock(&m));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_unlock(&m));
	printf("owner thread lock = %s\n", ename(in_thread(lock_and_return, &m)));
	printf("trylock from another thread = %s\n", ename(in_thread(try_other, &m)));
	PT(pthread_mutex_lock(&m));
	PT(pthread_mutex_destroy(&m));
	pthread_mutexattr_destroy(&a);
}

int main(void)
{
	alarm(20);
	test_threads();
	test_processes();
	test_syscalls();
	test_pi();
	puts("done");
	return 0;
}
