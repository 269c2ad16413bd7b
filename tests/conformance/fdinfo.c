/*
 * fdinfo.c: /proc/self/fdinfo/N: the offset and the status flags (with
 * O_CLOEXEC for a close-on-exec fd) of files, pipes and duplicated fds;
 * ENOENT for a closed fd. (mnt_id and ino differ by machine: not printed.)
 */
#include "common.h"

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
	return 0;
}
