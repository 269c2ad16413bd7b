/*
 * ioctl.c: ioctl(2) TCGETS, TIOCGWINSZ and FIONREAD on files, directories,
 * devices, /proc and pipes (none of them a terminal under the harness).
 */
#include "common.h"
#include <sys/ioctl.h>
#include <termios.h>

int main(void)
{
	struct termios tio;
	struct winsize ws;
	struct stat st;
	int avail = -1, fd, dir, null, zero, proc;

	fd = SYS(open, "/etc/passwd", O_RDONLY);
	fstat(fd, &st);
	SYS(ioctl, fd, TCGETS, &tio);
	SYS(ioctl, fd, TIOCGWINSZ, &ws);
	SYS(ioctl, fd, FIONREAD, &avail);
	SHOW(avail == st.st_size);
	SYS(lseek, fd, 10, SEEK_SET);
	SYS(ioctl, fd, FIONREAD, &avail);
	SHOW(avail == st.st_size - 10);
	SYS_OK(lseek, fd, st.st_size + 100, SEEK_SET);
	SYS(ioctl, fd, FIONREAD, &avail);
	SHOW(avail == -100);
	SYS(ioctl, fd, FIONREAD, BAD_PTR);
	SYS(ioctl, fd, FIONREAD, NULL);
	SYS(ioctl, fd, 0x1234, NULL);
	SYS(close, fd);
	SYS(ioctl, fd, FIONREAD, &avail);
	SYS(ioctl, -1, TCGETS, &tio);
	SYS(ioctl, BAD_FD, TIOCGWINSZ, &ws);
	SYS(ioctl, BAD_FD, 0x1234, NULL);

	fd = SYS(open, "/etc/passwd", O_PATH);
	SYS(ioctl, fd, FIONREAD, &avail);
	SYS(ioctl, fd, TCGETS, &tio);
	close(fd);

	dir = SYS(open, "/etc", O_RDONLY | O_DIRECTORY);
	SYS(ioctl, dir, TCGETS, &tio);
	SYS(ioctl, dir, FIONREAD, &avail);
	close(dir);

	null = SYS(open, "/dev/null", O_RDWR);
	SYS(ioctl, null, TCGETS, &tio);
	SYS(ioctl, null, TIOCGWINSZ, &ws);
	SYS(ioctl, null, FIONREAD, &avail);
	SYS(ioctl, null, TCGETS, BAD_PTR);
	close(null);
	zero = SYS(open, "/dev/zero", O_RDONLY);
	SYS(ioctl, zero, TCGETS, &tio);
	SYS(ioctl, zero, FIONREAD, &avail);
	close(zero);

	proc = SYS(open, "/proc/self/status", O_RDONLY);
	avail = -1;
	SYS(ioctl, proc, FIONREAD, &avail);
	printf("  avail %d\n", avail);
	SYS(ioctl, proc, TCGETS, &tio);
	close(proc);

	/* stdin is /dev/null and stdout a pipe under the harness. */
	SYS(ioctl, 0, TCGETS, &tio);
	SYS(ioctl, 0, TIOCGWINSZ, &ws);
	SYS(ioctl, 1, TCGETS, &tio);
	SYS(ioctl, 1, TIOCGWINSZ, &ws);
	SYS(ioctl, 1, TCGETS, BAD_PTR);
	CHECK(isatty(0));
	CHECK(isatty(1));
	return 0;
}
