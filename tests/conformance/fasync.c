/*
 * fasync.c: signal-driven I/O: F_SETOWN/F_GETOWN, F_SETOWN_EX/
 * F_GETOWN_EX, F_SETSIG/F_GETSIG and their errnos, and O_ASYNC on a pipe
 * and a unix socket: the owner gets SIGIO (or the F_SETSIG signal with
 * si_code, si_band and si_fd) when data arrives and when room comes back.
 */
#include "common.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

/* Waits up to a second for one of the blocked signals; prints it. */
static void expect(const char *label, sigset_t *set)
{
	struct timespec ts = { 1, 0 };
	siginfo_t si;
	int sig = sigtimedwait(set, &si, &ts);

	if (sig < 0) {
		printf("%s: %s\n", label, errno_name(errno));
		return;
	}
	if (si.si_code == SI_KERNEL)
		printf("%s: sig %s code SI_KERNEL\n", label, sig == SIGIO ? "SIGIO" : "other");
	else
		printf("%s: sig %s code %d band 0x%lx fd %d\n", label, sig == SIGIO ? "SIGIO" : "SIGRTMIN+1",
		       si.si_code, (long)si.si_band, si.si_fd);
}

/* Whether a signal is pending now (after a short wait). */
static void none(const char *label, sigset_t *set)
{
	struct timespec ts = { 0, 100000000 };
	siginfo_t si;

	printf("%s: %s\n", label, sigtimedwait(set, &si, &ts) < 0 ? errno_name(errno) : "signal");
}

int main(void)
{
	struct f_owner_ex ex;
	sigset_t set;
	int p[2], sv[2], on = 1;
	char buf[70000];

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (pipe(p))
		return 1;

	/* Owners and signals. */
	CHECK(fcntl(p[0], F_GETOWN));
	CHECK(fcntl(p[0], F_SETOWN, getpid()));
	SHOW(fcntl(p[0], F_GETOWN) == getpid());
	CHECK(fcntl(p[0], F_SETOWN, -getpgrp()));
	SHOW(fcntl(p[0], F_GETOWN) == -getpgrp());
	CHECK(fcntl(p[0], F_SETOWN, 999999));
	CHECK(fcntl(p[0], F_GETOWN_EX, &ex));
	SHOW(ex.type == F_OWNER_PGRP && ex.pid == getpgrp());
	ex.type = F_OWNER_TID;
	ex.pid = gettid();
	CHECK(fcntl(p[0], F_SETOWN_EX, &ex));
	SHOW(fcntl(p[0], F_GETOWN) == gettid());
	ex.type = 7;
	CHECK(fcntl(p[0], F_SETOWN_EX, &ex));
	ex.type = F_OWNER_PID;
	ex.pid = 999999;
	CHECK(fcntl(p[0], F_SETOWN_EX, &ex));
	CHECK(fcntl(p[0], F_SETOWN_EX, BAD_PTR));
	CHECK(fcntl(p[0], F_GETSIG));
	CHECK(fcntl(p[0], F_SETSIG, 65));
	CHECK(fcntl(p[0], F_SETSIG, -1));
	CHECK(fcntl(p[0], F_SETSIG, SIGRTMIN + 1));
	SHOW(fcntl(p[0], F_GETSIG) == SIGRTMIN + 1);
	CHECK(fcntl(p[0], F_SETSIG, 0));

	/* O_ASYNC on the read end: SIGIO when data comes. */
	CHECK(fcntl(p[0], F_SETOWN, getpid()));
	CHECK(fcntl(p[0], F_SETFL, O_ASYNC));
	SHOW((fcntl(p[0], F_GETFL) & O_ASYNC) != 0);
	none("before", &set);
	CHECK(write(p[1], "x", 1));
	expect("write", &set);
	/* With F_SETSIG: the details. */
	CHECK(fcntl(p[0], F_SETSIG, SIGRTMIN + 1));
	CHECK(write(p[1], "y", 1));
	expect("write", &set);
	CHECK(read(p[0], buf, 2));
	none("read", &set);
	CHECK(fcntl(p[0], F_SETFL, 0));
	CHECK(write(p[1], "z", 1));
	none("async off", &set);
	CHECK(read(p[0], buf, 1));

	/* The write end: told when room comes back, not of data. */
	CHECK(fcntl(p[1], F_SETOWN, getpid()));
	CHECK(fcntl(p[1], F_SETSIG, SIGRTMIN + 1));
	CHECK(fcntl(p[1], F_SETFL, O_ASYNC | O_NONBLOCK));
	CHECK(write(p[1], buf, sizeof(buf)) > 0);
	none("write end, data", &set);
	CHECK(read(p[0], buf, sizeof(buf)) > 0);
	expect("write end, room", &set);
	CHECK(close(p[0]));
	expect("reader gone", &set);
	CHECK(close(p[1]));

	/* A unix socket, with ioctl(FIOASYNC). */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK(fcntl(sv[0], F_SETOWN, getpid()));
	CHECK(ioctl(sv[0], FIOASYNC, &on));
	SHOW((fcntl(sv[0], F_GETFL) & O_ASYNC) != 0);
	CHECK(write(sv[1], "s", 1));
	expect("socket", &set);
	CHECK(close(sv[1]));
	expect("peer closed", &set);
	CHECK(close(sv[0]));
	return 0;
}
