/*
 * fdinfo.c: /proc/self/fdinfo/N: the offset and the status flags (with
 * O_CLOEXEC for a close-on-exec fd) of files, pipes and duplicated fds;
 * ENOENT for a closed fd; the lines eventfds, signalfds and epolls add
 * (an epoll's targets sorted by fd: Linux lists them by file address).
 * (mnt_id, ino, sdev and eventfd-id differ by machine: not printed.)
 */
#include "common.h"
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines after the common ones, without what differs by machine. */
static void show_extra(const char *what, int fd)
{
	char p[64], buf[4096], *lines[16];
	int f, n_lines = 0;
	long n;

	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	f = CHECK(open(p, O_RDONLY));
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	buf[n > 0 ? n : 0] = 0;
	for (char *line = strtok(buf, "\n"); line && n_lines < 16; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "pos:", 4) || !strncmp(line, "flags:", 6) || !strncmp(line, "mnt_id:", 7) ||
		    !strncmp(line, "ino:", 4) || !strncmp(line, "eventfd-id:", 11))
			continue;
		char *cut = strstr(line, " ino:");
		if (cut)
			*cut = 0;
		lines[n_lines++] = line;
	}
	qsort(lines, n_lines, sizeof(lines[0]), by_text);
	printf("%s:\n", what);
	for (int i = 0; i < n_lines; i++)
		printf("  %s\n", lines[i]);
}

static void special_files(void)
{
	int efd = CHECK(eventfd(5, EFD_SEMAPHORE));
	uint64_t v = 0x1234;
	CHECK(write(efd, &v, sizeof(v)));
	show_extra("eventfd", efd);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	int sfd = CHECK(signalfd(-1, &set, 0));
	show_extra("signalfd", sfd);

	int p[2];
	if (pipe(p))
		exit(1);
	int ep = CHECK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	ev.events = EPOLLOUT | EPOLLET;
	ev.data.u64 = 0xdeadbeefcafe;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
	ev.events = EPOLLOUT | EPOLLONESHOT;
	ev.data.u64 = 1;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev));
	show_extra("epoll", ep);
	struct epoll_event got[4];
	CHECK(epoll_wait(ep, got, 4, 0));
	show_extra("epoll after the one-shot fired", ep);
	close(ep);

	int tfd = CHECK(timerfd_create(CLOCK_MONOTONIC, 0));
	show_extra("timerfd disarmed", tfd);
	struct itimerspec its = {.it_value = {0, 1000000}, .it_interval = {7, 500}};
	CHECK(timerfd_settime(tfd, 0, &its, NULL));
	usleep(20000);
	/* The expiry count and the time left vary: only the rest. */
	char p2[64], buf[512];
	snprintf(p2, sizeof(p2), "/proc/self/fdinfo/%d", tfd);
	int f = CHECK(open(p2, O_RDONLY));
	long n = read(f, buf, sizeof(buf) - 1);
	close(f);
	buf[n > 0 ? n : 0] = 0;
	printf("timerfd armed: %s%s%s", strstr(buf, "clockid: 1\n") ? "clockid 1; " : "",
	       strstr(buf, "settime flags: 00\n") ? "flags 00; " : "", strstr(buf, "it_interval: (7, 500)") ? "interval (7, 500)\n" : "\n");
	close(tfd);
	close(p[0]);
	close(p[1]);
	close(sfd);
	close(efd);
}

static void show(const char *what, int fd)
{
	char p[64], buf[512];
	int f;
	long n;

	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	f = open(p, O_RDONLY);
	if (f < 0) {
		printf("%s: -1 %s\n", what, errno_name(errno));
		return;
	}
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	buf[n > 0 ? n : 0] = 0;
	char *m = strstr(buf, "mnt_id");
	if (m)
		*m = 0;
	for (char *s = buf; *s; s++)
		if (*s == '\n' || *s == '\t')
			*s = ' ';
	printf("%s: %s\n", what, buf);
}

int main(void)
{
	char path[64] = "/tmp/fdinfo.XXXXXX";
	int fd, w, p[2], d;

	fd = CHECK(open("/etc/passwd", O_RDONLY | O_CLOEXEC));
	CHECK(lseek(fd, 7, SEEK_SET));
	show("passwd", fd);
	w = mkstemp(path);
	CHECK(fcntl(w, F_SETFL, O_APPEND | O_NONBLOCK));
	CHECK(write(w, "12345", 5));
	show("appending", w);
	if (pipe2(p, O_NONBLOCK))
		return 1;
	show("pipe read end", p[0]);
	show("pipe write end", p[1]);
	d = CHECK(dup(fd));
	show("dup of passwd", d);
	CHECK(close(d));
	show("closed", d);
	CHECK(unlink(path));
	special_files();
	return 0;
}
