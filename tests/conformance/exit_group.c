/*
 * exit_group.c: exit_group(2) ends the process at once (no atexit handlers,
 * which belong to glibc's exit(3)) with the status's low 8 bits: 0x12a
 * gives 42. The harness compares the exit status too.
 */
#include "common.h"

static void not_reached(void)
{
	puts("atexit handler ran");
}

int main(void)
{
	atexit(not_reached);
	puts("before exit_group(0x12a)");
	syscall(SYS_exit_group, 0x12a);
	puts("after exit_group");
	return 0;
}
