/*
 * sysinfo.c: sysinfo(2). Memory figures, load and uptime are the host's (or
 * the sandbox's), so only their consistency is printed.
 */
#include "common.h"
#include <sys/sysinfo.h>

int main(void)
{
	struct sysinfo si;
	unsigned long unit;

	memset(&si, 0xff, sizeof(si));
	SYS(sysinfo, &si);
	unit = si.mem_unit;
	SHOW(unit >= 1 && (unit & (unit - 1)) == 0);
	SHOW(si.totalram > 0 && si.totalram * unit >= (16UL << 20));
	SHOW(si.freeram <= si.totalram);
	SHOW(si.sharedram <= si.totalram && si.bufferram <= si.totalram);
	SHOW(si.freeswap <= si.totalswap);
	SHOW(si.freehigh <= si.totalhigh);
	SHOW(si.uptime >= 0);
	SHOW(si.procs >= 1);
	SYS(sysinfo, BAD_PTR);
	SYS(sysinfo, NULL);
	SYS(sysinfo, KERNEL_PTR);
	return 0;
}
