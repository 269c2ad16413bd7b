/*
 * sysv_shm.c: System V shared memory: shmget(2) (sizes, IPC_CREAT and
 * IPC_EXCL on a key, a larger size than the segment's), shmat(2) (at NULL,
 * at a given address, unaligned, SHM_RND, SHM_REMAP, SHM_RDONLY and a write
 * through it in a child), shmdt(2), data shared between attaches and across
 * fork, shm_nattch through attach, detach, fork and exit, IPC_STAT, IPC_SET,
 * IPC_RMID of an attached segment (SHM_DEST, the key forgotten, still
 * attachable by id until the last detach), IPC_INFO, SHM_INFO, SHM_STAT,
 * and permission checks in a child that drops to uid 65534.
 *
 * The natively run program shares the host's IPC namespace: every segment
 * is made with IPC_PRIVATE or with IPC_CREAT | IPC_EXCL on a random key (so
 * nobody else's segment is ever opened), and removed again before exit, by
 * the parent only (atexit, and a SIGALRM handler if it hangs). Ids, keys,
 * addresses and pids are never printed, only relations between them.
 */
#include "common.h"
#include <limits.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>

#define PAGE 4096UL

/* ---- cleanup: the segments this process made ---- */

static int made[32];
static int nmade;
static pid_t parent;

static int track(int id)
{
	if (id >= 0 && nmade < (int)(sizeof(made) / sizeof(made[0])))
		made[nmade++] = id;
	return id;
}

/* The segment was removed here: cleanup must not remove it again. */
static void untrack(int id)
{
	for (int i = 0; i < nmade; i++)
		if (made[i] == id)
			made[i] = -1;
}

static void cleanup(void)
{
	if (getpid() != parent)
		return;
	for (int i = 0; i < nmade; i++)
		if (made[i] >= 0)
			syscall(SYS_shmctl, made[i], IPC_RMID, NULL);
	nmade = 0;
}

static void on_alarm(int sig)
{
	(void)sig;
	cleanup();
	_exit(99);
}

/* A key no segment has: IPC_CREAT | IPC_EXCL retried on EEXIST. */
static int make_keyed(key_t *key, size_t size, int mode)
{
	for (int i = 0; i < 100; i++) {
		unsigned int r = 0;

		syscall(SYS_getrandom, &r, sizeof(r), 0);
		*key = (key_t)(r & 0x7fffffff);
		if (*key == IPC_PRIVATE)
			continue;
		int id = syscall(SYS_shmget, *key, size, IPC_CREAT | IPC_EXCL | mode);
		if (id >= 0)
			return track(id);
		if (errno != EEXIST)
			return -1;
	}
	return -1;
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

/* A failed shmat: say so, and skip what would touch the memory. */
static int failed(const void *p)
{
	if (p != (void *)-1)
		return 0;
	puts("  shmat failed: the rest of this section is skipped");
	return 1;
}

static int nattch(int id)
{
	struct shmid_ds ds;

	if (syscall(SYS_shmctl, id, IPC_STAT, &ds) != 0)
		return -1;
	return (int)ds.shm_nattch;
}

static void test_shmget(void)
{
	int id;

	puts("-- shmget");
	id = track(SYS_OK(shmget, IPC_PRIVATE, PAGE, IPC_CREAT | 0600));
	SHOW(id >= 0);
	SYS(shmget, IPC_PRIVATE, 0, IPC_CREAT | 0600);
	SYS(shmget, IPC_PRIVATE, ULONG_MAX, IPC_CREAT | 0600);
	SYS(shmget, IPC_PRIVATE, 1UL << 63, IPC_CREAT | 0600);
	SYS(shmget, IPC_PRIVATE, -1L, IPC_CREAT | 0600);
	/* IPC_PRIVATE makes a new segment, with or without IPC_CREAT. */
	{
		int a = track(SYS_OK(shmget, IPC_PRIVATE, 1, 0600));
		int b = track(SYS_OK(shmget, IPC_PRIVATE, 1, IPC_CREAT | IPC_EXCL | 0600));
		struct shmid_ds ds;

		SHOW(a >= 0 && b >= 0 && a != b && a != id && b != id);
		SYS(shmctl, a, IPC_STAT, &ds);
		printf("  shm_segsz %lu (not rounded to a page)\n", (unsigned long)ds.shm_segsz);
		SYS(shmctl, a, IPC_RMID, NULL);
		untrack(a);
		SYS(shmctl, b, IPC_RMID, NULL);
		untrack(b);
	}
	SYS(shmctl, id, IPC_RMID, NULL);
	untrack(id);
	SYS(shmctl, id, IPC_STAT, NULL);
}

static void test_keyed(void)
{
	key_t key;
	int id, again;

	puts("-- shmget with a key");
	id = make_keyed(&key, 2 * PAGE, 0600);
	SHOW(id >= 0);
	SYS(shmget, key, 2 * PAGE, IPC_CREAT | IPC_EXCL | 0600);
	again = SYS_OK(shmget, key, 2 * PAGE, 0);
	SHOW(again == id);
	again = SYS_OK(shmget, key, 0, 0);
	SHOW(again == id);
	again = SYS_OK(shmget, key, PAGE, IPC_CREAT | 0600);
	SHOW(again == id);
	SYS(shmget, key, 2 * PAGE + 1, 0);
	SYS(shmget, key, 3 * PAGE, IPC_CREAT | 0600);
	{
		struct shmid_ds ds;

		SYS(shmctl, id, IPC_STAT, &ds);
		SHOW(ds.shm_perm.__key == key);
		printf("  shm_segsz %lu\n", (unsigned long)ds.shm_segsz);
	}
	SYS(shmctl, id, IPC_RMID, NULL);
	untrack(id);
	SYS(shmget, key, 0, 0);
	SYS(shmget, key, PAGE, 0600);
}

static void test_attach(void)
{
	int id = track(syscall(SYS_shmget, IPC_PRIVATE, 2 * PAGE, IPC_CREAT | 0600));
	char *p, *q, *free_area;

	puts("-- shmat and shmdt");
	p = SYS_PTR(shmat, id, NULL, 0);
	SHOW(p != (void *)-1 && ((uintptr_t)p & (SHMLBA - 1)) == 0);
	show_perms("attach", p);
	show_perms("attach + 1 page", p + PAGE);
	SHOW(p != (void *)-1 && p[0] == 0 && p[2 * PAGE - 1] == 0);
	SYS(shmdt, p + 1);
	SYS(shmdt, p + PAGE);
	SYS(shmdt, NULL);
	SYS(shmdt, p);
	show_perms("after shmdt", p);
	SYS(shmdt, p);
	{
		char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		SYS(shmdt, m);
		munmap(m, PAGE);
	}
	SYS_PTR(shmat, -1, NULL, 0);
	SYS_PTR(shmat, id, NULL, SHM_REMAP);
	p = SYS_PTR(shmat, id, NULL, SHM_EXEC);
	show_perms("SHM_EXEC attach", p);
	q = SYS_PTR(shmat, id, NULL, SHM_EXEC | SHM_RDONLY);
	show_perms("SHM_EXEC | SHM_RDONLY attach", q);
	printf("nattch %d\n", nattch(id));
	SYS(shmdt, q);
	SYS(shmdt, p);
	printf("nattch %d\n", nattch(id));

	puts("-- shmat at an address");
	/* A free, aligned area: mapped, then unmapped. */
	free_area = mmap(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(free_area, 8 * PAGE);
	q = SYS_PTR(shmat, id, free_area, 0);
	SHOW(q == free_area);
	/* Mapped there already: only SHM_REMAP replaces it. */
	SYS_PTR(shmat, id, free_area, 0);
	SYS_PTR(shmat, id, free_area + PAGE, 0);
	q = SYS_PTR(shmat, id, free_area + PAGE, SHM_REMAP);
	SHOW(q == free_area + PAGE);
	show_perms("first page", free_area);
	show_perms("third page", free_area + 2 * PAGE);
	printf("nattch %d\n", nattch(id));
	SYS(shmdt, free_area + PAGE);
	/* The first page of the first attach is still attached. */
	show_perms("first page", free_area);
	printf("nattch %d\n", nattch(id));
	SYS(shmdt, free_area);
	printf("nattch %d\n", nattch(id));
	/* Unaligned: EINVAL, unless SHM_RND rounds it down. */
	SYS_PTR(shmat, id, free_area + 100, 0);
	SYS_PTR(shmat, id, free_area + 100, SHM_REMAP);
	q = SYS_PTR(shmat, id, free_area + PAGE + 100, SHM_RND);
	SHOW(q == free_area + PAGE);
	SYS(shmdt, q);
	/* Rounded down to 0 (mapped at 0 if allowed): not with SHM_REMAP. */
	SYS_PTR(shmat, id, (void *)100, SHM_RND | SHM_REMAP);
	SYS_PTR(shmat, id, HIGH_ADDR, 0);
	SYS_PTR(shmat, id, (void *)(-(long)PAGE & ~(SHMLBA - 1)), 0);
	/* Over an ordinary mapping. */
	{
		char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		m[0] = 'm';
		SYS_PTR(shmat, id, m, 0);
		q = SYS_PTR(shmat, id, m, SHM_REMAP);
		SHOW(q == m && m[0] == 0);
		SYS(shmdt, m);
		show_perms("after shmdt", m);
	}
	printf("nattch %d\n", nattch(id));
	SYS(shmctl, id, IPC_RMID, NULL);
	untrack(id);
}

static void test_data(void)
{
	int id = track(syscall(SYS_shmget, IPC_PRIVATE, PAGE, IPC_CREAT | 0600));
	char *a, *b;
	pid_t pid;
	int st;

	puts("-- data between attaches and across fork");
	a = SYS_PTR(shmat, id, NULL, 0);
	b = SYS_PTR(shmat, id, NULL, 0);
	SHOW(a != b);
	if (failed(a) || failed(b)) {
		syscall(SYS_shmctl, id, IPC_RMID, NULL);
		untrack(id);
		return;
	}
	strcpy(a, "written through a");
	print_bytes("b reads", b, 18);
	b[0] = 'W';
	print_bytes("a reads", a, 18);
	printf("nattch %d\n", nattch(id));
	/* The child writes through the attach it inherits, and a new one. */
	pid = fork();
	if (pid == 0) {
		char *c = (char *)syscall(SYS_shmat, id, NULL, 0);

		strcpy(a + 100, "child, inherited attach");
		if (c != (void *)-1)
			strcpy(c + 200, "child, own attach");
		_exit(0);
	}
	st = reap(pid);
	show_status("child", st);
	print_bytes("parent reads", a + 100, 24);
	print_bytes("parent reads", b + 200, 18);
	printf("nattch %d\n", nattch(id));
	/* Private memory is not shared, the segment is. */
	{
		static char private_buf[16];

		pid = fork();
		if (pid == 0) {
			strcpy(private_buf, "child");
			a[300] = 'x';
			_exit(0);
		}
		st = reap(pid);
		SHOW(private_buf[0] == 0 && b[300] == 'x');
	}
	SYS(shmdt, a);
	SYS(shmdt, b);
	SYS(shmctl, id, IPC_RMID, NULL);
	untrack(id);
}

static volatile sig_atomic_t segv_code;
static void *volatile segv_target;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	_exit(si->si_code == SEGV_ACCERR ? (si->si_addr == segv_target ? 10 : 11) :
	      si->si_code == SEGV_MAPERR ? 12 : 13);
}

static void test_rdonly(void)
{
	int id = track(syscall(SYS_shmget, IPC_PRIVATE, PAGE, IPC_CREAT | 0600));
	char *rw, *ro;
	pid_t pid;
	int st;

	puts("-- SHM_RDONLY");
	rw = SYS_PTR(shmat, id, NULL, 0);
	ro = SYS_PTR(shmat, id, NULL, SHM_RDONLY);
	if (failed(rw) || failed(ro)) {
		syscall(SYS_shmctl, id, IPC_RMID, NULL);
		untrack(id);
		return;
	}
	strcpy(rw, "data");
	show_perms("SHM_RDONLY attach", ro);
	print_bytes("reads", ro, 4);
	SYS(mprotect, ro, PAGE, PROT_READ | PROT_WRITE);
	SYS(mprotect, ro, PAGE, PROT_READ | PROT_EXEC);
	SYS(mprotect, ro, PAGE, PROT_NONE);
	SYS(mprotect, ro, PAGE, PROT_READ);
	SYS(mprotect, rw, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
	SYS(mprotect, rw, PAGE, PROT_READ | PROT_WRITE);
	/* A write through the read-only attach faults (exit 10: SEGV_ACCERR
	 * at the address written). */
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
		char *c = (char *)syscall(SYS_shmat, id, NULL, SHM_RDONLY);

		sigaction(SIGSEGV, &sa, NULL);
		if (c == (void *)-1)
			_exit(1);
		if (c[0] != 'd')
			_exit(2);
		segv_target = c + 8;
		*(volatile char *)(c + 8) = 'x';
		_exit(3);
	}
	st = reap(pid);
	show_status("child writing to SHM_RDONLY", st);
	SHOW(rw[8] == 0);
	SYS(shmdt, ro);
	SYS(shmdt, rw);
	SYS(shmctl, id, IPC_RMID, NULL);
	untrack(id);
}

static void test_nattch(void)
{
	int id = track(syscall(SYS_shmget, IPC_PRIVATE, PAGE, IPC_CREAT | 0600));
	int ready[2], go[2], st;
	struct shmid_ds ds;
	char *a, *b, c;
	pid_t pid, self = getpid();

	puts("-- nattch and pids");
	SYS(shmctl, id, IPC_STAT, &ds);
	printf("nattch %lu, lpid == 0: %d, atime == 0: %d, dtime == 0: %d\n",
	       (unsigned long)ds.shm_nattch, ds.shm_lpid == 0, ds.shm_atime == 0, ds.shm_dtime == 0);
	a = (char *)syscall(SYS_shmat, id, NULL, 0);
	SYS(shmctl, id, IPC_STAT, &ds);
	printf("nattch %lu, lpid == self: %d, atime != 0: %d, dtime == 0: %d\n",
	       (unsigned long)ds.shm_nattch, ds.shm_lpid == self, ds.shm_atime != 0, ds.shm_dtime == 0);
	b = (char *)syscall(SYS_shmat, id, NULL, 0);
	printf("nattch %d\n", nattch(id));
	if (pipe(ready) || pipe(go))
		return;
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		/* Detach one of the two inherited attaches, then wait. */
		syscall(SYS_shmdt, a);
		write(ready[1], "r", 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	read(ready[0], &c, 1);
	SYS(shmctl, id, IPC_STAT, &ds);
	printf("child alive, one detached: nattch %lu, lpid == child: %d\n", (unsigned long)ds.shm_nattch,
	       ds.shm_lpid == pid);
	write(go[1], "g", 1);
	st = reap(pid);
	show_status("child", st);
	SYS(shmctl, id, IPC_STAT, &ds);
	printf("child exited: nattch %lu, lpid == child: %d, dtime != 0: %d\n", (unsigned long)ds.shm_nattch,
	       ds.shm_lpid == pid, ds.shm_dtime != 0);
	close(ready[0]);
	close(go[1]);
	/* A child that exits without detaching. */
	pid = fork();
	if (pid == 0) {
		syscall(SYS_shmat, id, NULL, 0);
		_exit(nattch(id));
	}
	st = reap(pid);
	show_status("child saw nattch", st);
	printf("nattch %d\n", nattch(id));
	SYS(shmdt, a);
	SYS(shmctl, id, IPC_STAT, &ds);
	printf("nattch %lu, lpid == self: %d\n", (unsigned long)ds.shm_nattch, ds.shm_lpid == self);
	SYS(shmdt, b);
	printf("nattch %d\n", nattch(id));
	SYS(shmctl, id, IPC_RMID, NULL);
	untrack(id);
}

static void test_stat_set(void)
{
	int id = track(syscall(SYS_shmget, IPC_PRIVATE, 3 * PAGE + 5, IPC_CREAT | 0640));
	struct shmid_ds ds;

	puts("-- IPC_STAT and IPC_SET");
	memset(&ds, 0xff, sizeof(ds));
	SYS(shmctl, id, IPC_STAT, &ds);
	printf("segsz %lu, mode 0%o, nattch %lu\n", (unsigned long)ds.shm_segsz, ds.shm_perm.mode & 07777,
	       (unsigned long)ds.shm_nattch);
	SHOW(ds.shm_perm.__key == IPC_PRIVATE);
	SHOW(ds.shm_cpid == getpid());
	SHOW(ds.shm_lpid == 0);
	SHOW(ds.shm_perm.uid == geteuid() && ds.shm_perm.cuid == geteuid());
	SHOW(ds.shm_perm.gid == getegid() && ds.shm_perm.cgid == getegid());
	SHOW(ds.shm_ctime != 0 && ds.shm_atime == 0 && ds.shm_dtime == 0);
	ds.shm_perm.mode = 0604;
	SYS(shmctl, id, IPC_SET, &ds);
	SYS(shmctl, id, IPC_STAT, &ds);
	printf("mode 0%o\n", ds.shm_perm.mode & 07777);
	/* Only the permission bits are taken. */
	ds.shm_perm.mode = 07777;
	SYS(shmctl, id, IPC_SET, &ds);
	SYS(shmctl, id, IPC_STAT, &ds);
	printf("mode 0%o\n", ds.shm_perm.mode & 07777);
	/* IPC_SET does not change the size or the creator. */
	ds.shm_segsz = 1;
	ds.shm_cpid = 1;
	ds.shm_perm.mode = 0600;
	SYS(shmctl, id, IPC_SET, &ds);
	SYS(shmctl, id, IPC_STAT, &ds);
	printf("segsz %lu, mode 0%o, cpid == self: %d\n", (unsigned long)ds.shm_segsz,
	       ds.shm_perm.mode & 07777, ds.shm_cpid == getpid());
	SYS(shmctl, id, IPC_STAT, BAD_PTR);
	SYS(shmctl, id, IPC_SET, BAD_PTR);
	SYS(shmctl, id, IPC_STAT, NULL);
	SYS(shmctl, id, 99, &ds);
	SYS(shmctl, -1, IPC_STAT, &ds);
	SYS(shmctl, id, IPC_RMID, NULL);
	untrack(id);
}

static void test_rmid(void)
{
	key_t key;
	int id = make_keyed(&key, PAGE, 0600);
	struct shmid_ds ds;
	char *a, *b;

	puts("-- IPC_RMID while attached");
	SHOW(id >= 0);
	a = SYS_PTR(shmat, id, NULL, 0);
	if (failed(a)) {
		syscall(SYS_shmctl, id, IPC_RMID, NULL);
		untrack(id);
		return;
	}
	strcpy(a, "still here");
	SYS(shmctl, id, IPC_RMID, NULL);
	untrack(id);
	SYS(shmctl, id, IPC_STAT, &ds);
	printf("mode 0%o, SHM_DEST %d, nattch %lu, key == IPC_PRIVATE %d\n", ds.shm_perm.mode & 0777,
	       (ds.shm_perm.mode & SHM_DEST) != 0, (unsigned long)ds.shm_nattch, ds.shm_perm.__key == IPC_PRIVATE);
	print_bytes("reads", a, 10);
	/* The key no longer finds it. */
	SYS(shmget, key, 0, 0);
	/* Linux still attaches it by id. */
	b = SYS_PTR(shmat, id, NULL, 0);
	if (b != (void *)-1) {
		print_bytes("new attach reads", b, 10);
		printf("nattch %d\n", nattch(id));
		SYS(shmdt, b);
	}
	/* A second IPC_RMID of a segment marked for removal. */
	SYS(shmctl, id, IPC_RMID, NULL);
	printf("nattch %d\n", nattch(id));
	SYS(shmdt, a);
	/* The last detach destroyed it. */
	SYS(shmctl, id, IPC_STAT, &ds);
	SYS_PTR(shmat, id, NULL, 0);
	SYS(shmctl, id, IPC_RMID, NULL);
	/* Marked while a child still has it: gone when the child exits. */
	{
		int id2 = track(syscall(SYS_shmget, IPC_PRIVATE, PAGE, IPC_CREAT | 0600));
		int ready[2], go[2], st;
		pid_t pid;
		char c;

		a = (char *)syscall(SYS_shmat, id2, NULL, 0);
		if (failed(a))
			return;
		a[0] = 'p';
		if (pipe(ready) || pipe(go))
			return;
		pid = fork();
		if (pid == 0) {
			close(ready[0]);
			close(go[1]);
			write(ready[1], "r", 1);
			read(go[0], &c, 1);
			_exit(a[0] == 'p' ? 0 : 1);
		}
		close(ready[1]);
		close(go[0]);
		read(ready[0], &c, 1);
		SYS(shmdt, a);
		SYS(shmctl, id2, IPC_RMID, NULL);
		untrack(id2);
		SYS(shmctl, id2, IPC_STAT, &ds);
		printf("nattch %lu, SHM_DEST %d\n", (unsigned long)ds.shm_nattch, (ds.shm_perm.mode & SHM_DEST) != 0);
		write(go[1], "g", 1);
		st = reap(pid);
		show_status("child", st);
		SYS(shmctl, id2, IPC_STAT, &ds);
		close(ready[0]);
		close(go[1]);
	}
}

static void test_info(void)
{
	int id = track(syscall(SYS_shmget, IPC_PRIVATE, PAGE, IPC_CREAT | 0600));
	struct shminfo si;
	struct shm_info sinfo;
	struct shmid_ds ds;
	long r;

	puts("-- IPC_INFO, SHM_INFO, SHM_STAT");
	memset(&si, 0, sizeof(si));
	r = SYS_OK(shmctl, 0, IPC_INFO, (struct shmid_ds *)&si);
	SHOW(r >= (id & 0x7fff));
	SHOW(si.shmmin == 1);
	SHOW(si.shmmax >= PAGE && si.shmall >= 1);
	SHOW(si.shmmni >= 1 && si.shmseg >= 1);
	memset(&sinfo, 0, sizeof(sinfo));
	r = SYS_OK(shmctl, 0, SHM_INFO, (struct shmid_ds *)&sinfo);
	SHOW(r >= (id & 0x7fff));
	SHOW(sinfo.used_ids >= 1);
	SHOW(sinfo.shm_tot >= 1);
	/* SHM_STAT takes the index and returns the id. */
	memset(&ds, 0, sizeof(ds));
	r = SYS_OK(shmctl, id & 0x7fff, SHM_STAT, &ds);
	SHOW(r == id);
	printf("segsz %lu, mode 0%o\n", (unsigned long)ds.shm_segsz, ds.shm_perm.mode & 07777);
	memset(&ds, 0, sizeof(ds));
	r = SYS_OK(shmctl, id & 0x7fff, SHM_STAT_ANY, &ds);
	SHOW(r == id);
	SYS(shmctl, -1, SHM_STAT, &ds);
	SYS(shmctl, 0, IPC_INFO, BAD_PTR);
	SYS(shmctl, 0, SHM_INFO, BAD_PTR);
	SYS(shmctl, id, IPC_RMID, NULL);
	untrack(id);
}

static void test_permissions(void)
{
	key_t key;
	int priv = make_keyed(&key, PAGE, 0600);
	int shared = track(syscall(SYS_shmget, IPC_PRIVATE, PAGE, IPC_CREAT | 0644));
	pid_t pid;
	int st;

	puts("-- permissions as uid 65534");
	SHOW(priv >= 0 && shared >= 0);
	pid = fork();
	if (pid == 0) {
		struct shmid_ds ds;
		char *p;

		if (CHECK(setresgid(65534, 65534, 65534)) != 0 || CHECK(setresuid(65534, 65534, 65534)) != 0)
			_exit(1);
		SYS_PTR(shmat, priv, NULL, 0);
		SYS_PTR(shmat, priv, NULL, SHM_RDONLY);
		SYS(shmctl, priv, IPC_STAT, &ds);
		memset(&ds, 0, sizeof(ds));
		ds.shm_perm.mode = 0666;
		SYS(shmctl, priv, IPC_SET, &ds);
		SHOW(syscall(SYS_shmget, key, 0, 0) == priv);
		SYS(shmget, key, 0, 0400);
		SYS(shmget, key, 0, IPC_CREAT | 0600);
		SYS_PTR(shmat, shared, NULL, 0);
		p = SYS_PTR(shmat, shared, NULL, SHM_RDONLY);
		SYS(shmctl, shared, IPC_STAT, &ds);
		SYS(shmctl, shared, IPC_RMID, NULL);
		if (p != (void *)-1)
			SYS(shmdt, p);
		_exit(0);
	}
	st = reap(pid);
	show_status("child", st);
	SYS(shmctl, priv, IPC_RMID, NULL);
	untrack(priv);
	SYS(shmctl, shared, IPC_RMID, NULL);
	untrack(shared);
}

int main(void)
{
	parent = getpid();
	atexit(cleanup);
	signal(SIGALRM, on_alarm);
	alarm(10);
	test_shmget();
	test_keyed();
	test_attach();
	test_data();
	test_rdonly();
	test_nattch();
	test_stat_set();
	test_rmid();
	test_info();
	test_permissions();
	puts("done");
	return 0;
}
