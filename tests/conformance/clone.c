/*
 * clone.c: clone(2) and clone3(2) flags. What CLONE_VM, CLONE_FILES,
 * CLONE_FS, CLONE_SIGHAND, CLONE_THREAD, CLONE_PARENT, CLONE_VFORK and
 * CLONE_CLEAR_SIGHAND share or reset, the tid words (CLONE_PARENT_SETTID,
 * CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID with its futex wake), CLONE_SETTLS,
 * CLONE_PIDFD, and the EINVAL/E2BIG/EFAULT argument checks. Namespace flags
 * are not tested (runsc refuses them, root on the host would not).
 *
 * Children get their own stacks and do not print: they leave what they see
 * in memory the parent reads after waiting, or in their exit status.
 */
#include "common.h"
#include <asm/prctl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define STACK_SIZE 65536
static char stacks[4][STACK_SIZE] __attribute__((aligned(64)));
#define STACK(i) (stacks[i] + STACK_SIZE)

/* Written by CLONE_VM children, read by the parent after the wait. */
static volatile long seen[8];
static volatile int shared_word;
static volatile int fd_to_close;

/* Raw system calls for children that share the parent's TLS (errno). */
static long raw(long n, long a, long b, long c, long d)
{
	long ret;
	register long r10 asm("r10") = d;

	asm volatile("syscall" : "=a"(ret) : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
		     : "rcx", "r11", "memory");
	return ret;
}

/* The kernel's struct sigaction on x86_64. */
struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

static void handler(int sig)
{
	(void)sig;
}

static const char *disposition(int sig)
{
	struct sigaction sa;

	sigaction(sig, NULL, &sa);
	return sa.sa_handler == SIG_DFL ? "SIG_DFL" : sa.sa_handler == SIG_IGN ? "SIG_IGN" :
	       sa.sa_handler == handler ? "handler" : "?";
}

static int child_write(void *arg)
{
	(void)arg;
	shared_word = 42;
	return 0;
}

static int child_close(void *arg)
{
	(void)arg;
	seen[0] = raw(SYS_close, fd_to_close, 0, 0, 0);
	seen[1] = raw(SYS_dup, 0, 0, 0, 0);
	return 0;
}

static int child_chdir(void *arg)
{
	seen[0] = raw(SYS_chdir, (long)arg, 0, 0, 0);
	seen[1] = raw(SYS_umask, 077, 0, 0, 0);
	return 0;
}

static int child_sigaction(void *arg)
{
	struct ksigaction act = { SIG_IGN, 0, NULL, 0 };

	(void)arg;
	seen[0] = raw(SYS_rt_sigaction, SIGUSR1, (long)&act, 0, 8);
	return 0;
}

static int child_ids(void *arg)
{
	volatile int *ctid = arg;

	seen[0] = raw(SYS_getpid, 0, 0, 0, 0);
	seen[1] = raw(SYS_gettid, 0, 0, 0, 0);
	seen[2] = raw(SYS_getppid, 0, 0, 0, 0);
	seen[3] = ctid ? *ctid : -1;
	return 0;
}

/* Not CLONE_VM: the verdict is the exit status. */
static int child_check_ctid(void *arg)
{
	volatile int *ctid = arg;

	return *ctid == raw(SYS_gettid, 0, 0, 0, 0) ? 0 : 1;
}

static int child_exit(void *arg)
{
	return (int)(long)arg;
}

/* CLONE_PARENT child: its parent, in the shared page, then exit 5. */
static int child_ppid(void *arg)
{
	volatile long *sh = arg;

	sh[3] = raw(SYS_getppid, 0, 0, 0, 0);
	return 5;
}

static int child_vfork(void *arg)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	(void)arg;
	raw(SYS_nanosleep, (long)&ts, 0, 0, 0);
	shared_word = 7;
	return 0;
}

/* CLONE_SETTLS: the thread pointer is the block's address, and the block's
 * first word points to itself (the x86_64 TCB convention). */
struct tls_block {
	struct tls_block *self;
	long words[63];
};
static struct tls_block tls __attribute__((aligned(64)));

__attribute__((no_stack_protector)) static int child_tls(void *arg)
{
	long fs = 0, self;

	(void)arg;
	raw(SYS_arch_prctl, ARCH_GET_FS, (long)&fs, 0, 0);
	asm volatile("mov %%fs:0, %0" : "=r"(self));
	seen[0] = fs == (long)&tls;
	seen[1] = self == (long)&tls;
	return 0;
}

/* CLONE_CLEAR_SIGHAND child: report dispositions in the exit status. */
static int clear_sighand_verdict(void)
{
	struct ksigaction a1, a2;

	raw(SYS_rt_sigaction, SIGUSR1, 0, (long)&a1, 8);
	raw(SYS_rt_sigaction, SIGUSR2, 0, (long)&a2, 8);
	return (a1.handler == SIG_DFL ? 1 : 0) | (a2.handler == SIG_IGN ? 2 : 0);
}

static void reap(const char *label, pid_t pid, int flags)
{
	int st = -1;
	pid_t r = waitpid(pid, &st, flags);

	printf("  %s: reaped %d, ", label, r == pid);
	if (WIFEXITED(st))
		printf("exit %d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("signal %d\n", WTERMSIG(st));
	else
		printf("status 0x%x\n", st);
}

/* A clone that should fail: print "= -1 ENAME", or "= ok" (and reap) if
 * it does not. */
static int child_quit(void *arg)
{
	(void)arg;
	raw(SYS_exit, 0, 0, 0, 0);
	return 0;
}

#define BAD_CLONE(flags) ({ \
	errno = 0; \
	int r_ = clone(child_quit, STACK(3), flags, NULL); \
	check_ok_print("clone(" #flags ")", r_ == -1 ? -1 : 0, errno); \
	if (r_ > 0 && !((flags) & CLONE_THREAD)) \
		waitpid(r_, NULL, __WALL); })

static long clone3(struct clone_args *args, size_t size)
{
	return syscall(SYS_clone3, args, size);
}

/*
 * clone3 with a new stack and CLONE_VM | CLONE_VFORK: the child cannot
 * return from a function on its new stack, so it records its stack pointer
 * and exits (23) in the asm.
 */
static long child_rsp;

static long clone3_on_stack(struct clone_args *args)
{
	long ret;

	asm volatile("syscall\n\t"
		     "test %%rax, %%rax\n\t"
		     "jnz 1f\n\t"
		     "mov %%rsp, %1\n\t"
		     "mov $60, %%eax\n\t" /* SYS_exit */
		     "mov $23, %%edi\n\t"
		     "syscall\n\t"
		     "1:"
		     : "=a"(ret), "=m"(child_rsp)
		     : "0"((long)SYS_clone3), "D"(args), "S"(sizeof(*args))
		     : "rcx", "r11", "memory");
	return ret;
}

/*
 * clone3 for calls that should fail: if one does create a child, the child
 * exits at once in the asm, without touching memory (it may share the
 * parent's stack). Returns like syscall().
 */
static long clone3_or_exit(void *args, long size)
{
	long ret;

	asm volatile("syscall\n\t"
		     "test %%rax, %%rax\n\t"
		     "jnz 1f\n\t"
		     "mov $60, %%eax\n\t" /* SYS_exit */
		     "xor %%edi, %%edi\n\t"
		     "syscall\n\t"
		     "1:"
		     : "=a"(ret)
		     : "0"((long)SYS_clone3), "D"(args), "S"(size)
		     : "rcx", "r11", "memory");
	if (ret < 0 && ret > -4096) {
		errno = -ret;
		return -1;
	}
	return ret;
}

#define BAD_CLONE3(what, args, size) ({ \
	errno = 0; \
	long r_ = clone3_or_exit(args, size); \
	check_ok_print("clone3(" what ")", r_ == -1 ? -1 : 0, errno); \
	if (r_ > 0) \
		waitpid(r_, NULL, __WALL); })

int main(void)
{
	pid_t pid;
	int st;

	alarm(10);

	puts("CLONE_VM:");
	shared_word = 0;
	pid = clone(child_write, STACK(0), SIGCHLD, NULL);
	reap("without", pid, 0);
	printf("  word %d\n", shared_word);
	pid = clone(child_write, STACK(0), CLONE_VM | SIGCHLD, NULL);
	reap("with", pid, 0);
	printf("  word %d\n", shared_word);

	puts("CLONE_FILES:");
	seen[0] = seen[1] = -100;
	fd_to_close = dup2(open("/dev/null", O_RDONLY), 30);
	close(3);
	pid = clone(child_close, STACK(0), CLONE_VM | SIGCHLD, NULL);
	reap("without", pid, 0);
	printf("  child close %ld, dup %ld\n", seen[0], seen[1]);
	CHECK(fcntl(fd_to_close, F_GETFD));
	CHECK(fcntl(seen[1], F_GETFD));
	pid = clone(child_close, STACK(0), CLONE_VM | CLONE_FILES | SIGCHLD, NULL);
	reap("with", pid, 0);
	printf("  child close %ld, dup %ld\n", seen[0], seen[1]);
	CHECK(fcntl(fd_to_close, F_GETFD));
	CHECK(fcntl(seen[1], F_GETFD));
	close(seen[1]);
	close(fd_to_close);

	puts("CLONE_FS:");
	{
		char before[4096], now[4096];
		mode_t old_umask = umask(022);

		getcwd(before, sizeof(before));
		pid = clone(child_chdir, STACK(0), CLONE_VM | SIGCHLD, "/usr");
		reap("without", pid, 0);
		getcwd(now, sizeof(now));
		printf("  chdir %ld, umask was 0%lo; cwd unchanged %d, umask 0%o\n", seen[0], seen[1],
		       strcmp(before, now) == 0, umask(022));
		pid = clone(child_chdir, STACK(0), CLONE_VM | CLONE_FS | SIGCHLD, "/usr");
		reap("with", pid, 0);
		getcwd(now, sizeof(now));
		printf("  chdir %ld, umask was 0%lo; cwd \"%s\", umask 0%o\n", seen[0], seen[1], now, umask(022));
		chdir(before);
		umask(old_umask);
	}

	puts("CLONE_SIGHAND:");
	{
		struct sigaction sa = { .sa_handler = handler };

		sigaction(SIGUSR1, &sa, NULL);
		pid = clone(child_sigaction, STACK(0), CLONE_VM | SIGCHLD, NULL);
		reap("without", pid, 0);
		printf("  child sigaction %ld; SIGUSR1 %s\n", seen[0], disposition(SIGUSR1));
		pid = clone(child_sigaction, STACK(0), CLONE_VM | CLONE_SIGHAND | SIGCHLD, NULL);
		reap("with", pid, 0);
		printf("  child sigaction %ld; SIGUSR1 %s\n", seen[0], disposition(SIGUSR1));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGUSR1, &sa, NULL);
	}

	puts("CLONE_THREAD and the tid words:");
	{
		static volatile int ctid, ptid;
		int v;

		ctid = -1;
		ptid = -1;
		pid = clone(child_ids, STACK(0),
			    CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			    CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID,
			    (void *)&ctid, &ptid, NULL, &ctid);
		SHOW(pid > 0);
		/* The thread clears ctid and wakes the futex when it exits. */
		while ((v = ctid) != 0)
			syscall(SYS_futex, &ctid, FUTEX_WAIT, v, NULL, NULL, 0);
		printf("  ctid cleared %d\n", ctid == 0);
		SHOW(ptid == pid);
		SHOW(seen[3] == pid);
		SHOW(seen[0] == getpid());
		SHOW(seen[1] == pid);
		SHOW(seen[1] != getpid());
		SHOW(seen[2] == getppid());
		/* A thread is not a child. */
		errno = 0;
		printf("  waitpid(thread, __WALL) = %s\n",
		       waitpid(pid, &st, __WALL | WNOHANG) == -1 ? errno_name(errno) : "?");

		/* CLONE_VM process: CLONE_CHILD_CLEARTID too. */
		ctid = -1;
		ptid = -1;
		pid = clone(child_ids, STACK(0),
			    CLONE_VM | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD,
			    (void *)&ctid, &ptid, NULL, &ctid);
		while ((v = ctid) != 0)
			syscall(SYS_futex, &ctid, FUTEX_WAIT, v, NULL, NULL, 0);
		reap("CLONE_VM process", pid, 0);
		printf("  ctid cleared %d\n", ctid == 0);
		SHOW(ptid == pid);
		SHOW(seen[3] == pid);
		SHOW(seen[0] == pid);
		SHOW(seen[1] == pid);
		SHOW(seen[2] == getpid());

		/* Without CLONE_VM: ptid is set in the parent, ctid only in
		 * the child's copy. */
		ctid = -1;
		ptid = -1;
		pid = clone(child_check_ctid, STACK(0),
			    CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD,
			    (void *)&ctid, &ptid, NULL, &ctid);
		reap("separate memory, child's ctid == its tid", pid, 0);
		SHOW(ptid == pid);
		printf("  parent's ctid %d\n", ctid);
	}

	puts("CLONE_PARENT:");
	{
		volatile long *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		pid_t middle, r1, r2;

		/* From a child of this program: the init of a pid namespace
		 * (which this program is under runsc) may not use it. */
		middle = fork();
		if (middle == 0) {
			pid_t g = clone(child_ppid, STACK(0), CLONE_PARENT | SIGCHLD, (void *)sh);

			sh[0] = g;
			sh[1] = getppid();
			/* g is not our child. */
			sh[2] = waitpid(-1, NULL, __WALL) == -1 && errno == ECHILD;
			_exit(0);
		}
		r1 = waitpid(-1, &st, 0);
		r2 = waitpid(-1, &st, 0);
		SHOW(sh[0] > 0);
		SHOW(sh[1] == getpid());
		SHOW(sh[2] == 1);
		SHOW(sh[3] == sh[1]);
		SHOW((r1 == middle && r2 == sh[0]) || (r2 == middle && r1 == sh[0]));
		SHOW(waitpid(-1, &st, WNOHANG) == -1);
	}

	puts("CLONE_VFORK:");
	shared_word = 0;
	pid = clone(child_vfork, STACK(0), CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	printf("  parent resumed after the child exited: %d\n", shared_word == 7);
	reap("vfork child", pid, 0);

	puts("CLONE_SETTLS:");
	{
		long fs_before = 0, fs_after = 0;

		tls.self = &tls;
		seen[0] = seen[1] = -1;
		syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_before);
		pid = clone(child_tls, STACK(0), CLONE_VM | CLONE_SETTLS | SIGCHLD, NULL, NULL, &tls, NULL);
		reap("tls child", pid, 0);
		syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_after);
		printf("  child fs base %ld, fs:0 %ld; parent's unchanged %d\n", seen[0], seen[1],
		       fs_before == fs_after);
	}

	puts("exit signals:");
	pid = clone(child_exit, STACK(0), 0, (void *)3);
	reap("exit signal 0, __WCLONE", pid, __WCLONE);
	{
		/* SIGUSR2 is blocked (with a handler: under runsc this
		 * program is pid 1) and stays pending. */
		sigset_t set, pending;

		signal(SIGUSR2, handler);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		sigprocmask(SIG_BLOCK, &set, NULL);
		pid = clone(child_exit, STACK(0), SIGUSR2, (void *)4);
		reap("exit signal SIGUSR2, __WALL", pid, __WALL);
		sigpending(&pending);
		printf("  SIGUSR2 pending %d\n", sigismember(&pending, SIGUSR2));
		signal(SIGUSR2, SIG_IGN);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		signal(SIGUSR2, SIG_DFL);
	}

	puts("invalid clone flags:");
	BAD_CLONE(CLONE_THREAD | SIGCHLD);
	BAD_CLONE(CLONE_THREAD | CLONE_VM | SIGCHLD);
	BAD_CLONE(CLONE_SIGHAND | SIGCHLD);
	BAD_CLONE(CLONE_SIGHAND | CLONE_FS | SIGCHLD);
	{
		int pidfd = -1;

		errno = 0;
		pid = syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, NULL, &pidfd, NULL, 0);
		if (pid == 0)
			syscall(SYS_exit, 0);
		check_ok_print("clone(CLONE_PIDFD | CLONE_PARENT_SETTID)", pid == -1 ? -1 : 0, errno);
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}

	puts("legacy clone with CLONE_PIDFD:");
	{
		int pidfd = -1;
		siginfo_t si;

		pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, NULL, &pidfd, NULL, 0);
		if (pid == 0)
			syscall(SYS_exit, 17);
		SHOW(pid > 0);
		SHOW(pidfd > 2);
		CHECK(fcntl(pidfd, F_GETFD));
		memset(&si, 0, sizeof(si));
		CHECK(waitid(P_PIDFD, pidfd, &si, WEXITED));
		printf("  si_pid == pid %d, si_status %d\n", si.si_pid == pid, si.si_status);
		close(pidfd);
	}

	puts("clone3:");
	{
		struct clone_args args;
		int pidfd = -1, ptid = -1;
		siginfo_t si;
		char big[4096 + 8];

		memset(&args, 0, sizeof(args));
		args.exit_signal = SIGCHLD;
		pid = clone3(&args, sizeof(args));
		if (pid == 0)
			syscall(SYS_exit, 20);
		reap("plain", pid, 0);

		memset(&args, 0, sizeof(args));
		args.flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
		args.pidfd = (uintptr_t)&pidfd;
		args.parent_tid = (uintptr_t)&ptid;
		args.exit_signal = SIGCHLD;
		pid = clone3(&args, sizeof(args));
		if (pid == 0)
			syscall(SYS_exit, 21);
		SHOW(pid > 0);
		SHOW(pidfd > 2);
		SHOW(ptid == pid);
		CHECK(fcntl(pidfd, F_GETFD));
		memset(&si, 0, sizeof(si));
		CHECK(waitid(P_PIDFD, pidfd, &si, WEXITED));
		printf("  si_pid == pid %d, si_code CLD_EXITED %d, si_status %d\n", si.si_pid == pid,
		       si.si_code == CLD_EXITED, si.si_status);
		close(pidfd);

		/* Exit signal 0: a clone child. */
		memset(&args, 0, sizeof(args));
		pid = clone3(&args, sizeof(args));
		if (pid == 0)
			syscall(SYS_exit, 22);
		reap("exit_signal 0", pid, __WCLONE);

		/* With a stack: the child runs on it. */
		memset(&args, 0, sizeof(args));
		args.flags = CLONE_VM | CLONE_VFORK;
		args.exit_signal = SIGCHLD;
		args.stack = (uintptr_t)stacks[1];
		args.stack_size = STACK_SIZE;
		child_rsp = 0;
		pid = clone3_on_stack(&args);
		SHOW(child_rsp == (long)(stacks[1] + STACK_SIZE));
		reap("own stack", pid, 0);

		/* CLONE_CLEAR_SIGHAND: handlers reset, ignored stays ignored. */
		{
			struct sigaction sa = { .sa_handler = handler };

			sigaction(SIGUSR1, &sa, NULL);
			sa.sa_handler = SIG_IGN;
			sigaction(SIGUSR2, &sa, NULL);
			memset(&args, 0, sizeof(args));
			args.flags = CLONE_CLEAR_SIGHAND;
			args.exit_signal = SIGCHLD;
			pid = clone3(&args, sizeof(args));
			if (pid == 0)
				syscall(SYS_exit, clear_sighand_verdict());
			reap("CLONE_CLEAR_SIGHAND (3 = SIGUSR1 default, SIGUSR2 ignored)", pid, 0);
			printf("  parent: SIGUSR1 %s, SIGUSR2 %s\n", disposition(SIGUSR1), disposition(SIGUSR2));
			sa.sa_handler = SIG_DFL;
			sigaction(SIGUSR1, &sa, NULL);
			sigaction(SIGUSR2, &sa, NULL);
		}

		/* A larger struct with zeros past the known fields. */
		memset(big, 0, sizeof(big));
		memset(&args, 0, sizeof(args));
		args.exit_signal = SIGCHLD;
		memcpy(big, &args, sizeof(args));
		pid = clone3((void *)big, sizeof(args) + 8);
		if (pid == 0)
			syscall(SYS_exit, 24);
		reap("size + 8, zero tail", pid, 0);

		/* Errors. */
		memset(&args, 0, sizeof(args));
		args.exit_signal = SIGCHLD;
		BAD_CLONE3("size 0", &args, 0);
		BAD_CLONE3("size 63", &args, 63);
		BAD_CLONE3("size 32", &args, 32);
		BAD_CLONE3("BAD_PTR", BAD_PTR, sizeof(args));
		BAD_CLONE3("NULL", NULL, sizeof(args));
		big[sizeof(args) + 4] = 1;
		BAD_CLONE3("size + 8, nonzero tail", (void *)big, sizeof(args) + 8);
		big[sizeof(args) + 4] = 0;
		BAD_CLONE3("size 4104, zero tail", (void *)big, 4096 + 8);
		args.exit_signal = 65;
		BAD_CLONE3("exit_signal 65", &args, sizeof(args));
		args.exit_signal = 256 + SIGCHLD;
		BAD_CLONE3("exit_signal 256 + SIGCHLD", &args, sizeof(args));
		args.exit_signal = SIGCHLD;
		args.flags = SIGCHLD;
		BAD_CLONE3("flags SIGCHLD", &args, sizeof(args));
		args.flags = 1ULL << 40;
		BAD_CLONE3("flags 1 << 40", &args, sizeof(args));
		args.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
		BAD_CLONE3("CLONE_THREAD with exit_signal", &args, sizeof(args));
		args.flags = CLONE_PARENT;
		BAD_CLONE3("CLONE_PARENT with exit_signal", &args, sizeof(args));
		args.flags = CLONE_THREAD | CLONE_VM;
		args.exit_signal = 0;
		BAD_CLONE3("CLONE_THREAD | CLONE_VM", &args, sizeof(args));
		args.flags = CLONE_SIGHAND;
		BAD_CLONE3("CLONE_SIGHAND", &args, sizeof(args));
		args.flags = CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM;
		args.exit_signal = SIGCHLD;
		BAD_CLONE3("CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM", &args, sizeof(args));
		args.flags = CLONE_DETACHED;
		BAD_CLONE3("CLONE_DETACHED", &args, sizeof(args));
		args.flags = 0;
		args.stack = (uintptr_t)stacks[1];
		args.stack_size = 0;
		BAD_CLONE3("stack without stack_size", &args, sizeof(args));
		args.stack = 0;
		args.stack_size = STACK_SIZE;
		BAD_CLONE3("stack_size without stack", &args, sizeof(args));
		args.stack_size = 0;
		args.flags = CLONE_PIDFD;
		args.pidfd = (uintptr_t)BAD_PTR;
		BAD_CLONE3("CLONE_PIDFD, pidfd BAD_PTR", &args, sizeof(args));
		/* A bad parent_tid is ignored: the child is created. */
		args.flags = CLONE_PARENT_SETTID;
		args.parent_tid = (uintptr_t)BAD_PTR;
		BAD_CLONE3("CLONE_PARENT_SETTID, parent_tid BAD_PTR", &args, sizeof(args));
	}
	SHOW(waitpid(-1, &st, __WALL | WNOHANG) == -1 && errno == ECHILD);
	return 0;
}
