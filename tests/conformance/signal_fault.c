/*
 * signal_fault.c: hardware faults as signals. SIGSEGV (unmapped,
 * protection, execution, kernel and non-canonical addresses, privileged
 * instructions), SIGBUS (a file mapping beyond the end of the file, an
 * alignment check), SIGFPE (integer division, SSE with the exception
 * unmasked), SIGILL (ud2), SIGTRAP (int3, single step): si_code, si_addr and
 * the trap number, error code and cr2 in uc_mcontext. Handlers recover with
 * siglongjmp or by moving RIP.
 *
 * In forked children: the default action kills (and WCOREDUMP, with
 * RLIMIT_CORE 0 and the process not dumpable, so no core file is ever
 * written), and a fault whose signal is blocked or ignored still kills, as
 * does a second fault inside the handler; stack overflow with and without an
 * alternate stack.
 */
#include "common.h"
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>

#define BIT(sig) (1ULL << ((sig) - 1))

static sigjmp_buf env;

struct fault {
	int sig, code, err;
	void *addr;
	uintptr_t rip, trapno, errcode, cr2, efl;
};

static struct fault f;
static volatile int nfaults;
static volatile int jump = 1;
static volatile uintptr_t resume_at;

static void fault_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;

	/* Clear EFLAGS.AC first, in case the fault was an alignment check. */
	asm volatile("pushfq; andq $~0x40000, (%%rsp); popfq" ::: "cc", "memory");
	nfaults++;
	f.sig = sig;
	f.code = si->si_code;
	f.err = si->si_errno;
	f.addr = si->si_addr;
	f.rip = g[REG_RIP];
	f.trapno = g[REG_TRAPNO];
	f.errcode = g[REG_ERR];
	f.cr2 = g[REG_CR2];
	f.efl = g[REG_EFL];
	if (resume_at) {
		g[REG_RIP] = resume_at;
		g[REG_EFL] &= ~0x40100L; /* AC, TF */
		resume_at = 0;
		return;
	}
	if (jump)
		siglongjmp(env, 1);
	g[REG_EFL] &= ~0x40100L;
}

static void install(int sig, void *fn, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static const char *sig_name(int sig)
{
	switch (sig) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGILL: return "SIGILL";
	case SIGTRAP: return "SIGTRAP";
	}
	return "?";
}

/* Run fn(arg); it must fault. Print the fault; addr/rip are what si_addr
 * and RIP should be (NULL: not checked). */
static void try_fault(const char *what, void (*fn)(void *), void *arg,
		      const void *want_addr, const void *want_rip)
{
	memset(&f, 0, sizeof(f));
	nfaults = 0;
	if (sigsetjmp(env, 1) == 0) {
		fn(arg);
		printf("%s: no fault\n", what);
		return;
	}
	printf("%s: %s si_code %d si_errno %d trapno %lu err 0x%lx", what, sig_name(f.sig),
	       f.code, f.err, (unsigned long)f.trapno, (unsigned long)f.errcode);
	if (want_addr)
		printf(" si_addr ok %d", f.addr == want_addr);
	else
		printf(" si_addr==0 %d", f.addr == NULL);
	if (f.sig == SIGSEGV || f.sig == SIGBUS)
		printf(" cr2==si_addr %d", f.cr2 == (uintptr_t)f.addr);
	if (want_rip)
		printf(" rip ok %d", f.rip == (uintptr_t)want_rip);
	printf("\n");
}

static void do_read(void *p)
{
	(void)*(volatile char *)p;
}

static void do_write(void *p)
{
	*(volatile char *)p = 1;
}

static void do_call(void *p)
{
	((void (*)(void))p)();
}

/* Instructions at known addresses. */
void insn_ud2(void);
void insn_hlt(void);
void insn_int3(void), insn_int3_after(void);
void insn_int_3(void), insn_int_3_after(void);
void insn_step(void), insn_step_after(void);
void insn_load(void), insn_load_after(void);
void insn_misaligned(void);
void insn_div(void), insn_div64(void), insn_divsd(void);
asm(".text\n"
    ".globl insn_ud2, insn_hlt, insn_int3, insn_int3_after, insn_int_3, insn_int_3_after\n"
    ".globl insn_step, insn_step_after, insn_load, insn_load_after, insn_misaligned\n"
    ".globl insn_div, insn_div64, insn_divsd\n"
    ".hidden insn_ud2, insn_hlt, insn_int3, insn_int3_after, insn_int_3, insn_int_3_after\n"
    ".hidden insn_step, insn_step_after, insn_load, insn_load_after, insn_misaligned\n"
    ".hidden insn_div, insn_div64, insn_divsd\n"
    "run_ud2: ud2\n	ret\n"
    "insn_ud2 = run_ud2\n"
    "run_hlt: hlt\n	ret\n"
    "insn_hlt = run_hlt\n"
    "run_int3: int3\n"
    "insn_int3_after: ret\n"
    "insn_int3 = run_int3\n"
    "run_int_3: int $3\n"
    "insn_int_3_after: ret\n"
    "insn_int_3 = run_int_3\n"
    /* Set TF with popf: the trap comes after the next instruction. */
    "run_step: pushfq\n	orq $0x100, (%rsp)\n	popfq\n"
    "insn_step: nop\n"
    "insn_step_after: nop\n	ret\n"
    /* rdi = address; the handler resumes at insn_load_after. */
    "run_load: mov $0x1234, %eax\n"
    "insn_load: movq (%rdi), %rax\n"
    "insn_load_after: ret\n"
    /* rdi = misaligned address: set AC, load, clear AC. */
    "run_misaligned: pushfq\n	orq $0x40000, (%rsp)\n	popfq\n"
    "insn_misaligned: movl (%rdi), %eax\n"
    "	pushfq\n	andq $~0x40000, (%rsp)\n	popfq\n	ret\n"
    /* 32-bit idiv: edi / esi. */
    "run_div: mov %edi, %eax\n	cltd\n"
    "insn_div: idivl %esi\n	ret\n"
    "run_div64: mov %rdi, %rax\n	cqto\n"
    "insn_div64: idivq %rsi\n	ret\n"
    /* SSE: 1.0 / 0.0 */
    "run_divsd: divsd %xmm1, %xmm0\n	ret\n"
    "insn_divsd = run_divsd\n");
long run_load(void *p);
void run_ud2(void), run_hlt(void), run_int3(void), run_int_3(void), run_step(void);
void run_misaligned(void *p);
int run_div(int a, int b);
long run_div64(long a, long b);
double run_divsd(double a, double b);

static void call_ud2(void *p) { (void)p; run_ud2(); }
static void call_hlt(void *p) { (void)p; run_hlt(); }
static void call_misaligned(void *p) { run_misaligned(p); }
static void call_div(void *p) { int *v = p; v[2] = run_div(v[0], v[1]); }
static void call_div64(void *p) { long *v = p; v[2] = run_div64(v[0], v[1]); }

static void call_divsd(void *p)
{
	unsigned int mxcsr = 0x1f80 & ~0x200; /* unmask divide-by-zero */
	double *d = p;

	asm volatile("ldmxcsr %0" :: "m"(mxcsr));
	d[2] = run_divsd(d[0], d[1]);
	mxcsr = 0x1f80;
	asm volatile("ldmxcsr %0" :: "m"(mxcsr));
}

static const char literal[] = "literal";
static volatile int c_zero = 0, c_one = 1, c_minus1 = -1, c_intmin = INT_MIN;

static void faults(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p, *ro, *none, *rw;
	int fd;

	printf("faults:\n");
	install(SIGSEGV, fault_handler, 0);
	install(SIGBUS, fault_handler, 0);
	install(SIGFPE, fault_handler, 0);
	install(SIGILL, fault_handler, 0);
	install(SIGTRAP, fault_handler, 0);

	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p, pg);
	try_fault("read unmapped", do_read, p + 123, p + 123, NULL);
	try_fault("write unmapped", do_write, p + 4095, p + 4095, NULL);
	try_fault("read NULL", do_read, NULL, NULL, NULL);
	try_fault("read address 1", do_read, BAD_PTR, BAD_PTR, NULL);

	none = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	try_fault("read PROT_NONE", do_read, none + 8, none + 8, NULL);
	try_fault("write PROT_NONE", do_write, none + 8, none + 8, NULL);
	ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	try_fault("write PROT_READ", do_write, ro + 100, ro + 100, NULL);
	do_read(ro + 100);
	printf("read PROT_READ: ok, faults %d\n", nfaults);
	try_fault("write program text", do_write, (void *)do_read, (void *)do_read, NULL);
	try_fault("write string literal", do_write, (void *)literal, literal, NULL);

	rw = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rw[0] = (char)0xc3; /* ret */
	try_fault("execute PROT_READ|PROT_WRITE", do_call, rw, rw, rw);
	mprotect(rw, pg, PROT_READ | PROT_EXEC);
	try_fault("execute after mprotect PROT_EXEC (no fault)", do_call, rw, rw, rw);
	try_fault("execute unmapped", do_call, p, p, p);
	try_fault("execute PROT_NONE", do_call, none, none, none);

	try_fault("read kernel address", do_read, KERNEL_PTR, KERNEL_PTR, NULL);
	try_fault("read non-canonical address", do_read, HIGH_ADDR, NULL, NULL);
	try_fault("execute non-canonical address", do_call, HIGH_ADDR, NULL, NULL);
	try_fault("hlt", call_hlt, NULL, NULL, (void *)insn_hlt);

	/* Resume after the faulting instruction instead of jumping. */
	resume_at = (uintptr_t)insn_load_after;
	nfaults = 0;
	long v = run_load(p);
	printf("load resumed after the instruction: faults %d, rax 0x%lx, si_addr ok %d rip ok %d\n",
	       nfaults, v, f.addr == p, f.rip == (uintptr_t)insn_load);

	/* SIGBUS: a shared file mapping past the end of the file. */
	fd = open("/etc/passwd", O_RDONLY);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0) {
		long end = (st.st_size + pg - 1) / pg * pg;
		char *m = mmap(NULL, end + pg, PROT_READ, MAP_SHARED, fd, 0);

		if (m != MAP_FAILED) {
			try_fault("read past the end of a file", do_read, m + end + 16,
				  m + end + 16, NULL);
			if (st.st_size % pg)
				do_read(m + st.st_size); /* same page: no fault */
			munmap(m, end + pg);
		} else {
			printf("mmap /etc/passwd failed\n");
		}
		close(fd);
	} else {
		printf("cannot open /etc/passwd\n");
	}
	/* Alignment check (EFLAGS.AC). */
	static uint64_t aligned[2];
	try_fault("misaligned load with AC set", call_misaligned, (char *)aligned + 1,
		  NULL, (void *)insn_misaligned);

	/* SIGFPE */
	int iv[3] = { c_one, c_zero, 0 };
	try_fault("1 / 0", call_div, iv, (void *)insn_div, (void *)insn_div);
	iv[0] = c_intmin;
	iv[1] = c_minus1;
	try_fault("INT_MIN / -1", call_div, iv, (void *)insn_div, (void *)insn_div);
	long lv[3] = { LONG_MIN, -1, 0 };
	try_fault("LONG_MIN / -1", call_div64, lv, (void *)insn_div64, (void *)insn_div64);
	iv[0] = 7;
	iv[1] = c_minus1;
	call_div(iv);
	printf("7 / -1 = %d\n", iv[2]);
	double dv[3] = { 1.0, 0.0, 0.0 };
	try_fault("SSE 1.0 / 0.0, divide-by-zero unmasked", call_divsd, dv, (void *)insn_divsd,
		  (void *)insn_divsd);
	unsigned int mxcsr;
	asm volatile("stmxcsr %0" : "=m"(mxcsr));
	printf("  MXCSR after siglongjmp from the handler 0x%x\n", mxcsr);
	mxcsr = 0x1f80;
	asm volatile("ldmxcsr %0" :: "m"(mxcsr));
	dv[2] = run_divsd(dv[0], dv[1]);
	printf("  masked again: 1.0 / 0.0 is inf %d\n", __builtin_isinf(dv[2]) != 0);

	/* SIGILL, SIGTRAP */
	try_fault("ud2", call_ud2, NULL, (void *)insn_ud2, (void *)insn_ud2);
	jump = 0;
	nfaults = 0;
	run_int3();
	printf("int3: %s si_code %d trapno %lu err 0x%lx si_addr==0 %d rip after int3 %d, calls %d\n",
	       sig_name(f.sig), f.code, (unsigned long)f.trapno, (unsigned long)f.errcode,
	       f.addr == NULL, f.rip == (uintptr_t)insn_int3_after, nfaults);
	nfaults = 0;
	run_int_3();
	printf("int $3: %s si_code %d trapno %lu err 0x%lx si_addr==0 %d rip after %d, calls %d\n",
	       sig_name(f.sig), f.code, (unsigned long)f.trapno, (unsigned long)f.errcode,
	       f.addr == NULL, f.rip == (uintptr_t)insn_int_3_after, nfaults);
	nfaults = 0;
	run_step();
	printf("single step: %s si_code %d trapno %lu si_addr==rip %d rip after the next"
	       " instruction %d, TF in EFL %d, calls %d\n",
	       sig_name(f.sig), f.code, (unsigned long)f.trapno, f.addr == (void *)f.rip,
	       f.rip == (uintptr_t)insn_step_after, (int)((f.efl >> 8) & 1), nfaults);
	jump = 1;

	/* A blocked SIGSEGV sent with kill is not forced: it stays pending. */
	uint64_t set = BIT(SIGSEGV), pending = 0;
	nfaults = 0;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8);
	kill(getpid(), SIGSEGV);
	syscall(SYS_rt_sigpending, &pending, 8);
	printf("kill(SIGSEGV) while blocked: pending 0x%llx, calls %d\n",
	       (unsigned long long)pending, nfaults);
	signal(SIGSEGV, SIG_IGN);
	signal(SIGSEGV, SIG_DFL);
	syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, 8);

	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGTRAP, SIG_DFL);
	munmap(ro, pg);
	munmap(rw, pg);
	munmap(none, pg);
}

/* ---- in children ---- */

static void no_core(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	alarm(5);
}

static void report(const char *what, int status)
{
	if (WIFEXITED(status))
		printf("%s: exited %d\n", what, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("%s: killed by %d, core dumped %d\n", what, WTERMSIG(status),
		       WCOREDUMP(status) ? 1 : 0);
	else
		printf("%s: status 0x%x\n", what, status);
}

static void in_child(const char *what, void (*fn)(void))
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		no_core();
		fn();
		_exit(100);
	}
	waitpid(pid, &status, 0);
	report(what, status);
}

static volatile int depth;

static void exit_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	_exit(50 + sig);
}

static void refault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	if (++depth >= 3)
		_exit(60 + depth);
	do_read(NULL);
}

static void segv_default(void)
{
	do_read(NULL);
}

static void segv_blocked(void)
{
	uint64_t set = BIT(SIGSEGV);

	install(SIGSEGV, exit_handler, 0);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8);
	do_read(NULL);
}

static void segv_ignored(void)
{
	signal(SIGSEGV, SIG_IGN);
	do_read(NULL);
}

static void segv_blocked_then_reads_handler(void)
{
	/* A protection fault with SIGSEGV and another signal blocked by
	 * SIG_SETMASK: the handler never runs. */
	uint64_t set = BIT(SIGSEGV) | BIT(SIGUSR1);

	install(SIGSEGV, exit_handler, 0);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8);
	do_write((void *)literal);
}

static void ill_blocked(void)
{
	uint64_t set = BIT(SIGILL);

	install(SIGILL, exit_handler, 0);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8);
	run_ud2();
}

static void fpe_ignored(void)
{
	int iv[3] = { c_one, c_zero, 0 };

	signal(SIGFPE, SIG_IGN);
	call_div(iv);
}

static void trap_blocked(void)
{
	uint64_t set = BIT(SIGTRAP);

	install(SIGTRAP, exit_handler, 0);
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8);
	run_int3();
}

static void trap_default(void)
{
	run_int3();
}

static void bus_default(void)
{
	int fd = open("/etc/passwd", O_RDONLY);
	struct stat st;
	long pg = sysconf(_SC_PAGESIZE);

	if (fd < 0 || fstat(fd, &st) != 0)
		_exit(101);
	long end = (st.st_size + pg - 1) / pg * pg;
	char *m = mmap(NULL, end + pg, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		_exit(102);
	do_read(m + end);
}

static void fault_in_handler(void)
{
	install(SIGSEGV, refault_handler, 0);
	do_read(NULL);
}

static void fault_in_handler_nodefer(void)
{
	install(SIGSEGV, refault_handler, SA_NODEFER);
	do_read(NULL);
}

static void handler_exits(void)
{
	install(SIGSEGV, exit_handler, 0);
	do_read(NULL);
}

static void recurse(int n)
{
	volatile char buf[1024];

	buf[0] = n;
	if (n > 0)
		recurse(n - 1);
	buf[1] = buf[0];
}

static char alt_mem[1 << 16];
static volatile int overflow_code;

static void overflow_handler(int sig, siginfo_t *si, void *uc)
{
	volatile char local;

	(void)uc;
	int on_alt = (uintptr_t)&local >= (uintptr_t)alt_mem &&
		     (uintptr_t)&local < (uintptr_t)alt_mem + sizeof(alt_mem);
	_exit(sig == SIGSEGV ? 10 + on_alt * 10 + si->si_code : 1);
}

static void set_small_stack(void)
{
	struct rlimit rl = { 256 * 1024, 256 * 1024 };

	setrlimit(RLIMIT_STACK, &rl);
}

static void overflow_no_altstack(void)
{
	set_small_stack();
	install(SIGSEGV, overflow_handler, 0);
	recurse(1 << 20);
}

static void overflow_altstack(void)
{
	stack_t ss = { .ss_sp = alt_mem, .ss_size = sizeof(alt_mem), .ss_flags = 0 };

	set_small_stack();
	sigaltstack(&ss, NULL);
	install(SIGSEGV, overflow_handler, SA_ONSTACK);
	recurse(1 << 20);
}

static void children(void)
{
	printf("in children:\n");
	in_child("SIGSEGV default", segv_default);
	in_child("SIGSEGV handler calls _exit", handler_exits);
	in_child("SIGSEGV blocked (handler installed)", segv_blocked);
	in_child("SIGSEGV blocked, write to a literal", segv_blocked_then_reads_handler);
	in_child("SIGSEGV ignored", segv_ignored);
	in_child("SIGILL blocked", ill_blocked);
	in_child("SIGFPE ignored", fpe_ignored);
	in_child("SIGTRAP blocked", trap_blocked);
	in_child("SIGTRAP default", trap_default);
	in_child("SIGBUS default", bus_default);
	in_child("fault in the SIGSEGV handler", fault_in_handler);
	in_child("fault in the SIGSEGV handler, SA_NODEFER (exit 60 + depth)",
		 fault_in_handler_nodefer);
	in_child("stack overflow, no alternate stack", overflow_no_altstack);
	in_child("stack overflow, alternate stack (exit 20 + si_code)", overflow_altstack);
}

int main(void)
{
	alarm(10);
	faults();
	children();
	return 0;
}
