/*
 * getcpu.c: getcpu(2). The CPU is one the process may run on; which one is
 * never printed.
 */
#include "common.h"
#include <sched.h>

int main(void)
{
	unsigned cpu = ~0U, node = ~0U;
	cpu_set_t set;

	CPU_ZERO(&set);
	sched_getaffinity(0, sizeof(set), &set);
	SYS(getcpu, &cpu, &node, NULL);
	SHOW(cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set));
	SHOW(node != ~0U);
	SYS(getcpu, &cpu, NULL, NULL);
	SHOW(cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set));
	SYS(getcpu, NULL, &node, NULL);
	SYS(getcpu, NULL, NULL, NULL);
	SYS(getcpu, &cpu, NULL, BAD_PTR);
	SYS(getcpu, BAD_PTR, NULL, NULL);
	SYS(getcpu, NULL, BAD_PTR, NULL);
	SYS(getcpu, KERNEL_PTR, NULL, NULL);
	SHOW(sched_getcpu() >= 0 && CPU_ISSET(sched_getcpu(), &set));
	return 0;
}
