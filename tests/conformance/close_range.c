/*
 * close_range.c: close_range(2): closing ranges, CLOSE_RANGE_CLOEXEC,
 * CLOSE_RANGE_UNSHARE, and argument validation.
 */
#include "common.h"
#include <linux/close_range.h>

/* Print which of fds 3..12 are open, and which of those are close-on-exec. */
static void show_fds(void)
{
	char line[64];
	size_t n = 0;

	for (int fd = 3; fd <= 12; fd++) {
		long r = syscall(SYS_fcntl, fd, F_GETFD);

		line[n++] = r < 0 ? '-' : (r & FD_CLOEXEC) ? 'c' : 'o';
	}
	line[n] = 0;
	printf("  fds 3..12: %s\n", line);
}

static void open_ten(void)
{
	for (int i = 0; i < 10; i++)
		syscall(SYS_open, "/dev/null", O_RDONLY);
}

int main(void)
{
	open_ten();
	show_fds();
	SYS(close_range, 5, 7, 0);
	show_fds();
	SYS(close_range, 5, 7, 0);
	SYS(close_range, 11, 11, 0);
	show_fds();
	SYS(close_range, 8, 4, 0);
	SYS(close_range, 3, 4, 0x100);
	SYS(close_range, 3, 4, -1);
	show_fds();
	SYS(close_range, 3, 6, CLOSE_RANGE_CLOEXEC);
	show_fds();
	SYS(close_range, 10, ~0U, CLOSE_RANGE_UNSHARE);
	show_fds();
	SYS(close_range, 100, 200, 0);
	SYS(close_range, ~0U, ~0U, 0);
	SYS(close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE);
	show_fds();
	SYS(close_range, 3, ~0U, 0);
	show_fds();
	SYS(open, "/dev/null", O_RDONLY);
	/* A range that reaches past the fd table is fine. */
	open_ten();
	SYS(close_range, 4, 0x7fffffff, 0);
	show_fds();
	return 0;
}
