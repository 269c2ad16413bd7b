/*
 * rwf.c: preadv2/pwritev2 (offset -1, RWF_NOWAIT, RWF_APPEND, unknown
 * flags) and readahead, on a scratch file under /tmp and a pipe.
 */
#include "common.h"

#include <sys/uio.h>

static char path[64] = "/tmp/rwf.XXXXXX";

int main(void)
{
	char buf[32];
	struct iovec iov = { buf, sizeof(buf) };
	struct iovec out = { "xyz", 3 };
	int fd, p[2];

	fd = mkstemp(path);
	if (fd < 0 || pipe(p))
		return 1;
	CHECK(write(fd, "0123456789", 10));
	CHECK(lseek(fd, 2, SEEK_SET));
	iov.iov_len = 3;
	CHECK(preadv2(fd, &iov, 1, -1, 0));
	print_bytes("from offset", buf, 3);
	CHECK(lseek(fd, 0, SEEK_CUR));
	CHECK(preadv2(fd, &iov, 1, 7, 0));
	print_bytes("at 7", buf, 3);
	CHECK(lseek(fd, 0, SEEK_CUR));
	CHECK(preadv2(fd, &iov, 1, 0, RWF_NOWAIT));
	CHECK(preadv2(fd, &iov, 1, 0, RWF_HIPRI | RWF_SYNC | RWF_DSYNC));
	CHECK(preadv2(fd, &iov, 1, 0, 0x100000));
	CHECK(preadv2(fd, &iov, 1, -2, 0));
	CHECK(pwritev2(fd, &out, 1, 0, RWF_APPEND));
	CHECK(pread(fd, buf, sizeof(buf), 0));
	print_bytes("appended", buf, 13);
	CHECK(pwritev2(fd, &out, 1, 1, RWF_DSYNC));
	CHECK(pwritev2(fd, &out, 1, -1, 0));
	CHECK(lseek(fd, 0, SEEK_CUR));

	/* A pipe: NOWAIT does not wait. */
	CHECK(preadv2(p[0], &iov, 1, -1, RWF_NOWAIT));
	CHECK(write(p[1], "ab", 2));
	CHECK(preadv2(p[0], &iov, 1, -1, RWF_NOWAIT));
	CHECK(preadv2(p[0], &iov, 1, 0, 0));

	CHECK(readahead(fd, 0, 4096));
	CHECK(readahead(p[0], 0, 4096));
	CHECK(readahead(BAD_FD, 0, 4096));
	CHECK(close(fd));
	CHECK(unlink(path));
	return 0;
}
