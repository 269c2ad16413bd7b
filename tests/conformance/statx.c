/*
 * statx.c: statx(2): the basic fields agree with stat(2); flags, masks,
 * AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW and the error cases.
 */
#include "common.h"
#include <sys/sysmacros.h>

/* Directory link counts depend on the filesystem, so only files show one. */
static void show(const struct statx *stx)
{
	printf("  mask&BASIC 0x%x mode 0%o uid %u gid %u",
	       stx->stx_mask & STATX_BASIC_STATS, stx->stx_mode,
	       stx->stx_uid, stx->stx_gid);
	if (!S_ISDIR(stx->stx_mode))
		printf(" nlink %u", stx->stx_nlink);
	printf("\n");
}

/* Does statx agree with stat about the same file? */
static int agrees(const struct statx *stx, const struct stat *st)
{
	return stx->stx_ino == st->st_ino &&
	       makedev(stx->stx_dev_major, stx->stx_dev_minor) == st->st_dev &&
	       stx->stx_size == (unsigned long)st->st_size &&
	       stx->stx_mode == st->st_mode &&
	       stx->stx_blocks == (unsigned long)st->st_blocks &&
	       stx->stx_mtime.tv_sec == st->st_mtim.tv_sec &&
	       stx->stx_mtime.tv_nsec == (unsigned)st->st_mtim.tv_nsec;
}

int main(void)
{
	struct statx stx;
	struct stat st;
	int fd, dir;

	stat("/etc/passwd", &st);
	SYS(statx, AT_FDCWD, "/etc/passwd", 0, STATX_BASIC_STATS, &stx);
	show(&stx);
	SHOW(agrees(&stx, &st));
	SHOW(stx.stx_blksize > 0);
	SYS(statx, AT_FDCWD, "/etc/passwd", 0, STATX_ALL, &stx);
	show(&stx);
	SYS(statx, AT_FDCWD, "/etc/passwd", 0, 0, &stx);
	SYS(statx, AT_FDCWD, "/etc/passwd", AT_STATX_SYNC_AS_STAT, STATX_SIZE, &stx);
	SYS(statx, AT_FDCWD, "/etc/passwd", AT_STATX_FORCE_SYNC, STATX_SIZE, &stx);
	SYS(statx, AT_FDCWD, "/etc/passwd", AT_STATX_DONT_SYNC, STATX_SIZE, &stx);
	SYS(statx, AT_FDCWD, "/etc/passwd", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_SIZE, &stx);
	SYS(statx, AT_FDCWD, "/etc/passwd", 0x1, STATX_SIZE, &stx);
	SYS(statx, AT_FDCWD, "/etc/passwd", 0, 0x80000000U, &stx);
	SYS(statx, AT_FDCWD, "/etc/passwd", 0, STATX_SIZE, BAD_PTR);
	SYS(statx, AT_FDCWD, BAD_PTR, 0, STATX_SIZE, &stx);

	/* Symlinks and directories. */
	SYS(statx, AT_FDCWD, "/bin", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx);
	show(&stx);
	SHOW(stx.stx_size == 7);
	SYS(statx, AT_FDCWD, "/bin", 0, STATX_BASIC_STATS, &stx);
	show(&stx);
	stat("/usr/bin", &st);
	SHOW(agrees(&stx, &st));
	SYS(statx, AT_FDCWD, "/dev/null", 0, STATX_BASIC_STATS, &stx);
	show(&stx);
	printf("  rdev %u:%u\n", stx.stx_rdev_major, stx.stx_rdev_minor);

	/* dirfd and AT_EMPTY_PATH. */
	dir = SYS(open, "/etc", O_RDONLY | O_DIRECTORY);
	SYS(statx, dir, "passwd", 0, STATX_BASIC_STATS, &stx);
	show(&stx);
	SYS(statx, dir, "", 0, STATX_BASIC_STATS, &stx);
	SYS(statx, dir, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx);
	show(&stx);
	SYS(statx, -1, "passwd", 0, STATX_BASIC_STATS, &stx);
	SYS(statx, BAD_FD, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx);
	SYS(statx, -1, "/etc/passwd", 0, STATX_BASIC_STATS, &stx);
	close(dir);
	fd = SYS(open, "/etc/passwd", O_RDONLY);
	SYS(statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx);
	stat("/etc/passwd", &st);
	SHOW(agrees(&stx, &st));
	SYS(statx, fd, "x", 0, STATX_BASIC_STATS, &stx);
	close(fd);
	fd = SYS(open, "/bin", O_PATH | O_NOFOLLOW);
	SYS(statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx);
	show(&stx);
	close(fd);

	/* Path errors. */
	SYS(statx, AT_FDCWD, "/nonexistent", 0, STATX_BASIC_STATS, &stx);
	SYS(statx, AT_FDCWD, "/etc/passwd/", 0, STATX_BASIC_STATS, &stx);
	SYS(statx, AT_FDCWD, "", 0, STATX_BASIC_STATS, &stx);
	SYS(statx, AT_FDCWD, long_path(300), 0, STATX_BASIC_STATS, &stx);
	SYS(statx, AT_FDCWD, symlink_chain(41), 0, STATX_BASIC_STATS, &stx);
	return 0;
}
