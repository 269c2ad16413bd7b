/*
 * proc_pid.c: more of /proc/[pid]: writing comm (kept as written, up to
 * 15 bytes), oom_score_adj (range, parsing, inheritance), oom_score, io,
 * cgroup's unified line, ns/ links, and the fields of smaps and
 * smaps_rollup (names and order; values vary).
 */
#include "common.h"

#include <sys/wait.h>

/* Writes s to path; prints the result. */
static void put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	long r;

	if (fd < 0) {
		printf("open %s: %s\n", path, errno_name(errno));
		return;
	}
	errno = 0;
	r = write(fd, s, strlen(s));
	printf("write %s \"%.*s\": %s\n", path, (int)strcspn(s, "\n"), s, r < 0 ? errno_name(errno) : "ok");
	close(fd);
}

static void show(const char *path)
{
	char buf[256];
	long n = slurp(path, buf, sizeof(buf));

	if (n < 0) {
		printf("%s: %s\n", path, errno_name(errno));
		return;
	}
	print_bytes(path, buf, n);
}

/* Prints the field names of the first block of an smaps-like file. */
static void fields(const char *path)
{
	static char buf[1 << 16];
	char *line, *save;
	int first = 1;

	if (slurp(path, buf, sizeof(buf)) < 0)
		return;
	printf("%s:", path);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		if (!first && strchr(line, '-') && strchr(line, '-') < line + 17 && !colon)
			break;
		if (!first && colon && colon - line < 20 && !strchr(line, ' ') ) {
			/* "Name:" with no space before the colon. */
		}
		if (!first && colon && !strchr(line, '-'))
			printf(" %.*s", (int)(colon - line), line);
		if (!first && strncmp(line, "VmFlags:", 8) == 0)
			break;
		first = 0;
	}
	printf("\n");
}

/* The value of `field` in /proc/self/io. */
static long io_field(const char *field)
{
	char buf[512], *p;

	if (slurp("/proc/self/io", buf, sizeof(buf)) < 0 || !(p = strstr(buf, field)))
		return -1;
	return atol(p + strlen(field) + 1);
}

int main(void)
{
	char buf[256], link[64];
	const char *ns[] = { "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "user", "uts" };
	long n;
	int st;

	put("/proc/self/comm", "renamed\n");
	show("/proc/self/comm");
	put("/proc/self/comm", "averyveryverylongname");
	show("/proc/self/comm");
	show("/proc/self/task/../comm");
	put("/proc/self/comm", "proc_pid");

	show("/proc/self/oom_score_adj");
	put("/proc/self/oom_score_adj", "100\n");
	show("/proc/self/oom_score_adj");
	put("/proc/self/oom_score_adj", " 7");
	show("/proc/self/oom_score_adj");
	put("/proc/self/oom_score_adj", "1001");
	put("/proc/self/oom_score_adj", "-1001");
	put("/proc/self/oom_score_adj", "abc");
	show("/proc/self/oom_score_adj");
	if (fork() == 0) {
		show("/proc/self/oom_score_adj");
		_exit(0);
	}
	wait(&st);
	n = slurp("/proc/self/oom_score", buf, sizeof(buf));
	SHOW(n > 0 && atoi(buf) >= 7 && atoi(buf) <= 2000);
	put("/proc/self/oom_score_adj", "0");
	put("/proc/self/oom_score", "1");

	n = slurp("/proc/self/cgroup", buf, sizeof(buf));
	SHOW(n > 0 && strstr(buf, "0::/") != NULL);

	for (unsigned i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char path[64], other[64];
		long a, b;

		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		a = readlink(path, link, sizeof(link) - 1);
		link[a > 0 ? a : 0] = 0;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", getpid(), ns[i]);
		b = readlink(path, other, sizeof(other) - 1);
		other[b > 0 ? b : 0] = 0;
		printf("ns %s: %s same %d\n", ns[i], strchr(link, '[') ? "kind:[ino]" : link,
		       a > 0 && a == b && memcmp(link, other, a) == 0);
	}

	{
		char junk[1000] = { 0 };
		int z = open("/dev/zero", O_RDONLY), nul = open("/dev/null", O_WRONLY);
		long rc = io_field("rchar"), wc = io_field("wchar"), sr = io_field("syscr"), sw = io_field("syscw");

		if (write(nul, junk, sizeof(junk)) != sizeof(junk) || read(z, junk, 100) != 100)
			return 1;
		SHOW(io_field("wchar") - wc >= 1000 && io_field("syscw") - sw >= 1);
		SHOW(io_field("rchar") - rc >= 100 && io_field("syscr") - sr >= 1);
		SHOW(io_field("read_bytes") >= 0 && io_field("cancelled_write_bytes") >= 0);
		close(z);
		close(nul);
	}
	fields("/proc/self/smaps");
	fields("/proc/self/smaps_rollup");
	n = slurp("/proc/self/smaps", buf, sizeof(buf));
	SHOW(n > 0);
	return 0;
}
