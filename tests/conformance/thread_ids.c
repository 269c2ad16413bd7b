/*
 * thread_ids.c: gettid(2), set_tid_address(2), set_robust_list(2) and
 * rseq(2) for a single-threaded process. glibc registers an rseq area at
 * start-up; this program checks that registration, replaces it with its own
 * and puts glibc's back.
 */
#include "common.h"
#include <linux/futex.h>
#include <sched.h>
#include <sys/rseq.h>

#define SIG 0x53053053 /* RSEQ_SIG on x86 */

static struct robust_list_head robust = { { &robust.list }, 0, NULL };
static struct rseq mine __attribute__((aligned(32)));
static struct rseq other __attribute__((aligned(32)));
static int tid_word;

int main(void)
{
	struct rseq *glibc_area = (void *)((char *)__builtin_thread_pointer() + __rseq_offset);
	long tid = syscall(SYS_gettid);
	int ncpu = 0;
	cpu_set_t set;

	SHOW(tid > 0);
	SHOW(tid == getpid());
	SHOW(syscall(SYS_gettid) == tid);
	SHOW(gettid() == tid);

	/* set_tid_address returns the caller's tid. */
	SHOW(syscall(SYS_set_tid_address, &tid_word) == tid);
	SHOW(syscall(SYS_set_tid_address, NULL) == tid);
	SHOW(syscall(SYS_set_tid_address, BAD_PTR) == tid);
	SHOW(tid_word == 0);

	/* set_robust_list: only the length is checked. */
	SYS(set_robust_list, &robust, sizeof(robust));
	SYS(set_robust_list, &robust, sizeof(robust) + 1);
	SYS(set_robust_list, &robust, 0);
	SYS(set_robust_list, BAD_PTR, sizeof(robust));
	SYS(set_robust_list, NULL, sizeof(robust));

	/* glibc registered its rseq area: the kernel keeps cpu_id current. */
	sched_getaffinity(0, sizeof(set), &set);
	ncpu = CPU_COUNT(&set);
	SHOW(__rseq_size > 0);
	SHOW(__rseq_flags == 0);
	SHOW(glibc_area->cpu_id < (unsigned)CPU_SETSIZE && CPU_ISSET(glibc_area->cpu_id, &set));
	SHOW(ncpu >= 1);

	/* Registering again: same area EBUSY, wrong signature EPERM,
	 * another area or length EINVAL. */
	SYS(rseq, glibc_area, 32, 0, SIG);
	SYS(rseq, glibc_area, 32, 0, SIG + 1);
	SYS(rseq, &other, 32, 0, SIG);
	SYS(rseq, glibc_area, 64, 0, SIG);

	/* Unregister glibc's, register our own, and back. */
	SYS(rseq, glibc_area, 32, RSEQ_FLAG_UNREGISTER, SIG + 1);
	SYS(rseq, &other, 32, RSEQ_FLAG_UNREGISTER, SIG);
	SYS(rseq, glibc_area, 32, RSEQ_FLAG_UNREGISTER, SIG);
	SYS(rseq, glibc_area, 32, RSEQ_FLAG_UNREGISTER, SIG);
	mine.cpu_id = RSEQ_CPU_ID_UNINITIALIZED;
	SYS(rseq, &mine, 32, 0, SIG);
	SHOW(mine.cpu_id < (unsigned)CPU_SETSIZE && CPU_ISSET(mine.cpu_id, &set));
	SYS(rseq, &mine, 32, 0, SIG);
	SYS(rseq, &mine, 32, RSEQ_FLAG_UNREGISTER, SIG);
	SHOW(mine.cpu_id == (uint32_t)RSEQ_CPU_ID_UNINITIALIZED);

	/* Argument errors. */
	SYS(rseq, (char *)&mine + 4, 32, 0, SIG);
	SYS(rseq, &mine, 16, 0, SIG);
	SYS(rseq, &mine, 31, 0, SIG);
	SYS(rseq, &mine, 32, 2, SIG);
	SYS(rseq, KERNEL_PTR, 32, 0, SIG);

	SYS(rseq, glibc_area, 32, 0, SIG);
	SHOW(glibc_area->cpu_id < (unsigned)CPU_SETSIZE && CPU_ISSET(glibc_area->cpu_id, &set));
	SHOW(sched_getcpu() >= 0);
	return 0;
}
