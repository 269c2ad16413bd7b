/*
 * unix_common.h: what the AF_UNIX conformance programs share: SUN_OFF, and
 * (with UNIX_SOCKET_HELPERS defined before the include) the helpers of the
 * abstract-name programs: the watchdog, SIGPIPE counting, abstract
 * addresses, and printers for names, poll state, fd flags, options and
 * reads. Include it after common.h.
 */
#ifndef CONFORMANCE_UNIX_COMMON_H
#define CONFORMANCE_UNIX_COMMON_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#define SUN_OFF ((socklen_t)offsetof(struct sockaddr_un, sun_path))

#ifdef UNIX_SOCKET_HELPERS

static int self_pid;

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

/*
 * A watchdog for a blocking call that must return by itself: if it has not
 * after 1 s, SIGUSR2 interrupts it (EINTR) and the program goes on.
 */
static timer_t watchdog;

static void on_watchdog(int sig)
{
	(void)sig;
}

static void watchdog_start(void)
{
	struct sigaction sa = { .sa_handler = on_watchdog };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
	struct itimerspec its = { .it_value = { 1, 0 } };

	sigaction(SIGUSR2, &sa, NULL);
	timer_create(CLOCK_MONOTONIC, &sev, &watchdog);
	timer_settime(watchdog, 0, &its, NULL);
}

static void watchdog_stop(void)
{
	timer_delete(watchdog);
}

/* "@conf-unix-<pid>-<tag>": returns the address length. */
static socklen_t abstract_addr(struct sockaddr_un *a, const char *tag)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "conf-unix-%d-%s", self_pid, tag);
	return SUN_OFF + 1 + n;
}

/* Print a returned address without anything that differs between runs. */
static void show_addr(const char *label, const struct sockaddr_un *a, socklen_t len)
{
	char prefix[64], name[128];
	size_t n, plen;

	if (len <= SUN_OFF) {
		printf("  %s: len %u family %s\n", label, (unsigned)len,
		       len < 2 ? "-" : a->sun_family == AF_UNIX ? "AF_UNIX" : "other");
		return;
	}
	if (a->sun_family != AF_UNIX) {
		printf("  %s: len %u family other\n", label, (unsigned)len);
		return;
	}
	if (a->sun_path[0] == 0) {
		n = len - SUN_OFF - 1;
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, a->sun_path + 1, n);
		name[n] = 0;
		plen = snprintf(prefix, sizeof(prefix), "conf-unix-%d-", self_pid);
		if (strlen(name) == n && strncmp(name, prefix, plen) == 0) {
			printf("  %s: abstract \"@conf-unix-PID-%s\"\n", label, name + plen);
		} else {
			int hex = 1;

			for (size_t i = 0; i < n; i++)
				hex &= (name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f');
			printf("  %s: abstract, other name: len - 2 = %u, hex digits %d\n", label,
			       (unsigned)(len - SUN_OFF), hex && strlen(name) == n);
		}
		return;
	}
	/* No path names here (they are in unix_path.c), but show one if it comes. */
	n = strnlen(a->sun_path, len - SUN_OFF);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, a->sun_path, n);
	name[n] = 0;
	printf("  %s: path \"%s\"", label, name);
	printf(" len - 2 - strlen = %d\n", (int)(len - SUN_OFF - n));
}

static void show_sockname(const char *label, int fd)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);

	memset(&a, 0x55, sizeof(a));
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		printf("  getsockname %s = -1 %s\n", label, errno_name(errno));
	else
		show_addr(label, &a, len);
}

static void show_peername(const char *label, int fd)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);

	memset(&a, 0x55, sizeof(a));
	if (getpeername(fd, (struct sockaddr *)&a, &len) < 0)
		printf("  getpeername %s = -1 %s\n", label, errno_name(errno));
	else
		show_addr(label, &a, len);
}

static void show_poll(const char *label, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLPRI | POLLRDHUP };
	char buf[128] = "";
	int r = poll(&p, 1, 0);

	if (r < 0) {
		printf("  poll %s = -1 %s\n", label, errno_name(errno));
		return;
	}
#define FLAG(f) if (p.revents & f) strcat(strcat(buf, buf[0] ? "|" : ""), #f)
	FLAG(POLLIN); FLAG(POLLPRI); FLAG(POLLOUT); FLAG(POLLRDHUP);
	FLAG(POLLERR); FLAG(POLLHUP); FLAG(POLLNVAL);
#undef FLAG
	printf("  poll %s: %s\n", label, buf[0] ? buf : "0");
}

static void show_fd_flags(const char *label, int fd)
{
	int fdfl = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL);

	printf("  %s: FD_CLOEXEC %d O_NONBLOCK %d O_RDWR %d\n", label, (fdfl & FD_CLOEXEC) != 0,
	       (fl & O_NONBLOCK) != 0, (fl & O_ACCMODE) == O_RDWR);
}

/* getsockopt of an int option: "getsockopt(fd, OPT) = 0 value V len L". */
static void show_opt(int fd, int opt, const char *label)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	int r = getsockopt(fd, SOL_SOCKET, opt, &v, &len);

	if (r < 0)
		printf("  getsockopt(%s) = -1 %s\n", label, errno_name(errno));
	else if (opt == SO_ERROR)
		printf("  getsockopt(%s) = 0 value %s len %u\n", label, v ? errno_name(v) : "0",
		       (unsigned)len);
	else
		printf("  getsockopt(%s) = 0 value %d len %u\n", label, v, (unsigned)len);
}
#define OPT(fd, opt) show_opt(fd, opt, #fd ", " #opt)

static int get_int_opt(int fd, int opt)
{
	int v = -12345;
	socklen_t len = sizeof(v);

	getsockopt(fd, SOL_SOCKET, opt, &v, &len);
	return v;
}

static void show_inq(const char *label, int fd)
{
	int n = -12345;

	if (ioctl(fd, FIONREAD, &n) < 0)
		printf("  FIONREAD %s = -1 %s\n", label, errno_name(errno));
	else
		printf("  FIONREAD %s: %d\n", label, n);
}

static void show_read(const char *label, int fd, size_t len, int flags)
{
	char buf[256];
	long n = recv(fd, buf, len < sizeof(buf) ? len : sizeof(buf), flags);

	if (n < 0)
		printf("  %s = -1 %s\n", label, errno_name(errno));
	else
		printf("  %s = %ld \"%.*s\"\n", label, n, (int)((size_t)n < len ? (size_t)n : len), buf);
}

#endif /* UNIX_SOCKET_HELPERS */

#endif /* CONFORMANCE_UNIX_COMMON_H */
