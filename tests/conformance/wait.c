/*
 * wait.c: wait4(2) and waitid(2). Errors (ECHILD, EINVAL, ESRCH, EFAULT),
 * WNOHANG, stop/continue reporting (WUNTRACED/WSTOPPED, WCONTINUED),
 * WNOWAIT, the siginfo waitid fills (also on failure), the id types
 * (P_PID, P_PGID, P_ALL, P_PIDFD), wait4's pid argument (pid, -1, 0, -pgid),
 * "clone" children (__WCLONE, __WALL), __WNOTHREAD, status encoding of exits
 * and signals, and SIGCHLD at SIG_IGN or with SA_NOCLDWAIT.
 *
 * Children never print; the parent prints after each wait. Pids are only
 * compared.
 */
#include "common.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/*
 * wait4 returns a pid: print it as "pid" or "pid2" (the variables of main
 * holding the last children), "other" for anything else.
 */
#define WAIT4(...) ({ errno = 0; \
	long r_ = syscall(SYS_wait4, __VA_ARGS__); \
	int e_ = errno; \
	printf("wait4(%s) = %s%s\n", #__VA_ARGS__, \
	       r_ == -1 ? "-1 " : r_ <= 0 ? "0" : r_ == pid ? "pid" : \
	       r_ == pid2 ? "pid2" : "other", r_ == -1 ? errno_name(e_) : ""); \
	r_; })

/* Print a wait status and its decoding. */
static void show_status(const char *label, int st)
{
	printf("  %s: status 0x%x", label, st);
	if (WIFEXITED(st))
		printf(" WIFEXITED %d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf(" WIFSIGNALED %d WCOREDUMP %d\n", WTERMSIG(st), WCOREDUMP(st) ? 1 : 0);
	else if (WIFSTOPPED(st))
		printf(" WIFSTOPPED %d\n", WSTOPSIG(st));
	else if (WIFCONTINUED(st))
		printf(" WIFCONTINUED\n");
	else
		printf(" ?\n");
}

static const char *code_name(int code)
{
	switch (code) {
	case 0: return "0";
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_KILLED: return "CLD_KILLED";
	case CLD_DUMPED: return "CLD_DUMPED";
	case CLD_TRAPPED: return "CLD_TRAPPED";
	case CLD_STOPPED: return "CLD_STOPPED";
	case CLD_CONTINUED: return "CLD_CONTINUED";
	}
	return "?";
}

/* Print the siginfo waitid filled for child pid (0 if none expected). */
static void show_info(const siginfo_t *si, pid_t pid)
{
	printf("  si_signo %d si_errno %d si_code %s si_status %d si_pid %s si_uid %s\n",
	       si->si_signo, si->si_errno, code_name(si->si_code), si->si_status,
	       si->si_pid == pid ? "ok" : si->si_pid == 0 ? "0" : "other",
	       si->si_uid == getuid() ? "ok" : si->si_uid == 0 ? "0" : "other");
}

static void fill(siginfo_t *si)
{
	memset(si, 0x55, sizeof(*si));
}

/* A child that waits (without running away) until killed or released. */
static volatile int *release;

static pid_t spawn_waiting(void)
{
	pid_t pid;

	*release = 0;
	pid = fork();
	if (pid == 0) {
		while (!__atomic_load_n(release, __ATOMIC_ACQUIRE))
			sched_yield();
		_exit(0);
	}
	return pid;
}

static pid_t spawn_exit(int code)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(code);
	return pid;
}

/* Wait (without reaping) until pid is a zombie. */
static void until_zombie(pid_t pid)
{
	siginfo_t si;

	waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
}

static int sigchld_count;

static void on_sigchld(int sig)
{
	(void)sig;
	sigchld_count++;
}

static int clone_child(void *arg)
{
	return (int)(long)arg;
}

static char clone_stack[65536] __attribute__((aligned(16)));

static volatile int thread_go;
static pid_t thread_child;

static void *forking_thread(void *arg)
{
	(void)arg;
	thread_child = spawn_exit(8);
	until_zombie(thread_child);
	__atomic_store_n(&thread_go, 1, __ATOMIC_RELEASE);
	/* Stay alive: the child stays this thread's child. */
	while (__atomic_load_n(&thread_go, __ATOMIC_ACQUIRE) != 2)
		sched_yield();
	return NULL;
}

int main(void)
{
	int st;
	pid_t pid = 0, pid2 = 0, r;
	siginfo_t si;

	alarm(10);
	release = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	puts("no children:");
	WAIT4(-1, &st, 0, NULL);
	WAIT4(-1, &st, WNOHANG, NULL);
	WAIT4(getpid(), &st, 0, NULL);
	WAIT4(0, &st, 0, NULL);
	WAIT4(-getpgrp(), &st, 0, NULL);
	SYS(waitid, P_ALL, 0, &si, WEXITED, NULL);
	SYS(waitid, P_PID, getpid(), &si, WEXITED | WNOHANG, NULL);
	/* waitid fills the siginfo with zeros even when it fails. */
	fill(&si);
	SYS(waitid, P_ALL, 0, &si, WEXITED, NULL);
	show_info(&si, 0);

	puts("bad arguments:");
	WAIT4(-1, &st, 0x100, NULL);
	WAIT4(-1, &st, WEXITED, NULL);
	WAIT4(-1, &st, WNOWAIT, NULL);
	WAIT4(-1, &st, WSTOPPED, NULL);
	WAIT4(INT32_MIN, &st, 0, NULL);
	SYS(waitid, P_ALL, 0, &si, 0, NULL);
	SYS(waitid, P_ALL, 0, &si, WNOHANG, NULL);
	SYS(waitid, P_ALL, 0, &si, WEXITED | 0x100, NULL);
	SYS(waitid, 4, 0, &si, WEXITED, NULL);
	SYS(waitid, -1, 0, &si, WEXITED, NULL);
	SYS(waitid, P_PID, 0, &si, WEXITED, NULL);
	SYS(waitid, P_PID, -1, &si, WEXITED, NULL);
	SYS(waitid, P_PGID, -1, &si, WEXITED, NULL);
	SYS(waitid, P_PIDFD, -1, &si, WEXITED, NULL);
	SYS(waitid, P_PIDFD, BAD_FD, &si, WEXITED, NULL);
	SYS(waitid, P_PIDFD, 0, &si, WEXITED, NULL);

	puts("exit statuses (wait4):");
	{
		static const int codes[] = { 0, 1, 3, 255, 256 + 3, -1 };

		for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
			char label[32];

			pid = spawn_exit(codes[i]);
			r = wait4(pid, &st, 0, NULL);
			snprintf(label, sizeof(label), "exit(%d)", codes[i]);
			SHOW(r == pid);
			show_status(label, st);
		}
	}

	puts("killed by signals:");
	{
		static const int sigs[] = { SIGKILL, SIGTERM, SIGUSR1, SIGSEGV, SIGABRT };
		struct rlimit rl = { 0, 0 };

		for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
			char label[32];

			pid = fork();
			if (pid == 0) {
				/* No core file, and no core dump helper. */
				setrlimit(RLIMIT_CORE, &rl);
				prctl(PR_SET_DUMPABLE, 0);
				raise(sigs[i]);
				_exit(100);
			}
			r = wait4(pid, &st, 0, NULL);
			snprintf(label, sizeof(label), "raise(%s)", sigabbrev_np(sigs[i]));
			SHOW(r == pid);
			show_status(label, st);
		}
		/* The same through waitid. */
		pid = fork();
		if (pid == 0) {
			setrlimit(RLIMIT_CORE, &rl);
			prctl(PR_SET_DUMPABLE, 0);
			abort();
		}
		fill(&si);
		SYS(waitid, P_PID, pid, &si, WEXITED, NULL);
		show_info(&si, pid);
		pid = fork();
		if (pid == 0)
			raise(SIGKILL);
		fill(&si);
		SYS(waitid, P_PID, pid, &si, WEXITED, NULL);
		show_info(&si, pid);
		pid = spawn_exit(256 + 3);
		fill(&si);
		SYS(waitid, P_PID, pid, &si, WEXITED, NULL);
		show_info(&si, pid);
	}

	puts("WNOHANG:");
	pid = spawn_waiting();
	WAIT4(-1, &st, WNOHANG, NULL);
	SHOW(wait4(pid, &st, WNOHANG, NULL) == 0);
	fill(&si);
	SYS(waitid, P_PID, pid, &si, WEXITED | WNOHANG, NULL);
	show_info(&si, 0);
	fill(&si);
	SYS(waitid, P_ALL, 0, &si, WEXITED | WSTOPPED | WCONTINUED | WNOHANG, NULL);
	show_info(&si, 0);
	*release = 1;
	SHOW(wait4(pid, &st, 0, NULL) == pid);
	show_status("released", st);

	puts("stop and continue (wait4):");
	/* The child stays until the parent has seen it continue: once it
	 * has exited, its exit is reported instead. */
	*release = 0;
	pid = fork();
	if (pid == 0) {
		raise(SIGSTOP);
		while (!__atomic_load_n(release, __ATOMIC_ACQUIRE))
			sched_yield();
		_exit(11);
	}
	SHOW(wait4(pid, &st, WUNTRACED, NULL) == pid);
	show_status("WUNTRACED", st);
	/* A stop is reported once. */
	SHOW(wait4(pid, &st, WUNTRACED | WNOHANG, NULL) == 0);
	SHOW(wait4(pid, &st, WCONTINUED | WNOHANG, NULL) == 0);
	kill(pid, SIGCONT);
	SHOW(wait4(pid, &st, WCONTINUED, NULL) == pid);
	show_status("WCONTINUED", st);
	*release = 1;
	SHOW(wait4(pid, &st, 0, NULL) == pid);
	show_status("exit", st);

	puts("stop and continue (waitid):");
	*release = 0;
	pid = fork();
	if (pid == 0) {
		raise(SIGSTOP);
		while (!__atomic_load_n(release, __ATOMIC_ACQUIRE))
			sched_yield();
		_exit(12);
	}
	fill(&si);
	SYS(waitid, P_PID, pid, &si, WSTOPPED | WNOWAIT, NULL);
	show_info(&si, pid);
	/* WNOWAIT: still reportable. */
	fill(&si);
	SYS(waitid, P_PID, pid, &si, WSTOPPED, NULL);
	show_info(&si, pid);
	fill(&si);
	SYS(waitid, P_PID, pid, &si, WSTOPPED | WNOHANG, NULL);
	show_info(&si, 0);
	kill(pid, SIGCONT);
	fill(&si);
	SYS(waitid, P_PID, pid, &si, WCONTINUED, NULL);
	show_info(&si, pid);
	*release = 1;
	fill(&si);
	SYS(waitid, P_PID, pid, &si, WEXITED | WNOWAIT, NULL);
	show_info(&si, pid);
	fill(&si);
	SYS(waitid, P_PID, pid, &si, WEXITED, NULL);
	show_info(&si, pid);
	SYS(waitid, P_PID, pid, &si, WEXITED, NULL);

	puts("stopped child killed:");
	pid = fork();
	if (pid == 0) {
		raise(SIGSTOP);
		_exit(13);
	}
	SHOW(wait4(pid, &st, WUNTRACED, NULL) == pid);
	show_status("stopped", st);
	kill(pid, SIGKILL);
	SHOW(wait4(pid, &st, 0, NULL) == pid);
	show_status("killed", st);

	puts("WNOWAIT and NULL infop:");
	pid = spawn_exit(21);
	until_zombie(pid);
	fill(&si);
	SYS(waitid, P_ALL, 0, &si, WEXITED | WNOWAIT, NULL);
	show_info(&si, pid);
	SHOW(wait4(-1, &st, WNOHANG, NULL) == pid);
	show_status("after WNOWAIT", st);
	pid = spawn_exit(22);
	until_zombie(pid);
	SYS(waitid, P_PID, pid, NULL, WEXITED, NULL);
	WAIT4(pid, &st, WNOHANG, NULL);
	pid = spawn_exit(23);
	until_zombie(pid);
	SHOW(wait4(pid, NULL, 0, NULL) == pid);

	puts("bad pointers (the child is reaped anyway):");
	pid = spawn_exit(24);
	until_zombie(pid);
	WAIT4(pid, BAD_PTR, 0, NULL);
	WAIT4(pid, &st, WNOHANG, NULL);
	pid = spawn_exit(25);
	until_zombie(pid);
	SYS(waitid, P_PID, pid, BAD_PTR, WEXITED, NULL);
	SYS(waitid, P_PID, pid, &si, WEXITED | WNOHANG, NULL);
	pid = spawn_exit(26);
	until_zombie(pid);
	WAIT4(pid, &st, 0, BAD_PTR);
	WAIT4(pid, &st, WNOHANG, NULL);

	puts("rusage:");
	{
		struct rusage ru;

		memset(&ru, 0x55, sizeof(ru));
		pid = spawn_exit(0);
		SHOW(wait4(pid, &st, 0, &ru) == pid);
		SHOW(ru.ru_maxrss > 0 && ru.ru_maxrss < 1L << 30);
		SHOW(ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000);
		memset(&ru, 0x55, sizeof(ru));
		pid = spawn_exit(0);
		until_zombie(pid);
		SYS(waitid, P_PID, pid, &si, WEXITED, &ru);
		SHOW(ru.ru_maxrss > 0 && ru.ru_maxrss < 1L << 30);
	}

	puts("specific pid and any:");
	pid = spawn_exit(31);
	pid2 = spawn_exit(32);
	until_zombie(pid);
	until_zombie(pid2);
	SHOW(wait4(pid2, &st, 0, NULL) == pid2);
	show_status("second", st);
	SHOW(wait4(-1, &st, 0, NULL) == pid);
	show_status("first", st);
	WAIT4(-1, &st, 0, NULL);
	/* A pid that is not a child (a grandchild). */
	pid = fork();
	if (pid == 0) {
		pid_t g = spawn_exit(0);

		_exit(wait4(g, NULL, 0, NULL) == g ? 33 : 1);
	}
	SHOW(wait4(pid, &st, 0, NULL) == pid);
	show_status("middle", st);

	puts("process groups:");
	/* A child in its own group, another one in ours. */
	pid = spawn_waiting();
	setpgid(pid, pid);
	SHOW(getpgid(pid) == pid);
	WAIT4(0, &st, WNOHANG, NULL);
	fill(&si);
	SYS(waitid, P_PGID, 0, &si, WEXITED | WNOHANG, NULL);
	show_info(&si, 0);
	SHOW(wait4(-pid, &st, WNOHANG, NULL) == 0);
	fill(&si);
	SYS(waitid, P_PGID, getpgrp(), &si, WEXITED | WNOHANG, NULL);
	show_info(&si, 0);
	pid2 = spawn_exit(41);
	until_zombie(pid2);
	SHOW(wait4(-pid, &st, WNOHANG, NULL) == 0);
	SHOW(wait4(0, &st, 0, NULL) == pid2);
	show_status("same group, pid 0", st);
	pid2 = spawn_exit(42);
	until_zombie(pid2);
	fill(&si);
	SYS(waitid, P_PGID, 0, &si, WEXITED, NULL);
	show_info(&si, pid2);
	pid2 = spawn_exit(43);
	until_zombie(pid2);
	fill(&si);
	SYS(waitid, P_PGID, getpgrp(), &si, WEXITED, NULL);
	show_info(&si, pid2);
	*release = 1;
	SHOW(wait4(-pid, &st, 0, NULL) == pid);
	show_status("own group, -pgid", st);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		_exit(44);
	}
	setpgid(pid, pid);
	fill(&si);
	SYS(waitid, P_PGID, pid, &si, WEXITED, NULL);
	show_info(&si, pid);
	SYS(waitid, P_PGID, pid, &si, WEXITED, NULL);

	puts("P_ALL:");
	pid = spawn_exit(51);
	fill(&si);
	SYS(waitid, P_ALL, 12345, &si, WEXITED, NULL);
	show_info(&si, pid);

	puts("P_PIDFD:");
	{
		int pidfd;

		pid = spawn_exit(61);
		pidfd = syscall(SYS_pidfd_open, pid, 0);
		SHOW(pidfd >= 0);
		fill(&si);
		SYS(waitid, P_PIDFD, pidfd, &si, WEXITED, NULL);
		show_info(&si, pid);
		SYS(waitid, P_PIDFD, pidfd, &si, WEXITED, NULL);
		close(pidfd);
		/* A pidfd of a process that is not our child. */
		pidfd = syscall(SYS_pidfd_open, getpid(), 0);
		SYS(waitid, P_PIDFD, pidfd, &si, WEXITED | WNOHANG, NULL);
		close(pidfd);
		/* An fd that is not a pidfd. */
		pidfd = open("/dev/null", O_RDONLY);
		SYS(waitid, P_PIDFD, pidfd, &si, WEXITED | WNOHANG, NULL);
		close(pidfd);
	}

	puts("clone children (exit signal 0):");
	pid = clone(clone_child, clone_stack + sizeof(clone_stack), 0, (void *)71L);
	SHOW(pid > 0);
	fill(&si);
	SYS(waitid, P_PID, pid, &si, WEXITED | __WALL | WNOWAIT, NULL);
	show_info(&si, pid);
	WAIT4(pid, &st, WNOHANG, NULL);
	WAIT4(-1, &st, WNOHANG, NULL);
	SYS(waitid, P_PID, pid, &si, WEXITED | WNOHANG, NULL);
	SHOW(wait4(pid, &st, __WCLONE, NULL) == pid);
	show_status("__WCLONE", st);
	pid = clone(clone_child, clone_stack + sizeof(clone_stack), SIGURG, (void *)72L);
	SHOW(pid > 0);
	SHOW(wait4(-1, &st, __WALL, NULL) == pid);
	show_status("__WALL, exit signal SIGURG", st);
	/* A fork child is not a clone child. */
	pid = spawn_exit(73);
	until_zombie(pid);
	WAIT4(pid, &st, __WCLONE | WNOHANG, NULL);
	SHOW(wait4(pid, &st, __WALL, NULL) == pid);
	show_status("__WALL, fork child", st);

	puts("__WNOTHREAD:");
	{
		pthread_t t;

		pthread_create(&t, NULL, forking_thread, NULL);
		while (!__atomic_load_n(&thread_go, __ATOMIC_ACQUIRE))
			sched_yield();
		/* The child of another thread of this process. */
		WAIT4(-1, &st, __WNOTHREAD | WNOHANG, NULL);
		SHOW(wait4(-1, &st, WNOHANG, NULL) == thread_child);
		show_status("other thread's child", st);
		__atomic_store_n(&thread_go, 2, __ATOMIC_RELEASE);
		pthread_join(t, NULL);
	}

	puts("SIGCHLD ignored:");
	{
		struct sigaction sa = { .sa_handler = SIG_IGN };

		/* A zombie from before stays. */
		pid2 = spawn_exit(81);
		until_zombie(pid2);
		sigaction(SIGCHLD, &sa, NULL);
		pid = spawn_exit(82);
		/* wait blocks until the children are gone, then ECHILD. */
		r = wait4(pid, &st, 0, NULL);
		printf("  wait4(pid) = %s\n", r == -1 ? errno_name(errno) : "?");
		SHOW(wait4(pid2, &st, 0, NULL) == pid2);
		show_status("older zombie", st);
		pid = spawn_exit(83);
		WAIT4(-1, &st, 0, NULL);
		pid = spawn_exit(84);
		SYS(waitid, P_ALL, 0, &si, WEXITED, NULL);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &sa, NULL);
	}

	puts("SA_NOCLDWAIT:");
	{
		struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_NOCLDWAIT | SA_RESTART };

		sigaction(SIGCHLD, &sa, NULL);
		pid = spawn_exit(91);
		WAIT4(-1, &st, 0, NULL);
		printf("  SIGCHLD handler ran %d time(s)\n", sigchld_count);
		sa.sa_handler = SIG_DFL;
		sa.sa_flags = 0;
		sigaction(SIGCHLD, &sa, NULL);
		/* Back to normal. */
		pid = spawn_exit(92);
		SHOW(wait4(pid, &st, 0, NULL) == pid);
		show_status("after SIG_DFL", st);
	}
	WAIT4(-1, &st, WNOHANG, NULL);
	return 0;
}
