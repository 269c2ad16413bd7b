/* prctl.c: process names, dumpable, pdeathsig, no_new_privs, subreaper,
 * keepcaps, seccomp mode, capability bounding set, timer slack. */
#include "common.h"
#include <signal.h>
#include <sys/prctl.h>

int main(void)
{
	char name[32];
	int v = -1;

	SYS(prctl, PR_SET_NAME, (long)"conformance-name-too-long", 0L, 0L, 0L);
	memset(name, 'x', sizeof(name));
	SYS(prctl, PR_GET_NAME, (long)name, 0L, 0L, 0L);
	printf("name \"%s\" (terminated: %d)\n", name, name[15] == 0);
	SYS(prctl, PR_SET_NAME, (long)"short", 0L, 0L, 0L);
	SYS(prctl, PR_GET_NAME, (long)name, 0L, 0L, 0L);
	printf("name \"%s\"\n", name);
	SYS(prctl, PR_SET_NAME, (long)BAD_PTR, 0L, 0L, 0L);
	SYS(prctl, PR_GET_NAME, (long)BAD_PTR, 0L, 0L, 0L);

	SYS(prctl, PR_GET_DUMPABLE, 0L, 0L, 0L, 0L);
	SYS(prctl, PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);
	SYS(prctl, PR_GET_DUMPABLE, 0L, 0L, 0L, 0L);
	SYS(prctl, PR_SET_DUMPABLE, 2L, 0L, 0L, 0L);
	SYS(prctl, PR_SET_DUMPABLE, 1L, 0L, 0L, 0L);

	SYS(prctl, PR_SET_PDEATHSIG, (long)SIGUSR1, 0L, 0L, 0L);
	SYS(prctl, PR_GET_PDEATHSIG, (long)&v, 0L, 0L, 0L);
	printf("pdeathsig %d\n", v);
	SYS(prctl, PR_SET_PDEATHSIG, 99L, 0L, 0L, 0L);
	SYS(prctl, PR_GET_PDEATHSIG, (long)BAD_PTR, 0L, 0L, 0L);

	SYS(prctl, PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L);
	SYS(prctl, PR_SET_NO_NEW_PRIVS, 2L, 0L, 0L, 0L);
	SYS(prctl, PR_SET_NO_NEW_PRIVS, 1L, 1L, 0L, 0L);
	SYS(prctl, PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L);
	SYS(prctl, PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L);
	SYS(prctl, PR_GET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L);

	SYS(prctl, PR_GET_SECCOMP, 0L, 0L, 0L, 0L);
	SYS(prctl, PR_CAPBSET_READ, 0L, 0L, 0L, 0L);
	SYS(prctl, PR_CAPBSET_READ, 1000L, 0L, 0L, 0L);

	v = -1;
	SYS(prctl, PR_GET_CHILD_SUBREAPER, (long)&v, 0L, 0L, 0L);
	printf("subreaper %d\n", v);
	SYS(prctl, PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
	SYS(prctl, PR_GET_CHILD_SUBREAPER, (long)&v, 0L, 0L, 0L);
	printf("subreaper %d\n", v);

	SYS(prctl, PR_GET_KEEPCAPS, 0L, 0L, 0L, 0L);
	SYS(prctl, PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L);
	SYS(prctl, PR_GET_KEEPCAPS, 0L, 0L, 0L, 0L);
	SYS(prctl, PR_SET_KEEPCAPS, 5L, 0L, 0L, 0L);

	SYS(prctl, PR_GET_TIMERSLACK, 0L, 0L, 0L, 0L);
	SYS(prctl, 0x7fffffffL, 0L, 0L, 0L, 0L);
	return 0;
}
