/*
 * fs_tree.c: changing the tree in a scratch directory the program makes
 * under /tmp (and removes): creat, mkdir, mknod, symlink, link, unlink,
 * rmdir, rename and renameat2's flags, with the link counts, kinds and
 * errnos Linux gives.
 */
#include "common.h"

#include <dirent.h>
#include <sys/sysmacros.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

static char scratch[64] = "/tmp/fs_tree.XXXXXX";

static long nlink_of(const char *p)
{
	struct stat st;

	return lstat(p, &st) ? -1 : (long)st.st_nlink;
}

static const char *kind_of(const char *p)
{
	struct stat st;

	if (lstat(p, &st))
		return errno_name(errno);
	switch (st.st_mode & S_IFMT) {
	case S_IFREG: return "reg";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "lnk";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "sock";
	case S_IFCHR: return "chr";
	default: return "other";
	}
}

static void contents(const char *p)
{
	char buf[64];
	int fd = open(p, O_RDONLY);
	long n;

	if (fd < 0) {
		printf("%s: -1 %s\n", p, errno_name(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	print_bytes(p, buf, n);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted, on one line. */
static void list(const char *p)
{
	DIR *d = opendir(p);
	char *names[64];
	int n = 0;
	struct dirent *e;

	if (!d) {
		printf("ls %s: %s\n", p, errno_name(errno));
		return;
	}
	while ((e = readdir(d)) && n < 64)
		names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	printf("ls %s:", p);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

static void put(const char *p, const char *text)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		printf("put %s: %s\n", p, errno_name(errno));
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	struct stat st, st2;
	char buf[64];
	int fd;

	if (!mkdtemp(scratch) || chdir(scratch)) {
		perror("scratch");
		return 1;
	}
	umask(022);

	/* Files. */
	fd = CHECK(creat("f", 0640));
	CHECK(write(fd, "hello", 5));
	CHECK(close(fd));
	contents("f");
	CHECK(stat("f", &st));
	printf("mode %o size %ld nlink %ld\n", st.st_mode, (long)st.st_size, (long)st.st_nlink);
	SHOW(st.st_uid == geteuid() && st.st_gid == getegid());
	CHECK(open("f", O_WRONLY | O_CREAT | O_EXCL, 0600));
	fd = CHECK(open("f", O_WRONLY | O_APPEND));
	CHECK(write(fd, " world", 6));
	CHECK(lseek(fd, 0, SEEK_CUR));
	CHECK(close(fd));
	contents("f");
	fd = CHECK(open("f", O_RDWR | O_TRUNC));
	CHECK(fstat(fd, &st));
	printf("after O_TRUNC size %ld\n", (long)st.st_size);
	CHECK(pwrite(fd, "xy", 2, 10));
	CHECK(fstat(fd, &st));
	printf("after pwrite at 10 size %ld\n", (long)st.st_size);
	CHECK(pread(fd, buf, sizeof(buf), 0));
	print_bytes("sparse", buf, 12);
	CHECK(close(fd));
	CHECK(open("f/", O_RDONLY));
	CHECK(open("missing/x", O_RDWR | O_CREAT, 0644));
	CHECK(open(".", O_RDWR));
	CHECK(open("newdir/", O_RDWR | O_CREAT, 0644));

	/* Directories. */
	CHECK(mkdir("d", 0755));
	CHECK(mkdir("d", 0755));
	CHECK(mkdir("f/x", 0755));
	CHECK(mkdir("d/e", 0700));
	CHECK(stat("d/e", &st));
	printf("d/e mode %o\n", st.st_mode);
	printf("nlink d %ld, . %ld\n", nlink_of("d"), nlink_of("."));
	put("d/e/g", "g");
	CHECK(rmdir("d"));
	CHECK(rmdir("d/e/g"));
	CHECK(unlink("d"));
	CHECK(rmdir("d/e/."));
	CHECK(rmdir("d/e/.."));
	CHECK(unlink("d/e/g/"));
	CHECK(unlink("d/e/g"));
	CHECK(unlink("d/e/g"));
	CHECK(rmdir("d/e"));
	printf("nlink d %ld\n", nlink_of("d"));
	list("d");
	CHECK(mkdir("sub/", 0755));
	CHECK(rmdir("sub/"));

	/* Links. */
	CHECK(link("f", "f2"));
	printf("nlink f %ld f2 %ld\n", nlink_of("f"), nlink_of("f2"));
	CHECK(stat("f", &st));
	CHECK(stat("f2", &st2));
	SHOW(st.st_ino == st2.st_ino);
	CHECK(link("f", "f2"));
	CHECK(link("d", "d2"));
	CHECK(link("nope", "n2"));
	CHECK(unlink("f2"));
	printf("nlink f %ld\n", nlink_of("f"));

	/* Symlinks. */
	CHECK(symlink("f", "s"));
	CHECK(symlink("nowhere", "dangling"));
	CHECK(symlink("x", "s"));
	printf("kind s %s, dangling %s\n", kind_of("s"), kind_of("dangling"));
	CHECK(readlink("s", buf, sizeof(buf)));
	CHECK(lstat("s", &st));
	printf("symlink size %ld mode %o\n", (long)st.st_size, st.st_mode);
	contents("s");
	CHECK(open("s", O_RDONLY | O_NOFOLLOW));
	CHECK(open("dangling", O_RDONLY));
	CHECK(unlink("dangling"));
	CHECK(symlink("d", "sd"));
	CHECK(rmdir("sd"));
	CHECK(unlink("sd/"));
	CHECK(unlink("sd"));

	/* Special files. */
	CHECK(mknod("fifo", S_IFIFO | 0644, 0));
	CHECK(mknod("sock", S_IFSOCK | 0644, 0));
	CHECK(mknod("plain", 0644, 0));
	CHECK(mknod("dir", S_IFDIR | 0755, 0));
	CHECK(mknod("bad", 0170000 | 0644, 0));
	printf("kinds %s %s %s\n", kind_of("fifo"), kind_of("sock"), kind_of("plain"));
	if (geteuid() == 0) {
		CHECK(mknod("null", S_IFCHR | 0666, makedev(1, 3)));
		CHECK(lstat("null", &st));
		printf("rdev %u:%u\n", major(st.st_rdev), minor(st.st_rdev));
		CHECK(unlink("null"));
	}
	CHECK(unlink("fifo"));
	CHECK(unlink("sock"));
	CHECK(unlink("plain"));

	/* Rename. */
	put("a", "A");
	put("b", "B");
	CHECK(rename("a", "c"));
	printf("a %s, c %s\n", kind_of("a"), kind_of("c"));
	CHECK(rename("c", "b"));
	contents("b");
	printf("c %s\n", kind_of("c"));
	put("a", "A");
	CHECK(syscall(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "b", RENAME_NOREPLACE));
	CHECK(syscall(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "b", RENAME_EXCHANGE));
	contents("a");
	contents("b");
	CHECK(syscall(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "zz", RENAME_EXCHANGE));
	CHECK(syscall(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "b", RENAME_EXCHANGE | RENAME_NOREPLACE));
	CHECK(rename("a", "a"));
	CHECK(rename("nope", "x"));
	CHECK(rename("a", "d"));
	CHECK(rename("d", "a"));
	CHECK(mkdir("d/inner", 0755));
	CHECK(rename("d", "d/inner/moved"));
	CHECK(rename("d/inner", "."));
	CHECK(rename(".", "x"));
	CHECK(mkdir("e", 0755));
	CHECK(rename("d", "e"));
	put("e/x", "x");
	CHECK(rename("d", "e"));
	CHECK(rename("d/inner", "e/inner"));
	list("d");
	list("e");
	printf("nlink d %ld e %ld\n", nlink_of("d"), nlink_of("e"));
	CHECK(rename("a/", "q"));
	CHECK(rename("e/inner/", "e/inner2/"));
	list("e");

	/* An open file outlives its name; a cwd outlives its directory. */
	fd = CHECK(open("b", O_RDONLY));
	CHECK(unlink("b"));
	CHECK(fstat(fd, &st));
	printf("unlinked nlink %ld\n", (long)st.st_nlink);
	CHECK(read(fd, buf, 1));
	CHECK(close(fd));
	CHECK(mkdir("gone", 0755));
	CHECK(chdir("gone"));
	CHECK(rmdir("../gone"));
	CHECK(open("new", O_WRONLY | O_CREAT, 0644));
	CHECK(chdir(".."));

	/* Clean up: everything goes. */
	CHECK(unlink("a"));
	CHECK(unlink("f"));
	CHECK(unlink("s"));
	CHECK(unlink("e/x"));
	CHECK(rmdir("e/inner2"));
	CHECK(rmdir("e"));
	CHECK(rmdir("d"));
	list(".");
	CHECK(chdir("/"));
	CHECK(rmdir(scratch));
	return 0;
}
