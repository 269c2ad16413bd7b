/*
 * execve.c: execve(2) and execveat(2). The program re-executes itself
 * through /proc/self/exe with "child MODE ..." arguments, and the new image
 * prints what it inherited: argv and envp (with empty strings), the pid and
 * parent, fds with and without close-on-exec, signal dispositions (handlers
 * reset, ignored kept, flags cleared), the blocked mask and pending
 * signals, the alternate stack, alarms, cwd, umask and rlimits. Also exec
 * from a second thread, a NULL argv, an existing #! script, execveat
 * (AT_EMPTY_PATH, O_PATH fds, relative paths) and the errors. ENOEXEC is
 * not tested: no host file is executable without being ELF or #!, and the
 * tests may not create one. The E2BIG checks come last.
 *
 * Every exec happens in a forked child; the parent waits before printing.
 */
#include "common.h"
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define SELF "/proc/self/exe"

/* The kernel's struct sigaction on x86_64. */
struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

#define BIT(sig) (1ULL << ((sig) - 1))

static void handler(int sig)
{
	(void)sig;
}

static void show_action(const char *name, int sig)
{
	struct ksigaction k;

	syscall(SYS_rt_sigaction, sig, NULL, &k, 8);
	printf("  %s: %s flags 0x%lx mask 0x%llx\n", name,
	       k.handler == SIG_DFL ? "SIG_DFL" : k.handler == SIG_IGN ? "SIG_IGN" : "handler",
	       k.flags, (unsigned long long)k.mask);
}

/* ---- The new image: "child MODE ARGS..." ---- */

static int child_main(int argc, char **argv, char **envp)
{
	const char *mode = argv[2];

	if (strcmp(mode, "args") == 0) {
		int n = 0;

		printf("  argc %d\n", argc);
		for (int i = 0; i < argc; i++) {
			char label[32];

			snprintf(label, sizeof(label), "  argv[%d]", i);
			print_bytes(label, argv[i], strlen(argv[i]));
		}
		SHOW(argv[argc] == NULL);
		for (char **e = envp; *e; e++, n++) {
			char label[32];

			snprintf(label, sizeof(label), "  envp[%d]", n);
			print_bytes(label, *e, strlen(*e));
		}
		printf("  %d environment strings\n", n);
		print_bytes("  AT_EXECFN", (char *)getauxval(AT_EXECFN), strlen((char *)getauxval(AT_EXECFN)));
		return 0;
	}
	if (strcmp(mode, "state") == 0) {
		char name[17] = "", cwd[256] = "";
		struct rlimit rl;
		mode_t mask = umask(0);

		SHOW(getpid() == atoi(argv[3]));
		SHOW(getppid() == atoi(argv[4]));
		prctl(PR_GET_NAME, name);
		printf("  comm \"%s\"\n", name);
		getcwd(cwd, sizeof(cwd));
		printf("  cwd \"%s\"\n", cwd);
		printf("  umask 0%o\n", mask);
		getrlimit(RLIMIT_NOFILE, &rl);
		printf("  RLIMIT_NOFILE soft %ld\n", (long)rl.rlim_cur);
		/* The alarm set before the exec is still running. */
		SHOW(alarm(10) > 0);
		return 3;
	}
	if (strcmp(mode, "fds") == 0) {
		printf("  open fds:");
		for (int fd = 0; fd < 64; fd++)
			if (fcntl(fd, F_GETFD) != -1)
				printf(" %d", fd);
		printf("\n");
		for (int fd = 10; fd <= 14; fd++)
			printf("  fd %d: F_GETFD %d\n", fd, fcntl(fd, F_GETFD));
		printf("  fd 10 offset %ld, O_NONBLOCK %d\n", (long)lseek(10, 0, SEEK_CUR),
		       (fcntl(10, F_GETFL) & O_NONBLOCK) != 0);
		return 0;
	}
	if (strcmp(mode, "signals") == 0) {
		uint64_t set = 0;
		stack_t ss;

		show_action("SIGUSR1 (had a handler)", SIGUSR1);
		show_action("SIGUSR2 (was ignored)", SIGUSR2);
		show_action("SIGCHLD (was ignored)", SIGCHLD);
		show_action("SIGHUP (had a handler)", SIGHUP);
		show_action("SIGTERM (default)", SIGTERM);
		syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &set, 8);
		printf("  blocked 0x%llx\n", (unsigned long long)(set & 0xffffffffULL));
		syscall(SYS_rt_sigpending, &set, 8);
		printf("  pending 0x%llx\n", (unsigned long long)set);
		sigaltstack(NULL, &ss);
		printf("  sigaltstack flags %d (SS_DISABLE %d)\n", ss.ss_flags, SS_DISABLE);
		/* Exit without unblocking: the pending signals stay pending. */
		return 0;
	}
	if (strcmp(mode, "thread") == 0) {
		DIR *d = opendir("/proc/self/task");
		struct dirent *de;
		int n = 0;

		SHOW(getpid() == atoi(argv[3]));
		SHOW(syscall(SYS_gettid) == getpid());
		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.')
				n++;
		if (d)
			closedir(d);
		printf("  threads in /proc/self/task: %d\n", n);
		return 4;
	}
	if (strcmp(mode, "hello") == 0) {
		const char *fn = (const char *)getauxval(AT_EXECFN);

		printf("  hello, %s\n", argc > 3 ? argv[3] : "?");
		printf("  AT_EXECFN %s\n", strncmp(fn, "/dev/fd/", 8) == 0 ? "/dev/fd/N" : fn);
		return 5;
	}
	printf("  unexpected exec: mode %s\n", mode);
	return 1;
}

/* ---- The parent ---- */

static void reap(pid_t pid)
{
	int st = -1;
	pid_t r = waitpid(pid, &st, 0);

	if (WIFEXITED(st))
		printf("  reaped %d, exit %d\n", r == pid, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("  reaped %d, signal %d\n", r == pid, WTERMSIG(st));
	else
		printf("  reaped %d, status 0x%x\n", r == pid, st);
}

static char *no_env[] = { NULL };
static char *unexpected[] = { "x", "child", "unexpected", NULL };

/* In a child: make the call, print its result; exit(99) if it returns. */
#define IN_CHILD(...) do { \
	pid_t p_ = fork(); \
	if (p_ == 0) { \
		__VA_ARGS__; \
		_exit(99); \
	} \
	reap(p_); \
} while (0)

static char exec_pid[16];

static void *exec_thread(void *arg)
{
	(void)arg;
	char *av[] = { "x", "child", "thread", exec_pid, NULL };

	execve(SELF, av, no_env);
	printf("  execve from thread failed: %s\n", errno_name(errno));
	_exit(98);
}

int main(int argc, char **argv, char **envp)
{
	if (argc == 1 && argv[0][0] == 0) {
		/* Started with a NULL argv: the kernel made it { "" }. */
		int n = 0;

		while (envp[n])
			n++;
		printf("  NULL argv: argc %d, argv[0] \"%s\", argv[1] NULL %d, %d environment strings\n",
		       argc, argv[0], argv[1] == NULL, n);
		return 6;
	}
	if (argc >= 3 && strcmp(argv[1], "child") == 0)
		return child_main(argc, argv, envp);

	alarm(10);

	puts("argv and envp:");
	IN_CHILD({
		char *av[] = { "prog", "child", "args", "", "two words", "tab\there", "", "last", NULL };
		char *ev[] = { "A=1", "", "EMPTY=", "NOEQUALS", "A=2", NULL };

		execve(SELF, av, ev);
	});
	puts("NULL argv and envp:");
	IN_CHILD(syscall(SYS_execve, SELF, NULL, NULL));
	puts("empty envp:");
	IN_CHILD({
		char *av[] = { "x", "child", "args", NULL };

		execve(SELF, av, no_env);
	});

	puts("what the new image keeps:");
	IN_CHILD({
		char pid[16], ppid[16];
		char *av[] = { "x", "child", "state", pid, ppid, NULL };
		struct rlimit rl;

		snprintf(pid, sizeof(pid), "%d", getpid());
		snprintf(ppid, sizeof(ppid), "%d", getppid());
		chdir("/usr");
		umask(027);
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = 100;
		setrlimit(RLIMIT_NOFILE, &rl);
		alarm(10);
		execve(SELF, av, no_env);
	});

	puts("fds:");
	IN_CHILD({
		char *av[] = { "x", "child", "fds", NULL };
		int null = open("/dev/null", O_RDONLY);
		int passwd = open("/etc/passwd", O_RDONLY);

		dup2(passwd, 10);
		lseek(10, 3, SEEK_SET);
		fcntl(10, F_SETFL, O_NONBLOCK);
		dup3(null, 11, O_CLOEXEC);
		dup2(null, 12);
		fcntl(12, F_SETFD, FD_CLOEXEC);
		dup2(null, 13);
		dup2(null, 14);
		fcntl(14, F_SETFD, FD_CLOEXEC);
		fcntl(14, F_SETFD, 0);
		close(null);
		close(passwd);
		/* An O_CLOEXEC open lands on the lowest free fd. */
		open("/dev/null", O_RDONLY | O_CLOEXEC);
		execve(SELF, av, no_env);
	});

	puts("signals:");
	IN_CHILD({
		char *av[] = { "x", "child", "signals", NULL };
		struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART | SA_SIGINFO };
		static char altstack[65536];
		stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
		sigset_t set;

		sigaddset(&sa.sa_mask, SIGQUIT);
		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sa.sa_handler = SIG_IGN;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGUSR2, &sa, NULL);
		sigaction(SIGCHLD, &sa, NULL);
		sigaltstack(&ss, NULL);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGWINCH);
		sigprocmask(SIG_BLOCK, &set, NULL);
		raise(SIGUSR1);
		raise(SIGINT);
		raise(SIGUSR2); /* ignored: discarded */
		execve(SELF, av, no_env);
	});

	puts("exec from a second thread:");
	IN_CHILD({
		pthread_t t;

		snprintf(exec_pid, sizeof(exec_pid), "%d", getpid());
		pthread_create(&t, NULL, exec_thread, NULL);
		for (;;)
			pause();
	});

	puts("execveat:");
	IN_CHILD({
		char *av[] = { "x", "child", "hello", "AT_EMPTY_PATH", NULL };
		int fd = open(SELF, O_RDONLY | O_CLOEXEC);

		syscall(SYS_execveat, fd, "", av, no_env, AT_EMPTY_PATH);
	});
	IN_CHILD({
		char *av[] = { "x", "child", "hello", "O_PATH fd", NULL };
		int fd = open(SELF, O_PATH);

		syscall(SYS_execveat, fd, "", av, no_env, AT_EMPTY_PATH);
	});
	IN_CHILD({
		char *av[] = { "x", "child", "hello", "AT_FDCWD", NULL };

		syscall(SYS_execveat, AT_FDCWD, SELF, av, no_env, 0);
	});
	IN_CHILD({
		char *av[] = { "x", "child", "hello", "relative to a dirfd", NULL };
		int dir = open("/proc/self", O_RDONLY | O_DIRECTORY);

		syscall(SYS_execveat, dir, "exe", av, no_env, 0);
	});
	IN_CHILD({
		int fd = open(SELF, O_RDONLY);
		int dir = open("/", O_RDONLY | O_DIRECTORY);
		int file = open("/etc/passwd", O_RDONLY);

		SYS(execveat, fd, "", unexpected, no_env, 0);
		SYS(execveat, fd, "", unexpected, no_env, 1);
		SYS(execveat, fd, "", unexpected, no_env, AT_SYMLINK_FOLLOW);
		SYS(execveat, AT_FDCWD, SELF, unexpected, no_env, 1);
		SYS(execveat, AT_FDCWD, SELF, unexpected, no_env, AT_SYMLINK_FOLLOW);
		SYS(execveat, BAD_FD, "", unexpected, no_env, AT_EMPTY_PATH);
		SYS(execveat, BAD_FD, "x", unexpected, no_env, 0);
		SYS(execveat, file, "x", unexpected, no_env, 0);
		SYS(execveat, dir, "", unexpected, no_env, AT_EMPTY_PATH);
		SYS(execveat, file, "", unexpected, no_env, AT_EMPTY_PATH);
		SYS(execveat, AT_FDCWD, SELF, unexpected, no_env, AT_SYMLINK_NOFOLLOW);
		SYS(execveat, AT_FDCWD, "/proc/self/../self/exe", unexpected, no_env, AT_SYMLINK_NOFOLLOW);
		syscall(SYS_exit_group, 0);
	});

	puts("execve errors:");
	IN_CHILD({
		char *bad_arg[] = { "x", BAD_PTR, NULL };
		char *bad_env[] = { BAD_PTR, NULL };

		SYS(execve, "/nonexistent", unexpected, no_env);
		SYS(execve, "", unexpected, no_env);
		SYS(execve, "/", unexpected, no_env);
		SYS(execve, "/etc/passwd", unexpected, no_env);
		SYS(execve, "/dev/null", unexpected, no_env);
		SYS(execve, "/etc/passwd/x", unexpected, no_env);
		SYS(execve, "/nonexistent/x", unexpected, no_env);
		SYS(execve, long_path(5000), unexpected, no_env);
		SYS(execve, symlink_chain(41), unexpected, no_env);
		SYS(execve, BAD_PTR, unexpected, no_env);
		SYS(execve, NULL, unexpected, no_env);
		SYS(execve, SELF, BAD_PTR, no_env);
		SYS(execve, SELF, unexpected, BAD_PTR);
		SYS(execve, SELF, bad_arg, no_env);
		SYS(execve, SELF, unexpected, bad_env);
		syscall(SYS_exit_group, 0);
	});

	puts("#! script (which.debianutils, if the host has it):");
	IN_CHILD({
		char *av[] = { "which", "sh", NULL };
		char *ev[] = { "PATH=/usr/bin", NULL };

		SYS(execve, "/usr/bin/which.debianutils", av, ev);
	});

	puts("E2BIG:");
	IN_CHILD({
		char *huge_arg[] = { "x", "child", "unexpected", NULL, NULL };
		char *many[32];
		struct rlimit rl = { 8 << 20, 8 << 20 };
		size_t big = 200000;
		char *s = malloc(big + 1);

		/* Strings longer than a quarter of the stack limit in all. */
		setrlimit(RLIMIT_STACK, &rl);
		memset(s, 'a', big);
		s[120000] = 0;
		many[0] = "x";
		many[1] = "child";
		many[2] = "unexpected";
		for (int i = 3; i < 31; i++)
			many[i] = s;
		many[31] = NULL;
		SYS(execve, SELF, many, no_env);
		/* One string longer than MAX_ARG_STRLEN (32 pages). */
		s[120000] = 'a';
		s[big] = 0;
		huge_arg[3] = s;
		SYS(execve, SELF, huge_arg, no_env);
		syscall(SYS_exit_group, 0);
	});
	return 0;
}
