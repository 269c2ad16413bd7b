/*
 * fork.c: fork(2) and vfork(2). Return values, the child/parent relation,
 * copy-on-write memory (stack, heap, static data, MAP_PRIVATE) against
 * MAP_SHARED memory, inherited fds with shared offsets and flags but
 * separate fd tables, what else the child inherits (mask, dispositions) or
 * not (pending signals, alarms), fork from a second thread, vfork's
 * suspension of the parent, and exit statuses seen through wait4.
 *
 * Only one process prints at a time: the parent waits for the child before
 * it prints again. Pids are never printed, only compared.
 */
#include "common.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

static int static_word = 1;
static volatile int vfork_step;
static volatile pid_t vfork_ppid;

/* Words shared between the parent and its children. */
struct shared {
	volatile int go;	/* the parent has written its post-fork values */
	volatile int word;	/* written by both sides */
	volatile int child_saw[4];
};

static void wait_flag(volatile int *flag)
{
	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE))
		sched_yield();
}

/* Wait for pid and print its status in the usual forms. */
static void reap(const char *what, pid_t pid)
{
	int status = -1;
	pid_t r = waitpid(pid, &status, 0);

	printf("%s: waitpid == child %d, status 0x%x", what, r == pid, status);
	if (WIFEXITED(status))
		printf(" exited %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf(" signaled %d\n", WTERMSIG(status));
	else
		printf(" other\n");
}

static void handler(int sig)
{
	(void)sig;
}

/*
 * The raw vfork system call. The child shares the parent's stack, so it must
 * not return from a function, nor call one: it exits (code) in the asm.
 */
static long raw_vfork_exit(int code)
{
	long ret;

	asm volatile("syscall\n\t"
		     "test %%rax, %%rax\n\t"
		     "jnz 1f\n\t"
		     "mov %2, %%edi\n\t"
		     "mov $60, %%eax\n\t" /* SYS_exit */
		     "syscall\n\t"
		     "1:"
		     : "=a"(ret) : "0"((long)SYS_vfork), "r"(code)
		     : "rcx", "r11", "rdi", "memory");
	return ret;
}

static pid_t thread_child_pid;
static int thread_child_status;

/* Fork from a thread other than the main one: the child has one thread,
 * the one that called fork, and it is the child's main thread. */
static void *fork_thread(void *arg)
{
	(void)arg;
	pid_t pid = fork();

	if (pid == 0) {
		int ok = syscall(SYS_gettid) == getpid();

		_exit(ok ? 0 : 1);
	}
	thread_child_pid = pid;
	waitpid(pid, &thread_child_status, 0);
	return NULL;
}

int main(void)
{
	pid_t self = getpid(), pid;
	int stack_word = 1;
	int *heap_word = malloc(sizeof(int));
	int *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct shared *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	alarm(10);
	*heap_word = 1;
	*priv = 1;
	sh->word = 1;

	/* Return values and the relation between the two processes. */
	puts("fork:");
	pid = fork();
	if (pid == 0) {
		printf("  child: fork returned 0\n");
		SHOW(getppid() == self);
		SHOW(getpid() != self);
		SHOW(syscall(SYS_gettid) == getpid());
		/* Timers are not inherited; the watchdog is re-armed. */
		SHOW(alarm(10) == 0);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	SHOW(pid > 0);
	SHOW(pid != self);
	SHOW(getpid() == self);

	/* Memory: the child gets a copy of everything private and shares
	 * MAP_SHARED mappings. The child writes 2 everywhere; then the parent
	 * writes 3 everywhere and the child looks again. */
	puts("memory:");
	pid = fork();
	if (pid == 0) {
		stack_word = 2;
		*heap_word = 2;
		static_word = 2;
		*priv = 2;
		sh->word = 2;
		__atomic_store_n(&sh->child_saw[0], 1, __ATOMIC_RELEASE);
		wait_flag(&sh->go);
		/* The parent's later writes are not seen, except in sh. */
		sh->child_saw[1] = stack_word * 1000 + *heap_word * 100 + static_word * 10 + *priv;
		sh->child_saw[2] = sh->word;
		_exit(0);
	}
	wait_flag(&sh->child_saw[0]);
	printf("  after child writes: stack %d heap %d static %d private %d shared %d\n",
	       stack_word, *heap_word, static_word, *priv, sh->word);
	stack_word = 3;
	*heap_word = 3;
	static_word = 3;
	*priv = 3;
	sh->word = 3;
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	waitpid(pid, NULL, 0);
	printf("  child after parent writes: private %d shared %d\n", sh->child_saw[1], sh->child_saw[2]);

	/* fds: inherited, with the same file description (offset, status
	 * flags) and the same fd flags, but in a separate fd table. */
	puts("fds:");
	{
		int fd = open("/etc/passwd", O_RDONLY);
		int fd_cloexec = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

		SHOW(fd >= 0 && fd_cloexec >= 0);
		lseek(fd, 2, SEEK_SET);
		pid = fork();
		if (pid == 0) {
			printf("  child: offset %ld\n", (long)lseek(fd, 0, SEEK_CUR));
			CHECK(fcntl(fd, F_GETFD));
			CHECK(fcntl(fd_cloexec, F_GETFD));
			CHECK(lseek(fd, 5, SEEK_SET));
			CHECK(fcntl(fd, F_SETFL, O_NONBLOCK));
			CHECK(fcntl(fd_cloexec, F_SETFD, 0));
			CHECK(close(fd_cloexec));
			CHECK(dup2(fd, 20));
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		printf("  parent: offset %ld\n", (long)lseek(fd, 0, SEEK_CUR));
		printf("  parent: O_NONBLOCK %d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
		CHECK(fcntl(fd_cloexec, F_GETFD));
		CHECK(fcntl(20, F_GETFD));
		close(fd);
		close(fd_cloexec);
	}

	/* Signals: the mask and dispositions are inherited, pending signals
	 * are not. */
	puts("signals:");
	{
		sigset_t set, old;
		struct sigaction sa = { .sa_handler = handler };

		/* SIGHUP has a handler: under runsc this program is pid 1,
		 * for which signals at SIG_DFL are special. */
		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sa.sa_handler = SIG_IGN;
		sigaction(SIGUSR2, &sa, NULL);
		sigemptyset(&set);
		sigaddset(&set, SIGHUP);
		sigprocmask(SIG_BLOCK, &set, &old);
		raise(SIGHUP);
		pid = fork();
		if (pid == 0) {
			struct sigaction cur;
			sigset_t mask, pending;

			sigprocmask(SIG_BLOCK, NULL, &mask);
			sigpending(&pending);
			SHOW(sigismember(&mask, SIGHUP));
			SHOW(sigismember(&pending, SIGHUP));
			sigaction(SIGUSR1, NULL, &cur);
			SHOW(cur.sa_handler == handler);
			sigaction(SIGUSR2, NULL, &cur);
			SHOW(cur.sa_handler == SIG_IGN);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		sigpending(&set);
		printf("  parent: SIGHUP still pending %d\n", sigismember(&set, SIGHUP));
		/* Discard the pending SIGHUP, then unblock it. */
		sa.sa_handler = SIG_IGN;
		sigaction(SIGHUP, &sa, NULL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGUSR2, &sa, NULL);
	}

	/* The raw system call, without glibc's fork() around it. */
	puts("raw fork:");
	pid = syscall(SYS_fork);
	if (pid == 0)
		syscall(SYS_exit_group, 9);
	SHOW(pid > 0);
	reap("  SYS_fork", pid);

	/* fork from a second thread. */
	puts("fork from a thread:");
	{
		pthread_t t;

		pthread_create(&t, NULL, fork_thread, NULL);
		pthread_join(t, NULL);
		SHOW(thread_child_pid > 0);
		printf("  child's gettid() == getpid(): exit %d\n", WEXITSTATUS(thread_child_status));
	}

	/* vfork: the parent is suspended until the child exits or execs,
	 * and the child runs in the parent's memory. */
	puts("vfork:");
	vfork_step = 0;
	pid = vfork();
	if (pid == 0) {
		vfork_ppid = getppid();
		for (int i = 0; i < 100; i++)
			sched_yield();
		vfork_step = 1;
		_exit(4);
	}
	printf("  parent resumed after the child's write: %d\n", vfork_step);
	SHOW(vfork_ppid == self);
	reap("  vfork/_exit", pid);
	vfork_step = 0;
	pid = vfork();
	if (pid == 0) {
		char *argv[] = { "true", NULL };
		char *envp[] = { NULL };

		vfork_step = 1;
		execve("/usr/bin/true", argv, envp);
		vfork_step = 2;
		_exit(127);
	}
	printf("  parent resumed after exec: step %d\n", vfork_step);
	reap("  vfork/execve true", pid);
	pid = raw_vfork_exit(6);
	SHOW(pid > 0);
	reap("  SYS_vfork", pid);

	/* Exit statuses. */
	puts("exit statuses:");
	{
		static const int codes[] = { 0, 1, 42, 255, 256, 257, -1 };

		for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
			char what[32];

			pid = fork();
			if (pid == 0)
				_exit(codes[i]);
			snprintf(what, sizeof(what), "  _exit(%d)", codes[i]);
			reap(what, pid);
		}
		pid = fork();
		if (pid == 0) {
			/* exit() flushes stdio and runs atexit handlers. */
			exit(3);
		}
		reap("  exit(3)", pid);
		pid = fork();
		if (pid == 0)
			return 5;
		reap("  return 5 from main", pid);
		pid = fork();
		if (pid == 0) {
			raise(SIGKILL);
			_exit(0);
		}
		reap("  raise(SIGKILL)", pid);
		pid = fork();
		if (pid == 0) {
			raise(SIGTERM);
			_exit(0);
		}
		reap("  raise(SIGTERM)", pid);
	}
	/* No children are left. */
	CHECK(waitpid(-1, NULL, WNOHANG));
	return 0;
}
