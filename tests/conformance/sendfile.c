/* sendfile.c: copying between files, with and without an offset pointer. */
#include "common.h"
#include <sys/sendfile.h>

int main(void)
{
	int in = open("/etc/passwd", O_RDONLY);
	int null = open("/dev/null", O_WRONLY);
	int null_append = open("/dev/null", O_WRONLY | O_APPEND);
	int wr = open("/dev/null", O_WRONLY);
	off_t off = 5;

	SYS(sendfile, 1, in, 0L, 4L);
	printf("\n");
	SYS(lseek, in, 0L, SEEK_CUR);
	SYS(sendfile, 1, in, (long)&off, 4L);
	printf("\n");
	printf("off %ld\n", (long)off);
	SYS(lseek, in, 0L, SEEK_CUR);
	SYS(sendfile, null, in, 0L, 1L << 20);
	SYS(sendfile, null, in, 0L, 10L);
	off = 0;
	SYS(sendfile, null, in, (long)&off, 0L);
	off = -1;
	SYS(sendfile, null, in, (long)&off, 4L);
	SYS(sendfile, null, in, (long)BAD_PTR, 4L);
	SYS(sendfile, null_append, in, 0L, 4L);
	SYS(sendfile, in, wr, 0L, 4L);
	SYS(sendfile, BAD_FD, in, 0L, 4L);
	SYS(sendfile, null, BAD_FD, 0L, 4L);
	SYS(sendfile, null, open("/etc", O_RDONLY | O_DIRECTORY), 0L, 4L);
	return 0;
}
