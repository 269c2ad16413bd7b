/*
 * stat.c: stat(2), lstat(2), fstat(2) and newfstatat(2) on files,
 * directories, symlinks, devices, /proc and pipes, and their errors.
 * Inode and device numbers are compared, never printed.
 */
#include "common.h"
#include <sys/sysmacros.h>
#include <time.h>

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "reg";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "lnk";
	case S_IFCHR: return "chr";
	case S_IFBLK: return "blk";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "sock";
	}
	return "?";
}

/* Print the fields of a stat that do not change from host to host. */
static void show(const struct stat *st)
{
	printf("  type %s mode 0%o uid %u gid %u", type_name(st->st_mode),
	       st->st_mode & 07777, st->st_uid, st->st_gid);
	if (S_ISREG(st->st_mode))
		printf(" nlink %lu", (unsigned long)st->st_nlink);
	if (S_ISCHR(st->st_mode))
		printf(" rdev %u:%u", major(st->st_rdev), minor(st->st_rdev));
	if (S_ISLNK(st->st_mode))
		printf(" size %ld", (long)st->st_size);
	printf("\n");
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

int main(int argc, char **argv)
{
	struct stat st, st2;
	struct timespec now;
	char buf[4096];
	long n;
	int fd, dir;

	(void)argc;
	SYS(stat, "/etc/passwd", &st);
	show(&st);
	n = slurp("/etc/passwd", buf, sizeof(buf));
	SHOW(st.st_size == n);
	SHOW(st.st_blksize > 0);
	SHOW(st.st_blocks * 512 >= st.st_size);
	clock_gettime(CLOCK_REALTIME, &now);
	SHOW(st.st_mtim.tv_sec <= now.tv_sec && st.st_mtim.tv_sec > 0);
	SHOW(st.st_mtim.tv_nsec < 1000000000 && st.st_atim.tv_nsec < 1000000000);
	SHOW(st.st_ctim.tv_sec >= st.st_mtim.tv_sec);

	fd = SYS(open, "/etc/passwd", O_RDONLY);
	SYS(fstat, fd, &st2);
	SHOW(same_file(&st, &st2) && st.st_size == st2.st_size);
	SYS(fstat, fd, BAD_PTR);
	SYS(fstat, fd, NULL);
	SYS(close, fd);
	SYS(fstat, fd, &st2);
	SYS(fstat, -1, &st2);
	SYS(fstat, BAD_FD, &st2);
	fd = SYS(open, "/etc/passwd", O_PATH);
	SYS(fstat, fd, &st2);
	SHOW(same_file(&st, &st2));
	close(fd);

	/* Directories, "." and "..". */
	SYS(stat, "/", &st);
	show(&st);
	SYS(stat, "/..", &st2);
	SHOW(same_file(&st, &st2));
	SYS(stat, "/etc/", &st2);
	show(&st2);
	SYS(stat, "/etc/..", &st2);
	SHOW(same_file(&st, &st2));
	SYS(stat, "//etc/.//", &st2);

	/* Symlinks: /bin -> usr/bin. A trailing slash makes lstat follow. */
	SYS(lstat, "/bin", &st);
	show(&st);
	SYS(stat, "/bin", &st);
	show(&st);
	SYS(stat, "/usr/bin", &st2);
	SHOW(same_file(&st, &st2));
	SYS(lstat, "/bin/", &st);
	show(&st);
	SYS(lstat, "/bin/.", &st);
	show(&st);
	SYS(lstat, "/lib64", &st);
	show(&st);
	SYS(lstat, "/etc/passwd", &st);
	show(&st);

	/* /proc/self/exe is a symlink to this program. */
	SYS(lstat, "/proc/self/exe", &st);
	SHOW(S_ISLNK(st.st_mode));
	SYS(stat, "/proc/self/exe", &st);
	stat(argv[0], &st2);
	SHOW(same_file(&st, &st2));
	SHOW(S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0);
	/* /proc/self/status belongs to whoever runs the program. */
	SYS(stat, "/proc/self/status", &st);
	printf("  type %s mode 0%o\n", type_name(st.st_mode), st.st_mode & 07777);
	SHOW(st.st_uid == geteuid() && st.st_gid == getegid());
	SHOW(st.st_size == 0);
	SYS(stat, "/proc/self", &st);
	SHOW(S_ISDIR(st.st_mode));
	SYS(stat, "/proc/self/fd/0", &st);
	show(&st);

	/* Devices. */
	SYS(stat, "/dev/null", &st);
	show(&st);
	SYS(stat, "/dev/zero", &st);
	show(&st);
	SYS(stat, "/dev/random", &st);
	show(&st);
	SYS(stat, "/dev/urandom", &st);
	show(&st);
	SYS(fstat, 0, &st);
	show(&st);
	SYS(fstat, 1, &st);
	printf("  stdout type %s\n", type_name(st.st_mode));

	/* Errors. */
	SYS(stat, "/nonexistent", &st);
	SYS(lstat, "/nonexistent", &st);
	SYS(stat, "/etc/passwd/x", &st);
	SYS(stat, "/etc/passwd/", &st);
	SYS(lstat, "/etc/passwd/", &st);
	SYS(stat, "", &st);
	SYS(stat, NULL, &st);
	SYS(stat, BAD_PTR, &st);
	SYS(stat, "/etc/passwd", BAD_PTR);
	SYS(lstat, "/etc/passwd", BAD_PTR);
	SYS(stat, "/nonexistent", BAD_PTR);
	SYS(stat, long_path(300), &st);
	SYS(stat, long_path(5000), &st);
	SYS_OK(stat, symlink_chain(20), &st);
	SYS(stat, symlink_chain(41), &st);

	/* newfstatat: dirfd, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH. */
	dir = SYS(open, "/", O_RDONLY | O_DIRECTORY);
	SYS(newfstatat, dir, "etc/passwd", &st, 0);
	show(&st);
	SYS(newfstatat, dir, "bin", &st, 0);
	show(&st);
	SYS(newfstatat, dir, "bin", &st, AT_SYMLINK_NOFOLLOW);
	show(&st);
	SYS(newfstatat, dir, "", &st, 0);
	SYS(newfstatat, dir, "", &st, AT_EMPTY_PATH);
	show(&st);
	SYS(newfstatat, dir, "/etc/passwd", &st, 0);
	SYS(newfstatat, -1, "/etc/passwd", &st, 0);
	SYS(newfstatat, AT_FDCWD, "/etc/passwd", &st, AT_NO_AUTOMOUNT);
	SYS(newfstatat, -1, "etc/passwd", &st, 0);
	SYS(newfstatat, BAD_FD, "", &st, AT_EMPTY_PATH);
	SYS(newfstatat, dir, "etc/passwd", &st, 0x1);
	SYS(newfstatat, dir, "etc/passwd", &st, AT_REMOVEDIR);
	SYS(newfstatat, dir, "etc/passwd", BAD_PTR, 0);
	SYS(newfstatat, dir, BAD_PTR, &st, 0);
	SYS(newfstatat, dir, "nonexistent", &st, AT_SYMLINK_NOFOLLOW);
	close(dir);
	fd = SYS(open, "/etc/passwd", O_RDONLY);
	SYS(newfstatat, fd, "x", &st, 0);
	SYS(newfstatat, fd, "", &st, AT_EMPTY_PATH);
	show(&st);
	SYS(newfstatat, fd, "/etc", &st, 0);
	close(fd);
	return 0;
}
