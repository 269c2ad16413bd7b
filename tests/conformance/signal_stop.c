/*
 * signal_stop.c: job control signals, in children. SIGSTOP, SIGTSTP,
 * SIGTTIN and SIGTTOU stop (seen with waitpid WUNTRACED and waitid
 * WSTOPPED), SIGCONT continues (WCONTINUED); the parent's SIGCHLD handler
 * gets CLD_STOPPED, CLD_CONTINUED, CLD_EXITED, CLD_KILLED, and with
 * SA_NOCLDSTOP only the exit; a stopped child is killed by SIGKILL at once,
 * by SIGTERM only once continued, and runs its handlers once continued; SIGCONT to a running
 * process does nothing; stop signals and SIGCONT discard each other when
 * pending; in an orphaned process group (after setsid) SIGTSTP, SIGTTIN and
 * SIGTTOU are discarded but SIGSTOP still stops; a stop does not interrupt
 * nanosleep unless a SIGCONT handler runs.
 *
 * Each child gets its own process group (in the parent's session), so it is
 * never in an orphaned group, however the program itself was started.
 */
#include "common.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define BIT(sig) (1ULL << ((sig) - 1))

static void set_mask(uint64_t m)
{
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, NULL, 8);
}

static uint64_t pending_now(void)
{
	uint64_t p = 0;

	syscall(SYS_rt_sigpending, &p, 8);
	return p;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- the parent's SIGCHLD handler ---- */

struct chld {
	int code, status, pid;
};

static struct chld chlds[16];
static volatile int nchld;

static void chld_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (nchld < 16) {
		chlds[nchld].code = si->si_code;
		chlds[nchld].status = si->si_status;
		chlds[nchld].pid = si->si_pid;
	}
	nchld++;
}

static void install_chld(int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = chld_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	nchld = 0;
}

/* Wait (at most 1 s) for the n-th SIGCHLD. */
static void wait_chld(int n)
{
	for (int i = 0; i < 100 && nchld < n; i++)
		msleep(10);
}

static const char *code_name(int code)
{
	switch (code) {
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_KILLED: return "CLD_KILLED";
	case CLD_DUMPED: return "CLD_DUMPED";
	case CLD_TRAPPED: return "CLD_TRAPPED";
	case CLD_STOPPED: return "CLD_STOPPED";
	case CLD_CONTINUED: return "CLD_CONTINUED";
	}
	return "?";
}

static void show_chld(pid_t child)
{
	printf("  SIGCHLD handler calls %d:", nchld);
	for (int i = 0; i < nchld && i < 16; i++)
		printf(" %s/%d%s", code_name(chlds[i].code), chlds[i].status,
		       chlds[i].pid == child ? "" : "(other pid)");
	printf("\n");
	nchld = 0;
}

static void show_status(const char *what, pid_t r, pid_t child, int status)
{
	printf("  %s: ", what);
	if (r < 0) {
		printf("-1 %s\n", errno_name(errno));
		return;
	}
	if (r == 0) {
		printf("0\n");
		return;
	}
	if (r != child) {
		printf("another pid\n");
		return;
	}
	if (WIFEXITED(status))
		printf("exited %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("killed by %d\n", WTERMSIG(status));
	else if (WIFSTOPPED(status))
		printf("stopped by %d\n", WSTOPSIG(status));
	else if (WIFCONTINUED(status))
		printf("continued\n");
	else
		printf("status 0x%x\n", status);
}

#define WAIT(child, flags) ({ int st_ = 0; errno = 0; \
	pid_t r_ = waitpid(child, &st_, flags); \
	show_status("waitpid(" #flags ")", r_, child, st_); r_; })

static pid_t spawn(void (*fn)(void))
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		alarm(5);
		fn();
		_exit(100);
	}
	setpgid(pid, pid);
	return pid;
}

/* Stop, then wait for SIGUSR1 after being continued, exit 5. */
static void child_stop_then_wait(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGSTOP);
	sigwait(&set, &sig);
	_exit(5);
}

static void stop_continue(void)
{
	pid_t pid;

	printf("SIGSTOP, SIGCONT, SIGCHLD:\n");
	install_chld(0);
	pid = spawn(child_stop_then_wait);
	WAIT(pid, WUNTRACED);
	wait_chld(1);
	show_chld(pid);
	WAIT(pid, WUNTRACED | WNOHANG);
	WAIT(pid, WNOHANG);
	SYS(kill, pid, SIGCONT);
	WAIT(pid, WCONTINUED);
	wait_chld(1);
	show_chld(pid);
	WAIT(pid, WCONTINUED | WNOHANG);
	SYS(kill, pid, SIGUSR1);
	WAIT(pid, 0);
	wait_chld(1);
	show_chld(pid);

	/* The same with waitid and SA_NOCLDSTOP. */
	printf("waitid, SA_NOCLDSTOP:\n");
	install_chld(SA_NOCLDSTOP);
	pid = spawn(child_stop_then_wait);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, pid, &si, WSTOPPED));
	printf("  si_signo %d si_code %s si_status %d si_pid ok %d\n", si.si_signo,
	       code_name(si.si_code), si.si_status, si.si_pid == pid);
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, pid, &si, WSTOPPED | WNOHANG));
	printf("  si_pid %d\n", si.si_pid);
	kill(pid, SIGCONT);
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, pid, &si, WCONTINUED));
	printf("  si_signo %d si_code %s si_status %d si_pid ok %d\n", si.si_signo,
	       code_name(si.si_code), si.si_status, si.si_pid == pid);
	kill(pid, SIGUSR1);
	memset(&si, 0, sizeof(si));
	CHECK(waitid(P_PID, pid, &si, WEXITED));
	printf("  si_signo %d si_code %s si_status %d si_pid ok %d\n", si.si_signo,
	       code_name(si.si_code), si.si_status, si.si_pid == pid);
	wait_chld(1);
	msleep(20);
	show_chld(pid);
	signal(SIGCHLD, SIG_DFL);
}

/* ---- other stop signals ---- */

static void child_tstp_ttin_ttou(void)
{
	raise(SIGTSTP);
	raise(SIGTTIN);
	kill(getpid(), SIGTTOU);
	_exit(6);
}

static void stop_signals(void)
{
	pid_t pid;

	printf("SIGTSTP, SIGTTIN, SIGTTOU:\n");
	pid = spawn(child_tstp_ttin_ttou);
	for (int i = 0; i < 3; i++) {
		WAIT(pid, WUNTRACED);
		kill(pid, SIGCONT);
	}
	WAIT(pid, 0);

	printf("SIGSTOP from the parent:\n");
	install_chld(0);
	pid = spawn(child_stop_then_wait);
	WAIT(pid, WUNTRACED);
	wait_chld(1);
	/* Already stopped: nothing new to report. */
	SYS(kill, pid, SIGSTOP);
	msleep(20);
	WAIT(pid, WUNTRACED | WNOHANG);
	SYS(kill, pid, SIGCONT);
	WAIT(pid, WCONTINUED);
	wait_chld(2);
	SYS(kill, pid, SIGSTOP);
	WAIT(pid, WUNTRACED);
	wait_chld(3);
	SYS(kill, pid, SIGCONT);
	WAIT(pid, WCONTINUED);
	wait_chld(4);
	SYS(kill, pid, SIGUSR1);
	WAIT(pid, 0);
	wait_chld(5);
	show_chld(pid);
	signal(SIGCHLD, SIG_DFL);
}

/* ---- killing stopped children ---- */

static void child_stop(void)
{
	raise(SIGSTOP);
	_exit(8);
}

static void kill_stopped(void)
{
	pid_t pid;

	printf("killing a stopped child:\n");
	install_chld(0);
	pid = spawn(child_stop);
	WAIT(pid, WUNTRACED);
	wait_chld(1);
	SYS(kill, pid, SIGKILL);
	WAIT(pid, 0);
	wait_chld(2);
	show_chld(pid);

	signal(SIGCHLD, SIG_DFL);

	/* Any other signal, even one whose default action kills, waits until
	 * the child is continued. */
	pid = spawn(child_stop);
	WAIT(pid, WUNTRACED);
	SYS(kill, pid, SIGTERM);
	msleep(50);
	WAIT(pid, WNOHANG);
	SYS(kill, pid, SIGCONT);
	WAIT(pid, 0);
}

/* ---- handlers in a stopped child ---- */

static volatile int usr1_ran, cont_ran, cont_code, cont_from_parent, order;

static void usr1_handler(int sig)
{
	(void)sig;
	usr1_ran = 1;
	if (!order)
		order = SIGUSR1;
}

static void cont_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	cont_ran = 1;
	cont_code = si->si_code;
	cont_from_parent = si->si_pid == getppid();
	if (!order)
		order = SIGCONT;
}

static void child_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = usr1_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_sigaction = cont_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGCONT, &sa, NULL);
	raise(SIGSTOP);
	/* Both handlers have run when raise returns. */
	_exit(usr1_ran | cont_ran << 1 | (cont_code == SI_USER) << 2 | cont_from_parent << 3 |
	      (order == SIGUSR1) << 4);
}

static void handlers_when_continued(void)
{
	pid_t pid;
	int status;

	printf("handlers in a stopped child:\n");
	pid = spawn(child_handlers);
	WAIT(pid, WUNTRACED);
	SYS(kill, pid, SIGUSR1);
	msleep(50);
	/* Still stopped: no new state change to report. */
	WAIT(pid, WUNTRACED | WNOHANG | WCONTINUED);
	SYS(kill, pid, SIGCONT);
	waitpid(pid, &status, 0);
	printf("  exited %d: USR1 handler %d, CONT handler %d, CONT si_code SI_USER %d,"
	       " from the parent %d, USR1 handler first %d\n", WIFEXITED(status),
	       WEXITSTATUS(status) & 1, WEXITSTATUS(status) >> 1 & 1, WEXITSTATUS(status) >> 2 & 1,
	       WEXITSTATUS(status) >> 3 & 1, WEXITSTATUS(status) >> 4 & 1);
}

/* ---- SIGCONT to a running process ---- */

static void child_wait_usr1(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigwait(&set, &sig);
	_exit(9);
}

static void cont_running(void)
{
	pid_t pid;

	sigset_t usr1, old;

	printf("SIGCONT to a running process:\n");
	SYS(kill, getpid(), SIGCONT);
	printf("  still running\n");
	/* The child starts with SIGUSR1 blocked, however late it runs. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	pid = spawn(child_wait_usr1);
	sigprocmask(SIG_SETMASK, &old, NULL);
	SYS(kill, pid, SIGCONT);
	msleep(20);
	WAIT(pid, WCONTINUED | WUNTRACED | WNOHANG);
	SYS(kill, pid, SIGUSR1);
	WAIT(pid, 0);
}

/* ---- stop and continue signals discard each other ---- */

static void child_discard(void)
{
	uint64_t p1, p2, p3;

	set_mask(BIT(SIGTSTP) | BIT(SIGCONT) | BIT(SIGTTIN));
	raise(SIGTSTP);
	p1 = pending_now();
	raise(SIGCONT);
	p2 = pending_now();
	raise(SIGTTIN);
	p3 = pending_now();
	signal(SIGTTIN, SIG_IGN);
	_exit((p1 == BIT(SIGTSTP)) | (p2 == BIT(SIGCONT)) << 1 | (p3 == BIT(SIGTTIN)) << 2 |
	      (pending_now() == 0) << 3);
}

static void discard(void)
{
	pid_t pid;
	int status;

	printf("pending stop and continue signals:\n");
	pid = spawn(child_discard);
	waitpid(pid, &status, 0);
	printf("  exited %d: TSTP pending %d, SIGCONT discarded TSTP %d, TTIN discarded CONT %d,"
	       " SIG_IGN discarded TTIN %d\n", WIFEXITED(status), WEXITSTATUS(status) & 1,
	       WEXITSTATUS(status) >> 1 & 1, WEXITSTATUS(status) >> 2 & 1,
	       WEXITSTATUS(status) >> 3 & 1);
}

/* ---- orphaned process group ---- */

static volatile int tstp_ran;

static void tstp_handler(int sig)
{
	(void)sig;
	tstp_ran++;
}

static void child_orphaned(void)
{
	setsid();
	raise(SIGTSTP);
	raise(SIGTTIN);
	raise(SIGTTOU);
	kill(getpid(), SIGTSTP);
	signal(SIGTSTP, tstp_handler);
	raise(SIGTSTP);
	raise(SIGSTOP);
	_exit(tstp_ran == 1 ? 7 : 70);
}

static void orphaned(void)
{
	pid_t pid;

	printf("orphaned process group (setsid):\n");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(5);
		child_orphaned();
	}
	WAIT(pid, WUNTRACED);
	SYS(kill, pid, SIGCONT);
	WAIT(pid, 0);
}

/* ---- a stop during nanosleep ---- */

static void child_sleep(void)
{
	struct timespec ts = { 0, 400 * 1000000 };
	int r = nanosleep(&ts, NULL);

	_exit(r == 0 ? 0 : errno == EINTR ? 4 : 1);
}

static void cont_noop(int sig)
{
	(void)sig;
}

static void child_sleep_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cont_noop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCONT, &sa, NULL);
	child_sleep();
}

static void stop_in_sleep(void)
{
	pid_t pid;

	printf("stopped during nanosleep (exit 0: slept, 4: EINTR):\n");
	pid = spawn(child_sleep);
	msleep(100);
	kill(pid, SIGSTOP);
	WAIT(pid, WUNTRACED);
	kill(pid, SIGCONT);
	WAIT(pid, 0);
	pid = spawn(child_sleep_handler);
	msleep(100);
	kill(pid, SIGSTOP);
	WAIT(pid, WUNTRACED);
	kill(pid, SIGCONT);
	WAIT(pid, 0);
}

int main(void)
{
	alarm(10);
	stop_continue();
	stop_signals();
	kill_stopped();
	handlers_when_continued();
	cont_running();
	discard();
	orphaned();
	stop_in_sleep();
	return 0;
}
