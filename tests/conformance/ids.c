/*
 * ids.c: getpid(2), getppid(2), getuid(2), geteuid(2), getgid(2),
 * getegid(2) and getgroups(2). The numbers differ between the host and the
 * sandbox, so only relations between them are printed.
 */
#include "common.h"
#include <grp.h>

/* Read one numeric field of /proc/self/status ("Pid:", "Uid:", ...). */
static long status_field(const char *name, int index)
{
	static char buf[8192];
	char *p;
	long v = -1;

	if (slurp("/proc/self/status", buf, sizeof(buf)) < 0)
		return -2;
	for (p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
		if (strncmp(p, name, strlen(name)) != 0)
			continue;
		p += strlen(name);
		for (int i = 0; i <= index; i++)
			v = strtol(p, &p, 10);
		return v;
	}
	return -3;
}

int main(void)
{
	long pid = syscall(SYS_getpid), ppid = syscall(SYS_getppid);
	long uid = syscall(SYS_getuid), euid = syscall(SYS_geteuid);
	long gid = syscall(SYS_getgid), egid = syscall(SYS_getegid);
	gid_t groups[256];
	struct stat st;
	long n;

	SHOW(pid > 0);
	SHOW(ppid >= 0 && ppid != pid);
	SHOW(syscall(SYS_getpid) == pid && getpid() == pid);
	SHOW(syscall(SYS_getppid) == ppid && getppid() == ppid);
	SHOW(status_field("Pid:", 0) == pid);
	SHOW(status_field("PPid:", 0) == ppid);
	SHOW(status_field("Tgid:", 0) == pid);

	/* Nobody here is set-id: real == effective. */
	SHOW(uid >= 0 && uid == euid);
	SHOW(gid >= 0 && gid == egid);
	SHOW(getuid() == uid && geteuid() == euid && getgid() == gid && getegid() == egid);
	SHOW(status_field("Uid:", 0) == uid && status_field("Uid:", 1) == euid);
	SHOW(status_field("Uid:", 2) == uid && status_field("Uid:", 3) == uid);
	SHOW(status_field("Gid:", 0) == gid && status_field("Gid:", 1) == egid);
	/* /proc/self belongs to the process's effective ids. */
	stat("/proc/self/status", &st);
	SHOW(st.st_uid == (uid_t)euid && st.st_gid == (gid_t)egid);

	/* getgroups: size 0 asks for the count. */
	n = SYS_OK(getgroups, 0, NULL);
	SHOW(n >= 0 && n <= 256);
	SHOW(syscall(SYS_getgroups, 256, groups) == n);
	SHOW(syscall(SYS_getgroups, n, groups) == n);
	SHOW(getgroups(256, groups) == n);
	SHOW(syscall(SYS_getgroups, 1 << 20, groups) == n);
	SHOW(syscall(SYS_getgroups, 0, BAD_PTR) == n);
	if (n > 0) {
		SYS(getgroups, n - 1, groups);
		SYS(getgroups, n, BAD_PTR);
	} else {
		puts("no supplementary groups");
	}
	SYS(getgroups, -1, groups);
	return 0;
}
