/*
 * pgrp.c: process groups and sessions: getpgrp(2), getpgid(2), setpgid(2),
 * getsid(2) and setsid(2), with their rules and errors: setsid fails for a
 * group leader (EPERM); setpgid works on the caller and its children only
 * (ESRCH), not on a child that has exec'd (EACCES), not across sessions or
 * on a session leader (EPERM), and needs an existing group of the session
 * (EPERM); negative pgids are EINVAL.
 *
 * Natively the harness starts this program as a group leader in the
 * harness's session; under runsc it is pid 1, a session leader. So the
 * checks run in children and print relations only.
 */
#include "common.h"
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

/* A pid that cannot exist: PID_MAX_LIMIT is 4194304. */
#define NO_PID 4194304

/* Stop here until the parent continues us (it waits with WUNTRACED). */
static void stop_self(void)
{
	raise(SIGSTOP);
}

static void wait_stopped(pid_t pid)
{
	int st;

	waitpid(pid, &st, WUNTRACED);
	if (!WIFSTOPPED(st))
		printf("  child did not stop: status 0x%x\n", st);
}

static void reap(pid_t pid)
{
	int st = -1;
	pid_t r = waitpid(pid, &st, 0);

	printf("  reaped %d, exit %d\n", r == pid, WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
}

int main(int argc, char **argv)
{
	pid_t self = getpid(), pgrp = getpgrp(), sid = getsid(0), pid;

	if (argc == 2 && strcmp(argv[1], "stop") == 0) {
		/* The exec'd child: stop so the parent can try setpgid. */
		stop_self();
		return 7;
	}
	alarm(10);

	puts("queries:");
	/*
	 * Both are 0 natively when the group or session leader is outside our
	 * pid namespace (a test harness in a container): not compared.
	 */
	SHOW(pgrp >= 0 && sid >= 0);
	SHOW(getpgid(0) == pgrp);
	SHOW(getpgid(self) == pgrp);
	SHOW(syscall(SYS_getpgrp) == pgrp);
	SHOW(getsid(self) == sid);
	SYS(getpgid, NO_PID);
	SYS(getpgid, -1);
	SYS(getsid, NO_PID);
	SYS(getsid, -1);

	puts("a child inherits the group and session:");
	pid = fork();
	if (pid == 0) {
		SHOW(getpgrp() == pgrp);
		SHOW(getsid(0) == sid);
		SHOW(getpgid(getppid()) == pgrp);
		_exit(0);
	}
	reap(pid);

	puts("setpgid(0, 0) in a child:");
	pid = fork();
	if (pid == 0) {
		SYS(setpgid, 0, 0);
		SHOW(getpgrp() == getpid());
		SHOW(getsid(0) == sid);
		/* Again: already the leader. */
		SYS(setpgid, 0, 0);
		SHOW(setpgid(0, getpid()) == 0);
		/* Back to the parent's group, then to a group that does not
		 * exist. */
		SHOW(setpgid(0, pgrp) == 0);
		SHOW(getpgrp() == pgrp);
		SYS(setpgid, 0, NO_PID);
		SYS(setpgid, 0, -1);
		SYS(setpgid, -1, 0);
		SYS(setpgid, NO_PID, 0);
		/* Not our child: the parent. */
		SYS(setpgid, getppid(), 0);
		_exit(0);
	}
	reap(pid);

	puts("setpgid on a child, from the parent:");
	pid = fork();
	if (pid == 0) {
		stop_self();
		_exit(getpgrp() == getpid() ? 0 : 1);
	}
	wait_stopped(pid);
	SHOW(getpgid(pid) == pgrp);
	SHOW(setpgid(pid, pid) == 0);
	SHOW(getpgid(pid) == pid);
	SHOW(getpgid(pid) != getpgrp());
	/* Moving it to its own group again, and back. */
	SHOW(setpgid(pid, 0) == 0);
	SHOW(getpgid(pid) == pid);
	SHOW(setpgid(pid, pgrp) == 0);
	SHOW(getpgid(pid) == pgrp);
	SHOW(setpgid(pid, pid) == 0);
	CHECK(setpgid(pid, -1));
	kill(pid, SIGCONT);
	reap(pid);

	puts("a grandchild may not be moved:");
	{
		volatile int *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		pid = fork();
		if (pid == 0) {
			pid_t g = fork();

			if (g == 0) {
				stop_self();
				_exit(0);
			}
			wait_stopped(g);
			sh[0] = g;
			__atomic_store_n(&sh[1], 1, __ATOMIC_RELEASE);
			while (!__atomic_load_n(&sh[2], __ATOMIC_ACQUIRE))
				sched_yield();
			kill(g, SIGCONT);
			waitpid(g, NULL, 0);
			_exit(0);
		}
		while (!__atomic_load_n(&sh[1], __ATOMIC_ACQUIRE))
			sched_yield();
		SHOW(getpgid(sh[0]) == pgrp);
		CHECK(setpgid(sh[0], sh[0]));
		CHECK(setpgid(sh[0], 0));
		CHECK(setpgid(sh[0], pgrp));
		SHOW(getpgid(sh[0]) == pgrp);
		__atomic_store_n(&sh[2], 1, __ATOMIC_RELEASE);
		reap(pid);
	}

	puts("setpgid on a child that has exec'd:");
	pid = fork();
	if (pid == 0) {
		char *av[] = { "pgrp", "stop", NULL };
		char *ev[] = { NULL };

		execve("/proc/self/exe", av, ev);
		_exit(99);
	}
	wait_stopped(pid);
	CHECK(setpgid(pid, pid));
	CHECK(setpgid(pid, 0));
	CHECK(setpgid(pid, pgrp));
	SHOW(getpgid(pid) == pgrp);
	kill(pid, SIGCONT);
	reap(pid);

	puts("setsid:");
	pid = fork();
	if (pid == 0) {
		pid_t me = getpid();

		/* Not a group leader: a new session and group. */
		SHOW(setsid() == me);
		SHOW(getsid(0) == me);
		SHOW(getpgrp() == me);
		SHOW(getsid(getppid()) == sid);
		SHOW(getpgid(getppid()) == pgrp);
		/* Now a group leader (and session leader). */
		SYS(setsid);
		/* A session leader cannot change its group. */
		SYS(setpgid, 0, 0);
		SYS(setpgid, 0, pgrp);
		/* Its child can make its own group in the new session, but
		 * cannot join a group of the old session. */
		pid_t g = fork();

		if (g == 0) {
			SHOW(getsid(0) == me);
			SHOW(getpgrp() == me);
			SYS(setpgid, 0, pgrp);
			SYS(setpgid, 0, 0);
			SHOW(getpgrp() == getpid());
			SHOW(setpgid(0, me) == 0);
			SHOW(getpgrp() == me);
			_exit(0);
		}
		waitpid(g, NULL, 0);
		_exit(0);
	}
	reap(pid);
	/* A group leader cannot start a session, even with no other member. */
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		SYS(setsid);
		SHOW(getsid(0) == sid);
		_exit(0);
	}
	reap(pid);
	/* A process whose pid is some group's id cannot either: a child that
	 * left its own group while a member stayed behind. */
	pid = fork();
	if (pid == 0) {
		pid_t me = getpid(), g;

		setpgid(0, 0);
		g = fork();
		if (g == 0) {
			stop_self();
			_exit(0);
		}
		wait_stopped(g);
		/* g is still in the group "me"; we move back. */
		SHOW(setpgid(0, pgrp) == 0);
		SHOW(getpgid(g) == me);
		SYS(setsid);
		kill(g, SIGKILL);
		waitpid(g, NULL, 0);
		/* The group is gone: now setsid works. */
		SHOW(setsid() == me);
		_exit(0);
	}
	reap(pid);

	puts("setpgid on a child in another session:");
	pid = fork();
	if (pid == 0) {
		setsid();
		stop_self();
		_exit(0);
	}
	wait_stopped(pid);
	SHOW(getsid(pid) == pid);
	SHOW(getsid(pid) != sid);
	CHECK(setpgid(pid, pid));
	CHECK(setpgid(pid, pgrp));
	kill(pid, SIGCONT);
	reap(pid);

	puts("process group signals:");
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		stop_self();
		_exit(0);
	}
	wait_stopped(pid);
	setpgid(pid, pid);
	SHOW(kill(-pid, SIGKILL) == 0);
	reap(pid);
	SYS(kill, -NO_PID, 0);
	return 0;
}
