/*
 * exec_creds.c: the credentials a program gets from execve by user 1000:
 * a plain copy of this program, set-user-ID root, set-group-ID root (with
 * and without group execute), file capabilities (security.capability,
 * effective and not), set-user-ID under no_new_privs, and root running the
 * file with capabilities. Each child prints its ids, capability sets and
 * AT_SECURE. The copies live in a scratch directory under /tmp, removed
 * at the end.
 */
#include "common.h"
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <grp.h>

static char dir[64] = "/tmp/exec_creds.XXXXXX";

/* Ids, capability sets (the bounding set, which differs by machine,
 * shown as "all") and AT_SECURE. */
static void report(void)
{
	char line[256], caps[3][256] = {{0}}, bnd[256] = "";
	const char *names[3] = {"CapPrm:", "CapEff:", "CapAmb:"};
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		exit(1);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4))
			printf("  %s", line);
		if (!strncmp(line, "CapBnd:", 7))
			snprintf(bnd, sizeof(bnd), "%s", line + 7);
		for (int i = 0; i < 3; i++)
			if (!strncmp(line, names[i], 7))
				snprintf(caps[i], sizeof(caps[i]), "%s", line + 7);
	}
	fclose(f);
	for (int i = 0; i < 3; i++)
		printf("  %s %s", names[i], strcmp(caps[i], bnd) ? caps[i] + 1 : "all\n");
	printf("  AT_SECURE %lu\n", getauxval(AT_SECURE));
}

static void copy_self(const char *name, mode_t mode)
{
	char path[128], buf[65536];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int in = CHECK(open("/proc/self/exe", O_RDONLY));
	int out = CHECK(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0700));
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			exit(1);
	close(in);
	close(out);
	CHECK(chmod(path, mode));
}

static void set_caps(const char *name, int effective)
{
	char path[128];
	/* struct vfs_cap_data, revision 2: CAP_NET_BIND_SERVICE and CAP_NET_RAW. */
	uint32_t data[5] = {0x02000000 | (effective ? 1 : 0), (1 << 10) | (1 << 13), 0, 0, 0};
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK(setxattr(path, "security.capability", data, sizeof(data), 0));
}

/* Runs `name report` as user 1000 (or root), optionally with no_new_privs. */
static void run(const char *what, const char *name, int as_user, int nnp)
{
	char path[128];
	int st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	printf("%s:\n", what);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (as_user && (setgroups(0, NULL) || setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000)))
			_exit(3);
		if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			_exit(4);
		execl(path, path, "report", (char *)NULL);
		printf("  execl: %s\n", errno_name(errno));
		_exit(0);
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		printf("  status %d\n", st);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "report")) {
		report();
		return 0;
	}
	if (!mkdtemp(dir))
		return 1;
	CHECK(chmod(dir, 0755));
	copy_self("plain", 0755);
	copy_self("suid", 04755);
	copy_self("sgid", 02755);
	copy_self("sgid_noexec", 02745);
	copy_self("caps", 0755);
	set_caps("caps", 1);
	copy_self("caps_noeff", 0755);
	set_caps("caps_noeff", 0);
	run("plain", "plain", 1, 0);
	run("set-user-ID root", "suid", 1, 0);
	run("set-group-ID root", "sgid", 1, 0);
	run("set-group-ID without group execute", "sgid_noexec", 1, 0);
	run("file capabilities, effective", "caps", 1, 0);
	run("file capabilities, not effective", "caps_noeff", 1, 0);
	run("set-user-ID root under no_new_privs", "suid", 1, 1);
	run("file capabilities under no_new_privs", "caps", 1, 1);
	run("root runs the file with capabilities", "caps", 0, 0);
	const char *names[] = {"plain", "suid", "sgid", "sgid_noexec", "caps", "caps_noeff"};
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		CHECK(unlink(path));
	}
	CHECK(rmdir(dir));
	return 0;
}
