/*
 * vectored_io.c: readv(2), writev(2), preadv(2) and pwritev(2): scatter and
 * gather, partial transfers, offsets, iovec validation.
 */
#include "common.h"
#include <limits.h>
#include <sys/uio.h>

int main(void)
{
	char a[8], b[8], big[16];
	struct iovec iov[2], bad_base[2], many[1025];
	long n;
	int fd, null, dir;

	fd = SYS(open, "/etc/passwd", O_RDONLY);
	iov[0] = (struct iovec){ a, 4 };
	iov[1] = (struct iovec){ b, 2 };
	n = SYS(readv, fd, iov, 2);
	print_bytes("a", a, 4);
	print_bytes("b", b, n - 4);
	SYS(readv, fd, iov, 0);
	SYS(readv, fd, iov, -1);
	SYS(readv, fd, BAD_PTR, 1);
	SYS(readv, fd, NULL, 0);

	/* More than UIO_MAXIOV (1024) entries is EINVAL; 1024 is fine. */
	for (int i = 0; i < 1025; i++)
		many[i] = (struct iovec){ big, 0 };
	SYS(readv, fd, many, 1025);
	SYS(readv, fd, many, 1024);

	/* A length that is negative as ssize_t is EINVAL. */
	bad_base[0] = (struct iovec){ big, (size_t)-1 };
	SYS(readv, fd, bad_base, 1);
	bad_base[0] = (struct iovec){ big, SSIZE_MAX };
	bad_base[1] = (struct iovec){ big, SSIZE_MAX };
	SYS(readv, fd, bad_base, 2);

	/* A bad base alone is EFAULT; after a good one, a short transfer. */
	bad_base[0] = (struct iovec){ BAD_PTR, 4 };
	SYS(readv, fd, bad_base, 1);
	SYS(lseek, fd, 0, SEEK_SET);
	bad_base[0] = (struct iovec){ a, 4 };
	bad_base[1] = (struct iovec){ BAD_PTR, 4 };
	SYS(readv, fd, bad_base, 2);
	SYS(lseek, fd, 0, SEEK_CUR);

	/* Zero-length entries are skipped. */
	SYS(lseek, fd, 0, SEEK_SET);
	iov[0] = (struct iovec){ a, 0 };
	iov[1] = (struct iovec){ b, 4 };
	n = SYS(readv, fd, iov, 2);
	print_bytes("b", b, n);

	SYS(writev, fd, iov, 2);
	SYS(readv, -1, iov, 2);
	SYS(readv, BAD_FD, iov, 2);
	SYS(writev, BAD_FD, iov, 2);

	/* preadv/pwritev: the offset is explicit and the file offset stays. */
	iov[0] = (struct iovec){ a, 2 };
	iov[1] = (struct iovec){ b, 3 };
	SYS(lseek, fd, 1, SEEK_SET);
	n = SYS(preadv, fd, iov, 2, 5, 0);
	print_bytes("a", a, 2);
	print_bytes("b", b, n - 2);
	SYS(lseek, fd, 0, SEEK_CUR);
	SYS(preadv, fd, iov, 2, 1 << 30, 0);
	SYS(preadv, fd, iov, 2, -1L, 0);
	SYS(preadv, fd, iov, 2, -1L, -1L);
	SYS(preadv, fd, iov, -1, 0, 0);
	SYS(preadv, fd, BAD_PTR, 1, 0, 0);
	SYS(preadv, BAD_FD, iov, 2, 0, 0);
	SYS(pwritev, fd, iov, 2, 0, 0);
	close(fd);

	dir = SYS(open, "/etc", O_RDONLY | O_DIRECTORY);
	SYS(readv, dir, iov, 2);
	SYS(preadv, dir, iov, 2, 0, 0);
	close(dir);

	null = SYS(open, "/dev/null", O_RDWR);
	iov[0] = (struct iovec){ "hello", 5 };
	iov[1] = (struct iovec){ " world", 6 };
	SYS(writev, null, iov, 2);
	SYS(pwritev, null, iov, 2, 100, 0);
	SYS(pwritev, null, iov, 2, -1L, 0);
	SYS(readv, null, iov, 2);
	SYS(preadv, null, iov, 2, 0, 0);
	close(null);

	/* Gathered output on stdout, which cannot seek. */
	iov[0] = (struct iovec){ "gathered ", 9 };
	iov[1] = (struct iovec){ "line\n", 5 };
	SYS(writev, 1, iov, 2);
	iov[0] = (struct iovec){ "", 0 };
	SYS(pwritev, 1, iov, 1, 0, 0);
	SYS(preadv, 1, iov, 1, 0, 0);
	return 0;
}
