/*
 * pidfd.c: pidfd_open(2), pidfd_send_signal(2), pidfd_getfd(2),
 * waitid(P_PIDFD) and poll(2) on a pidfd. Errors (EINVAL, ESRCH, EBADF,
 * EPERM), the fd flags of a pidfd, signals with and without a siginfo,
 * PIDFD_NONBLOCK (EAGAIN from waitid), the life cycle (running, zombie,
 * reaped), and duplicating a child's fd, which shares the file description.
 * poll() comes last: the sandbox may not have it yet.
 */
#include "common.h"
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

/* A pid that cannot exist: PID_MAX_LIMIT is 4194304. */
#define NO_PID 4194304

static volatile int *release;

/* A child that waits until released (or killed). */
static pid_t spawn_waiting(int code)
{
	pid_t pid;

	*release = 0;
	pid = fork();
	if (pid == 0) {
		while (!__atomic_load_n(release, __ATOMIC_ACQUIRE))
			sched_yield();
		_exit(code);
	}
	return pid;
}

static void do_release(void)
{
	__atomic_store_n(release, 1, __ATOMIC_RELEASE);
}

static void show_info(const char *label, const siginfo_t *si, pid_t pid)
{
	printf("  %s: si_signo %d si_code %s si_status %d si_pid ok %d\n", label, si->si_signo,
	       si->si_code == CLD_EXITED ? "CLD_EXITED" : si->si_code == CLD_KILLED ? "CLD_KILLED" :
	       si->si_code == CLD_DUMPED ? "CLD_DUMPED" : si->si_code == 0 ? "0" : "?",
	       si->si_status, si->si_pid == pid);
}

/* Wait until pid is a zombie, without reaping it. */
static void until_zombie(pid_t pid)
{
	siginfo_t si;

	waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
}

static volatile sig_atomic_t got_code = -100, got_value = -100, got_pid;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
	got_pid = si->si_pid;
}

static void on_timer(int sig)
{
	(void)sig;
}

static volatile int thread_tid;
static volatile int thread_go;

static void *thread_main(void *arg)
{
	(void)arg;
	thread_tid = syscall(SYS_gettid);
	while (!__atomic_load_n(&thread_go, __ATOMIC_ACQUIRE))
		sched_yield();
	return NULL;
}

int main(void)
{
	pid_t pid, self = getpid();
	int pidfd, fd, st;
	siginfo_t si;

	alarm(10);
	release = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	puts("pidfd_open:");
	pid = spawn_waiting(0);
	pidfd = SYS_OK(pidfd_open, pid, 0);
	CHECK(fcntl(pidfd, F_GETFD));
	printf("  F_GETFL: O_RDWR %d O_NONBLOCK %d\n", (fcntl(pidfd, F_GETFL) & O_ACCMODE) == O_RDWR,
	       (fcntl(pidfd, F_GETFL) & O_NONBLOCK) != 0);
	SYS(pidfd_open, 0, 0);
	SYS(pidfd_open, -1, 0);
	SYS(pidfd_open, NO_PID, 0);
	SYS(pidfd_open, pid, 1);
	SYS(pidfd_open, pid, O_CLOEXEC);
	SYS(pidfd_open, pid, ~0U);
	fd = SYS_OK(pidfd_open, pid, PIDFD_NONBLOCK);
	printf("  F_GETFL: O_NONBLOCK %d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
	/* PIDFD_NONBLOCK: waitid does not block, it fails with EAGAIN. A
	 * timer interrupts it (EINTR) if it blocks after all. */
	{
		struct sigaction sa = { .sa_handler = on_timer };
		struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
		struct itimerspec its = { .it_value = { 0, 300 * 1000 * 1000 } };
		timer_t timer;

		sigaction(SIGUSR2, &sa, NULL);
		timer_create(CLOCK_MONOTONIC, &sev, &timer);
		timer_settime(timer, 0, &its, NULL);
		SYS(waitid, P_PIDFD, fd, &si, WEXITED, NULL);
		timer_delete(timer);
	}
	close(fd);
	/* Ourselves, and a thread that is not a group leader. */
	fd = SYS_OK(pidfd_open, self, 0);
	SYS(waitid, P_PIDFD, fd, &si, WEXITED | WNOHANG, NULL);
	close(fd);
	{
		pthread_t t;

		pthread_create(&t, NULL, thread_main, NULL);
		while (!thread_tid)
			sched_yield();
		SYS(pidfd_open, thread_tid, 0);
		__atomic_store_n(&thread_go, 1, __ATOMIC_RELEASE);
		pthread_join(t, NULL);
	}
	/* A pidfd is not readable or writable. */
	{
		char buf[8];

		SYS(read, pidfd, buf, sizeof(buf));
		SYS(write, pidfd, buf, sizeof(buf));
		SYS(lseek, pidfd, 0, SEEK_SET);
	}

	puts("pidfd_send_signal:");
	SYS(pidfd_send_signal, pidfd, 0, NULL, 0);
	SYS(pidfd_send_signal, pidfd, 0, NULL, 0x100);
	SYS(pidfd_send_signal, pidfd, 0, NULL, 1 | 2);
	SYS(pidfd_send_signal, pidfd, 65, NULL, 0);
	SYS(pidfd_send_signal, pidfd, -1, NULL, 0);
	SYS(pidfd_send_signal, BAD_FD, SIGKILL, NULL, 0);
	SYS(pidfd_send_signal, 0, SIGKILL, NULL, 0);
	SYS(pidfd_send_signal, pidfd, SIGKILL, BAD_PTR, 0);
	/* A siginfo must match the signal, and a child may not be sent
	 * one that claims to come from the kernel or kill(). */
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	puts("  si_signo SIGUSR1, si_code SI_QUEUE:");
	SYS(pidfd_send_signal, pidfd, SIGKILL, &si, 0);
	si.si_signo = SIGKILL;
	si.si_code = SI_USER;
	puts("  si_signo SIGKILL, si_code SI_USER:");
	SYS(pidfd_send_signal, pidfd, SIGKILL, &si, 0);
	si.si_code = SI_KERNEL;
	puts("  si_signo SIGKILL, si_code SI_KERNEL:");
	SYS(pidfd_send_signal, pidfd, SIGKILL, &si, 0);
	si.si_code = SI_TKILL;
	puts("  si_signo SIGKILL, si_code SI_TKILL:");
	SYS(pidfd_send_signal, pidfd, SIGKILL, &si, 0);
	SYS(pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	memset(&si, 0, sizeof(si));
	SYS(waitid, P_PIDFD, pidfd, &si, WEXITED, NULL);
	show_info("killed", &si, pid);
	/* Reaped: the process is gone. */
	SYS(pidfd_send_signal, pidfd, 0, NULL, 0);
	SYS(pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	SYS(waitid, P_PIDFD, pidfd, &si, WEXITED | WNOHANG, NULL);
	close(pidfd);

	puts("a signal with a siginfo:");
	{
		struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO };
		sigset_t set, old;

		/* Blocked before the fork: the child cannot miss it. */
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, &old);
		pid = fork();
		if (pid == 0) {
			sigset_t empty;

			sigaction(SIGUSR1, &sa, NULL);
			sigemptyset(&empty);
			while (got_code == -100)
				sigsuspend(&empty);
			_exit((got_code == SI_QUEUE ? 1 : 0) | (got_value == 42 ? 2 : 0) |
			      (got_pid == self ? 4 : 0));
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		pidfd = syscall(SYS_pidfd_open, pid, 0);
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGUSR1;
		si.si_code = SI_QUEUE;
		si.si_value.sival_int = 42;
		si.si_pid = self;
		si.si_uid = getuid();
		SYS(pidfd_send_signal, pidfd, SIGUSR1, &si, 0);
		memset(&si, 0, sizeof(si));
		SYS(waitid, P_PIDFD, pidfd, &si, WEXITED, NULL);
		show_info("child got SI_QUEUE (1) + value 42 (2) + si_pid (4)", &si, pid);
		close(pidfd);
		/* Without a siginfo: SI_USER from us. */
		sigprocmask(SIG_BLOCK, &set, &old);
		got_code = -100;
		pid = fork();
		if (pid == 0) {
			sigset_t empty;

			sigaction(SIGUSR1, &sa, NULL);
			sigemptyset(&empty);
			while (got_code == -100)
				sigsuspend(&empty);
			_exit((got_code == SI_USER ? 1 : 0) | (got_pid == self ? 4 : 0));
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		pidfd = syscall(SYS_pidfd_open, pid, 0);
		SYS(pidfd_send_signal, pidfd, SIGUSR1, NULL, 0);
		memset(&si, 0, sizeof(si));
		SYS(waitid, P_PIDFD, pidfd, &si, WEXITED, NULL);
		show_info("child got SI_USER (1) + si_pid (4)", &si, pid);
		close(pidfd);
	}

	puts("zombies:");
	pid = fork();
	if (pid == 0)
		_exit(3);
	until_zombie(pid);
	pidfd = SYS_OK(pidfd_open, pid, 0);
	SYS(pidfd_send_signal, pidfd, 0, NULL, 0);
	SYS(pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	memset(&si, 0, sizeof(si));
	SYS(waitid, P_PIDFD, pidfd, &si, WEXITED | WNOWAIT, NULL);
	show_info("WNOWAIT", &si, pid);
	SHOW(waitpid(pid, &st, 0) == pid);
	printf("  status 0x%x\n", st);
	SYS(waitid, P_PIDFD, pidfd, &si, WEXITED, NULL);
	SYS(pidfd_send_signal, pidfd, 0, NULL, 0);
	close(pidfd);

	puts("pidfd_getfd:");
	{
		volatile int *ready = release + 16;

		*ready = 0;
		*release = 0;
		pid = fork();
		if (pid == 0) {
			int f = open("/etc/passwd", O_RDONLY);

			dup2(f, 20);
			close(f);
			lseek(20, 7, SEEK_SET);
			__atomic_store_n(ready, 1, __ATOMIC_RELEASE);
			while (!__atomic_load_n(release, __ATOMIC_ACQUIRE))
				sched_yield();
			/* The parent moved the shared offset. */
			_exit(lseek(20, 0, SEEK_CUR) == 11 ? 0 : 1);
		}
		while (!__atomic_load_n(ready, __ATOMIC_ACQUIRE))
			sched_yield();
		pidfd = syscall(SYS_pidfd_open, pid, 0);
		fd = SYS_OK(pidfd_getfd, pidfd, 20, 0);
		CHECK(fcntl(fd, F_GETFD));
		CHECK(lseek(fd, 0, SEEK_CUR));
		CHECK(lseek(fd, 11, SEEK_SET));
		close(fd);
		SYS(pidfd_getfd, pidfd, 21, 0);
		SYS(pidfd_getfd, pidfd, -1, 0);
		SYS(pidfd_getfd, pidfd, 20, 1);
		SYS(pidfd_getfd, BAD_FD, 20, 0);
		fd = open("/dev/null", O_RDONLY);
		SYS(pidfd_getfd, fd, 20, 0);
		close(fd);
		do_release();
		until_zombie(pid);
		/* An exited process has no fds. */
		SYS(pidfd_getfd, pidfd, 20, 0);
		memset(&si, 0, sizeof(si));
		SYS(waitid, P_PIDFD, pidfd, &si, WEXITED, NULL);
		show_info("child saw the new offset", &si, pid);
		close(pidfd);
	}

	puts("poll:");
	{
		struct pollfd p;

		pid = spawn_waiting(4);
		pidfd = syscall(SYS_pidfd_open, pid, 0);
		p = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		CHECK(poll(&p, 1, 0));
		printf("  revents 0x%x\n", p.revents);
		do_release();
		p.revents = 0;
		CHECK(poll(&p, 1, 5000));
		printf("  revents 0x%x\n", p.revents);
		waitpid(pid, &st, 0);
		p.revents = 0;
		CHECK(poll(&p, 1, 0));
		printf("  revents 0x%x (reaped)\n", p.revents);
		close(pidfd);
	}
	SHOW(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD);
	return 0;
}
