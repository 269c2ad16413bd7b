/*
 * sysv_sem.c: System V semaphores: semget(2) (nsems limits, a key with
 * IPC_CREAT and IPC_EXCL), semctl(2) (SETVAL, GETVAL, SETALL, GETALL,
 * GETPID, GETNCNT, GETZCNT, IPC_STAT, IPC_SET, IPC_RMID, IPC_INFO,
 * SEM_INFO, SEM_STAT, ERANGE past SEMVMX), semop(2) and semtimedop(2)
 * (increments, decrements, waiting for zero, IPC_NOWAIT, timeouts, several
 * operations applied all or none, E2BIG, EFBIG, ERANGE), waiters woken by
 * another process, SEM_UNDO applied when a child exits, IPC_RMID while a
 * child waits (EIDRM), and a signal interrupting a wait (EINTR, with or
 * without SA_RESTART).
 *
 * Waiting children are known to be asleep through GETNCNT and GETZCNT, so
 * nothing depends on timing. Children report through a shared page and
 * only the parent prints (or a child prints while the parent waits for it).
 *
 * The natively run program shares the host's IPC namespace: every set is
 * made with IPC_PRIVATE or with IPC_CREAT | IPC_EXCL on a random key, and
 * removed by the parent before exit (atexit, and a SIGALRM handler if it
 * hangs). Ids, keys and pids are never printed, only relations.
 */
#include "common.h"
#include <signal.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <time.h>

#define SEMVMX 32767

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

/* ---- cleanup: the sets this process made ---- */

static int made[32];
static int nmade;
static pid_t parent;

static int track(int id)
{
	if (id >= 0 && nmade < (int)(sizeof(made) / sizeof(made[0])))
		made[nmade++] = id;
	return id;
}

/* Removed here (or by a test on purpose): cleanup leaves it alone. */
static int rmid(int id)
{
	for (int i = 0; i < nmade; i++)
		if (made[i] == id)
			made[i] = -1;
	return syscall(SYS_semctl, id, 0, IPC_RMID, 0);
}

static void cleanup(void)
{
	if (getpid() != parent)
		return;
	for (int i = 0; i < nmade; i++)
		if (made[i] >= 0)
			syscall(SYS_semctl, made[i], 0, IPC_RMID, 0);
	nmade = 0;
}

static void on_alarm(int sig)
{
	(void)sig;
	cleanup();
	_exit(99);
}

static int new_set(int nsems)
{
	return track(syscall(SYS_semget, IPC_PRIVATE, nsems, IPC_CREAT | 0600));
}

static long ctl(int id, int num, int cmd, long arg)
{
	return syscall(SYS_semctl, id, num, cmd, arg);
}

/* One operation, not printed; returns the result, errno set. */
static long op1(int id, int num, int op, int flg)
{
	struct sembuf sb = { .sem_num = num, .sem_op = op, .sem_flg = flg };

	errno = 0;
	return syscall(SYS_semop, id, &sb, 1);
}

static void msleep(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) == -1 && errno == EINTR)
		;
}

/* Wait (at most 5 s) until GETNCNT or GETZCNT of semaphore num is n. */
static int wait_count(int id, int num, int cmd, int n)
{
	for (int i = 0; i < 5000; i++) {
		long c = ctl(id, num, cmd, 0);

		if (c == n)
			return 1;
		if (c < 0)
			return 0;
		msleep(1);
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* waitpid that a signal does not cut short; returns the status. */
static int reap(pid_t pid)
{
	int st = 0;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

static void show_status(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: signal %d\n", what, WTERMSIG(st));
	else
		printf("%s: status 0x%x\n", what, st);
}

static void show_all(int id, int n)
{
	unsigned short v[8] = { 0 };

	ctl(id, 0, GETALL, (long)v);
	printf("  values:");
	for (int i = 0; i < n; i++)
		printf(" %u", v[i]);
	printf("\n");
}

/* Results of a child, in a shared page. */
struct result {
	long ret;
	int err;
	int saw;
};

static struct result *res;

static void show_result(const char *what, const struct result *r)
{
	printf("%s", what);
	check_print("", r->ret, r->err);
}

/* semop with the operations written out: "semop(id, {{ 0, -1, 0 }}) = 0". */
#define SEMOP(id, ...) ({ struct sembuf ops_[] = { __VA_ARGS__ }; errno = 0; \
	long r_ = syscall(SYS_semop, id, ops_, sizeof(ops_) / sizeof(ops_[0])); \
	check_print("semop(" #id ", {" #__VA_ARGS__ "})", r_, errno); })

static int semmsl = 32000, semopm = 500;

static void test_semget(void)
{
	struct seminfo si;
	int id;

	puts("-- semget");
	memset(&si, 0, sizeof(si));
	if (ctl(0, 0, IPC_INFO, (long)&si) >= 0) {
		semmsl = si.semmsl;
		semopm = si.semopm;
	}
	id = track(SYS_OK(semget, IPC_PRIVATE, 1, IPC_CREAT | 0600));
	SHOW(id >= 0);
	SYS(semget, IPC_PRIVATE, 0, IPC_CREAT | 0600);
	SYS(semget, IPC_PRIVATE, -1, IPC_CREAT | 0600);
	SYS(semget, IPC_PRIVATE, semmsl + 1, IPC_CREAT | 0600);
	SYS(semget, IPC_PRIVATE, 1 << 30, IPC_CREAT | 0600);
	/* IPC_PRIVATE makes a new set, with or without IPC_CREAT. */
	{
		int a = track(SYS_OK(semget, IPC_PRIVATE, 2, 0600));
		int b = track(SYS_OK(semget, IPC_PRIVATE, 2, IPC_CREAT | IPC_EXCL | 0600));

		SHOW(a >= 0 && b >= 0 && a != b && a != id && b != id);
		SYS(semctl, a, 0, IPC_RMID, 0);
		rmid(a);
		SYS(semctl, b, 0, IPC_RMID, 0);
		rmid(b);
	}
	SYS(semctl, id, 0, IPC_RMID, 0);
	rmid(id);
	SYS(semctl, id, 0, IPC_RMID, 0);
	SYS(semctl, id, 0, GETVAL, 0);
	SYS(semctl, -1, 0, GETVAL, 0);
}

static void test_keyed(void)
{
	key_t key = IPC_PRIVATE;
	int id = -1, again;

	puts("-- semget with a key");
	for (int i = 0; i < 100 && id < 0; i++) {
		unsigned int r = 0;

		syscall(SYS_getrandom, &r, sizeof(r), 0);
		key = (key_t)(r & 0x7fffffff);
		if (key == IPC_PRIVATE)
			continue;
		id = track(syscall(SYS_semget, key, 3, IPC_CREAT | IPC_EXCL | 0600));
		if (id < 0 && errno != EEXIST)
			break;
	}
	SHOW(id >= 0);
	SYS(semget, key, 3, IPC_CREAT | IPC_EXCL | 0600);
	again = SYS_OK(semget, key, 3, 0);
	SHOW(again == id);
	again = SYS_OK(semget, key, 0, 0);
	SHOW(again == id);
	again = SYS_OK(semget, key, 2, IPC_CREAT | 0600);
	SHOW(again == id);
	SYS(semget, key, 4, 0);
	SYS(semget, key, 4, IPC_CREAT | 0600);
	{
		struct semid_ds ds;

		SYS(semctl, id, 0, IPC_STAT, &ds);
		SHOW(ds.sem_perm.__key == key);
		printf("  sem_nsems %lu\n", (unsigned long)ds.sem_nsems);
	}
	SYS(semctl, id, 0, IPC_RMID, 0);
	rmid(id);
	SYS(semget, key, 0, 0);
	SYS(semget, key, 3, 0600);
}

static void test_values(void)
{
	int id = new_set(3);
	unsigned short v[3] = { 1, 2, 3 }, big[3] = { 4, SEMVMX + 1, 6 }, out[3];

	puts("-- SETVAL, GETVAL, SETALL, GETALL");
	show_all(id, 3);
	SYS(semctl, id, 0, GETVAL, 0);
	SYS(semctl, id, 0, SETVAL, 5);
	SYS(semctl, id, 0, GETVAL, 0);
	SYS(semctl, id, 2, SETVAL, SEMVMX);
	SYS(semctl, id, 2, GETVAL, 0);
	SYS(semctl, id, 1, SETVAL, SEMVMX + 1);
	SYS(semctl, id, 1, SETVAL, -1);
	SYS(semctl, id, 1, GETVAL, 0);
	SYS(semctl, id, 3, GETVAL, 0);
	SYS(semctl, id, -1, GETVAL, 0);
	SYS(semctl, id, 3, SETVAL, 1);
	show_all(id, 3);
	SYS(semctl, id, 0, SETALL, v);
	memset(out, 0xff, sizeof(out));
	SYS(semctl, id, 0, GETALL, out);
	printf("  GETALL: %u %u %u\n", out[0], out[1], out[2]);
	SYS(semctl, id, 0, SETALL, big);
	show_all(id, 3);
	/* semnum is ignored by GETALL and SETALL. */
	SYS(semctl, id, 7, GETALL, out);
	SYS(semctl, id, 0, GETALL, BAD_PTR);
	SYS(semctl, id, 0, SETALL, BAD_PTR);
	SYS(semctl, id, 0, SETALL, NULL);
	SYS(semctl, id, 0, 99, 0);
	show_all(id, 3);
	SYS(semctl, id, 0, IPC_RMID, 0);
	rmid(id);
}

static void test_stat(void)
{
	int id = new_set(2);
	struct semid_ds ds;
	struct seminfo si;
	long r;

	puts("-- IPC_STAT and IPC_SET");
	memset(&ds, 0xff, sizeof(ds));
	SYS(semctl, id, 0, IPC_STAT, &ds);
	printf("nsems %lu, mode 0%o\n", (unsigned long)ds.sem_nsems, ds.sem_perm.mode & 07777);
	SHOW(ds.sem_perm.__key == IPC_PRIVATE);
	SHOW(ds.sem_perm.uid == geteuid() && ds.sem_perm.cuid == geteuid());
	SHOW(ds.sem_perm.gid == getegid() && ds.sem_perm.cgid == getegid());
	SHOW(ds.sem_otime == 0 && ds.sem_ctime != 0);
	/* semnum is ignored. */
	SYS(semctl, id, 5, IPC_STAT, &ds);
	op1(id, 0, 1, 0);
	SYS(semctl, id, 0, IPC_STAT, &ds);
	SHOW(ds.sem_otime != 0);
	ds.sem_perm.mode = 0640;
	SYS(semctl, id, 0, IPC_SET, &ds);
	SYS(semctl, id, 0, IPC_STAT, &ds);
	printf("mode 0%o\n", ds.sem_perm.mode & 07777);
	ds.sem_perm.mode = 07777;
	ds.sem_nsems = 9;
	SYS(semctl, id, 0, IPC_SET, &ds);
	SYS(semctl, id, 0, IPC_STAT, &ds);
	printf("nsems %lu, mode 0%o\n", (unsigned long)ds.sem_nsems, ds.sem_perm.mode & 07777);
	SYS(semctl, id, 0, IPC_STAT, BAD_PTR);
	SYS(semctl, id, 0, IPC_SET, BAD_PTR);

	puts("-- IPC_INFO, SEM_INFO, SEM_STAT");
	memset(&si, 0, sizeof(si));
	r = SYS_OK(semctl, 0, 0, IPC_INFO, &si);
	SHOW(r >= (id & 0x7fff));
	SHOW(si.semvmx == SEMVMX);
	SHOW(si.semmsl >= 1 && si.semopm >= 1 && si.semmni >= 1);
	SHOW(si.semmns >= si.semmsl);
	memset(&si, 0, sizeof(si));
	r = SYS_OK(semctl, 0, 0, SEM_INFO, &si);
	SHOW(r >= (id & 0x7fff));
	SHOW(si.semvmx == SEMVMX);
	/* In-use counts: sets (semusz) and semaphores (semaem). */
	SHOW(si.semusz >= 1 && si.semaem >= 2);
	memset(&ds, 0, sizeof(ds));
	r = SYS_OK(semctl, id & 0x7fff, 0, SEM_STAT, &ds);
	SHOW(r == id);
	printf("nsems %lu, mode 0%o\n", (unsigned long)ds.sem_nsems, ds.sem_perm.mode & 07777);
	r = SYS_OK(semctl, id & 0x7fff, 0, SEM_STAT_ANY, &ds);
	SHOW(r == id);
	SYS(semctl, -1, 0, SEM_STAT, &ds);
	SYS(semctl, 0, 0, IPC_INFO, BAD_PTR);
	SYS(semctl, id, 0, IPC_RMID, 0);
	rmid(id);
}

static void test_semop(void)
{
	int id = new_set(3);
	struct sembuf sb[4];
	struct sembuf *many;

	puts("-- semop");
	SEMOP(id, { 0, 2, 0 });
	SEMOP(id, { 0, -1, 0 });
	SYS(semctl, id, 0, GETVAL, 0);
	SEMOP(id, { 0, -2, IPC_NOWAIT });
	SYS(semctl, id, 0, GETVAL, 0);
	/* Wait for zero. */
	SEMOP(id, { 0, 0, IPC_NOWAIT });
	SEMOP(id, { 1, 0, IPC_NOWAIT });
	SEMOP(id, { 1, 0, 0 });
	/* All or none: the second operation cannot be done. */
	SEMOP(id, { 0, -1, 0 }, { 1, -1, IPC_NOWAIT });
	show_all(id, 3);
	SEMOP(id, { 2, 5, 0 }, { 0, 0, IPC_NOWAIT });
	show_all(id, 3);
	SEMOP(id, { 2, 5, 0 }, { 1, 0, IPC_NOWAIT });
	show_all(id, 3);
	SEMOP(id, { 0, -1, 0 }, { 1, 3, 0 }, { 2, -5, 0 });
	show_all(id, 3);
	/* In order, on one semaphore: down then up blocks, up then down not. */
	SEMOP(id, { 0, -1, IPC_NOWAIT }, { 0, 1, 0 });
	SEMOP(id, { 0, 1, 0 }, { 0, -1, 0 });
	SEMOP(id, { 0, 3, 0 }, { 0, -2, 0 }, { 0, -1, 0 }, { 0, 0, 0 });
	show_all(id, 3);

	puts("-- semop errors");
	sb[0] = (struct sembuf){ 0, 1, 0 };
	SYS(semop, id, sb, 0);
	SYS(semop, id, sb, -1L);
	many = calloc(semopm + 1, sizeof(*many));
	SYS(semop, id, many, semopm + 1);
	SYS(semop, id, many, semopm);
	free(many);
	SEMOP(id, { 3, 1, 0 });
	SEMOP(id, { 0, 1, 0 }, { 100, 1, 0 });
	show_all(id, 3);
	SYS(semop, id, BAD_PTR, 1);
	SYS(semop, -1, sb, 1);
	/* Past SEMVMX. */
	ctl(id, 0, SETVAL, SEMVMX);
	SEMOP(id, { 0, 1, 0 });
	SEMOP(id, { 0, 1, IPC_NOWAIT });
	ctl(id, 0, SETVAL, 32000);
	SEMOP(id, { 0, 800, 0 });
	SEMOP(id, { 0, 767, 0 });
	SYS(semctl, id, 0, GETVAL, 0);
	/* Both a decrement that must wait and one past SEMVMX. */
	ctl(id, 1, SETVAL, 0);
	SEMOP(id, { 1, -1, IPC_NOWAIT }, { 0, 1, 0 });
	SEMOP(id, { 0, 1, 0 }, { 1, -1, IPC_NOWAIT });
	/* A decrement as large as SEMVMX is fine. */
	SEMOP(id, { 0, -SEMVMX, 0 });
	SYS(semctl, id, 0, GETVAL, 0);
	SYS(semctl, id, 0, IPC_RMID, 0);
	rmid(id);
	SEMOP(id, { 0, 1, 0 });
}

static void test_timedop(void)
{
	int id = new_set(1);
	struct sembuf sb = { 0, -1, 0 };
	struct timespec ts;
	long t0;

	puts("-- semtimedop");
	ts = (struct timespec){ 0, 50 * 1000000L };
	t0 = now_ms();
	SYS(semtimedop, id, &sb, 1, &ts);
	SHOW(now_ms() - t0 >= 50);
	ts = (struct timespec){ 0, 0 };
	SYS(semtimedop, id, &sb, 1, &ts);
	ts = (struct timespec){ 0, 1000000000L };
	SYS(semtimedop, id, &sb, 1, &ts);
	ts = (struct timespec){ -1, 0 };
	SYS(semtimedop, id, &sb, 1, &ts);
	SYS(semtimedop, id, &sb, 1, BAD_PTR);
	/* The timeout is checked even when the operation can be done. */
	ctl(id, 0, SETVAL, 2);
	ts = (struct timespec){ 0, -1 };
	SYS(semtimedop, id, &sb, 1, &ts);
	ts = (struct timespec){ 1, 0 };
	SYS(semtimedop, id, &sb, 1, &ts);
	SYS(semtimedop, id, &sb, 1, NULL);
	sb.sem_flg = IPC_NOWAIT;
	SYS(semtimedop, id, &sb, 1, &ts);
	sb.sem_op = 0;
	sb.sem_flg = IPC_NOWAIT;
	SYS(semtimedop, id, &sb, 1, NULL);
	sb.sem_flg = 0;
	SYS(semtimedop, id, &sb, 1, &ts);
	SYS(semctl, id, 0, IPC_RMID, 0);
	rmid(id);
}

static void test_wake(void)
{
	int id = new_set(2);
	pid_t self = getpid(), pid, pids[2];
	int st;

	puts("-- waiters woken by another process");
	SYS(semctl, id, 0, GETPID, 0);
	ctl(id, 1, SETVAL, 1);
	SHOW(ctl(id, 1, GETPID, 0) == self);
	SYS(semctl, id, 0, GETNCNT, 0);
	SYS(semctl, id, 0, GETZCNT, 0);
	/* We wait for an increment; the child makes it once we are asleep. */
	pid = fork();
	if (pid == 0) {
		int saw = wait_count(id, 0, GETNCNT, 1);

		saw += 2 * (ctl(id, 0, GETZCNT, 0) == 0);
		op1(id, 0, 1, 0);
		_exit(saw);
	}
	SEMOP(id, { 0, -1, 0 });
	st = reap(pid);
	show_status("child saw GETNCNT 1 (1), GETZCNT 0 (2)", st);
	SYS(semctl, id, 0, GETVAL, 0);
	SYS(semctl, id, 0, GETNCNT, 0);
	printf("GETPID == self: %d, == child: %d\n", ctl(id, 0, GETPID, 0) == self, ctl(id, 0, GETPID, 0) == pid);
	/* We wait for zero; the child decrements. */
	pid = fork();
	if (pid == 0) {
		int saw = wait_count(id, 1, GETZCNT, 1);

		saw += 2 * (ctl(id, 1, GETNCNT, 0) == 0);
		op1(id, 1, -1, 0);
		_exit(saw);
	}
	SEMOP(id, { 1, 0, 0 });
	st = reap(pid);
	show_status("child saw GETZCNT 1 (1), GETNCNT 0 (2)", st);
	SYS(semctl, id, 1, GETZCNT, 0);
	printf("GETPID == self: %d, == child: %d\n", ctl(id, 1, GETPID, 0) == self, ctl(id, 1, GETPID, 0) == pid);
	/* Two children wait; SETVAL wakes both. */
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(op1(id, 0, -1, 0) == 0 ? 0 : 1);
		wait_count(id, 0, GETNCNT, i + 1);
	}
	SYS(semctl, id, 0, GETNCNT, 0);
	SYS(semctl, id, 0, SETVAL, 2);
	for (int i = 0; i < 2; i++) {
		st = reap(pids[i]);
		show_status("waiter", st);
	}
	SYS(semctl, id, 0, GETVAL, 0);
	SYS(semctl, id, 0, GETNCNT, 0);
	SHOW(ctl(id, 0, GETPID, 0) == pids[0] || ctl(id, 0, GETPID, 0) == pids[1]);
	/* Two children wait for zero; SETALL wakes them. */
	ctl(id, 1, SETVAL, 3);
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(op1(id, 1, 0, 0) == 0 ? 0 : 1);
		wait_count(id, 1, GETZCNT, i + 1);
	}
	SYS(semctl, id, 1, GETZCNT, 0);
	SYS(semctl, id, 0, SETALL, ((unsigned short[]){ 4, 0 }));
	for (int i = 0; i < 2; i++) {
		st = reap(pids[i]);
		show_status("waiter", st);
	}
	SYS(semctl, id, 1, GETZCNT, 0);
	SYS(semctl, id, 0, IPC_RMID, 0);
	rmid(id);
}

static void test_undo(void)
{
	int id = new_set(2);
	int ready[2], go[2], st;
	pid_t pid;
	char c;

	puts("-- SEM_UNDO");
	if (pipe(ready) || pipe(go))
		return;
	/* +2 with SEM_UNDO, -1 without: exit undoes only the +2. */
	ctl(id, 0, SETVAL, 5);
	pid = fork();
	if (pid == 0) {
		op1(id, 0, 2, SEM_UNDO);
		op1(id, 0, -1, 0);
		op1(id, 1, 1, SEM_UNDO);
		op1(id, 1, 1, SEM_UNDO);
		write(ready[1], "r", 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	read(ready[0], &c, 1);
	puts("child alive:");
	show_all(id, 2);
	write(go[1], "g", 1);
	st = reap(pid);
	puts("child exited:");
	show_all(id, 2);
	/* A decrement undone: the value comes back. */
	ctl(id, 0, SETVAL, 5);
	pid = fork();
	if (pid == 0) {
		_exit(op1(id, 0, -3, SEM_UNDO) == 0 ? 0 : 1);
	}
	st = reap(pid);
	show_status("child -3 with SEM_UNDO from 5, exited", st);
	SYS(semctl, id, 0, GETVAL, 0);
	/* SETVAL clears the adjustment. */
	ctl(id, 0, SETVAL, 0);
	pid = fork();
	if (pid == 0) {
		op1(id, 0, 1, SEM_UNDO);
		write(ready[1], "r", 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	read(ready[0], &c, 1);
	puts("child +1 with SEM_UNDO from 0, then SETVAL 10:");
	SYS(semctl, id, 0, SETVAL, 10);
	write(go[1], "g", 1);
	st = reap(pid);
	puts("child exited:");
	SYS(semctl, id, 0, GETVAL, 0);
	/* An undo that would go below 0 stops at 0. */
	ctl(id, 0, SETVAL, 0);
	pid = fork();
	if (pid == 0) {
		op1(id, 0, 3, SEM_UNDO);
		write(ready[1], "r", 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	read(ready[0], &c, 1);
	puts("child +3 with SEM_UNDO from 0, then -2:");
	op1(id, 0, -2, 0);
	SYS(semctl, id, 0, GETVAL, 0);
	write(go[1], "g", 1);
	st = reap(pid);
	puts("child exited:");
	SYS(semctl, id, 0, GETVAL, 0);
	/* The undo is done by the exiting child: GETPID is its pid. */
	SHOW(ctl(id, 0, GETPID, 0) == pid);
	/* An undo that would go past SEMVMX stops there. */
	ctl(id, 1, SETVAL, SEMVMX - 1);
	pid = fork();
	if (pid == 0) {
		op1(id, 1, -1, SEM_UNDO);
		write(ready[1], "r", 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	read(ready[0], &c, 1);
	puts("child -1 with SEM_UNDO from SEMVMX - 1, then +2:");
	op1(id, 1, 2, 0);
	SYS(semctl, id, 1, GETVAL, 0);
	write(go[1], "g", 1);
	st = reap(pid);
	puts("child exited:");
	SYS(semctl, id, 1, GETVAL, 0);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	SYS(semctl, id, 0, IPC_RMID, 0);
	rmid(id);
}

static void test_rmid_waiter(void)
{
	int id = new_set(1);
	pid_t pid;

	puts("-- IPC_RMID while a child waits");
	res->ret = -2;
	pid = fork();
	if (pid == 0) {
		errno = 0;
		res->ret = op1(id, 0, -1, 0);
		res->err = errno;
		_exit(0);
	}
	SHOW(wait_count(id, 0, GETNCNT, 1));
	SYS(semctl, id, 0, IPC_RMID, 0);
	rmid(id);
	reap(pid);
	show_result("child semop", res);
	/* Waiting for zero. */
	id = new_set(1);
	ctl(id, 0, SETVAL, 1);
	res->ret = -2;
	pid = fork();
	if (pid == 0) {
		struct timespec ts = { 5, 0 };
		struct sembuf sb = { 0, 0, 0 };

		errno = 0;
		res->ret = syscall(SYS_semtimedop, id, &sb, 1, &ts);
		res->err = errno;
		_exit(0);
	}
	SHOW(wait_count(id, 0, GETZCNT, 1));
	SYS(semctl, id, 0, IPC_RMID, 0);
	rmid(id);
	reap(pid);
	show_result("child semtimedop", res);
}

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static void signal_case(int id, int restart, int timed)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0 };
	struct sembuf sb = { 0, -1, 0 };
	struct timespec ts = { 5, 0 };
	pid_t pid, self = getpid();
	int st;

	sigaction(SIGUSR1, &sa, NULL);
	handled = 0;
	pid = fork();
	if (pid == 0) {
		int saw = wait_count(id, 0, GETNCNT, 1);

		kill(self, SIGUSR1);
		_exit(saw);
	}
	printf("%s, %s: ", restart ? "SA_RESTART" : "no SA_RESTART", timed ? "semtimedop" : "semop");
	if (timed)
		SYS(semtimedop, id, &sb, 1, &ts);
	else
		SYS(semop, id, &sb, 1);
	/* The signal may also come now (if the call did not wait). */
	st = reap(pid);
	printf("  handled %d, child saw the wait %d, GETNCNT %ld\n", handled, WEXITSTATUS(st),
	       ctl(id, 0, GETNCNT, 0));
	signal(SIGUSR1, SIG_DFL);
}

static void test_signals(void)
{
	int id = new_set(1);

	puts("-- signals");
	signal_case(id, 0, 0);
	signal_case(id, 1, 0);
	signal_case(id, 0, 1);
	signal_case(id, 1, 1);
	SYS(semctl, id, 0, GETVAL, 0);
	SYS(semctl, id, 0, IPC_RMID, 0);
	rmid(id);
}

static void test_permissions(void)
{
	int priv = new_set(1), shared = track(syscall(SYS_semget, IPC_PRIVATE, 1, IPC_CREAT | 0644));
	pid_t pid;
	int st;

	puts("-- permissions as uid 65534");
	SHOW(priv >= 0 && shared >= 0);
	pid = fork();
	if (pid == 0) {
		struct semid_ds ds;

		if (CHECK(setresgid(65534, 65534, 65534)) != 0 || CHECK(setresuid(65534, 65534, 65534)) != 0)
			_exit(1);
		SYS(semctl, priv, 0, GETVAL, 0);
		SYS(semctl, priv, 0, SETVAL, 1);
		SYS(semctl, priv, 0, IPC_STAT, &ds);
		SEMOP(priv, { 0, 1, IPC_NOWAIT });
		SEMOP(priv, { 0, 0, IPC_NOWAIT });
		SYS(semctl, shared, 0, GETVAL, 0);
		SYS(semctl, shared, 0, GETNCNT, 0);
		SYS(semctl, shared, 0, SETVAL, 1);
		SEMOP(shared, { 0, 0, IPC_NOWAIT });
		SEMOP(shared, { 0, 1, IPC_NOWAIT });
		SYS(semctl, shared, 0, IPC_STAT, &ds);
		SYS(semctl, shared, 0, IPC_SET, &ds);
		SYS(semctl, shared, 0, IPC_RMID, 0);
		_exit(0);
	}
	st = reap(pid);
	show_status("child", st);
	SYS(semctl, priv, 0, IPC_RMID, 0);
	rmid(priv);
	SYS(semctl, shared, 0, IPC_RMID, 0);
	rmid(shared);
}

int main(void)
{
	parent = getpid();
	atexit(cleanup);
	signal(SIGALRM, on_alarm);
	alarm(10);
	res = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	test_semget();
	test_keyed();
	test_values();
	test_stat();
	test_semop();
	test_timedop();
	test_wake();
	test_undo();
	test_rmid_waiter();
	test_signals();
	test_permissions();
	puts("done");
	return 0;
}
