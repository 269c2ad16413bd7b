/*
 * getrandom.c: getrandom(2) and the /dev/random and /dev/urandom devices.
 * The bytes are never printed; only that they are not all zero and that two
 * draws differ (each fails by chance with probability 2^-128).
 */
#include "common.h"
#include <sys/random.h>

static int nonzero(const unsigned char *p, long n)
{
	for (long i = 0; i < n; i++)
		if (p[i])
			return 1;
	return 0;
}

int main(void)
{
	unsigned char a[16], b[16], *big;
	int fd;

	SYS(getrandom, a, sizeof(a), 0);
	SYS(getrandom, b, sizeof(b), 0);
	SHOW(nonzero(a, sizeof(a)) && memcmp(a, b, sizeof(a)) != 0);
	SYS(getrandom, a, sizeof(a), GRND_NONBLOCK);
	SYS(getrandom, a, sizeof(a), GRND_RANDOM);
	SYS(getrandom, a, sizeof(a), GRND_RANDOM | GRND_NONBLOCK);
	SYS(getrandom, a, sizeof(a), GRND_INSECURE);
	SYS(getrandom, a, 0, 0);
	SYS(getrandom, NULL, 0, 0);

	/* Up to 32 MiB - 1 per call; 1 MiB comes back whole. */
	big = malloc(1 << 20);
	SYS(getrandom, big, 1 << 20, 0);
	SHOW(nonzero(big + (1 << 20) - 16, 16));
	free(big);

	/* Errors. */
	SYS(getrandom, a, sizeof(a), 0x80);
	SYS(getrandom, a, sizeof(a), -1);
	SYS(getrandom, a, sizeof(a), GRND_INSECURE | GRND_RANDOM);
	SYS(getrandom, BAD_PTR, 16, 0);
	SYS(getrandom, NULL, 16, 0);
	SYS(getrandom, KERNEL_PTR, 16, 0);

	/* The devices. */
	fd = SYS(open, "/dev/urandom", O_RDONLY);
	SYS(read, fd, a, sizeof(a));
	SYS(read, fd, b, sizeof(b));
	SHOW(nonzero(a, sizeof(a)) && memcmp(a, b, sizeof(a)) != 0);
	SYS(read, fd, BAD_PTR, 16);
	SYS(write, fd, "", 0);
	close(fd);
	fd = SYS(open, "/dev/random", O_RDONLY | O_NONBLOCK);
	SYS(read, fd, a, sizeof(a));
	SHOW(nonzero(a, sizeof(a)));
	close(fd);
	return 0;
}
