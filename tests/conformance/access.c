/*
 * access.c: access(2), faccessat(2) and faccessat2(2). Execute permission is
 * refused even to root when no execute bit is set, so X_OK on /etc/passwd is
 * EACCES for every caller. W_OK is only asked of /dev/null: the root
 * filesystem is read-only in the sandbox.
 */
#include "common.h"

int main(void)
{
	int dir, fd;

	SYS(access, "/etc/passwd", F_OK);
	SYS(access, "/etc/passwd", R_OK);
	SYS(access, "/etc/passwd", X_OK);
	SYS(access, "/etc/passwd", R_OK | X_OK);
	SYS(access, "/bin/sh", X_OK);
	SYS(access, "/bin/sh", R_OK | X_OK);
	SYS(access, "/", X_OK);
	SYS(access, "/etc", R_OK | X_OK);
	SYS(access, "/dev/null", R_OK | W_OK);
	SYS(access, "/proc/self/exe", X_OK);
	SYS(access, "/etc/passwd", 8);
	SYS(access, "/etc/passwd", -1);
	SYS(access, "/nonexistent", F_OK);
	SYS(access, "/nonexistent", 8);
	SYS(access, "/etc/passwd/x", F_OK);
	SYS(access, "/etc/passwd/", F_OK);
	SYS(access, "", F_OK);
	SYS(access, NULL, F_OK);
	SYS(access, BAD_PTR, F_OK);
	SYS(access, long_path(300), F_OK);
	SYS(access, symlink_chain(20), R_OK);
	SYS(access, symlink_chain(41), F_OK);

	/* faccessat: the syscall itself has no flags argument. */
	dir = SYS(open, "/etc", O_RDONLY | O_DIRECTORY);
	SYS(faccessat, dir, "passwd", R_OK);
	SYS(faccessat, dir, "passwd", X_OK);
	SYS(faccessat, dir, "nonexistent", F_OK);
	SYS(faccessat, dir, "", F_OK);
	SYS(faccessat, -1, "passwd", F_OK);
	SYS(faccessat, -1, "/etc/passwd", F_OK);
	SYS(faccessat, AT_FDCWD, "/etc/passwd", R_OK);
	SYS(faccessat, dir, "passwd", 8);

	/* faccessat2 adds AT_EACCESS, AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH. */
	SYS(faccessat2, dir, "passwd", R_OK, 0);
	SYS(faccessat2, dir, "passwd", R_OK, AT_EACCESS);
	SYS(faccessat2, dir, "passwd", X_OK, AT_EACCESS);
	SYS(faccessat2, dir, "passwd", R_OK, AT_SYMLINK_NOFOLLOW);
	SYS(faccessat2, dir, "passwd", R_OK, 0x1);
	SYS(faccessat2, dir, "passwd", R_OK, AT_SYMLINK_FOLLOW);
	SYS(faccessat2, dir, "passwd", 8, 0);
	SYS(faccessat2, dir, "", R_OK, 0);
	SYS(faccessat2, dir, "", R_OK, AT_EMPTY_PATH);
	SYS(faccessat2, AT_FDCWD, "/bin", X_OK, AT_SYMLINK_NOFOLLOW);
	SYS(faccessat2, AT_FDCWD, "/bin", F_OK, AT_SYMLINK_NOFOLLOW);
	SYS(faccessat2, BAD_FD, "passwd", F_OK, 0);
	SYS(faccessat2, dir, BAD_PTR, F_OK, 0);
	close(dir);
	fd = SYS(open, "/etc/passwd", O_RDONLY);
	SYS(faccessat2, fd, "", R_OK, AT_EMPTY_PATH);
	SYS(faccessat2, fd, "", X_OK, AT_EMPTY_PATH);
	SYS(faccessat2, fd, "x", F_OK, 0);
	SYS(faccessat, fd, "x", F_OK);
	close(fd);
	return 0;
}
