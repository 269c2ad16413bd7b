/*
 * dnotify.c: fcntl F_NOTIFY on a scratch directory under /tmp: the
 * F_SETSIG signal (POLL_MSG, si_fd) for creates, modifications, renames,
 * attribute changes and deletes inside it; one-shot without
 * DN_MULTISHOT; removal with 0 and on close; ENOTDIR for a file.
 */
#include "common.h"

#include <signal.h>
#include <time.h>

static char dir[64] = "/tmp/dnotify.XXXXXX";
static sigset_t set;

/*
 * Prints the first signal that came within 300 ms (or that none did) and
 * how many came in all (each event queues one).
 */
static void expect(const char *label, int fd)
{
	struct timespec ts = { 0, 300000000 }, zero = { 0, 50000000 };
	siginfo_t si, more;
	int n = 1;

	if (sigtimedwait(&set, &si, &ts) < 0) {
		printf("%s: %s\n", label, errno_name(errno));
		return;
	}
	while (sigtimedwait(&set, &more, &zero) > 0)
		n++;
	printf("%s: code %d fd ok %d signals %d\n", label, si.si_code, si.si_fd == fd, n);
}

int main(void)
{
	int d, f;

	if (!mkdtemp(dir) || chdir(dir)) {
		perror("scratch");
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 2);
	sigaddset(&set, SIGIO);
	sigprocmask(SIG_BLOCK, &set, NULL);
	d = CHECK(open(".", O_RDONLY | O_DIRECTORY));
	CHECK(fcntl(d, F_SETSIG, SIGRTMIN + 2));

	CHECK(fcntl(d, F_NOTIFY, DN_CREATE));
	SHOW(fcntl(d, F_GETOWN) == getpid());
	f = CHECK(open("a", O_CREAT | O_WRONLY, 0644));
	expect("create", d);
	close(CHECK(open("b", O_CREAT | O_WRONLY, 0644)));
	expect("one-shot", d);

	CHECK(fcntl(d, F_NOTIFY, DN_MODIFY | DN_RENAME | DN_ATTRIB | DN_DELETE | DN_MULTISHOT));
	CHECK(write(f, "x", 1));
	expect("modify", d);
	CHECK(rename("b", "c"));
	expect("rename", d);
	CHECK(chmod("c", 0600));
	expect("attrib", d);
	CHECK(unlink("c"));
	expect("delete", d);
	CHECK(write(f, "y", 1));
	expect("modify again", d);
	CHECK(fcntl(d, F_NOTIFY, 0));
	CHECK(write(f, "z", 1));
	expect("removed", d);

	CHECK(fcntl(d, F_NOTIFY, DN_DELETE | DN_MULTISHOT));
	CHECK(close(d));
	CHECK(unlink("a"));
	expect("closed", d);
	CHECK(fcntl(f, F_NOTIFY, DN_CREATE));
	CHECK(close(f));
	CHECK(chdir("/"));
	CHECK(rmdir(dir));
	return 0;
}
