/*
 * inotify.c: watches on a scratch directory under /tmp and a file in it:
 * create, modify, attrib, open/close, access, moves with a shared cookie,
 * delete, delete_self and IN_IGNORED, oneshot, rm_watch, the errnos of
 * bad arguments, and a non-blocking read with nothing queued.
 */
#include "common.h"

#include <sys/inotify.h>

static char dir[64] = "/tmp/inotify.XXXXXX";
static uint32_t last_cookie;

static const char *names(uint32_t m)
{
	static char s[256];
	static const struct { uint32_t bit; const char *n; } t[] = {
		{ IN_ACCESS, "ACCESS" }, { IN_MODIFY, "MODIFY" }, { IN_ATTRIB, "ATTRIB" },
		{ IN_CLOSE_WRITE, "CLOSE_WRITE" }, { IN_CLOSE_NOWRITE, "CLOSE_NOWRITE" },
		{ IN_OPEN, "OPEN" }, { IN_MOVED_FROM, "MOVED_FROM" }, { IN_MOVED_TO, "MOVED_TO" },
		{ IN_CREATE, "CREATE" }, { IN_DELETE, "DELETE" }, { IN_DELETE_SELF, "DELETE_SELF" },
		{ IN_MOVE_SELF, "MOVE_SELF" }, { IN_IGNORED, "IGNORED" }, { IN_ISDIR, "ISDIR" },
		{ IN_Q_OVERFLOW, "Q_OVERFLOW" },
	};
	s[0] = 0;
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (m & t[i].bit) {
			strcat(s, s[0] ? "|" : "");
			strcat(s, t[i].n);
		}
	return s;
}

/* Prints every queued event: wd, mask, whether the cookie matches the last
 * nonzero one, name. */
static void drain(int fd)
{
	char buf[4096] __attribute__((aligned(8)));
	long n = read(fd, buf, sizeof(buf));

	if (n < 0) {
		printf("  read: -1 %s\n", errno_name(errno));
		return;
	}
	for (char *p = buf; p < buf + n;) {
		struct inotify_event *e = (struct inotify_event *)p;
		const char *c = "";

		if (e->cookie) {
			c = e->cookie == last_cookie ? " cookie=same" : " cookie";
			last_cookie = e->cookie;
		}
		printf("  wd %d %s%s%s%s\n", e->wd, names(e->mask), c, e->len ? " " : "", e->len ? e->name : "");
		p += sizeof(*e) + e->len;
	}
}

int main(void)
{
	int in, wd, wf, fd;
	char buf[8];

	if (!mkdtemp(dir) || chdir(dir)) {
		perror("scratch");
		return 1;
	}
	in = CHECK(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
	wd = CHECK(inotify_add_watch(in, ".", IN_ALL_EVENTS));
	CHECK(inotify_add_watch(in, ".", IN_ALL_EVENTS));
	drain(in);

	puts("-- create, write, close");
	fd = CHECK(open("f", O_WRONLY | O_CREAT, 0644));
	CHECK(write(fd, "abc", 3));
	CHECK(close(fd));
	drain(in);

	puts("-- a watch on the file too");
	wf = CHECK(inotify_add_watch(in, "f", IN_ALL_EVENTS));
	printf("distinct wd: %d\n", wf != wd);
	fd = CHECK(open("f", O_RDONLY));
	CHECK(read(fd, buf, 3));
	CHECK(close(fd));
	CHECK(chmod("f", 0600));
	drain(in);

	puts("-- mkdir, rename, rmdir");
	CHECK(mkdir("d", 0755));
	CHECK(rename("f", "g"));
	CHECK(rmdir("d"));
	drain(in);

	puts("-- unlink the watched file");
	CHECK(unlink("g"));
	drain(in);
	CHECK(inotify_rm_watch(in, wf));

	puts("-- oneshot, rm_watch");
	CHECK(inotify_rm_watch(in, wd));
	drain(in);
	wd = CHECK(inotify_add_watch(in, ".", IN_CREATE | IN_ONESHOT));
	CHECK(close(open("h", O_WRONLY | O_CREAT, 0644)));
	CHECK(close(open("i", O_WRONLY | O_CREAT, 0644)));
	drain(in);
	CHECK(inotify_rm_watch(in, wd));

	puts("-- errors");
	CHECK(inotify_add_watch(in, ".", 0));
	CHECK(inotify_add_watch(in, "h", IN_CREATE | IN_ONLYDIR));
	CHECK(inotify_add_watch(in, "missing", IN_CREATE));
	CHECK(inotify_add_watch(0, ".", IN_CREATE));
	CHECK(inotify_add_watch(BAD_FD, ".", IN_CREATE));
	CHECK(inotify_init1(0x4000));
	CHECK(read(in, buf, 1));

	CHECK(unlink("h"));
	CHECK(unlink("i"));
	CHECK(chdir("/"));
	CHECK(rmdir(dir));
	return 0;
}
