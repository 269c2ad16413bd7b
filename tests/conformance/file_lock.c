/*
 * file_lock.c: advisory locks in a scratch file under /tmp: flock(2)
 * between open file descriptions, fcntl record locks between processes
 * (conflicts, F_GETLK's report, splitting, release on close), OFD locks,
 * blocking F_SETLKW woken by an unlock, and EDEADLK.
 */
#include "common.h"

#include <sys/file.h>
#include <sys/wait.h>

#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#endif

static char path[64] = "/tmp/file_lock.XXXXXX";

static long lk(int fd, int cmd, int type, long start, long len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

/* F_GETLK for a write lock on [start, start+len): what is in the way. */
static void show(int fd, int cmd, long start, long len, pid_t owner)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	if (fcntl(fd, cmd, &fl)) {
		printf("getlk: -1 %s\n", errno_name(errno));
		return;
	}
	if (fl.l_type == F_UNLCK) {
		printf("getlk %ld+%ld: unlocked\n", start, len);
		return;
	}
	printf("getlk %ld+%ld: %s %ld+%ld pid %s\n", start, len, fl.l_type == F_WRLCK ? "write" : "read",
	       (long)fl.l_start, (long)fl.l_len,
	       fl.l_pid == owner ? "owner" : fl.l_pid == -1 ? "-1" : "other");
}

static int status_of(pid_t pid)
{
	int st;

	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

int main(void)
{
	int fd, fd2, p[2];
	pid_t pid, me = getpid();
	char c;

	fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	CHECK(write(fd, "0123456789", 10));
	/* Children print too: no buffered output may be copied by fork. */
	setvbuf(stdout, NULL, _IONBF, 0);

	/* flock: per open file description. */
	fd2 = CHECK(open(path, O_RDWR));
	CHECK(flock(fd, LOCK_EX | LOCK_NB));
	CHECK(flock(fd2, LOCK_SH | LOCK_NB));
	CHECK(flock(fd2, LOCK_EX | LOCK_NB));
	int dupfd = dup(fd);
	CHECK(flock(dupfd, LOCK_EX | LOCK_NB));
	CHECK(flock(fd, LOCK_SH | LOCK_NB));
	CHECK(flock(fd2, LOCK_SH | LOCK_NB));
	CHECK(flock(fd2, LOCK_EX | LOCK_NB));
	CHECK(flock(fd, LOCK_UN));
	CHECK(flock(dupfd, LOCK_UN));
	CHECK(flock(fd2, LOCK_EX | LOCK_NB));
	CHECK(flock(fd2, 0));
	CHECK(flock(fd2, LOCK_UN));
	close(dupfd);
	CHECK(flock(BAD_FD, LOCK_SH));

	/* Record locks: one process never conflicts with itself. */
	CHECK(lk(fd, F_SETLK, F_WRLCK, 0, 4));
	CHECK(lk(fd2, F_SETLK, F_WRLCK, 2, 4));
	show(fd, F_GETLK, 0, 10, me);
	CHECK(lk(fd, F_SETLK, 99, 0, 1));
	CHECK(lk(fd, F_SETLK, F_UNLCK, 0, 0));
	struct flock bad = { .l_type = F_RDLCK, .l_whence = 7 };
	CHECK(fcntl(fd, F_SETLK, &bad));
	bad.l_whence = SEEK_SET;
	bad.l_start = -5;
	CHECK(fcntl(fd, F_SETLK, &bad));
	int ro = open(path, O_RDONLY);
	CHECK(lk(ro, F_SETLK, F_WRLCK, 0, 1));
	close(ro);

	/* Between processes: conflicts, the report, splitting. */
	CHECK(lk(fd, F_SETLK, F_WRLCK, 0, 4));
	CHECK(lk(fd, F_SETLK, F_RDLCK, 6, 0));
	if (pipe(p))
		return 1;
	pid = fork();
	if (pid == 0) {
		show(fd, F_GETLK, 0, 1, me);
		show(fd, F_GETLK, 4, 2, me);
		show(fd, F_GETLK, 8, 1, me);
		printf("child wrlck 4+2: %ld\n", lk(fd, F_SETLK, F_WRLCK, 4, 2));
		printf("child rdlck 6+2: %ld\n", lk(fd, F_SETLK, F_RDLCK, 6, 2));
		CHECK(lk(fd, F_SETLK, F_WRLCK, 2, 1));
		c = 'r';
		if (write(p[1], &c, 1) != 1)
			_exit(2);
		/* Blocks until the parent unlocks. */
		_exit(lk(fd, F_SETLKW, F_WRLCK, 0, 2) == 0 ? 0 : 1);
	}
	if (read(p[0], &c, 1) != 1)
		return 1;
	usleep(100000);
	/* The parent splits its lock: [0,1) and [3,4) stay. */
	CHECK(lk(fd, F_SETLK, F_UNLCK, 1, 2));
	usleep(50000);
	CHECK(lk(fd, F_SETLK, F_UNLCK, 0, 1));
	printf("child: %d\n", status_of(pid));

	/* Closing any fd of the file drops the process's record locks. */
	CHECK(lk(fd, F_SETLK, F_WRLCK, 0, 0));
	fd2 = open(path, O_RDONLY);
	close(fd2);
	pid = fork();
	if (pid == 0) {
		show(fd, F_GETLK, 0, 0, me);
		_exit(0);
	}
	printf("child: %d\n", status_of(pid));

	/* OFD locks belong to the description and conflict with ours. */
	fd2 = CHECK(open(path, O_RDWR));
	CHECK(lk(fd2, F_OFD_SETLK, F_WRLCK, 0, 1));
	CHECK(lk(fd, F_SETLK, F_WRLCK, 0, 1));
	CHECK(lk(fd, F_OFD_SETLK, F_WRLCK, 0, 1));
	show(fd, F_OFD_GETLK, 0, 1, me);
	struct flock ofd = { .l_type = F_RDLCK, .l_pid = 1 };
	CHECK(fcntl(fd, F_OFD_SETLK, &ofd));
	CHECK(close(fd2));
	CHECK(lk(fd, F_OFD_SETLK, F_WRLCK, 0, 1));
	CHECK(lk(fd, F_OFD_SETLK, F_UNLCK, 0, 0));

	/* Deadlock: the child holds 5, waits for 0; we hold 0 and ask for 5. */
	CHECK(lk(fd, F_SETLK, F_UNLCK, 0, 0));
	CHECK(lk(fd, F_SETLK, F_WRLCK, 0, 1));
	pid = fork();
	if (pid == 0) {
		lk(fd, F_SETLK, F_WRLCK, 5, 1);
		c = 'x';
		if (write(p[1], &c, 1) != 1)
			_exit(2);
		_exit(lk(fd, F_SETLKW, F_WRLCK, 0, 1) == 0 ? 0 : 1);
	}
	if (read(p[0], &c, 1) != 1)
		return 1;
	usleep(100000);
	errno = 0;
	long r = lk(fd, F_SETLKW, F_WRLCK, 5, 1);
	printf("parent wrlck 5 waiting: %ld %s\n", r, errno_name(errno));
	CHECK(lk(fd, F_SETLK, F_UNLCK, 0, 1));
	printf("child: %d\n", status_of(pid));
	CHECK(close(fd));
	CHECK(unlink(path));
	return 0;
}
