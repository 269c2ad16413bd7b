/*
 * garbage_syscalls.c: run only under runsc. Calls every syscall number with
 * pseudo-random arguments (bad pointers, huge lengths, odd flags) and
 * checks that the sandbox survives: a bad application must get errnos,
 * never crash the sentry. Prints "survived N calls".
 *
 * Not run natively: random arguments could change the host. In the sandbox
 * changes to the root stay in the overlay's memory and no host path is
 * reachable.
 *
 * Skipped: calls that end or stop the process or change its memory or
 * signal state in ways that would kill it legitimately (exit, kill, munmap,
 * mprotect, shmat over its own data, process_vm_writev into itself, timers
 * and mq_notify that send signals, ...), calls that block (sleeps,
 * futex waits, reads of stdin, pause, waits), and calls that make fds a
 * later garbage read or write could block on for good (pipes, eventfds,
 * timerfds, signalfds, inotify fds; FIFOs made with mknod, whose opens wait
 * for the other side; flock, which waits on a lock the process holds
 * through another open file description).
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t state = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

/* Interesting argument values: small ints, fds, flags, bad pointers, huge. */
static long arg(char *scratch)
{
	switch (next() % 10) {
	case 0: return 0;
	case 1: return -1;
	case 2: return (long)(next() % 8);
	case 3: return (long)scratch;			/* valid writable memory */
	case 4: return (long)(next() | 0x8000000000000000ULL);	/* kernel address */
	case 5: return 1;				/* unmapped page */
	case 6: return (long)(next() % 4096);
	case 7: return (long)0x7ffffffff000ULL;		/* top of user memory */
	case 8: return (long)(next() & 0xffffffff);
	default: return (long)next();
	}
}

static int skipped(long nr)
{
	switch (nr) {
	case SYS_exit: case SYS_exit_group: case SYS_kill: case SYS_tkill: case SYS_tgkill:
	case SYS_rt_sigreturn: case SYS_rt_sigaction: case SYS_rt_sigprocmask:
	case SYS_rt_sigsuspend: case SYS_pause: case SYS_munmap: case SYS_mprotect:
	case SYS_mremap: case SYS_madvise: case SYS_brk: case SYS_mmap:
	case SYS_nanosleep: case SYS_clock_nanosleep: case SYS_futex: case SYS_read:
	case SYS_readv: case SYS_pread64: case SYS_preadv: case SYS_arch_prctl:
	case SYS_set_tid_address: case SYS_set_robust_list: case SYS_rseq:
	case SYS_setrlimit: case SYS_prlimit64: case SYS_close: case SYS_close_range:
	case SYS_dup2: case SYS_dup3: case SYS_vfork: case SYS_fork: case SYS_clone:
	case SYS_clone3: case SYS_execve: case SYS_execveat: case SYS_wait4:
	case SYS_waitid: case SYS_select: case SYS_pselect6: case SYS_poll:
	case SYS_ppoll: case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_rt_sigtimedwait:
	case SYS_sigaltstack: case SYS_restart_syscall: case SYS_ptrace: case SYS_seccomp:
	case SYS_prctl: case SYS_setsid: case SYS_fcntl: case SYS_ioctl:
	case SYS_alarm: case SYS_setitimer: case SYS_timer_create: case SYS_timer_settime:
	case SYS_rt_sigqueueinfo: case SYS_rt_tgsigqueueinfo: case SYS_pidfd_send_signal:
	case SYS_epoll_pwait2: case SYS_pipe: case SYS_pipe2: case SYS_eventfd:
	case SYS_eventfd2: case SYS_timerfd_create: case SYS_signalfd: case SYS_signalfd4:
	case SYS_shmat: case SYS_shmdt: case SYS_process_vm_writev: case SYS_mq_notify:
	case SYS_inotify_init: case SYS_inotify_init1: case SYS_mknod: case SYS_mknodat:
	case SYS_flock:
		return 1;
	default:
		return 0;
	}
}

int main(void)
{
	static char scratch[1 << 16];
	long calls = 0;

	for (int round = 0; round < 200; round++) {
		for (long nr = 0; nr < 460; nr++) {
			if (skipped(nr))
				continue;
			syscall(nr, arg(scratch), arg(scratch), arg(scratch),
				arg(scratch), arg(scratch), arg(scratch));
			calls++;
		}
	}
	/* The fd and memory calls skipped above, with bad but harmless args. */
	for (int i = 0; i < 2000; i++) {
		syscall(SYS_fcntl, (int)(next() % 64), (int)(next() % 2048), arg(scratch));
		syscall(SYS_ioctl, (int)(next() % 8), (unsigned)next(), arg(scratch));
		syscall(SYS_read, (int)(3 + next() % 60), arg(scratch), next() % 8192);
		syscall(SYS_pread64, (int)(3 + next() % 60), arg(scratch), next() % 8192, arg(scratch));
		syscall(SYS_mmap, 0, next() % (1 << 20) + 1, (int)(next() % 8), (int)(next() % 64) & ~0x10,
			(int)(next() % 8), (long)(next() % 8) * 4096);
		calls += 5;
	}
	printf("survived %ld calls\n", calls);
	return 0;
}
