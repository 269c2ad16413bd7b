/*
 * umask.c: umask(2): it returns the previous mask, keeps only the
 * permission bits, and /proc/self/status reports it.
 */
#include "common.h"

/* The "Umask:" line of /proc/self/status, or -1. */
static long status_umask(void)
{
	char buf[8192], *p;

	if (slurp("/proc/self/status", buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\nUmask:");
	return p ? strtol(p + 7, NULL, 8) : -1;
}

int main(void)
{
	long inherited = syscall(SYS_umask, 022);

	SHOW(inherited >= 0 && inherited <= 0777);
	SHOW(status_umask() == 022);
	printf("umask(077) = 0%lo\n", syscall(SYS_umask, 077));
	SHOW(status_umask() == 077);
	printf("umask(0) = 0%lo\n", syscall(SYS_umask, 0));
	printf("umask(0xffff) = 0%lo\n", syscall(SYS_umask, 0xffff));
	printf("umask(02) = 0%lo\n", syscall(SYS_umask, 02));
	printf("umask(-1) = 0%lo\n", syscall(SYS_umask, -1));
	printf("umask(07000) = 0%lo\n", syscall(SYS_umask, 07000));
	printf("umask(inherited) = 0%lo\n", syscall(SYS_umask, inherited));
	SHOW(status_umask() == inherited);
	return 0;
}
