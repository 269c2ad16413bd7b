/*
 * fifo.c: named pipes made with mkfifo in a scratch directory under /tmp:
 * a blocking open waits for the other side, O_NONBLOCK opens do not (a
 * writer with no reader gets ENXIO), O_RDWR never waits, data flows, EOF
 * after the last writer, and a signal interrupts a waiting open.
 */
#include "common.h"

#include <signal.h>
#include <sys/wait.h>

static char dir[64] = "/tmp/fifo.XXXXXX";

static void on_alarm(int sig)
{
	(void)sig;
}

int main(void)
{
	char buf[64];
	struct stat st;
	int fd, w, st_child;
	pid_t pid;

	if (!mkdtemp(dir) || chdir(dir)) {
		perror("scratch");
		return 1;
	}
	CHECK(mkfifo("p", 0600));
	CHECK(mkfifo("p", 0600));
	CHECK(stat("p", &st));
	SHOW(S_ISFIFO(st.st_mode));

	/* The writer waits for the reader. */
	pid = fork();
	if (pid == 0) {
		int f = open("p", O_WRONLY);

		if (f < 0 || write(f, "hello", 5) != 5)
			_exit(1);
		_exit(0);
	}
	usleep(50000);
	fd = CHECK(open("p", O_RDONLY));
	CHECK(fstat(fd, &st));
	SHOW(S_ISFIFO(st.st_mode));
	waitpid(pid, &st_child, 0);
	printf("writer exited %d\n", WEXITSTATUS(st_child));
	CHECK(read(fd, buf, sizeof(buf)));
	print_bytes("got", buf, 5);
	CHECK(read(fd, buf, sizeof(buf)));
	CHECK(close(fd));

	/* The reader waits for the writer. */
	pid = fork();
	if (pid == 0) {
		usleep(50000);
		int f = open("p", O_WRONLY);

		if (f < 0 || write(f, "world", 5) != 5)
			_exit(1);
		_exit(0);
	}
	fd = CHECK(open("p", O_RDONLY));
	CHECK(read(fd, buf, 5));
	print_bytes("got", buf, 5);
	waitpid(pid, &st_child, 0);
	CHECK(read(fd, buf, sizeof(buf)));
	CHECK(close(fd));

	/* Non-blocking opens. */
	CHECK(open("p", O_WRONLY | O_NONBLOCK));
	fd = CHECK(open("p", O_RDONLY | O_NONBLOCK));
	CHECK(read(fd, buf, sizeof(buf)));
	w = CHECK(open("p", O_WRONLY | O_NONBLOCK));
	CHECK(read(fd, buf, sizeof(buf)));
	CHECK(write(w, "xy", 2));
	CHECK(read(fd, buf, sizeof(buf)));
	CHECK(close(w));
	CHECK(read(fd, buf, sizeof(buf)));
	CHECK(close(fd));
	fd = CHECK(open("p", O_RDWR));
	CHECK(write(fd, "self", 4));
	CHECK(read(fd, buf, sizeof(buf)));
	CHECK(close(fd));

	/* A signal interrupts a waiting open (no SA_RESTART). */
	struct sigaction sa = { .sa_handler = on_alarm };

	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	CHECK(open("p", O_RDONLY));
	alarm(0);

	CHECK(unlink("p"));
	CHECK(chdir("/"));
	CHECK(rmdir(dir));
	return 0;
}
