/*
 * sigaction.c: rt_sigaction(2) and rt_sigprocmask(2) as state: handlers,
 * flags and masks are stored and read back (the kernel drops SIGKILL and
 * SIGSTOP from masks and unknown bits from sa_flags). No signal is sent.
 */
#include "common.h"
#include <signal.h>

/* The kernel's struct sigaction on x86_64. */
struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

#define SA_RESTORER 0x04000000 /* not exported by glibc */

#define BIT(sig) (1ULL << ((sig) - 1))

static void handler(int sig)
{
	(void)sig;
}

static void restorer(void)
{
}

static void show(const char *label, const struct ksigaction *k)
{
	const char *h = k->handler == SIG_DFL ? "SIG_DFL" :
			k->handler == SIG_IGN ? "SIG_IGN" :
			k->handler == handler ? "handler" : "?";

	printf("  %s: %s flags 0x%lx restorer %d mask 0x%llx\n", label, h,
	       k->flags, k->restorer == restorer, (unsigned long long)k->mask);
}

int main(void)
{
	struct ksigaction act, old;
	uint64_t set, oldset;

	/* Defaults. The harness starts programs with every signal at SIG_DFL
	 * and an empty mask (Rust resets SIGPIPE, which it ignores itself). */
	SYS(rt_sigaction, SIGUSR1, NULL, &old, 8);
	show("SIGUSR1", &old);
	SYS(rt_sigaction, SIGPIPE, NULL, &old, 8);
	show("SIGPIPE", &old);
	SYS(rt_sigaction, SIGKILL, NULL, &old, 8);
	show("SIGKILL", &old);
	SYS(rt_sigaction, SIGRTMAX, NULL, &old, 8);
	show("SIGRTMAX", &old);

	/* A handler with flags and a mask, read back. */
	act = (struct ksigaction){ handler, SA_RESTORER | SA_RESTART | SA_SIGINFO,
				   restorer, BIT(SIGUSR2) | BIT(SIGKILL) | BIT(SIGSTOP) };
	SYS(rt_sigaction, SIGUSR1, &act, &old, 8);
	show("old", &old);
	SYS(rt_sigaction, SIGUSR1, NULL, &old, 8);
	show("SIGUSR1", &old);
	act = (struct ksigaction){ SIG_IGN, SA_RESTORER | SA_NODEFER | SA_RESETHAND | SA_ONSTACK, restorer, 0 };
	SYS(rt_sigaction, SIGUSR1, &act, &old, 8);
	show("old", &old);
	SYS(rt_sigaction, SIGUSR1, NULL, &old, 8);
	show("SIGUSR1", &old);
	/* Unknown flag bits (0x400 is SA_UNSUPPORTED) are not kept. */
	act = (struct ksigaction){ handler, SA_RESTORER | 0x400 | 0x00800000, restorer, 0 };
	SYS(rt_sigaction, SIGUSR2, &act, NULL, 8);
	SYS(rt_sigaction, SIGUSR2, NULL, &old, 8);
	show("SIGUSR2", &old);
	act = (struct ksigaction){ handler, SA_RESTORER, restorer, 0 };
	SYS(rt_sigaction, SIGRTMIN, &act, NULL, 8);
	SYS(rt_sigaction, 64, &act, NULL, 8);
	SYS(rt_sigaction, SIGCHLD, &act, NULL, 8);
	act.flags |= SA_NOCLDSTOP | SA_NOCLDWAIT;
	SYS(rt_sigaction, SIGCHLD, &act, &old, 8);
	SYS(rt_sigaction, SIGCHLD, NULL, &old, 8);
	show("SIGCHLD", &old);

	/* Errors. */
	SYS(rt_sigaction, SIGKILL, &act, NULL, 8);
	SYS(rt_sigaction, SIGSTOP, &act, NULL, 8);
	act.handler = SIG_DFL;
	SYS(rt_sigaction, SIGKILL, &act, NULL, 8);
	SYS(rt_sigaction, 0, NULL, &old, 8);
	SYS(rt_sigaction, 65, NULL, &old, 8);
	SYS(rt_sigaction, -1, NULL, &old, 8);
	SYS(rt_sigaction, SIGUSR1, NULL, &old, 4);
	SYS(rt_sigaction, SIGUSR1, NULL, &old, 16);
	SYS(rt_sigaction, SIGUSR1, BAD_PTR, NULL, 8);
	SYS(rt_sigaction, SIGUSR1, NULL, BAD_PTR, 8);
	SYS(rt_sigaction, SIGUSR1, NULL, NULL, 8);

	/* rt_sigprocmask: block, unblock, set; SIGKILL/SIGSTOP never. */
	SYS(rt_sigprocmask, SIG_BLOCK, NULL, &oldset, 8);
	printf("  initial mask 0x%llx\n", (unsigned long long)oldset);
	set = BIT(SIGUSR1) | BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGRTMIN);
	SYS(rt_sigprocmask, SIG_BLOCK, &set, &oldset, 8);
	SYS(rt_sigprocmask, SIG_BLOCK, NULL, &oldset, 8);
	printf("  mask 0x%llx\n", (unsigned long long)oldset);
	set = BIT(SIGUSR2);
	SYS(rt_sigprocmask, SIG_BLOCK, &set, NULL, 8);
	set = BIT(SIGUSR1);
	SYS(rt_sigprocmask, SIG_UNBLOCK, &set, &oldset, 8);
	printf("  old mask 0x%llx\n", (unsigned long long)oldset);
	SYS(rt_sigprocmask, SIG_SETMASK, NULL, &oldset, 8);
	printf("  mask 0x%llx\n", (unsigned long long)oldset);
	set = ~0ULL;
	SYS(rt_sigprocmask, SIG_SETMASK, &set, NULL, 8);
	SYS(rt_sigprocmask, SIG_SETMASK, NULL, &oldset, 8);
	printf("  mask 0x%llx\n", (unsigned long long)oldset);
	/* With no new set, how is not even looked at. */
	SYS(rt_sigprocmask, 99, NULL, &oldset, 8);
	SYS(rt_sigprocmask, 99, &set, NULL, 8);
	SYS(rt_sigprocmask, -1, &set, NULL, 8);
	SYS(rt_sigprocmask, SIG_BLOCK, &set, NULL, 4);
	SYS(rt_sigprocmask, SIG_BLOCK, &set, NULL, 16);
	SYS(rt_sigprocmask, SIG_BLOCK, BAD_PTR, NULL, 8);
	SYS(rt_sigprocmask, SIG_BLOCK, NULL, BAD_PTR, 8);
	SYS(rt_sigprocmask, SIG_BLOCK, NULL, NULL, 8);
	set = 0;
	SYS(rt_sigprocmask, SIG_SETMASK, &set, NULL, 8);
	SYS(rt_sigprocmask, SIG_SETMASK, NULL, &oldset, 8);
	printf("  mask 0x%llx\n", (unsigned long long)oldset);
	return 0;
}
