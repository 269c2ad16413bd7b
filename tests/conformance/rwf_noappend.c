/*
 * rwf_noappend.c: pwritev2's RWF_NOAPPEND (Linux 6.9) on an O_APPEND file
 * under /tmp: at an offset and at the file offset, with RWF_APPEND, on a
 * read and on a pipe; RWF_ATOMIC and RWF_DONTCACHE on a pipe.
 */
#include "common.h"

#include <sys/uio.h>

#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND 0x20
#endif
#ifndef RWF_ATOMIC
#define RWF_ATOMIC 0x40
#endif
#ifndef RWF_DONTCACHE
#define RWF_DONTCACHE 0x80
#endif

static char path[64] = "/tmp/rwf_noappend.XXXXXX";

static void show(int fd)
{
	char buf[32];
	long n = pread(fd, buf, sizeof(buf), 0);

	if (n >= 0)
		print_bytes("contents", buf, n);
}

int main(void)
{
	char buf[8];
	struct iovec out = { "xy", 2 };
	struct iovec two[2] = { { "A", 1 }, { "BC", 2 } };
	struct iovec in = { buf, sizeof(buf) };
	int fd, ap, p[2];

	fd = mkstemp(path);
	if (fd < 0 || pipe(p))
		return 1;
	CHECK(write(fd, "0123456789", 10));
	ap = open(path, O_RDWR | O_APPEND);
	if (ap < 0)
		return 1;
	CHECK(lseek(ap, 3, SEEK_SET));

	/* POSIX pwrite: at the offset, the file offset unchanged. */
	CHECK(pwritev2(ap, &out, 1, 1, RWF_NOAPPEND));
	show(ap);
	CHECK(lseek(ap, 0, SEEK_CUR));
	/* Several buffers, one after the other from the offset. */
	CHECK(pwritev2(ap, two, 2, 5, RWF_NOAPPEND));
	show(ap);
	/* At the file offset, which moves on. */
	CHECK(pwritev2(ap, &out, 1, -1, RWF_NOAPPEND));
	show(ap);
	CHECK(lseek(ap, 0, SEEK_CUR));
	/* Past the end: a hole, then the bytes. */
	CHECK(pwritev2(ap, &out, 1, 12, RWF_NOAPPEND));
	CHECK(lseek(ap, 0, SEEK_END));
	/* Without the flag, O_APPEND still holds. */
	CHECK(pwritev2(ap, &out, 1, 0, 0));
	CHECK(lseek(ap, 0, SEEK_END));
	CHECK(write(ap, "z", 1));
	CHECK(lseek(ap, 0, SEEK_CUR));
	/* Both flags. */
	CHECK(pwritev2(ap, &out, 1, 0, RWF_APPEND | RWF_NOAPPEND));
	CHECK(lseek(ap, 0, SEEK_END));
	/* On a file without O_APPEND: a plain positional write. */
	CHECK(pwritev2(fd, &out, 1, 0, RWF_NOAPPEND));
	show(fd);
	/* Reads take NOAPPEND (and ignore it), not APPEND. */
	CHECK(preadv2(ap, &in, 1, 0, RWF_NOAPPEND));
	CHECK(preadv2(ap, &in, 1, 0, RWF_APPEND));
	CHECK(preadv2(ap, &in, 1, 0, RWF_APPEND | RWF_NOAPPEND));
	/* A read-only descriptor. */
	CHECK(close(fd));
	fd = open(path, O_RDONLY | O_APPEND);
	CHECK(pwritev2(fd, &out, 1, 0, RWF_NOAPPEND));
	CHECK(close(fd));

	/* A pipe: no offset; NOAPPEND changes nothing; ATOMIC and DONTCACHE
	 * are not a pipe's. */
	CHECK(pwritev2(p[1], &out, 1, -1, RWF_NOAPPEND));
	CHECK(pwritev2(p[1], &out, 1, 0, RWF_NOAPPEND));
	CHECK(read(p[0], buf, sizeof(buf)));
	CHECK(pwritev2(p[1], &out, 1, -1, RWF_ATOMIC));
	CHECK(pwritev2(p[1], &out, 1, -1, RWF_DONTCACHE));
	CHECK(preadv2(p[0], &in, 1, -1, RWF_DONTCACHE));
	CHECK(close(ap));
	CHECK(unlink(path));
	return 0;
}
