/*
 * getdents.c: getdents64(2): full listings (sorted before printing, since
 * the order is the filesystem's), d_type, small buffers, rewinding with
 * lseek, and errors.
 */
#include "common.h"
#include <dirent.h>

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static const char *dtype_name(unsigned char t)
{
	switch (t) {
	case DT_REG: return "reg";
	case DT_DIR: return "dir";
	case DT_LNK: return "lnk";
	case DT_CHR: return "chr";
	case DT_FIFO: return "fifo";
	case DT_SOCK: return "sock";
	case DT_UNKNOWN: return "unknown";
	}
	return "?";
}

static char names[512][300];
static int count;

static int cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Read the whole directory with buffers of `size` bytes. */
static long list(int fd, size_t size, int *calls)
{
	char buf[32768];
	long n, total = 0;

	count = 0;
	*calls = 0;
	while ((n = syscall(SYS_getdents64, fd, buf, size)) > 0) {
		(*calls)++;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (void *)(buf + off);

			if (count < 512)
				snprintf(names[count++], sizeof(names[0]), "%s %s",
					 d->d_name, dtype_name(d->d_type));
			if (d->d_reclen % 8 != 0 || d->d_ino == 0)
				printf("  bad record for %s\n", d->d_name);
			off += d->d_reclen;
			total++;
		}
	}
	if (n < 0)
		return -1;
	qsort(names, count, sizeof(names[0]), cmp);
	return total;
}

static void print_names(void)
{
	for (int i = 0; i < count; i++)
		printf("  %s\n", names[i]);
}

int main(void)
{
	char buf[4096];
	long total;
	int fd, calls;

	/* /usr: a small, stable directory. */
	fd = SYS(open, "/usr", O_RDONLY | O_DIRECTORY);
	total = list(fd, sizeof(buf), &calls);
	printf("entries %ld\n", total);
	print_names();
	SYS(getdents64, fd, buf, sizeof(buf));
	SYS(lseek, fd, 0, SEEK_SET);
	SHOW(list(fd, 32, &calls) == total && calls == total);
	SYS(lseek, fd, 0, SEEK_SET);
	SYS(getdents64, fd, buf, 0);
	SYS(getdents64, fd, buf, 1);
	SYS(getdents64, fd, buf, 23);
	SYS(getdents64, fd, BAD_PTR, sizeof(buf));
	SYS(getdents64, fd, buf, -1);
	close(fd);

	/* The dirfd itself appears in /proc/self/fd. */
	fd = SYS(open, "/proc/self/fd", O_RDONLY | O_DIRECTORY);
	total = list(fd, sizeof(buf), &calls);
	printf("entries %ld\n", total);
	print_names();
	close(fd);

	fd = SYS(open, "/", O_RDONLY | O_DIRECTORY);
	list(fd, sizeof(buf), &calls);
	for (int i = 0; i < count; i++)
		if (strncmp(names[i], "bin ", 4) == 0 ||
		    strncmp(names[i], "etc ", 4) == 0 ||
		    strncmp(names[i], ". ", 2) == 0 ||
		    strncmp(names[i], ".. ", 3) == 0)
			printf("  %s\n", names[i]);
	close(fd);

	/* Errors. */
	fd = SYS(open, "/etc/passwd", O_RDONLY);
	SYS(getdents64, fd, buf, sizeof(buf));
	close(fd);
	fd = SYS(open, "/usr", O_PATH);
	SYS(getdents64, fd, buf, sizeof(buf));
	close(fd);
	fd = SYS(open, "/dev/null", O_RDONLY);
	SYS(getdents64, fd, buf, sizeof(buf));
	close(fd);
	SYS(getdents64, -1, buf, sizeof(buf));
	SYS(getdents64, BAD_FD, buf, sizeof(buf));
	return 0;
}
