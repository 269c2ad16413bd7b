/*
 * xattr.c: extended attributes on files in a scratch directory under /tmp:
 * set/get/list/remove by path, link and fd, the CREATE/REPLACE flags, size
 * probing and ERANGE, namespaces, and the errnos for bad names and kinds.
 */
#include "common.h"

#include <sys/xattr.h>

static char dir[64] = "/tmp/xattr.XXXXXX";

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The user.* names of `p`, sorted. */
static void show_list(const char *p)
{
	char buf[1024], *names[32];
	long n = listxattr(p, buf, sizeof(buf)), k = 0;

	if (n < 0) {
		printf("list %s: -1 %s\n", p, errno_name(errno));
		return;
	}
	for (char *s = buf; s < buf + n && k < 32; s += strlen(s) + 1)
		if (!strncmp(s, "user.", 5))
			names[k++] = s;
	qsort(names, k, sizeof(*names), cmp);
	printf("list %s:", p);
	for (long i = 0; i < k; i++)
		printf(" %s", names[i]);
	printf("\n");
}

int main(void)
{
	char buf[256], big[70000];
	int fd;

	if (!mkdtemp(dir) || chdir(dir)) {
		perror("scratch");
		return 1;
	}
	fd = CHECK(open("f", O_RDWR | O_CREAT, 0644));
	CHECK(setxattr("f", "user.a", "alpha", 5, 0));
	CHECK(setxattr("f", "user.b", "", 0, 0));
	CHECK(setxattr("f", "user.a", "again", 5, XATTR_CREATE));
	CHECK(setxattr("f", "user.c", "x", 1, XATTR_REPLACE));
	CHECK(setxattr("f", "user.a", "A", 1, XATTR_REPLACE));
	CHECK(setxattr("f", "user.a", "A", 1, 4));
	CHECK(getxattr("f", "user.a", NULL, 0));
	CHECK(getxattr("f", "user.a", buf, sizeof(buf)));
	print_bytes("user.a", buf, 1);
	CHECK(getxattr("f", "user.b", buf, sizeof(buf)));
	CHECK(setxattr("f", "user.long", "0123456789", 10, 0));
	CHECK(getxattr("f", "user.long", buf, 4));
	CHECK(getxattr("f", "user.none", buf, sizeof(buf)));
	CHECK(fgetxattr(fd, "user.long", buf, sizeof(buf)));
	CHECK(fsetxattr(fd, "user.fd", "via fd", 6, 0));
	show_list("f");
	CHECK(listxattr("f", buf, 3));
	CHECK(listxattr("f", NULL, 0) > 0);
	CHECK(removexattr("f", "user.b"));
	CHECK(removexattr("f", "user.b"));
	CHECK(fremovexattr(fd, "user.fd"));
	show_list("f");

	/* Names and namespaces. */
	CHECK(setxattr("f", "", "x", 1, 0));
	CHECK(setxattr("f", "nonamespace", "x", 1, 0));
	CHECK(getxattr("f", "bogus.x", buf, sizeof(buf)));
	memset(big, 'n', 300);
	memcpy(big, "user.", 5);
	big[300] = 0;
	CHECK(setxattr("f", big, "x", 1, 0));
	CHECK(getxattr("f", big, buf, sizeof(buf)));
	CHECK(setxattr("f", "user.big", big, 65537, 0));
	CHECK(getxattr("missing", "user.a", buf, sizeof(buf)));
	CHECK(getxattr("f", (char *)BAD_PTR, buf, sizeof(buf)));
	CHECK(fgetxattr(BAD_FD, "user.a", buf, sizeof(buf)));

	/* Directories take user.* attributes; symlinks do not. */
	CHECK(mkdir("d", 0755));
	CHECK(setxattr("d", "user.dir", "yes", 3, 0));
	CHECK(getxattr("d", "user.dir", buf, sizeof(buf)));
	CHECK(symlink("f", "s"));
	CHECK(lsetxattr("s", "user.l", "x", 1, 0));
	CHECK(lgetxattr("s", "user.a", buf, sizeof(buf)));
	CHECK(getxattr("s", "user.a", buf, sizeof(buf)));
	CHECK(llistxattr("s", buf, sizeof(buf)));

	/* Copies keep nothing: a new file has no attributes. */
	CHECK(open("g", O_RDWR | O_CREAT, 0644));
	show_list("g");
	CHECK(rename("f", "h"));
	CHECK(getxattr("h", "user.a", buf, sizeof(buf)));

	CHECK(unlink("h"));
	CHECK(unlink("g"));
	CHECK(unlink("s"));
	CHECK(rmdir("d"));
	CHECK(chdir("/"));
	CHECK(rmdir(dir));
	return 0;
}
