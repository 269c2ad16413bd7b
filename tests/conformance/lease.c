/*
 * lease.c: file leases in a scratch directory under /tmp: F_SETLEASE and
 * F_GETLEASE with their errnos, the other opens a lease may not have,
 * and breaks: a child's open with O_NONBLOCK fails with EWOULDBLOCK and
 * the holder gets its F_SETSIG signal (POLL_MSG, si_fd); a blocking open
 * waits until the holder downgrades or gives the lease up; truncate(2)
 * breaks a read lease; closing the file drops the lease.
 */
#include "common.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static char dir[64] = "/tmp/lease.XXXXXX";
static sigset_t set;

static const char *kind(int k)
{
	return k == F_RDLCK ? "F_RDLCK" : k == F_WRLCK ? "F_WRLCK" : k == F_UNLCK ? "F_UNLCK" : "?";
}

/* Waits up to 2 s for the lease signal; prints what came. */
static void expect(int fd)
{
	struct timespec ts = { 2, 0 };
	siginfo_t si;

	if (sigtimedwait(&set, &si, &ts) < 0) {
		printf("signal: %s\n", errno_name(errno));
		return;
	}
	printf("signal: code %d band 0x%lx fd ok %d\n", si.si_code, (long)si.si_band, si.si_fd == fd);
}

/* In a child: open with `flags`, print, exit. The parent waits for it. */
static void child_open(int flags, const char *label, int ready_fd)
{
	int fd;

	if (ready_fd >= 0 && write(ready_fd, "r", 1) != 1)
		_exit(1);
	errno = 0;
	fd = open("f", flags);
	printf("child %s: %s\n", label, fd < 0 ? errno_name(errno) : "opened");
	_exit(0);
}

int main(void)
{
	int fd, other, rw, p[2], st;
	char c;
	pid_t pid;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!mkdtemp(dir) || chdir(dir)) {
		perror("scratch");
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	close(CHECK(open("f", O_CREAT | O_WRONLY, 0644)));
	fd = CHECK(open("f", O_RDONLY));
	printf("lease %s\n", kind(fcntl(fd, F_GETLEASE)));

	/* Setting leases. */
	CHECK(fcntl(fd, F_SETLEASE, 7));
	CHECK(fcntl(fd, F_SETLEASE, F_RDLCK));
	printf("lease %s\n", kind(fcntl(fd, F_GETLEASE)));
	other = CHECK(open("f", O_RDONLY));
	CHECK(fcntl(fd, F_SETLEASE, F_WRLCK));
	CHECK(close(other));
	CHECK(fcntl(fd, F_SETLEASE, F_WRLCK));
	printf("lease %s\n", kind(fcntl(fd, F_GETLEASE)));
	CHECK(fcntl(fd, F_SETLEASE, F_UNLCK));
	rw = CHECK(open("f", O_RDWR));
	CHECK(fcntl(rw, F_SETLEASE, F_RDLCK));
	CHECK(fcntl(fd, F_SETLEASE, F_RDLCK));
	CHECK(close(rw));
	CHECK(fcntl(fd, F_SETLEASE, F_RDLCK));
	CHECK(fcntl(fd, F_SETLEASE, F_UNLCK));
	if (pipe(p))
		return 1;
	CHECK(fcntl(p[0], F_SETLEASE, F_RDLCK));
	other = CHECK(open(".", O_RDONLY | O_DIRECTORY));
	CHECK(fcntl(other, F_SETLEASE, F_RDLCK));
	CHECK(close(other));

	/* A write lease broken by a reader: downgrade. */
	CHECK(fcntl(fd, F_SETSIG, SIGRTMIN + 1));
	CHECK(fcntl(fd, F_SETLEASE, F_WRLCK));
	pid = fork();
	if (pid == 0)
		child_open(O_RDONLY | O_NONBLOCK, "read, nonblocking", -1);
	waitpid(pid, &st, 0);
	expect(fd);
	printf("lease %s\n", kind(fcntl(fd, F_GETLEASE)));
	pid = fork();
	if (pid == 0)
		child_open(O_RDONLY, "read", p[1]);
	CHECK(read(p[0], &c, 1));
	usleep(100000);
	other = fcntl(fd, F_SETLEASE, F_RDLCK);
	waitpid(pid, &st, 0);
	printf("downgrade %d lease %s\n", other, kind(fcntl(fd, F_GETLEASE)));

	/* A read lease broken by a writer: give it up. */
	pid = fork();
	if (pid == 0)
		child_open(O_WRONLY | O_NONBLOCK, "write, nonblocking", -1);
	waitpid(pid, &st, 0);
	expect(fd);
	printf("lease %s\n", kind(fcntl(fd, F_GETLEASE)));
	/* Still a read lease, still being broken. */
	CHECK(fcntl(fd, F_SETLEASE, F_RDLCK));
	printf("lease %s\n", kind(fcntl(fd, F_GETLEASE)));
	pid = fork();
	if (pid == 0)
		child_open(O_WRONLY, "write", p[1]);
	CHECK(read(p[0], &c, 1));
	usleep(100000);
	other = fcntl(fd, F_SETLEASE, F_UNLCK);
	waitpid(pid, &st, 0);
	printf("unlock %d lease %s\n", other, kind(fcntl(fd, F_GETLEASE)));
	/* Giving a lease up clears the file's owner and signal. */
	printf("owner %d sig %d\n", fcntl(fd, F_GETOWN), fcntl(fd, F_GETSIG));
	CHECK(fcntl(fd, F_SETSIG, SIGRTMIN + 1));

	/* truncate(2) breaks a read lease. */
	CHECK(fcntl(fd, F_SETLEASE, F_RDLCK));
	SHOW(fcntl(fd, F_GETOWN) == getpid());
	pid = fork();
	if (pid == 0) {
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		printf("child truncate: %ld\n", (long)truncate("f", 0));
		_exit(0);
	}
	CHECK(read(p[0], &c, 1));
	expect(fd);
	other = fcntl(fd, F_SETLEASE, F_UNLCK);
	waitpid(pid, &st, 0);
	printf("unlock %d\n", other);

	/* Closing drops the lease. */
	CHECK(fcntl(fd, F_SETLEASE, F_RDLCK));
	CHECK(close(fd));
	pid = fork();
	if (pid == 0)
		child_open(O_WRONLY | O_NONBLOCK, "write after close", -1);
	waitpid(pid, &st, 0);

	CHECK(unlink("f"));
	CHECK(chdir("/"));
	CHECK(rmdir(dir));
	return 0;
}
