/*
 * read_only_root.c: run only under runsc, whose root filesystem is the
 * host's, read-only: writes fail with EROFS, while opens that write nothing
 * behave as on any read-only mount. argv[1] is a path that does not exist.
 *
 * Not run natively: as root it would create argv[1]. And nothing here may
 * change an existing host file even if a broken sandbox let writes through:
 * no O_TRUNC, no write(2) to anything but /dev/null.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *label, long r)
{
	if (r < 0)
		printf("%s = -1 %s\n", label, errno == EROFS ? "EROFS" :
		       errno == EEXIST ? "EEXIST" : strerror(errno));
	else
		printf("%s = %ld\n", label, r);
}

int main(int argc, char **argv)
{
	long fd;

	if (argc != 2)
		return 2;
	show("open(new, O_WRONLY | O_CREAT)", syscall(SYS_open, argv[1], O_WRONLY | O_CREAT, 0644));
	show("open(new, O_RDONLY | O_CREAT)", syscall(SYS_open, argv[1], O_RDONLY | O_CREAT, 0644));
	show("open(/etc/passwd, O_WRONLY)", syscall(SYS_open, "/etc/passwd", O_WRONLY));
	show("open(/etc/passwd, O_RDWR)", syscall(SYS_open, "/etc/passwd", O_RDWR));
	show("open(/etc/passwd, O_RDONLY | O_CREAT | O_EXCL)",
	     syscall(SYS_open, "/etc/passwd", O_RDONLY | O_CREAT | O_EXCL, 0644));
	fd = syscall(SYS_open, "/etc/passwd", O_RDONLY | O_CREAT, 0644);
	show("open(/etc/passwd, O_RDONLY | O_CREAT)", fd);
	show("close", syscall(SYS_close, fd));
	show("access(/etc/passwd, W_OK)", syscall(SYS_access, "/etc/passwd", W_OK));
	show("access(/tmp, W_OK)", syscall(SYS_access, "/tmp", W_OK));
	show("access(/etc/passwd, R_OK)", syscall(SYS_access, "/etc/passwd", R_OK));
	fd = syscall(SYS_open, "/dev/null", O_WRONLY);
	show("open(/dev/null, O_WRONLY)", fd);
	show("write(/dev/null)", syscall(SYS_write, fd, "x", 1));
	return 0;
}
