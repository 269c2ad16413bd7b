/*
 * inotify_fdinfo.c: an inotify instance's /proc/self/fdinfo lines, one per
 * watch, as watches are added, widened (IN_MASK_ADD), replaced and removed:
 * each line's wd, mask and ignored_mask, and whether its ino and sdev (the
 * kernel's encoding, major << 20 | minor) are those of the watched file.
 * Lines are sorted by wd; the file handle after them is not printed (it
 * depends on the filesystem).
 */
#include "common.h"
#include <sys/inotify.h>
#include <sys/sysmacros.h>

static char dir[64] = "/tmp/inotify_fdinfo.XXXXXX";
static char file[96];

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void show(const char *what, int fd)
{
	char p[64], buf[4096], *lines[16];
	struct stat sd, sf;
	int f, n = 0;
	long len;

	stat(dir, &sd);
	stat(file, &sf);
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	f = CHECK(open(p, O_RDONLY));
	len = read(f, buf, sizeof(buf) - 1);
	close(f);
	buf[len > 0 ? len : 0] = 0;
	printf("%s:\n", what);
	for (char *line = strtok(buf, "\n"); line && n < 16; line = strtok(NULL, "\n"))
		if (!strncmp(line, "inotify ", 8))
			lines[n++] = line;
	qsort(lines, n, sizeof(lines[0]), by_text);
	for (int i = 0; i < n; i++) {
		unsigned wd, sdev, mask, ignored;
		unsigned long ino;
		const char *of = "?";

		if (sscanf(lines[i], "inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:%x", &wd, &ino, &sdev, &mask,
			   &ignored) != 5) {
			printf("  unparsed: %s\n", lines[i]);
			continue;
		}
		struct stat *st = ino == sd.st_ino ? &sd : ino == sf.st_ino ? &sf : NULL;
		if (st)
			of = st == &sd ? "dir" : "file";
		int dev_ok = st && sdev == (major(st->st_dev) << 20 | minor(st->st_dev));
		printf("  wd %u of %s mask %x ignored %x sdev %s\n", wd, of, mask, ignored, dev_ok ? "ok" : "wrong");
	}
}

int main(void)
{
	int fd, wd_dir, wd_file;

	if (!mkdtemp(dir))
		return 1;
	snprintf(file, sizeof(file), "%s/f", dir);
	close(CHECK(open(file, O_CREAT | O_WRONLY, 0644)));
	fd = CHECK(inotify_init1(IN_CLOEXEC));
	show("none", fd);
	wd_dir = CHECK(inotify_add_watch(fd, dir, IN_CREATE | IN_DELETE));
	wd_file = CHECK(inotify_add_watch(fd, file, IN_MODIFY | IN_ONESHOT));
	show("two", fd);
	CHECK(inotify_add_watch(fd, dir, IN_MOVED_TO | IN_MASK_ADD));
	CHECK(inotify_add_watch(fd, file, IN_ATTRIB | IN_EXCL_UNLINK));
	show("changed", fd);
	CHECK(inotify_rm_watch(fd, wd_dir));
	show("one left", fd);
	CHECK(inotify_rm_watch(fd, wd_file));
	show("none left", fd);
	CHECK(close(fd));
	CHECK(unlink(file));
	CHECK(rmdir(dir));
	return 0;
}
