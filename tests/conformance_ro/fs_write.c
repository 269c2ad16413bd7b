/*
 * fs_write.c: the system calls that change the filesystem, on a read-only
 * mount: mkdir, mknod, symlink, link, unlink, rmdir, rename (and their *at
 * variants), chmod, chown, utimensat, truncate, open for writing, plus
 * statfs. Linux makes its lookup, EEXIST and flag checks in a fixed order
 * and fails with EROFS at the point it would need write access to the
 * mount; the order is what this program shows.
 *
 * argv[1] is a scratch directory D (an absolute path) that the harness made
 * on the root filesystem and that natively is on a read-only mount (see
 * tests/src/read_only.rs). It holds:
 *
 *   D/file      regular, 0644, "hello\n"
 *   D/dir/      a directory holding D/dir/inner
 *   D/emptydir/ an empty directory
 *   D/link      -> file
 *   D/dangling  -> nonexistent
 *
 * Every call that could change anything names a path under D, so even if
 * the mount were writable nothing else would change: calls on /, /dev and
 * /proc are only those Linux refuses whatever the mount (EEXIST, EXDEV,
 * ENOTDIR, EBUSY, EPERM from proc). No O_TRUNC outside D.
 *
 * /dev and /proc are the sandbox's own mounts, writable there, and unlike
 * the host's devtmpfs and proc: only calls that fail the same way on both
 * are here (cross-mount renames and links, EEXIST, ENOTDIR, proc's EPERM
 * for chmod and unlink). Left out because they differ and say nothing about
 * the read-only root: open(O_WRONLY), truncate, chown, fchown, utimensat on
 * /proc/self/status, rmdir of it, and mkdir, mknod, symlink, link and
 * rename to new names in /proc/self.
 *
 * Labels show paths as P("name") for D/name: D itself is never printed.
 */
#include "../conformance/common.h"
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>

#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#define RENAME_WHITEOUT (1 << 2)
#endif
#ifndef ST_RDONLY
#define ST_RDONLY 1
#endif

static const char *D;

/* D/rel, in one of a few rotating buffers (a call may name two paths). */
static const char *P(const char *rel)
{
	static char bufs[4][8192];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", D, rel);
	return b;
}

/* D/ followed by a name of `len` 'a's (a component longer than NAME_MAX). */
static const char *long_name(size_t len)
{
	static char name[8192];

	if (len >= sizeof(name))
		len = sizeof(name) - 1;
	memset(name, 'a', len);
	name[len] = 0;
	return P(name);
}

/* D/a/a/a/...: a path longer than PATH_MAX, all of it under D. */
static const char *long_path_in_d(size_t len)
{
	static char path[8192];
	size_t n;

	if (len >= sizeof(path))
		len = sizeof(path) - 1;
	n = snprintf(path, sizeof(path), "%s", D);
	while (n + 2 <= len) {
		path[n++] = '/';
		path[n++] = 'a';
	}
	path[n] = 0;
	return path;
}

/* A symlink target longer than PATH_MAX (a string, not a path used). */
static const char *long_target(void)
{
	static char target[5000];

	memset(target, 'x', sizeof(target) - 1);
	target[sizeof(target) - 1] = 0;
	return target;
}

/* Print f_type and ST_RDONLY after a successful statfs/fstatfs. */
static void show_statfs(long r, const struct statfs *s)
{
	if (r == 0)
		printf("  f_type = 0x%lx, ST_RDONLY = %d\n", (unsigned long)s->f_type,
		       (s->f_flags & ST_RDONLY) ? 1 : 0);
}

/* Close an fd an open call returned, if it did. */
static void close_if(long fd)
{
	if (fd >= 0)
		close(fd);
}

static struct statfs sfs;
static int dfd, ffd, pfd, sdfd, devnull, procfd;

static void test_open(void)
{
	puts("-- open");
	close_if(SYS(open, P("new"), O_WRONLY | O_CREAT, 0644));
	close_if(SYS(open, P("new"), O_RDONLY | O_CREAT, 0644));
	close_if(SYS(open, P("new"), O_RDWR | O_CREAT | O_EXCL, 0644));
	close_if(SYS(open, P("new"), O_WRONLY | O_CREAT | O_TRUNC, 0644));
	close_if(SYS(open, P("new"), O_WRONLY));
	close_if(SYS(open, P("new"), O_RDONLY | O_CREAT | O_DIRECTORY, 0644));
	close_if(SYS(open, P("new"), O_PATH | O_CREAT, 0644));
	close_if(SYS(open, P("new/"), O_WRONLY | O_CREAT, 0644));
	close_if(SYS(open, P("new/"), O_RDONLY | O_CREAT, 0644));
	close_if(SYS(open, P("file"), O_RDONLY | O_CREAT | O_EXCL, 0644));
	close_if(SYS(open, P("file"), O_RDONLY | O_CREAT, 0644));
	close_if(SYS(open, P("file"), O_WRONLY));
	close_if(SYS(open, P("file"), O_RDWR));
	close_if(SYS(open, P("file"), O_WRONLY | O_APPEND));
	close_if(SYS(open, P("file"), O_WRONLY | O_CREAT, 0644));
	close_if(SYS(open, P("file"), O_RDONLY | O_TRUNC));
	close_if(SYS(open, P("file"), O_WRONLY | O_TRUNC));
	close_if(SYS(open, P("file"), O_RDWR | O_CREAT | O_TRUNC, 0644));
	close_if(SYS(open, P("file"), O_WRONLY | O_DIRECTORY));
	close_if(SYS(open, P("file"), O_RDONLY | O_TRUNC | O_DIRECTORY));
	close_if(SYS(open, P("file/"), O_WRONLY));
	close_if(SYS(open, P("file/"), O_RDONLY | O_CREAT, 0644));
	close_if(SYS(open, P("file"), O_PATH | O_WRONLY | O_TRUNC));
	close_if(SYS(open, P("link"), O_WRONLY));
	close_if(SYS(open, P("link"), O_WRONLY | O_NOFOLLOW));
	close_if(SYS(open, P("link"), O_RDONLY | O_NOFOLLOW | O_CREAT, 0644));
	close_if(SYS(open, P("link"), O_RDONLY | O_CREAT | O_EXCL, 0644));
	close_if(SYS(open, P("link"), O_RDONLY | O_CREAT, 0644));
	close_if(SYS(open, P("dangling"), O_WRONLY | O_CREAT, 0644));
	close_if(SYS(open, P("dangling"), O_RDONLY | O_CREAT, 0644));
	close_if(SYS(open, P("dangling"), O_WRONLY | O_CREAT | O_EXCL, 0644));
	close_if(SYS(open, P("dangling"), O_WRONLY | O_CREAT | O_NOFOLLOW, 0644));
	close_if(SYS(open, P("dangling"), O_WRONLY));
	close_if(SYS(open, P("dir"), O_WRONLY));
	close_if(SYS(open, P("dir"), O_RDWR));
	close_if(SYS(open, P("dir"), O_RDONLY | O_TRUNC));
	close_if(SYS(open, P("dir"), O_RDONLY | O_CREAT, 0644));
	close_if(SYS(open, P("dir"), O_WRONLY | O_CREAT | O_EXCL, 0644));
	close_if(SYS(open, P("dir/"), O_WRONLY | O_CREAT, 0644));
	close_if(SYS(open, P("dir/."), O_RDONLY | O_CREAT, 0644));
	close_if(SYS(open, P("missing/x"), O_WRONLY | O_CREAT, 0644));
	close_if(SYS(open, P("missing/x"), O_RDONLY));
	close_if(SYS(open, P("file/x"), O_WRONLY | O_CREAT, 0644));
	close_if(SYS(open, long_name(300), O_WRONLY | O_CREAT, 0644));
	close_if(SYS(open, long_path_in_d(5000), O_WRONLY | O_CREAT, 0644));
	close_if(SYS(open, BAD_PTR, O_WRONLY | O_CREAT, 0644));
	close_if(SYS(open, "", O_WRONLY | O_CREAT, 0644));
	close_if(SYS(creat, P("new"), 0644));
	close_if(SYS(creat, P("file"), 0644));
	close_if(SYS(creat, P("dir"), 0644));
	close_if(SYS(creat, P("dangling"), 0644));
	close_if(SYS(creat, P("missing/x"), 0644));
	close_if(SYS(creat, BAD_PTR, 0644));

	puts("-- open(O_TMPFILE)");
	close_if(SYS(open, D, O_WRONLY | O_TMPFILE, 0600));
	close_if(SYS(open, D, O_RDWR | O_TMPFILE | O_EXCL, 0600));
	close_if(SYS(open, D, O_RDONLY | O_TMPFILE, 0600));
	close_if(SYS(open, P("dir"), O_RDWR | O_TMPFILE, 0600));
	close_if(SYS(open, P("file"), O_WRONLY | O_TMPFILE, 0600));
	close_if(SYS(open, P("missing"), O_WRONLY | O_TMPFILE, 0600));
	close_if(SYS(open, P("link"), O_WRONLY | O_TMPFILE, 0600));

	puts("-- openat");
	close_if(SYS(openat, dfd, "new", O_WRONLY | O_CREAT, 0644));
	close_if(SYS(openat, dfd, "file", O_RDWR));
	close_if(SYS(openat, dfd, "file", O_RDONLY | O_CREAT | O_EXCL, 0644));
	close_if(SYS(openat, dfd, "", O_WRONLY | O_CREAT, 0644));
	close_if(SYS(openat, ffd, "new", O_WRONLY | O_CREAT, 0644));
	close_if(SYS(openat, BAD_FD, "new", O_WRONLY | O_CREAT, 0644));
	close_if(SYS(openat, BAD_FD, P("new"), O_WRONLY | O_CREAT, 0644));
	close_if(SYS(openat, sdfd, "inner", O_WRONLY));
	close_if(SYS(openat, sdfd, "../new", O_WRONLY | O_CREAT, 0644));

	puts("-- access");
	SYS(access, P("file"), W_OK);
	SYS(access, P("file"), R_OK);
	SYS(access, P("dir"), W_OK);
	SYS(access, P("link"), W_OK);
	SYS(access, P("dangling"), W_OK);
	SYS(access, P("new"), W_OK);
	SYS(faccessat, dfd, "emptydir", W_OK | X_OK);
	SYS(faccessat2, dfd, "dangling", W_OK, AT_SYMLINK_NOFOLLOW);
	SYS(faccessat2, dfd, "link", W_OK, AT_SYMLINK_NOFOLLOW);
}

static void test_mkdir(void)
{
	puts("-- mkdir");
	SYS(mkdir, P("new"), 0755);
	SYS(mkdir, P("new/"), 0755);
	SYS(mkdir, P("new//"), 0755);
	SYS(mkdir, P("file"), 0755);
	SYS(mkdir, P("file/"), 0755);
	SYS(mkdir, P("dir"), 0755);
	SYS(mkdir, P("dir/"), 0755);
	SYS(mkdir, P("dir/inner"), 0755);
	SYS(mkdir, P("dir/new"), 0755);
	SYS(mkdir, P("link"), 0755);
	SYS(mkdir, P("link/"), 0755);
	SYS(mkdir, P("dangling"), 0755);
	SYS(mkdir, P("dangling/"), 0755);
	SYS(mkdir, P("dir/."), 0755);
	SYS(mkdir, P("dir/.."), 0755);
	SYS(mkdir, P("missing/x"), 0755);
	SYS(mkdir, P("missing/"), 0755);
	SYS(mkdir, P("file/x"), 0755);
	SYS(mkdir, P("file/."), 0755);
	SYS(mkdir, P("link/x"), 0755);
	SYS(mkdir, P("dangling/x"), 0755);
	SYS(mkdir, P("new"), 07777);
	SYS(mkdir, long_name(255), 0755);
	SYS(mkdir, long_name(256), 0755);
	SYS(mkdir, long_path_in_d(4095), 0755);
	SYS(mkdir, long_path_in_d(5000), 0755);
	SYS(mkdir, "", 0755);
	SYS(mkdir, NULL, 0755);
	SYS(mkdir, BAD_PTR, 0755);
	SYS(mkdir, KERNEL_PTR, 0755);
	SYS(mkdir, "/", 0755);
	SYS(mkdir, "/dev/null", 0755);
	SYS(mkdir, "/proc/self/status", 0755);

	puts("-- mkdirat");
	SYS(mkdirat, dfd, "new", 0755);
	SYS(mkdirat, dfd, "file", 0755);
	SYS(mkdirat, dfd, ".", 0755);
	SYS(mkdirat, dfd, "", 0755);
	SYS(mkdirat, sdfd, "inner", 0755);
	SYS(mkdirat, sdfd, "../new", 0755);
	SYS(mkdirat, sdfd, "..", 0755);
	SYS(mkdirat, ffd, "new", 0755);
	SYS(mkdirat, pfd, "new", 0755);
	SYS(mkdirat, BAD_FD, "new", 0755);
	SYS(mkdirat, -1, "new", 0755);
	SYS(mkdirat, BAD_FD, P("new"), 0755);
	SYS(mkdirat, BAD_FD, P("file"), 0755);
	SYS(mkdirat, AT_FDCWD, P("new"), 0755);
	SYS(mkdirat, dfd, BAD_PTR, 0755);
}

static void test_mknod(void)
{
	puts("-- mknod");
	SYS(mknod, P("new"), S_IFREG | 0644, 0);
	SYS(mknod, P("new"), 0644, 0);
	SYS(mknod, P("new"), S_IFIFO | 0644, 0);
	SYS(mknod, P("new"), S_IFSOCK | 0644, 0);
	SYS(mknod, P("new"), S_IFCHR | 0644, makedev(1, 3));
	SYS(mknod, P("new"), S_IFBLK | 0644, makedev(7, 0));
	SYS(mknod, P("new"), S_IFDIR | 0755, 0);
	SYS(mknod, P("new"), S_IFLNK | 0777, 0);
	SYS(mknod, P("new"), S_IFMT | 0644, 0);
	SYS(mknod, P("new"), 0110000 | 0644, 0);
	SYS(mknod, P("file"), S_IFREG | 0644, 0);
	SYS(mknod, P("file"), S_IFDIR | 0755, 0);
	SYS(mknod, P("file"), S_IFLNK | 0777, 0);
	SYS(mknod, P("dir"), S_IFIFO | 0644, 0);
	SYS(mknod, P("dangling"), S_IFIFO | 0644, 0);
	SYS(mknod, P("new/"), S_IFIFO | 0644, 0);
	SYS(mknod, P("file/"), S_IFIFO | 0644, 0);
	SYS(mknod, P("dir/."), S_IFIFO | 0644, 0);
	SYS(mknod, P("missing/x"), S_IFIFO | 0644, 0);
	SYS(mknod, P("missing/x"), S_IFDIR | 0644, 0);
	SYS(mknod, P("file/x"), S_IFIFO | 0644, 0);
	SYS(mknod, BAD_PTR, S_IFIFO | 0644, 0);
	SYS(mknod, BAD_PTR, S_IFDIR | 0644, 0);
	SYS(mknod, "", S_IFIFO | 0644, 0);
	SYS(mknod, "/dev/null", S_IFREG | 0644, 0);

	puts("-- mknodat");
	SYS(mknodat, dfd, "new", S_IFIFO | 0644, 0);
	SYS(mknodat, dfd, "file", S_IFIFO | 0644, 0);
	SYS(mknodat, dfd, "..", S_IFIFO | 0644, 0);
	SYS(mknodat, ffd, "new", S_IFIFO | 0644, 0);
	SYS(mknodat, BAD_FD, "new", S_IFIFO | 0644, 0);
	SYS(mknodat, BAD_FD, "new", S_IFDIR | 0644, 0);
	SYS(mknodat, BAD_FD, P("new"), S_IFIFO | 0644, 0);
}

static void test_symlink(void)
{
	puts("-- symlink");
	SYS(symlink, "file", P("new"));
	SYS(symlink, "/", P("new"));
	SYS(symlink, "x", P("file"));
	SYS(symlink, "x", P("dir"));
	SYS(symlink, "x", P("link"));
	SYS(symlink, "x", P("dangling"));
	SYS(symlink, "x", P("new/"));
	SYS(symlink, "x", P("file/"));
	SYS(symlink, "x", P("dir/."));
	SYS(symlink, "x", P("dir/.."));
	SYS(symlink, "x", P("missing/x"));
	SYS(symlink, "x", P("file/x"));
	SYS(symlink, "x", long_name(256));
	SYS(symlink, "", P("new"));
	SYS(symlink, "", P("file"));
	SYS(symlink, long_target(), P("new"));
	SYS(symlink, BAD_PTR, P("new"));
	SYS(symlink, BAD_PTR, P("missing/x"));
	SYS(symlink, "x", BAD_PTR);
	SYS(symlink, "x", "");
	SYS(symlink, "x", "/");
	SYS(symlink, "x", "/dev/null");

	puts("-- symlinkat");
	SYS(symlinkat, "x", dfd, "new");
	SYS(symlinkat, "x", dfd, "file");
	SYS(symlinkat, "x", dfd, ".");
	SYS(symlinkat, "x", ffd, "new");
	SYS(symlinkat, "x", BAD_FD, "new");
	SYS(symlinkat, "x", BAD_FD, P("new"));
	SYS(symlinkat, BAD_PTR, BAD_FD, "new");
}

static void test_link(void)
{
	puts("-- link");
	SYS(link, P("file"), P("new"));
	SYS(link, P("file"), P("file"));
	SYS(link, P("file"), P("link"));
	SYS(link, P("file"), P("dir"));
	SYS(link, P("file"), P("dangling"));
	SYS(link, P("file"), P("new/"));
	SYS(link, P("file"), P("dir/."));
	SYS(link, P("file"), P("missing/x"));
	SYS(link, P("file"), P("file/x"));
	SYS(link, P("file/"), P("new"));
	SYS(link, P("dir"), P("new"));
	SYS(link, P("dir"), P("file"));
	SYS(link, P("link"), P("new"));
	SYS(link, P("dangling"), P("new"));
	SYS(link, P("missing"), P("new"));
	SYS(link, P("missing"), P("file"));
	SYS(link, P("missing/x"), P("new"));
	SYS(link, P("file/x"), P("new"));
	SYS(link, P("missing/x"), BAD_PTR);
	SYS(link, BAD_PTR, P("new"));
	SYS(link, P("file"), BAD_PTR);
	SYS(link, "", P("new"));
	SYS(link, P("file"), "");

	puts("-- linkat");
	SYS(linkat, dfd, "file", dfd, "new", 0);
	SYS(linkat, dfd, "file", dfd, "file", 0);
	SYS(linkat, dfd, "link", dfd, "new", AT_SYMLINK_FOLLOW);
	SYS(linkat, dfd, "dangling", dfd, "new", 0);
	SYS(linkat, dfd, "dangling", dfd, "new", AT_SYMLINK_FOLLOW);
	SYS(linkat, dfd, "file", dfd, "new", 0x1);
	SYS(linkat, dfd, "file", dfd, "new", AT_SYMLINK_NOFOLLOW);
	SYS(linkat, dfd, "file", dfd, "new", AT_REMOVEDIR);
	SYS(linkat, dfd, "missing", dfd, "new", 0x1);
	SYS(linkat, ffd, "", dfd, "new", AT_EMPTY_PATH);
	SYS(linkat, ffd, "", dfd, "file", AT_EMPTY_PATH);
	SYS(linkat, pfd, "", dfd, "new", AT_EMPTY_PATH);
	SYS(linkat, dfd, "", dfd, "new", AT_EMPTY_PATH);
	SYS(linkat, ffd, "", dfd, "new", 0);
	SYS(linkat, ffd, "x", dfd, "new", 0);
	SYS(linkat, dfd, "file", ffd, "new", 0);
	SYS(linkat, BAD_FD, "file", dfd, "new", 0);
	SYS(linkat, dfd, "file", BAD_FD, "new", 0);
	SYS(linkat, BAD_FD, P("file"), BAD_FD, P("new"), 0);
	SYS(linkat, BAD_FD, "", dfd, "new", AT_EMPTY_PATH);

	puts("-- link across mounts");
	SYS(link, P("file"), "/dev/new");
	SYS(link, P("file"), "/dev/null");
	SYS(link, P("missing"), "/dev/new");
	SYS(link, "/dev/null", P("new"));
	SYS(link, "/dev/null", P("file"));
	SYS(link, "/proc/self/status", P("new"));
	SYS(linkat, ffd, "", devnull, "", AT_EMPTY_PATH);
}

static void test_unlink(void)
{
	puts("-- unlink");
	SYS(unlink, P("file"));
	SYS(unlink, P("link"));
	SYS(unlink, P("dangling"));
	SYS(unlink, P("dir"));
	SYS(unlink, P("emptydir"));
	SYS(unlink, P("dir/inner"));
	SYS(unlink, P("new"));
	SYS(unlink, P("file/"));
	SYS(unlink, P("link/"));
	SYS(unlink, P("dir/"));
	SYS(unlink, P("new/"));
	SYS(unlink, P("dir/."));
	SYS(unlink, P("dir/.."));
	SYS(unlink, P("missing/x"));
	SYS(unlink, P("file/x"));
	SYS(unlink, P("dangling/x"));
	SYS(unlink, long_name(256));
	SYS(unlink, BAD_PTR);
	SYS(unlink, "");
	SYS(unlink, "/");
	SYS(unlink, "/dev/null/x");
	SYS(unlink, "/proc/self/status");

	puts("-- rmdir");
	SYS(rmdir, P("emptydir"));
	SYS(rmdir, P("emptydir/"));
	SYS(rmdir, P("dir"));
	SYS(rmdir, P("file"));
	SYS(rmdir, P("link"));
	SYS(rmdir, P("new"));
	SYS(rmdir, P("file/"));
	SYS(rmdir, P("dir/."));
	SYS(rmdir, P("dir/.."));
	SYS(rmdir, P("emptydir/."));
	SYS(rmdir, P("missing/x"));
	SYS(rmdir, P("file/x"));
	SYS(rmdir, BAD_PTR);
	SYS(rmdir, "");
	SYS(rmdir, "/");
	SYS(rmdir, "/dev/null");

	puts("-- unlinkat");
	SYS(unlinkat, dfd, "file", 0);
	SYS(unlinkat, dfd, "new", 0);
	SYS(unlinkat, dfd, "dir", 0);
	SYS(unlinkat, dfd, "emptydir", AT_REMOVEDIR);
	SYS(unlinkat, dfd, "new", AT_REMOVEDIR);
	SYS(unlinkat, dfd, "file", AT_REMOVEDIR);
	SYS(unlinkat, dfd, ".", AT_REMOVEDIR);
	SYS(unlinkat, dfd, "..", AT_REMOVEDIR);
	SYS(unlinkat, dfd, ".", 0);
	SYS(unlinkat, dfd, "..", 0);
	SYS(unlinkat, dfd, "", AT_REMOVEDIR);
	SYS(unlinkat, dfd, "", 0);
	SYS(unlinkat, dfd, "file", 0x1);
	SYS(unlinkat, dfd, "file", AT_REMOVEDIR | 0x1);
	SYS(unlinkat, dfd, "file", AT_EMPTY_PATH);
	SYS(unlinkat, dfd, "missing/x", 0x1);
	SYS(unlinkat, sdfd, "inner", 0);
	SYS(unlinkat, sdfd, "..", AT_REMOVEDIR);
	SYS(unlinkat, ffd, "x", 0);
	SYS(unlinkat, ffd, "x", AT_REMOVEDIR);
	SYS(unlinkat, BAD_FD, "x", 0);
	SYS(unlinkat, BAD_FD, P("file"), 0);
	SYS(unlinkat, BAD_FD, P("emptydir"), AT_REMOVEDIR);
	SYS(unlinkat, dfd, BAD_PTR, 0);
}

static void test_rename(void)
{
	puts("-- rename");
	SYS(rename, P("file"), P("new"));
	SYS(rename, P("file"), P("file"));
	SYS(rename, P("file"), P("link"));
	SYS(rename, P("file"), P("dir"));
	SYS(rename, P("dir"), P("file"));
	SYS(rename, P("dir"), P("emptydir"));
	SYS(rename, P("dir"), P("dir/new"));
	SYS(rename, P("dir"), P("new"));
	SYS(rename, P("link"), P("new"));
	SYS(rename, P("dangling"), P("new"));
	SYS(rename, P("new"), P("new2"));
	SYS(rename, P("new"), P("file"));
	SYS(rename, P("file"), P("new/"));
	SYS(rename, P("file/"), P("new"));
	SYS(rename, P("dir/"), P("new"));
	SYS(rename, P("dir"), P("new/"));
	SYS(rename, P("dir/."), P("new"));
	SYS(rename, P("dir/.."), P("new"));
	SYS(rename, P("file"), P("dir/."));
	SYS(rename, P("file"), P("dir/.."));
	SYS(rename, P("missing/x"), P("new"));
	SYS(rename, P("file"), P("missing/x"));
	SYS(rename, P("file/x"), P("new"));
	SYS(rename, P("file"), P("file/x"));
	SYS(rename, P("missing/x"), P("file/x"));
	SYS(rename, P("missing/x"), BAD_PTR);
	SYS(rename, P("file/x"), BAD_PTR);
	SYS(rename, BAD_PTR, P("missing/x"));
	SYS(rename, P("file"), BAD_PTR);
	SYS(rename, "", P("new"));
	SYS(rename, P("file"), "");
	SYS(rename, long_name(256), P("new"));
	SYS(rename, P("file"), long_name(256));

	puts("-- renameat");
	SYS(renameat, dfd, "file", dfd, "new");
	SYS(renameat, dfd, ".", dfd, "new");
	SYS(renameat, dfd, "file", dfd, "..");
	SYS(renameat, sdfd, "inner", dfd, "new");
	SYS(renameat, dfd, "file", sdfd, "inner");
	SYS(renameat, ffd, "x", dfd, "new");
	SYS(renameat, dfd, "file", ffd, "x");
	SYS(renameat, BAD_FD, "file", dfd, "new");
	SYS(renameat, dfd, "file", BAD_FD, "new");
	SYS(renameat, BAD_FD, P("file"), BAD_FD, P("new"));

	puts("-- renameat2");
	SYS(renameat2, dfd, "file", dfd, "new", 0);
	SYS(renameat2, dfd, "file", dfd, "new", RENAME_NOREPLACE);
	SYS(renameat2, dfd, "file", dfd, "dir", RENAME_NOREPLACE);
	SYS(renameat2, dfd, "file", dfd, "file", RENAME_NOREPLACE);
	SYS(renameat2, dfd, "file", dfd, "dir", RENAME_EXCHANGE);
	SYS(renameat2, dfd, "file", dfd, "new", RENAME_EXCHANGE);
	SYS(renameat2, dfd, "new", dfd, "file", RENAME_EXCHANGE);
	SYS(renameat2, dfd, "file", dfd, "new", RENAME_WHITEOUT);
	SYS(renameat2, dfd, "file", dfd, "new", RENAME_NOREPLACE | RENAME_WHITEOUT);
	SYS(renameat2, dfd, "file", dfd, "new", RENAME_NOREPLACE | RENAME_EXCHANGE);
	SYS(renameat2, dfd, "file", dfd, "new", RENAME_WHITEOUT | RENAME_EXCHANGE);
	SYS(renameat2, dfd, "file", dfd, "new", 1 << 3);
	SYS(renameat2, dfd, "file", dfd, "new", -1);
	SYS(renameat2, dfd, "missing/x", dfd, "new", 1 << 3);
	SYS(renameat2, BAD_FD, BAD_PTR, BAD_FD, BAD_PTR, 1 << 3);
	SYS(renameat2, dfd, "file", dfd, ".", RENAME_NOREPLACE);
	SYS(renameat2, dfd, "file", dfd, "..", RENAME_NOREPLACE);
	SYS(renameat2, dfd, ".", dfd, "new", RENAME_NOREPLACE);
	SYS(renameat2, dfd, "file", dfd, ".", RENAME_EXCHANGE);
	SYS(renameat2, dfd, "file", dfd, ".", RENAME_WHITEOUT);
	SYS(renameat2, dfd, "missing/x", dfd, "new", RENAME_NOREPLACE);
	SYS(renameat2, dfd, "file", dfd, "missing/x", RENAME_EXCHANGE);

	puts("-- rename across mounts");
	SYS(rename, P("file"), "/dev/new");
	SYS(rename, P("file"), "/dev/null");
	SYS(rename, P("new"), "/dev/new");
	SYS(rename, P("dir/.."), "/dev/new");
	SYS(rename, "/dev/null", P("new"));
	SYS(rename, "/dev/null", P("file"));
	SYS(rename, P("file"), "/proc/self/new");
	SYS(rename, "/proc/self/status", P("new"));
	SYS(renameat2, dfd, "file", devnull, "x", RENAME_EXCHANGE);
	SYS(renameat2, dfd, "file", AT_FDCWD, "/dev/null", RENAME_NOREPLACE);
}

static void test_chmod(void)
{
	puts("-- chmod");
	SYS(chmod, P("file"), 0644);
	SYS(chmod, P("file"), 0600);
	SYS(chmod, P("dir"), 0755);
	SYS(chmod, P("link"), 0644);
	SYS(chmod, P("dangling"), 0644);
	SYS(chmod, P("new"), 0644);
	SYS(chmod, P("file/"), 0644);
	SYS(chmod, P("link/"), 0644);
	SYS(chmod, P("dir/"), 0755);
	SYS(chmod, P("dir/."), 0755);
	SYS(chmod, P("missing/x"), 0644);
	SYS(chmod, P("file/x"), 0644);
	SYS(chmod, long_name(256), 0644);
	SYS(chmod, BAD_PTR, 0644);
	SYS(chmod, "", 0644);
	SYS(chmod, "/proc/self/status", 0444);

	puts("-- fchmod");
	SYS(fchmod, ffd, 0644);
	SYS(fchmod, dfd, 0755);
	SYS(fchmod, pfd, 0644);
	SYS(fchmod, BAD_FD, 0644);
	SYS(fchmod, -1, 0644);
	SYS(fchmod, procfd, 0444);

	puts("-- fchmodat");
	SYS(fchmodat, dfd, "file", 0644);
	SYS(fchmodat, dfd, "link", 0644);
	SYS(fchmodat, dfd, "dangling", 0644);
	SYS(fchmodat, dfd, "new", 0644);
	SYS(fchmodat, dfd, ".", 0755);
	SYS(fchmodat, dfd, "", 0755);
	SYS(fchmodat, sdfd, "inner", 0644);
	SYS(fchmodat, ffd, "x", 0644);
	SYS(fchmodat, BAD_FD, "file", 0644);
	SYS(fchmodat, BAD_FD, P("file"), 0644);
	SYS(fchmodat, AT_FDCWD, P("file"), 0644);
	SYS(fchmodat, dfd, BAD_PTR, 0644);
}

static void test_chown(void)
{
	puts("-- chown");
	SYS(chown, P("file"), -1, -1);
	SYS(chown, P("file"), 0, 0);
	SYS(chown, P("dir"), -1, -1);
	SYS(chown, P("link"), -1, -1);
	SYS(chown, P("dangling"), -1, -1);
	SYS(chown, P("new"), -1, -1);
	SYS(chown, P("file/"), -1, -1);
	SYS(chown, P("missing/x"), -1, -1);
	SYS(chown, P("file/x"), -1, -1);
	SYS(chown, BAD_PTR, -1, -1);
	SYS(chown, "", -1, -1);

	puts("-- lchown");
	SYS(lchown, P("file"), -1, -1);
	SYS(lchown, P("link"), -1, -1);
	SYS(lchown, P("dangling"), -1, -1);
	SYS(lchown, P("new"), -1, -1);
	SYS(lchown, P("link/"), -1, -1);
	SYS(lchown, P("dangling/"), -1, -1);
	SYS(lchown, P("missing/x"), -1, -1);
	SYS(lchown, BAD_PTR, -1, -1);

	puts("-- fchown");
	SYS(fchown, ffd, -1, -1);
	SYS(fchown, ffd, 0, 0);
	SYS(fchown, dfd, -1, -1);
	SYS(fchown, pfd, -1, -1);
	SYS(fchown, BAD_FD, -1, -1);

	puts("-- fchownat");
	SYS(fchownat, dfd, "file", -1, -1, 0);
	SYS(fchownat, dfd, "link", -1, -1, 0);
	SYS(fchownat, dfd, "link", -1, -1, AT_SYMLINK_NOFOLLOW);
	SYS(fchownat, dfd, "dangling", -1, -1, 0);
	SYS(fchownat, dfd, "dangling", -1, -1, AT_SYMLINK_NOFOLLOW);
	SYS(fchownat, dfd, "new", -1, -1, AT_SYMLINK_NOFOLLOW);
	SYS(fchownat, dfd, "", -1, -1, 0);
	SYS(fchownat, dfd, "", -1, -1, AT_EMPTY_PATH);
	SYS(fchownat, ffd, "", -1, -1, AT_EMPTY_PATH);
	SYS(fchownat, pfd, "", -1, -1, AT_EMPTY_PATH);
	SYS(fchownat, ffd, "", -1, -1, 0);
	SYS(fchownat, ffd, "x", -1, -1, 0);
	SYS(fchownat, dfd, "file", -1, -1, 0x1);
	SYS(fchownat, dfd, "file", -1, -1, AT_REMOVEDIR);
	SYS(fchownat, dfd, "missing/x", -1, -1, 0x1);
	SYS(fchownat, BAD_FD, "file", -1, -1, 0);
	SYS(fchownat, BAD_FD, P("file"), -1, -1, 0);
	SYS(fchownat, BAD_FD, "", -1, -1, AT_EMPTY_PATH);
	SYS(fchownat, dfd, BAD_PTR, -1, -1, 0);
}

static void test_utimensat(void)
{
	struct timespec now2[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	struct timespec omit2[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	struct timespec omit_now[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	struct timespec set[2] = { { 1, 0 }, { 2, 999999999 } };
	struct timespec big_nsec[2] = { { 0, 1000000000 }, { 0, 0 } };
	struct timespec neg_nsec[2] = { { 0, 0 }, { 0, -1 } };
	struct timespec omit_bad[2] = { { 0, UTIME_OMIT }, { 0, 1000000000 } };

	puts("-- utimensat");
	SYS(utimensat, AT_FDCWD, P("file"), NULL, 0);
	SYS(utimensat, AT_FDCWD, P("file"), now2, 0);
	SYS(utimensat, AT_FDCWD, P("file"), omit_now, 0);
	SYS(utimensat, AT_FDCWD, P("file"), set, 0);
	SYS(utimensat, AT_FDCWD, P("file"), omit2, 0);
	SYS(utimensat, AT_FDCWD, P("dir"), NULL, 0);
	SYS(utimensat, AT_FDCWD, P("link"), NULL, 0);
	SYS(utimensat, AT_FDCWD, P("link"), NULL, AT_SYMLINK_NOFOLLOW);
	SYS(utimensat, AT_FDCWD, P("dangling"), NULL, 0);
	SYS(utimensat, AT_FDCWD, P("dangling"), NULL, AT_SYMLINK_NOFOLLOW);
	SYS(utimensat, AT_FDCWD, P("new"), NULL, 0);
	SYS(utimensat, AT_FDCWD, P("file/"), NULL, 0);
	SYS(utimensat, AT_FDCWD, P("missing/x"), NULL, 0);
	SYS(utimensat, AT_FDCWD, P("file/x"), NULL, 0);
	SYS(utimensat, AT_FDCWD, P("missing/x"), omit2, 0);
	SYS(utimensat, AT_FDCWD, P("file"), omit2, 0x1);
	SYS(utimensat, AT_FDCWD, BAD_PTR, omit2, 0);
	SYS(utimensat, AT_FDCWD, P("file"), big_nsec, 0);
	SYS(utimensat, AT_FDCWD, P("file"), neg_nsec, 0);
	SYS(utimensat, AT_FDCWD, P("file"), omit_bad, 0);
	SYS(utimensat, AT_FDCWD, P("missing/x"), big_nsec, 0);
	SYS(utimensat, AT_FDCWD, P("file"), big_nsec, 0x1);
	SYS(utimensat, AT_FDCWD, P("file"), NULL, 0x1);
	SYS(utimensat, AT_FDCWD, P("file"), NULL, AT_REMOVEDIR);
	SYS(utimensat, AT_FDCWD, P("missing/x"), NULL, 0x1);
	SYS(utimensat, AT_FDCWD, P("file"), BAD_PTR, 0);
	SYS(utimensat, AT_FDCWD, P("missing/x"), BAD_PTR, 0);
	SYS(utimensat, AT_FDCWD, BAD_PTR, NULL, 0);
	SYS(utimensat, AT_FDCWD, "", NULL, 0);
	SYS(utimensat, dfd, "file", set, 0);
	SYS(utimensat, dfd, "", NULL, 0);
	SYS(utimensat, dfd, "", NULL, AT_EMPTY_PATH);
	SYS(utimensat, ffd, "", NULL, AT_EMPTY_PATH);
	SYS(utimensat, pfd, "", NULL, AT_EMPTY_PATH);
	SYS(utimensat, ffd, "x", NULL, 0);
	SYS(utimensat, BAD_FD, "file", NULL, 0);
	SYS(utimensat, BAD_FD, P("file"), NULL, 0);

	puts("-- utimensat(fd, NULL)");
	SYS(utimensat, ffd, NULL, NULL, 0);
	SYS(utimensat, ffd, NULL, now2, 0);
	SYS(utimensat, ffd, NULL, omit2, 0);
	SYS(utimensat, dfd, NULL, set, 0);
	SYS(utimensat, ffd, NULL, NULL, AT_SYMLINK_NOFOLLOW);
	SYS(utimensat, ffd, NULL, NULL, AT_EMPTY_PATH);
	SYS(utimensat, ffd, NULL, NULL, 0x1);
	SYS(utimensat, ffd, NULL, big_nsec, 0);
	SYS(utimensat, ffd, NULL, BAD_PTR, 0);
	SYS(utimensat, pfd, NULL, NULL, 0);
	SYS(utimensat, BAD_FD, NULL, NULL, 0);
	SYS(utimensat, BAD_FD, NULL, omit2, 0);
	SYS(utimensat, AT_FDCWD, NULL, NULL, 0);
	SYS(utimensat, AT_FDCWD, NULL, now2, 0);
}

static void test_truncate(void)
{
	puts("-- truncate");
	SYS(truncate, P("file"), 0);
	SYS(truncate, P("file"), 6);
	SYS(truncate, P("file"), 1L << 40);
	SYS(truncate, P("link"), 0);
	SYS(truncate, P("dir"), 0);
	SYS(truncate, P("dangling"), 0);
	SYS(truncate, P("new"), 0);
	SYS(truncate, P("file/"), 0);
	SYS(truncate, P("dir/"), 0);
	SYS(truncate, P("missing/x"), 0);
	SYS(truncate, P("file/x"), 0);
	SYS(truncate, P("file"), -1L);
	SYS(truncate, P("dir"), -1L);
	SYS(truncate, P("missing/x"), -1L);
	SYS(truncate, BAD_PTR, -1L);
	SYS(truncate, long_name(256), 0);
	SYS(truncate, BAD_PTR, 0);
	SYS(truncate, "", 0);
	SYS(truncate, "/dev/null", 0);

	puts("-- ftruncate");
	SYS(ftruncate, ffd, 0);
	SYS(ftruncate, dfd, 0);
	SYS(ftruncate, pfd, 0);
	SYS(ftruncate, ffd, -1L);
	SYS(ftruncate, BAD_FD, 0);
	SYS(ftruncate, BAD_FD, -1L);
	SYS(ftruncate, devnull, 0);
}

static void test_statfs(void)
{
	puts("-- statfs");
	show_statfs(SYS(statfs, "/", &sfs), &sfs);
	show_statfs(SYS(statfs, D, &sfs), &sfs);
	show_statfs(SYS(statfs, P("file"), &sfs), &sfs);
	show_statfs(SYS(statfs, P("link"), &sfs), &sfs);
	show_statfs(SYS(statfs, P("dir/inner"), &sfs), &sfs);
	SYS(statfs, P("dangling"), &sfs);
	SYS(statfs, P("new"), &sfs);
	SYS(statfs, P("missing/x"), &sfs);
	SYS(statfs, P("file/x"), &sfs);
	SYS(statfs, P("file/"), &sfs);
	SYS(statfs, "", &sfs);
	SYS(statfs, BAD_PTR, &sfs);
	SYS(statfs, P("file"), BAD_PTR);
	SYS(statfs, P("missing/x"), BAD_PTR);

	puts("-- fstatfs");
	show_statfs(SYS(fstatfs, ffd, &sfs), &sfs);
	show_statfs(SYS(fstatfs, dfd, &sfs), &sfs);
	show_statfs(SYS(fstatfs, pfd, &sfs), &sfs);
	SYS(fstatfs, BAD_FD, &sfs);
	SYS(fstatfs, -1, &sfs);
	SYS(fstatfs, ffd, BAD_PTR);
}

/* The same calls relative to the working directory, D. */
static void test_relative(void)
{
	puts("-- relative to the working directory");
	SYS(chdir, D);
	SYS(mkdir, "new", 0755);
	SYS(mkdir, "./new", 0755);
	SYS(mkdir, ".", 0755);
	SYS(mkdir, "..", 0755);
	SYS(mkdir, "file", 0755);
	SYS(mkdirat, AT_FDCWD, "new", 0755);
	SYS(mknod, "new", S_IFIFO | 0644, 0);
	SYS(symlink, "x", "new");
	SYS(link, "file", "new");
	SYS(link, "./file", "dir/../new");
	SYS(unlink, "file");
	SYS(unlink, ".");
	SYS(unlink, "..");
	SYS(rmdir, "emptydir");
	SYS(rmdir, ".");
	SYS(rmdir, "..");
	SYS(rmdir, "./");
	SYS(unlinkat, AT_FDCWD, ".", AT_REMOVEDIR);
	SYS(rename, "file", "new");
	SYS(rename, ".", "new");
	SYS(rename, "file", ".");
	SYS(rename, "..", "new");
	SYS(chmod, ".", 0755);
	SYS(chmod, "file", 0644);
	SYS(chown, ".", -1, -1);
	SYS(utimensat, AT_FDCWD, ".", NULL, 0);
	SYS(utimensat, AT_FDCWD, "file", NULL, 0);
	SYS(truncate, "file", 0);
	SYS(truncate, ".", 0);
	close_if(SYS(open, "new", O_WRONLY | O_CREAT, 0644));
	close_if(SYS(open, ".", O_WRONLY));
	close_if(SYS(open, ".", O_RDONLY | O_TMPFILE | O_RDWR, 0600));
	show_statfs(SYS(statfs, ".", &sfs), &sfs);
}

int main(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] != '/') {
		fprintf(stderr, "usage: %s /absolute/scratch/dir\n", argv[0]);
		return 2;
	}
	D = argv[1];

	dfd = SYS(open, D, O_RDONLY | O_DIRECTORY);
	sdfd = SYS(open, P("dir"), O_RDONLY | O_DIRECTORY);
	ffd = SYS(open, P("file"), O_RDONLY);
	pfd = SYS(open, P("file"), O_PATH);
	devnull = SYS(open, "/dev/null", O_WRONLY);
	procfd = SYS(open, "/proc/self/status", O_RDONLY);
	if (dfd < 0 || sdfd < 0 || ffd < 0 || pfd < 0 || devnull < 0 || procfd < 0)
		return 1;

	test_open();
	test_mkdir();
	test_mknod();
	test_symlink();
	test_link();
	test_unlink();
	test_rename();
	test_chmod();
	test_chown();
	test_utimensat();
	test_truncate();
	test_statfs();
	test_relative();
	return 0;
}
