/* fadvise.c: fadvise64 checks (the advice itself is a hint). */
#include "common.h"

int main(void)
{
	int fd = open("/etc/passwd", O_RDONLY);
	int dir = open("/etc", O_RDONLY | O_DIRECTORY);
	int path = open("/etc/passwd", O_PATH);
	int null = open("/dev/null", O_RDONLY);

	for (long advice = 0; advice <= 6; advice++)
		SYS(fadvise64, fd, 0L, 0L, advice);
	SYS(fadvise64, fd, 100L, 4096L, (long)POSIX_FADV_DONTNEED);
	SYS(fadvise64, fd, 0L, -1L, (long)POSIX_FADV_NORMAL);
	SYS(fadvise64, dir, 0L, 0L, (long)POSIX_FADV_NORMAL);
	SYS(fadvise64, null, 0L, 0L, (long)POSIX_FADV_NORMAL);
	SYS(fadvise64, path, 0L, 0L, (long)POSIX_FADV_NORMAL);
	SYS(fadvise64, 999, 0L, 0L, (long)POSIX_FADV_NORMAL);
	SYS(fadvise64, -1, 0L, 0L, (long)POSIX_FADV_NORMAL);
	/* stdout is a pipe when run by the harness. */
	SYS(fadvise64, 1, 0L, 0L, (long)POSIX_FADV_NORMAL);
	return 0;
}
