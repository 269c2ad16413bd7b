/*
 * tmpfile.c: O_TMPFILE in a scratch directory under /tmp: an unnamed file
 * (link count 0, nothing in the directory), readable and writable,
 * linkable into the tree with linkat(AT_EMPTY_PATH) or through
 * /proc/self/fd unless O_EXCL; chroot into the scratch directory; getcwd of
 * a removed directory.
 */
#include "common.h"

#include <dirent.h>
#include <sys/wait.h>

static char dir[64] = "/tmp/tmpfile.XXXXXX";

static int entries(const char *p)
{
	DIR *d = opendir(p);
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n - 2;
}

int main(void)
{
	char buf[64], proc[64];
	struct stat st;
	int fd;

	if (!mkdtemp(dir) || chdir(dir)) {
		perror("scratch");
		return 1;
	}
	fd = CHECK(open(".", O_TMPFILE | O_RDWR, 0600));
	CHECK(fstat(fd, &st));
	printf("mode %o nlink %ld\n", st.st_mode, (long)st.st_nlink);
	printf("entries %d\n", entries("."));
	CHECK(write(fd, "unnamed", 7));
	CHECK(pread(fd, buf, 7, 0));
	print_bytes("data", buf, 7);
	CHECK(linkat(fd, "", AT_FDCWD, "named", AT_EMPTY_PATH));
	CHECK(stat("named", &st));
	printf("named nlink %ld size %ld\n", (long)st.st_nlink, (long)st.st_size);
	CHECK(close(fd));

	fd = CHECK(open(".", O_TMPFILE | O_WRONLY, 0644));
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	CHECK(linkat(AT_FDCWD, proc, AT_FDCWD, "viaproc", AT_SYMLINK_FOLLOW));
	CHECK(close(fd));
	fd = CHECK(open(".", O_TMPFILE | O_WRONLY | O_EXCL, 0644));
	CHECK(linkat(fd, "", AT_FDCWD, "excl", AT_EMPTY_PATH));
	CHECK(close(fd));
	CHECK(open(".", O_TMPFILE | O_RDONLY, 0644));
	CHECK(open("named", O_TMPFILE | O_RDWR, 0644));
	CHECK(open("missing", O_TMPFILE | O_RDWR, 0644));
	printf("entries %d\n", entries("."));

	/* chroot: "/" is the scratch directory now, in a child. */
	if (fork() == 0) {
		CHECK(chroot("named"));
		CHECK(chroot("."));
		CHECK(chdir("/"));
		CHECK(stat("/named", &st));
		CHECK(stat("/tmp", &st));
		CHECK(getcwd(buf, sizeof(buf)) != NULL);
		printf("cwd %s\n", buf);
		CHECK(open("/..", O_RDONLY | O_DIRECTORY) >= 0);
		printf("entries of /.. %d\n", entries("/.."));
		_exit(0);
	}
	{
		int s;

		wait(&s);
	}

	/* getcwd of a removed directory. */
	CHECK(mkdir("gone", 0755));
	CHECK(chdir("gone"));
	CHECK(rmdir("../gone"));
	CHECK(getcwd(buf, sizeof(buf)) != NULL);
	CHECK(chdir(dir));

	CHECK(unlink("named"));
	CHECK(unlink("viaproc"));
	CHECK(chdir("/"));
	CHECK(rmdir(dir));
	return 0;
}
