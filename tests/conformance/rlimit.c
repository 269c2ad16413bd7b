/*
 * rlimit.c: getrlimit(2), setrlimit(2) and prlimit64(2): values set are read
 * back, soft <= hard, RLIMIT_NOFILE and RLIMIT_AS are enforced, and errors.
 * Inherited limits are host-specific, so they are only compared.
 */
#include "common.h"
#include <sys/resource.h>

#define PAGE 4096L

static void show(const char *label, const struct rlimit *rl)
{
	printf("  %s: cur %lu max %lu\n", label, (unsigned long)rl->rlim_cur,
	       (unsigned long)rl->rlim_max);
}

int main(void)
{
	struct rlimit rl, old, nofile;
	int n;

	for (int res = 0; res < RLIM_NLIMITS; res++) {
		long r = syscall(SYS_getrlimit, res, &rl);

		printf("  getrlimit(%d) = %ld, cur <= max: %d\n", res, r,
		       rl.rlim_cur <= rl.rlim_max);
	}
	SYS(getrlimit, RLIM_NLIMITS, &rl);
	SYS(getrlimit, 100, &rl);
	SYS(getrlimit, -1, &rl);
	SYS(getrlimit, RLIMIT_NOFILE, BAD_PTR);
	SYS(getrlimit, RLIMIT_NOFILE, NULL);

	/* Lower RLIMIT_NOFILE and read it back through all three calls. */
	SYS(getrlimit, RLIMIT_NOFILE, &nofile);
	SHOW(nofile.rlim_max >= 64);
	rl = (struct rlimit){ 32, 64 };
	SYS(setrlimit, RLIMIT_NOFILE, &rl);
	SYS(getrlimit, RLIMIT_NOFILE, &rl);
	show("NOFILE", &rl);
	SYS(prlimit64, 0, RLIMIT_NOFILE, NULL, &old);
	show("NOFILE", &old);
	rl = (struct rlimit){ 16, 64 };
	SYS(prlimit64, 0, RLIMIT_NOFILE, &rl, &old);
	show("old NOFILE", &old);
	SYS(prlimit64, getpid(), RLIMIT_NOFILE, NULL, &old);
	show("NOFILE", &old);
	SYS(prlimit64, syscall(SYS_gettid), RLIMIT_NOFILE, NULL, &old);
	SYS(prlimit64, 0, RLIMIT_NOFILE, NULL, NULL);

	/* Soft above hard is EINVAL; raising hard past fs.nr_open is EPERM
	 * even for root; lowering hard is always allowed. */
	rl = (struct rlimit){ 65, 64 };
	SYS(setrlimit, RLIMIT_NOFILE, &rl);
	rl = (struct rlimit){ 16, 1UL << 30 };
	SYS(setrlimit, RLIMIT_NOFILE, &rl);
	rl = (struct rlimit){ 16, 48 };
	SYS(setrlimit, RLIMIT_NOFILE, &rl);
	SYS(getrlimit, RLIMIT_NOFILE, &rl);
	show("NOFILE", &rl);
	SYS(setrlimit, RLIMIT_NOFILE, BAD_PTR);
	SYS(setrlimit, 100, &rl);
	SYS(prlimit64, 0, 100, NULL, &old);
	SYS(prlimit64, 0, RLIMIT_NOFILE, BAD_PTR, &old);
	SYS(prlimit64, 0, RLIMIT_NOFILE, NULL, BAD_PTR);
	SYS(prlimit64, 0x7fffffff, RLIMIT_NOFILE, NULL, &old);
	SYS(prlimit64, -1, RLIMIT_NOFILE, NULL, &old);

	/* RLIMIT_NOFILE is enforced: fds 0-2 plus 3 more. */
	rl = (struct rlimit){ 6, 48 };
	SYS(setrlimit, RLIMIT_NOFILE, &rl);
	for (n = 0; syscall(SYS_open, "/dev/null", O_RDONLY) >= 0; n++)
		;
	printf("opened %d before %s\n", n, errno_name(errno));

	/* Other resources keep what is set. Raising a hard limit needs
	 * privilege, so the inherited one is kept. */
	SYS(getrlimit, RLIMIT_CORE, &old);
	rl = (struct rlimit){ 0, old.rlim_max };
	SYS(setrlimit, RLIMIT_CORE, &rl);
	SYS(getrlimit, RLIMIT_CORE, &rl);
	SHOW(rl.rlim_cur == 0 && rl.rlim_max == old.rlim_max);
	SYS(getrlimit, RLIMIT_STACK, &rl);
	SHOW(rl.rlim_cur >= 128 * 1024);

	/* RLIMIT_AS is enforced by mmap. */
	rl = (struct rlimit){ 1UL << 30, 1UL << 30 };
	SYS(setrlimit, RLIMIT_AS, &rl);
	SYS_PTR(mmap, NULL, 2UL << 30, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
	SYS_OK(mmap, NULL, 4 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	SYS(prlimit64, 0, RLIMIT_AS, NULL, &old);
	show("AS", &old);
	return 0;
}
