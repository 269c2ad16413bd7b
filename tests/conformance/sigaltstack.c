/* sigaltstack.c: setting, reading and disabling the alternate stack. */
#include "common.h"
#include <signal.h>

static char stack_mem[1 << 16];

static void show(const char *what, stack_t *s)
{
	printf("%s: flags %d size %zu sp-is-ours %d\n", what, s->ss_flags, s->ss_size,
	       s->ss_sp == stack_mem);
}

int main(void)
{
	stack_t ss, old;

	memset(&old, 0x55, sizeof(old));
	SYS(sigaltstack, 0L, (long)&old);
	printf("initial flags %d size %zu\n", old.ss_flags, old.ss_size);

	ss.ss_sp = stack_mem;
	ss.ss_size = sizeof(stack_mem);
	ss.ss_flags = 0;
	SYS(sigaltstack, (long)&ss, 0L);
	SYS(sigaltstack, 0L, (long)&old);
	show("after set", &old);

	ss.ss_size = 1024;
	SYS(sigaltstack, (long)&ss, 0L);
	ss.ss_size = sizeof(stack_mem);
	ss.ss_flags = 12345;
	SYS(sigaltstack, (long)&ss, 0L);
	ss.ss_flags = SS_ONSTACK;
	SYS(sigaltstack, (long)&ss, (long)&old);
	show("old", &old);

	ss.ss_flags = SS_DISABLE;
	SYS(sigaltstack, (long)&ss, (long)&old);
	SYS(sigaltstack, 0L, (long)&old);
	printf("disabled flags %d size %zu\n", old.ss_flags, old.ss_size);

	SYS(sigaltstack, (long)BAD_PTR, 0L);
	SYS(sigaltstack, 0L, (long)BAD_PTR);
	return 0;
}
