/*
 * uname.c: uname(2). Release, version and host name differ between the host
 * and the sandbox, so only their shape is printed.
 */
#include "common.h"
#include <sys/utsname.h>

static int terminated(const char *s, size_t size)
{
	return memchr(s, 0, size) != NULL;
}

int main(void)
{
	struct utsname u;
	int major = 0, minor = -1;

	memset(&u, 'x', sizeof(u));
	SYS(uname, &u);
	printf("  sysname \"%s\"\n", u.sysname);
	printf("  machine \"%s\"\n", u.machine);
	SHOW(terminated(u.nodename, sizeof(u.nodename)) && u.nodename[0] != 0);
	SHOW(terminated(u.release, sizeof(u.release)) && u.release[0] != 0);
	SHOW(terminated(u.version, sizeof(u.version)) && u.version[0] != 0);
	SHOW(terminated(u.domainname, sizeof(u.domainname)));
	SHOW(sscanf(u.release, "%d.%d", &major, &minor) == 2);
	SHOW(major >= 3 && minor >= 0);
	SYS(uname, BAD_PTR);
	SYS(uname, NULL);
	SYS(uname, KERNEL_PTR);
	return 0;
}
