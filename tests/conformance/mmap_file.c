/* mmap_file.c: private file mappings whose pages are first touched in
 * different ways: by the program, by the kernel (write() from the mapping,
 * futex on it), after mprotect, mremap or madvise. Contents must always be
 * the file's. Uses /bin/ls (a few hundred KiB: several chunks). */
#include "common.h"
#include <linux/futex.h>

static unsigned long sum(const unsigned char *p, long n)
{
	unsigned long s = 0;
	for (long i = 0; i < n; i++)
		s = s * 31 + p[i];
	return s;
}

int main(void)
{
	int fd = open("/bin/ls", O_RDONLY);
	struct stat st;
	fstat(fd, &st);
	long len = st.st_size;
	unsigned char *buf = malloc(len);
	long got = 0;
	while (got < len) {
		long n = pread(fd, buf + got, len - got, got);
		if (n <= 0)
			break;
		got += n;
	}
	unsigned long want = sum(buf, len);

	/* The program touches every page. */
	unsigned char *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	printf("app reads match: %d\n", sum(p, len) == want);
	munmap(p, len);

	/* The kernel reads the untouched mapping first: write() from it. */
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	int null = open("/dev/zero", O_RDONLY);
	int out = open("/dev/null", O_WRONLY);
	printf("write from mapping: %d\n", write(out, p, len) == len);
	printf("then app reads match: %d\n", sum(p, len) == want);
	munmap(p, len);

	/* read() into a private writable file mapping, untouched. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	printf("read into mapping: %ld\n", (long)read(null, p + 4096, 16));
	printf("zeroed 16 bytes: %d\n", sum(p + 4096, 16) == sum((unsigned char[16]){0}, 16));
	printf("rest intact: %d\n", sum(p + 8192, len - 8192) == sum(buf + 8192, len - 8192));
	munmap(p, len);

	/* mprotect before the first touch, then read. */
	p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE, fd, 0);
	SYS(mprotect, p, len, PROT_READ);
	printf("after mprotect: %d\n", sum(p, len) == want);
	SYS(mprotect, p, len, PROT_NONE);
	SYS(mprotect, p, len, PROT_READ | PROT_WRITE);
	p[0] ^= 0xff;
	printf("private write: %d %d\n", p[0] == (buf[0] ^ 0xff), sum(p + 1, len - 1) == sum(buf + 1, len - 1));
	munmap(p, len);

	/* madvise(DONTNEED) before and after touching. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	SYS(madvise, p, 4096, MADV_DONTNEED);
	p[1] = 'X';
	SYS(madvise, p, 4096, MADV_DONTNEED);
	printf("dontneed restores file: %d\n", sum(p, len) == want);
	munmap(p, len);

	/* mremap an untouched mapping, growing and moving it. */
	long half = (len / 2) & ~4095L;
	p = mmap(NULL, half, PROT_READ, MAP_PRIVATE, fd, 0);
	unsigned char *q = mremap(p, half, len, MREMAP_MAYMOVE);
	printf("mremap: %d\n", q != MAP_FAILED);
	printf("after mremap: %d\n", sum(q, len) == want);
	munmap(q, len);

	/* A futex on an untouched page of a private file mapping. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	unsigned int *word = (unsigned int *)(p + 8192);
	unsigned int expect;
	memcpy(&expect, buf + 8192, 4);
	SYS(futex, word, FUTEX_WAIT_PRIVATE, expect + 1, 0L, 0L, 0L);
	SYS(futex, word, FUTEX_WAKE_PRIVATE, 1L, 0L, 0L, 0L);
	printf("futex word intact: %d\n", *word == expect);
	return 0;
}
