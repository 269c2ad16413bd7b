/*
 * proc_self.c: the /proc/self files the sandbox provides: cmdline, exe,
 * status, maps and fd/. Values that differ between host and sandbox (pids,
 * addresses) are compared, not printed.
 */
#include "common.h"
#include <limits.h>

static char buf[65536];

/* Print the line of /proc/self/status that starts with `name`. */
static void status_line(const char *name)
{
	char *p, *end;

	slurp("/proc/self/status", buf, sizeof(buf));
	p = strstr(buf, name);
	if (!p || (p != buf && p[-1] != '\n')) {
		printf("  %s missing\n", name);
		return;
	}
	end = strchr(p, '\n');
	printf("  %.*s\n", (int)(end ? end - p : (long)strlen(p)), p);
}

static int status_has(const char *name)
{
	slurp("/proc/self/status", buf, sizeof(buf));
	return strstr(buf, name) != NULL;
}

int main(int argc, char **argv)
{
	char real[PATH_MAX], line[512], pid[32];
	struct stat a, b;
	long n, len = 0;
	int fd, fd2, found_exe = 0, found_stack = 0;

	/* cmdline: the arguments, each NUL-terminated. */
	fd = SYS(open, "/proc/self/cmdline", O_RDONLY);
	n = SYS_OK(read, fd, buf, sizeof(buf));
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	SHOW(n == len && memcmp(buf, argv[0], strlen(argv[0]) + 1) == 0);
	SYS(read, fd, buf, sizeof(buf));
	SYS(lseek, fd, 1, SEEK_SET);
	n = SYS_OK(read, fd, buf, 3);
	SHOW(n == 3 && memcmp(buf, argv[0] + 1, 3) == 0);
	close(fd);

	/* exe: this program's ELF file. */
	fd = SYS(open, "/proc/self/exe", O_RDONLY);
	n = SYS(read, fd, buf, 4);
	print_bytes("magic", buf, n);
	fstat(fd, &a);
	stat(argv[0], &b);
	SHOW(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(fd);

	/* status: a few fields that are the same everywhere. SigIgn is left
	 * out: ignored signals are inherited from whoever started us. */
	status_line("Name:");
	status_line("State:");
	status_line("Threads:");
	status_line("SigBlk:");
	status_line("SigCgt:");
	SHOW(status_has("\nVmSize:") && status_has("\nVmRSS:"));

	/* maps: the program's text and the stack are there. */
	realpath(argv[0], real);
	slurp("/proc/self/maps", buf, sizeof(buf));
	for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
		char perms[5], path[PATH_MAX] = "";

		if (sscanf(p, "%*x-%*x %4s %*s %*s %*s %4095s", perms, path) < 1)
			continue;
		if (strcmp(path, real) == 0 && strcmp(perms, "r-xp") == 0)
			found_exe = 1;
		if (strcmp(path, "[stack]") == 0 && strcmp(perms, "rw-p") == 0)
			found_stack = 1;
	}
	SHOW(found_exe);
	SHOW(found_stack);
	maps_lookup(&found_exe, line, NULL);
	printf("  stack variable in: %s\n", line);
	maps_lookup((void *)main, line, real);
	printf("  main in: %s\n", line);

	/* /proc/self is a link to /proc/<pid>. */
	n = SYS_OK(readlink, "/proc/self", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	snprintf(pid, sizeof(pid), "%d", getpid());
	SHOW(strcmp(buf, pid) == 0);

	/* fd/N: a link to the open file; opening it opens the file anew,
	 * with its own offset. */
	fd = SYS(open, "/etc/passwd", O_RDONLY);
	SYS(read, fd, buf, 5);
	fd2 = SYS(open, "/proc/self/fd/3", O_RDONLY);
	SYS(lseek, fd2, 0, SEEK_CUR);
	n = SYS(read, fd2, buf, 4);
	print_bytes("data", buf, n);
	SYS(lseek, fd, 0, SEEK_CUR);
	fstat(fd, &a);
	SYS(stat, "/proc/self/fd/3", &b);
	SHOW(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	SYS(lstat, "/proc/self/fd/3", &b);
	SHOW(S_ISLNK(b.st_mode));
	SYS(access, "/proc/self/fd/3", R_OK);
	close(fd2);
	close(fd);
	SYS(open, "/proc/self/fd/3", O_RDONLY);
	SYS(stat, "/proc/self/fd/3", &b);
	SYS(open, "/proc/self/nonexistent", O_RDONLY);
	return 0;
}
