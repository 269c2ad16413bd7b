/*
 * reparent.c: orphans. This program makes itself a child subreaper
 * (PR_SET_CHILD_SUBREAPER), so orphans of its descendants come to it both
 * natively and under runsc (where it is also pid 1): their getppid() changes
 * to it and it can wait for them, zombies included; a nearer subreaper wins.
 * PR_SET_PDEATHSIG: the signal arrives when the parent exits (and also when
 * only the parent thread does), from the parent, and is not inherited by
 * fork.
 *
 * Descendants print only while the program is blocked in a wait, in an
 * order the program enforces through shared memory.
 */
#include "common.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

struct shared {
	volatile int step;
	volatile pid_t pid;
	volatile int sig, code, from_parent;
};
static struct shared *sh;

static void wait_step(int n)
{
	while (__atomic_load_n(&sh->step, __ATOMIC_ACQUIRE) < n)
		sched_yield();
}

static void set_step(int n)
{
	__atomic_store_n(&sh->step, n, __ATOMIC_RELEASE);
}

/* Wait until our parent is no longer `old`. */
static void until_orphaned(pid_t old)
{
	while (getppid() == old)
		sched_yield();
}

static void reap(const char *what, pid_t pid)
{
	int st = -1;
	pid_t r = waitpid(pid, &st, 0);

	printf("  %s: reaped %d, exit %d\n", what, r == pid, WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
}

static volatile sig_atomic_t got_sig, got_code, got_pid;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_pid = si->si_pid;
}

/* The child with a death signal: arm it, report, wait for the signal. */
static void pdeath_child(pid_t parent)
{
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
	sigset_t set, empty;
	int v = -1;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGUSR1);
	prctl(PR_GET_PDEATHSIG, &v);
	sh->sig = v;
	set_step(1);
	sigemptyset(&empty);
	while (!got_sig)
		sigsuspend(&empty);
	sh->sig = got_sig;
	sh->code = got_code;
	sh->from_parent = got_pid == parent;
	_exit(getppid() == parent ? 20 : 21);
}

static pid_t thread_child;

static void *forking_thread(void *arg)
{
	pid_t parent = getpid();

	(void)arg;
	thread_child = fork();
	if (thread_child == 0)
		pdeath_child(parent);
	wait_step(1);
	/* This thread exits; the process stays. */
	return NULL;
}

int main(void)
{
	pid_t self = getpid(), middle, pid;
	int v = -1;

	alarm(10);
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	puts("PR_SET_CHILD_SUBREAPER:");
	SYS(prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	SYS(prctl, PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0);
	printf("  value %d\n", v);
	SYS(prctl, PR_GET_CHILD_SUBREAPER, BAD_PTR, 0, 0, 0);
	/* Not inherited. */
	pid = fork();
	if (pid == 0) {
		int c = -1;

		prctl(PR_GET_CHILD_SUBREAPER, &c);
		_exit(c);
	}
	reap("child's PR_GET_CHILD_SUBREAPER", pid);

	puts("an orphan comes to the subreaper:");
	set_step(0);
	middle = fork();
	if (middle == 0) {
		pid_t me = getpid();

		pid = fork();
		if (pid == 0) {
			SHOW(getppid() == me);
			sh->pid = getpid();
			set_step(1);
			until_orphaned(me);
			sh->from_parent = getppid() == self;
			_exit(5);
		}
		wait_step(1);
		_exit(0);
	}
	reap("middle", middle);
	wait_step(1);
	reap("orphan (getppid() == me before)", sh->pid);
	printf("  orphan's getppid() == subreaper: %d\n", sh->from_parent);
	SHOW(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);

	puts("an orphaned zombie comes to the subreaper:");
	middle = fork();
	if (middle == 0) {
		siginfo_t si;

		pid = fork();
		if (pid == 0)
			_exit(6);
		/* Wait until it is a zombie, without reaping it. */
		waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
		sh->pid = pid;
		_exit(0);
	}
	reap("middle", middle);
	reap("zombie", sh->pid);

	puts("waiting for any child gets the orphans too:");
	set_step(0);
	middle = fork();
	if (middle == 0) {
		pid_t me = getpid();

		pid = fork();
		if (pid == 0) {
			until_orphaned(me);
			_exit(7);
		}
		sh->pid = pid;
		_exit(0);
	}
	{
		int st1 = -1, st2 = -1;
		pid_t r1 = waitpid(-1, &st1, 0), r2 = waitpid(-1, &st2, 0);

		SHOW(r1 == middle && WEXITSTATUS(st1) == 0);
		SHOW(r2 == sh->pid && WEXITSTATUS(st2) == 7);
	}

	puts("the nearest subreaper wins:");
	set_step(0);
	middle = fork();
	if (middle == 0) {
		pid_t sub = getpid(), inner;

		prctl(PR_SET_CHILD_SUBREAPER, 1);
		inner = fork();
		if (inner == 0) {
			pid_t me = getpid();

			pid = fork();
			if (pid == 0) {
				until_orphaned(me);
				_exit(getppid() == sub ? 8 : getppid() == self ? 9 : 10);
			}
			sh->pid = pid;
			_exit(0);
		}
		reap("inner", inner);
		reap("orphan, by the inner subreaper", sh->pid);
		_exit(0);
	}
	reap("inner subreaper", middle);
	printf("  (exit 8: the orphan's parent was the inner subreaper)\n");

	puts("orphans of a subreaper that exits go up:");
	middle = fork();
	if (middle == 0) {
		pid_t sub = getpid();

		prctl(PR_SET_CHILD_SUBREAPER, 1);
		pid = fork();
		if (pid == 0) {
			until_orphaned(sub);
			_exit(getppid() == self ? 9 : 10);
		}
		sh->pid = pid;
		_exit(0);
	}
	reap("subreaper", middle);
	reap("its child (exit 9: its parent became this program)", sh->pid);

	puts("PR_SET_PDEATHSIG:");
	SYS(prctl, PR_SET_PDEATHSIG, 65, 0, 0, 0);
	SYS(prctl, PR_SET_PDEATHSIG, -1, 0, 0, 0);
	SYS(prctl, PR_GET_PDEATHSIG, &v, 0, 0, 0);
	printf("  value %d\n", v);
	SYS(prctl, PR_GET_PDEATHSIG, BAD_PTR, 0, 0, 0);
	set_step(0);
	sh->sig = sh->code = sh->from_parent = -1;
	middle = fork();
	if (middle == 0) {
		pid_t me = getpid();

		pid = fork();
		if (pid == 0)
			pdeath_child(me);
		sh->pid = pid;
		wait_step(1);
		_exit(0);
	}
	reap("parent", middle);
	/* The child was reparented (exit 21: getppid changed). */
	reap("child", sh->pid);
	printf("  armed %d, got %d, si_code %d (SI_USER %d), from the parent %d\n", SIGUSR1, sh->sig,
	       sh->code, SI_USER, sh->from_parent);

	puts("PR_SET_PDEATHSIG when the parent thread exits:");
	set_step(0);
	sh->sig = sh->code = sh->from_parent = -1;
	middle = fork();
	if (middle == 0) {
		pthread_t t;
		int st = -1;

		pthread_create(&t, NULL, forking_thread, NULL);
		pthread_join(t, NULL);
		/* The main thread is still alive: the child stays ours
		 * (exit 20: getppid unchanged). */
		waitpid(thread_child, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 100);
	}
	reap("process of the exited thread", middle);
	printf("  got %d, si_code %d, from the parent %d\n", sh->sig, sh->code, sh->from_parent);

	puts("PR_SET_PDEATHSIG is not inherited:");
	pid = fork();
	if (pid == 0) {
		int c = -1;

		prctl(PR_SET_PDEATHSIG, SIGUSR1);
		if (fork() == 0) {
			prctl(PR_GET_PDEATHSIG, &c);
			_exit(c);
		}
		wait(&c);
		_exit(WEXITSTATUS(c));
	}
	reap("grandchild's PR_GET_PDEATHSIG", pid);

	SYS(prctl, PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	SYS(prctl, PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0);
	printf("  value %d\n", v);
	SHOW(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
	return 0;
}
