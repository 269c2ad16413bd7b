/*
 * exit.c: exit(2) from the only thread ends the process with that status
 * (7 here). The harness compares the exit status too.
 */
#include "common.h"

int main(void)
{
	puts("before exit(7)");
	syscall(SYS_exit, 7);
	puts("after exit");
	return 0;
}
