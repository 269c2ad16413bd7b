/*
 * unimplemented.c: calls a system call the sandbox does not implement,
 * io_uring_setup (425), twice. Under runsc both calls must fail with ENOSYS
 * and the debug log must report the syscall once, by name and number.
 * (Natively the calls fail with EFAULT: the params pointer is NULL.)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	for (int i = 0; i < 2; i++) {
		long r = syscall(SYS_io_uring_setup, 1, NULL);

		printf("io_uring_setup(1, NULL) = %ld %s\n", r,
		       r == -1 ? (errno == ENOSYS ? "ENOSYS" : strerror(errno)) : "");
	}
	return 0;
}
