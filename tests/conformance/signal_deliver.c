/*
 * signal_deliver.c: running signal handlers. Handlers for kill, raise,
 * tgkill, tkill, sigqueue and rt_(tg)sigqueueinfo; the siginfo and ucontext
 * they get; the mask during a handler (sa_mask, the signal itself,
 * SA_NODEFER) and after it (uc_sigmask); SA_RESETHAND; nested handlers; the
 * order pending signals are delivered in; SA_ONSTACK and SS_AUTODISARM;
 * registers changed in uc_mcontext and restored by sigreturn.
 *
 * Handlers only record what they see; everything is printed afterwards.
 */
#include "common.h"
#include <signal.h>
#include <sys/wait.h>
#include <ucontext.h>

#define BIT(sig) (1ULL << ((sig) - 1))

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static pid_t tid(void)
{
	return syscall(SYS_gettid);
}

static uint64_t cur_mask(void)
{
	uint64_t m = 0;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
	return m;
}

static void set_mask(uint64_t m)
{
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, NULL, 8);
}

static uint64_t uc_mask(void *ucv)
{
	ucontext_t *uc = ucv;

	return *(uint64_t *)&uc->uc_sigmask;
}

static void install(int sig, void *fn, int flags, uint64_t mask)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (int s = 1; s <= 64; s++)
		if ((mask & BIT(s)) && s != 32 && s != 33)
			sigaddset(&sa.sa_mask, s);
	if (flags & SA_SIGINFO)
		sa.sa_sigaction = fn;
	else
		sa.sa_handler = fn;
	sa.sa_flags = flags;
	if (sigaction(sig, &sa, NULL) != 0)
		printf("sigaction(%d) failed: %s\n", sig, errno_name(errno));
}

static void dfl(int sig)
{
	signal(sig, SIG_DFL);
}

/* ---- what a handler saw ---- */

struct rec {
	int sig, signo, code, err, pid_self, uid_self, value;
	long pid;
	uint64_t mask, ucmask;
	int tid_self;
};

static struct rec recs[64];
static volatile int nrec;

static void rec_handler(int sig, siginfo_t *si, void *uc)
{
	int e = errno;

	if (nrec < 64) {
		struct rec *r = &recs[nrec];

		r->sig = sig;
		r->signo = si->si_signo;
		r->code = si->si_code;
		r->err = si->si_errno;
		r->pid = si->si_pid;
		r->pid_self = si->si_pid == getpid();
		r->uid_self = si->si_uid == getuid();
		r->value = si->si_code == SI_QUEUE || si->si_code < -6 ||
			   si->si_code == SI_USER ? si->si_value.sival_int : 0;
		r->mask = cur_mask();
		r->ucmask = uc_mask(uc);
		r->tid_self = syscall(SYS_gettid) == getpid();
	}
	nrec++;
	errno = e;
}

static void show_rec(const char *what)
{
	printf("  %s: handler calls %d", what, nrec);
	if (nrec >= 1) {
		struct rec *r = &recs[0];

		printf(", sig %d si_signo %d si_code %d si_errno %d si_pid==getpid() %d"
		       " si_uid==getuid() %d on main thread %d",
		       r->sig, r->signo, r->code, r->err, r->pid_self, r->uid_self,
		       r->tid_self);
		if (r->code == SI_QUEUE || r->code < -6)
			printf(" si_value %d", r->value);
	}
	printf("\n");
	nrec = 0;
}

static void senders(void)
{
	siginfo_t si;

	printf("senders (SA_SIGINFO handler for SIGUSR1):\n");
	install(SIGUSR1, rec_handler, SA_SIGINFO, 0);
	nrec = 0;
	SYS(kill, getpid(), SIGUSR1);
	show_rec("kill");
	CHECK(raise(SIGUSR1));
	show_rec("raise");
	SYS(tgkill, getpid(), tid(), SIGUSR1);
	show_rec("tgkill");
	SYS(tkill, tid(), SIGUSR1);
	show_rec("tkill");
	CHECK(sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 42 }));
	show_rec("sigqueue");

	/* rt_sigqueueinfo: the kernel keeps the caller's siginfo, except
	 * si_signo; to oneself any si_code is accepted. */
	memset(&si, 0, sizeof(si));
	si.si_signo = 99;
	si.si_code = SI_QUEUE;
	si.si_pid = 12345;
	si.si_uid = 777;
	si.si_value.sival_int = 7;
	SYS(rt_sigqueueinfo, getpid(), SIGUSR1, &si);
	show_rec("rt_sigqueueinfo SI_QUEUE");
	printf("  si_pid == 12345: %d\n", recs[0].pid == 12345);
	si.si_code = -60;
	SYS(rt_sigqueueinfo, getpid(), SIGUSR1, &si);
	show_rec("rt_sigqueueinfo si_code -60");
	si.si_code = SI_USER;
	SYS(rt_sigqueueinfo, getpid(), SIGUSR1, &si);
	show_rec("rt_sigqueueinfo SI_USER to self");
	si.si_code = SI_KERNEL;
	SYS(rt_sigqueueinfo, getpid(), SIGUSR1, &si);
	show_rec("rt_sigqueueinfo SI_KERNEL to self");
	si.si_code = SI_QUEUE;
	SYS(rt_tgsigqueueinfo, getpid(), tid(), SIGUSR1, &si);
	show_rec("rt_tgsigqueueinfo");
	SYS(rt_sigqueueinfo, getpid(), SIGUSR1, BAD_PTR);
	SYS(rt_sigqueueinfo, getpid(), 0, &si);
	SYS(rt_sigqueueinfo, getpid(), 65, &si);
	show_rec("after errors");

	/* To another process, si_code >= 0 and SI_TKILL are refused. */
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		alarm(5);
		for (;;)
			pause();
	}
	si.si_code = SI_USER;
	SYS(rt_sigqueueinfo, child, SIGUSR1, &si);
	si.si_code = SI_KERNEL;
	SYS(rt_sigqueueinfo, child, SIGUSR1, &si);
	si.si_code = SI_TKILL;
	SYS(rt_sigqueueinfo, child, SIGUSR1, &si);
	si.si_code = SI_TKILL;
	SYS(rt_tgsigqueueinfo, child, child, SIGUSR1, &si);
	si.si_code = SI_QUEUE;
	SYS(rt_sigqueueinfo, child, SIGUSR1, &si);
	kill(child, SIGKILL);
	int status;
	waitpid(child, &status, 0);
	SHOW(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	dfl(SIGUSR1);
}

/* ---- masks during and after a handler ---- */

static uint64_t add_to_ucmask, del_from_ucmask;

static void mask_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	rec_handler(sig, si, ucv);
	*(uint64_t *)&uc->uc_sigmask |= add_to_ucmask;
	*(uint64_t *)&uc->uc_sigmask &= ~del_from_ucmask;
}

static void masks(void)
{
	printf("masks:\n");
	/* sa_mask = {SIGHUP}, SIGUSR2 blocked when SIGUSR1 arrives. */
	install(SIGUSR1, mask_handler, SA_SIGINFO, BIT(SIGHUP));
	set_mask(BIT(SIGUSR2));
	nrec = 0;
	SYS(kill, getpid(), SIGUSR1);
	printf("  calls %d, mask in handler 0x%llx, uc_sigmask 0x%llx, after 0x%llx\n",
	       nrec, (unsigned long long)recs[0].mask,
	       (unsigned long long)recs[0].ucmask, (unsigned long long)cur_mask());

	/* SA_NODEFER: the signal itself is not blocked, sa_mask still is. */
	install(SIGUSR1, mask_handler, SA_SIGINFO | SA_NODEFER, BIT(SIGHUP));
	nrec = 0;
	SYS(kill, getpid(), SIGUSR1);
	printf("  SA_NODEFER: calls %d, mask in handler 0x%llx, after 0x%llx\n",
	       nrec, (unsigned long long)recs[0].mask, (unsigned long long)cur_mask());

	/* The handler changes uc_sigmask: that is the mask after sigreturn
	 * (without SIGKILL and SIGSTOP). */
	install(SIGUSR1, mask_handler, SA_SIGINFO, 0);
	add_to_ucmask = BIT(SIGWINCH) | BIT(SIGKILL) | BIT(SIGSTOP) | BIT(40);
	del_from_ucmask = BIT(SIGUSR2);
	nrec = 0;
	SYS(kill, getpid(), SIGUSR1);
	printf("  uc_sigmask changed: calls %d, mask after 0x%llx\n", nrec,
	       (unsigned long long)cur_mask());
	add_to_ucmask = del_from_ucmask = 0;
	set_mask(0);
	dfl(SIGUSR1);
}

/* ---- SA_RESETHAND ---- */

struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static struct ksigaction in_handler_act;

static void reset_handler(int sig, siginfo_t *si, void *uc)
{
	rec_handler(sig, si, uc);
	syscall(SYS_rt_sigaction, sig, NULL, &in_handler_act, 8);
}

static void show_act(const char *what, const struct ksigaction *k)
{
	printf("  %s: %s flags 0x%lx\n", what,
	       k->handler == SIG_DFL ? "SIG_DFL" :
	       k->handler == SIG_IGN ? "SIG_IGN" :
	       k->handler == (void *)reset_handler ? "handler" : "?",
	       k->flags & (SA_SIGINFO | SA_RESETHAND | SA_NODEFER | SA_RESTART | SA_ONSTACK));
}

static void resethand(void)
{
	struct ksigaction now;

	printf("SA_RESETHAND:\n");
	install(SIGWINCH, reset_handler, SA_SIGINFO | SA_RESETHAND | SA_RESTART, BIT(SIGHUP));
	syscall(SYS_rt_sigaction, SIGWINCH, NULL, &now, 8);
	show_act("before", &now);
	nrec = 0;
	SYS(kill, getpid(), SIGWINCH);
	printf("  calls %d, mask in handler 0x%llx\n", nrec, (unsigned long long)recs[0].mask);
	show_act("read in handler", &in_handler_act);
	syscall(SYS_rt_sigaction, SIGWINCH, NULL, &now, 8);
	show_act("after", &now);
	printf("  mask after 0x%llx\n", (unsigned long long)cur_mask());
	/* SIGWINCH is ignored by default: the second one runs nothing. */
	nrec = 0;
	SYS(kill, getpid(), SIGWINCH);
	printf("  second kill: calls %d\n", nrec);

	/* With SA_NODEFER too. */
	install(SIGWINCH, reset_handler, SA_SIGINFO | SA_RESETHAND | SA_NODEFER, 0);
	nrec = 0;
	SYS(kill, getpid(), SIGWINCH);
	printf("  SA_NODEFER|SA_RESETHAND: calls %d, mask in handler 0x%llx\n", nrec,
	       (unsigned long long)recs[0].mask);
	show_act("read in handler", &in_handler_act);
	dfl(SIGWINCH);
}

/* ---- nesting and order ---- */

static volatile int events[128];
static volatile int nevents;
static volatile int raise_in_handler; /* signal the handler raises, once */
static volatile int depth;

static void event(int e)
{
	if (nevents < 128)
		events[nevents] = e;
	nevents++;
}

static void nest_handler(int sig)
{
	int e = errno;

	event(sig);
	depth++;
	if (raise_in_handler) {
		int s = raise_in_handler;

		raise_in_handler = 0;
		syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), s);
	}
	depth--;
	event(-sig);
	errno = e;
}

static void show_events(const char *what)
{
	printf("  %s:", what);
	for (int i = 0; i < nevents && i < 128; i++)
		printf(" %s%d", events[i] > 0 ? "enter " : "exit ",
		       events[i] > 0 ? events[i] : -events[i]);
	printf("\n");
	nevents = 0;
}

static void nesting(void)
{
	printf("nesting:\n");
	install(SIGUSR1, nest_handler, 0, 0);
	raise_in_handler = SIGUSR1;
	SYS(kill, getpid(), SIGUSR1);
	show_events("SIGUSR1 raises SIGUSR1");
	install(SIGUSR1, nest_handler, SA_NODEFER, 0);
	raise_in_handler = SIGUSR1;
	SYS(kill, getpid(), SIGUSR1);
	show_events("SA_NODEFER, SIGUSR1 raises SIGUSR1");
	install(SIGUSR1, nest_handler, 0, 0);
	install(SIGUSR2, nest_handler, 0, 0);
	raise_in_handler = SIGUSR2;
	SYS(kill, getpid(), SIGUSR1);
	show_events("SIGUSR1 raises SIGUSR2");
	install(SIGUSR1, nest_handler, 0, BIT(SIGUSR2));
	raise_in_handler = SIGUSR2;
	SYS(kill, getpid(), SIGUSR1);
	show_events("SIGUSR1 (sa_mask SIGUSR2) raises SIGUSR2");
	dfl(SIGUSR1);
	dfl(SIGUSR2);
}

struct delivered {
	int sig, value, code;
};

static struct delivered order[64];
static volatile int norder;

static void order_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (norder < 64) {
		order[norder].sig = sig;
		order[norder].code = si->si_code;
		order[norder].value = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
	}
	norder++;
}

static void show_order(const char *what)
{
	printf("  %s:", what);
	for (int i = 0; i < norder && i < 64; i++) {
		printf(" %d", order[i].sig);
		if (order[i].value >= 0)
			printf("(%d)", order[i].value);
	}
	printf("\n");
	norder = 0;
}

static void queue(int sig, int value)
{
	sigqueue(getpid(), sig, (union sigval){ .sival_int = value });
}

static void delivery_order(void)
{
	const int sigs[] = { SIGHUP, SIGUSR1, SIGUSR2, SIGTERM, SIGSEGV, SIGWINCH,
			     SIGRTMIN + 1, SIGRTMIN + 2, SIGRTMIN + 3, SIGRTMAX };
	uint64_t all = 0, pending = 0;

	printf("delivery order (handlers block all signals):\n");
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		install(sigs[i], order_handler, SA_SIGINFO, ~0ULL);
		all |= BIT(sigs[i]);
	}
	set_mask(all);
	kill(getpid(), SIGTERM);
	queue(SIGRTMIN + 2, 1);
	kill(getpid(), SIGUSR2);
	queue(SIGRTMIN + 1, 2);
	queue(SIGRTMIN + 2, 3);
	kill(getpid(), SIGHUP);
	kill(getpid(), SIGUSR2);
	queue(SIGRTMAX, 5);
	queue(SIGRTMIN + 2, 4);
	kill(getpid(), SIGSEGV);
	kill(getpid(), SIGWINCH);
	for (int i = 0; i < 3; i++)
		kill(getpid(), SIGUSR1);
	for (int i = 0; i < 5; i++)
		queue(SIGRTMIN + 3, 10 + i);
	SYS(rt_sigpending, &pending, 8);
	printf("  pending 0x%llx, delivered before unblocking %d\n",
	       (unsigned long long)pending, norder);
	set_mask(0);
	printf("  SIGRTMIN is %d\n", SIGRTMIN);
	show_order("after one SIG_SETMASK");

	/* Thread-directed signals before process-directed ones. */
	set_mask(all);
	kill(getpid(), SIGHUP);
	syscall(SYS_tgkill, getpid(), tid(), SIGTERM);
	kill(getpid(), SIGUSR1);
	queue(SIGRTMIN + 1, 1);
	syscall(SYS_tgkill, getpid(), tid(), SIGRTMAX);
	set_mask(0);
	show_order("kill HUP, tgkill TERM, kill USR1, sigqueue RTMIN+1, tgkill RTMAX");

	/* An RT signal queued with the same number from several senders. */
	set_mask(all);
	queue(SIGRTMIN + 1, 1);
	kill(getpid(), SIGRTMIN + 1);
	queue(SIGRTMIN + 1, 3);
	syscall(SYS_tgkill, getpid(), tid(), SIGRTMIN + 1);
	set_mask(0);
	printf("  RTMIN+1 from sigqueue(1), kill, sigqueue(3), tgkill: si_codes");
	for (int i = 0; i < norder; i++)
		printf(" %d", order[i].code);
	printf("\n");
	show_order("values");

	/* Handlers that do not block each other: each frame is set up before
	 * returning to user mode, so the last one set up runs first. */
	printf("delivery order (handlers block nothing):\n");
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		install(sigs[i], nest_handler, 0, 0);
	set_mask(all);
	kill(getpid(), SIGTERM);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGHUP);
	queue(SIGRTMIN + 1, 1);
	set_mask(0);
	show_events("HUP, USR1, TERM, RTMIN+1 pending");
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		dfl(sigs[i]);
}

/* ---- alternate stack ---- */

static char altstack[1 << 16];
static char altstack2[1 << 16];

struct altrec {
	int on_alt, flags, ss_err, set_err, uc_sp_ours, uc_flags;
	size_t uc_size;
	uintptr_t local;
};

static struct altrec alt[4];
static volatile int nalt;
static volatile int alt_raise;
static volatile int alt_change;

static int in_range(uintptr_t p, const char *base, size_t size)
{
	return p >= (uintptr_t)base && p < (uintptr_t)base + size;
}

static void alt_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	volatile char local;
	stack_t cur, ss;
	int e = errno;
	int i = nalt++;

	(void)sig;
	(void)si;
	if (i >= 4)
		return;
	alt[i].local = (uintptr_t)&local;
	alt[i].on_alt = in_range((uintptr_t)&local, altstack, sizeof(altstack));
	alt[i].ss_err = sigaltstack(NULL, &cur) == 0 ? 0 : errno;
	alt[i].flags = cur.ss_flags;
	alt[i].uc_sp_ours = uc->uc_stack.ss_sp == altstack;
	alt[i].uc_flags = uc->uc_stack.ss_flags;
	alt[i].uc_size = uc->uc_stack.ss_size;
	ss.ss_sp = altstack2;
	ss.ss_size = sizeof(altstack2);
	ss.ss_flags = 0;
	if (alt_change)
		alt[i].set_err = sigaltstack(&ss, NULL) == 0 ? 0 : errno;
	else
		alt[i].set_err = -1;
	if (alt_raise) {
		int s = alt_raise;

		alt_raise = 0;
		raise(s);
	}
	errno = e;
}

static void show_alt(const char *what)
{
	printf("  %s: calls %d\n", what, nalt);
	for (int i = 0; i < nalt && i < 4; i++) {
		printf("    on alt stack %d, sigaltstack flags 0x%x (err %s),"
		       " uc_stack ours %d flags 0x%x size %zu",
		       alt[i].on_alt, alt[i].flags, alt[i].ss_err ? errno_name(alt[i].ss_err) : "none",
		       alt[i].uc_sp_ours, alt[i].uc_flags, alt[i].uc_size);
		if (alt[i].set_err >= 0)
			printf(", changing it: %s", alt[i].set_err ? errno_name(alt[i].set_err) : "ok");
		printf("\n");
	}
	if (nalt == 2)
		printf("    nested frame below the first: %d\n", alt[1].local < alt[0].local);
	nalt = 0;
}

static void show_cur_alt(void)
{
	stack_t cur;

	sigaltstack(NULL, &cur);
	printf("  now: flags 0x%x size %zu sp ours %d other %d\n", cur.ss_flags,
	       cur.ss_size, cur.ss_sp == altstack, cur.ss_sp == altstack2);
}

static void alternate_stack(void)
{
	stack_t ss;

	printf("alternate stack:\n");
	ss.ss_sp = altstack;
	ss.ss_size = sizeof(altstack);
	ss.ss_flags = 0;
	CHECK(sigaltstack(&ss, NULL));

	install(SIGUSR1, alt_handler, SA_SIGINFO, 0);
	raise(SIGUSR1);
	show_alt("without SA_ONSTACK");

	install(SIGUSR1, alt_handler, SA_SIGINFO | SA_ONSTACK, 0);
	alt_change = 1;
	raise(SIGUSR1);
	show_alt("SA_ONSTACK");
	alt_change = 0;

	install(SIGUSR2, alt_handler, SA_SIGINFO | SA_ONSTACK, 0);
	alt_raise = SIGUSR2;
	raise(SIGUSR1);
	show_alt("SA_ONSTACK, raising SIGUSR2 (SA_ONSTACK)");
	install(SIGUSR2, alt_handler, SA_SIGINFO, 0);
	alt_raise = SIGUSR2;
	raise(SIGUSR1);
	show_alt("SA_ONSTACK, raising SIGUSR2 (no SA_ONSTACK)");
	show_cur_alt();

	ss.ss_flags = (int)(SS_ONSTACK | SS_AUTODISARM);
	CHECK(sigaltstack(&ss, NULL));
	show_cur_alt();
	alt_change = 1;
	raise(SIGUSR1);
	show_alt("SS_AUTODISARM");
	alt_change = 0;
	printf("  after return (the handler set another stack):\n");
	show_cur_alt();
	install(SIGUSR2, alt_handler, SA_SIGINFO | SA_ONSTACK, 0);
	alt_raise = SIGUSR2;
	raise(SIGUSR1);
	show_alt("SS_AUTODISARM, raising SIGUSR2 (SA_ONSTACK)");

	ss.ss_flags = SS_DISABLE;
	CHECK(sigaltstack(&ss, NULL));
	raise(SIGUSR1);
	show_alt("disabled, SA_ONSTACK");
	dfl(SIGUSR1);
	dfl(SIGUSR2);
}

/* ---- registers ---- */

/*
 * run_ud2(in, out): loads rax..r15 from in[0..14] (order below), sets CF
 * and DF, executes ud2 (the SIGILL handler skips it), then stores the
 * registers to out[0..14], rflags to out[15], rsp before and after to
 * out[16] and out[17].
 * Order: rax rbx rcx rdx rsi rdi rbp r8 r9 r10 r11 r12 r13 r14 r15.
 */
void run_ud2(const uint64_t *in, uint64_t *out);
extern char run_ud2_insn[];
asm(".text\n"
    ".globl run_ud2\n"
    ".hidden run_ud2\n"
    ".globl run_ud2_insn\n"
    ".hidden run_ud2_insn\n"
    "run_ud2:\n"
    "	push %rbx\n	push %rbp\n	push %r12\n	push %r13\n	push %r14\n	push %r15\n"
    "	push %rsi\n"
    "	mov %rsp, 128(%rsi)\n"
    "	mov 8(%rdi), %rbx\n	mov 16(%rdi), %rcx\n	mov 24(%rdi), %rdx\n"
    "	mov 32(%rdi), %rsi\n	mov 48(%rdi), %rbp\n	mov 56(%rdi), %r8\n"
    "	mov 64(%rdi), %r9\n	mov 72(%rdi), %r10\n	mov 80(%rdi), %r11\n"
    "	mov 88(%rdi), %r12\n	mov 96(%rdi), %r13\n	mov 104(%rdi), %r14\n"
    "	mov 112(%rdi), %r15\n	mov 0(%rdi), %rax\n	mov 40(%rdi), %rdi\n"
    "	stc\n	std\n"
    "run_ud2_insn:\n"
    "	ud2\n"
    "	xchg %rax, (%rsp)\n"
    "	mov %rsp, 136(%rax)\n"
    "	mov %rbx, 8(%rax)\n	mov %rcx, 16(%rax)\n	mov %rdx, 24(%rax)\n"
    "	mov %rsi, 32(%rax)\n	mov %rdi, 40(%rax)\n	mov %rbp, 48(%rax)\n"
    "	mov %r8, 56(%rax)\n	mov %r9, 64(%rax)\n	mov %r10, 72(%rax)\n"
    "	mov %r11, 80(%rax)\n	mov %r12, 88(%rax)\n	mov %r13, 96(%rax)\n"
    "	mov %r14, 104(%rax)\n	mov %r15, 112(%rax)\n"
    "	pushfq\n	pop %rbx\n	mov %rbx, 120(%rax)\n	cld\n"
    "	pop %rbx\n	mov %rbx, 0(%rax)\n"
    "	pop %r15\n	pop %r14\n	pop %r13\n	pop %r12\n	pop %rbp\n	pop %rbx\n"
    "	ret\n");

static const char *const reg_names[15] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10",
	"r11", "r12", "r13", "r14", "r15",
};
static const int greg_index[15] = {
	REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP, REG_R8,
	REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static uint64_t reg_in[15];
static volatile int ill_calls, ill_modify, ill_gregs_match, ill_rip_ok, ill_df,
	ill_efl_flags, ill_trapno, ill_code, ill_addr_ok, ill_err;

static void ill_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	uint64_t fl;

	(void)sig;
	asm volatile("pushfq; pop %0" : "=r"(fl));
	ill_df = (fl >> 10) & 1;
	ill_calls++;
	ill_code = si->si_code;
	ill_addr_ok = si->si_addr == (void *)run_ud2_insn;
	ill_rip_ok = g[REG_RIP] == (greg_t)run_ud2_insn;
	ill_trapno = g[REG_TRAPNO];
	ill_err = g[REG_ERR];
	ill_efl_flags = g[REG_EFL] & 0x401;
	ill_gregs_match = 1;
	for (int i = 0; i < 15; i++)
		if ((uint64_t)g[greg_index[i]] != reg_in[i])
			ill_gregs_match = 0;
	/* Clobber every caller-saved register before returning. */
	asm volatile("mov $-1, %%rax; mov $-1, %%rcx; mov $-1, %%rdx; mov $-1, %%rsi;"
		     "mov $-1, %%rdi; mov $-1, %%r8; mov $-1, %%r9; mov $-1, %%r10;"
		     "mov $-1, %%r11; stc"
		     ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
		     "cc", "memory");
	g[REG_RIP] += 2;
	if (ill_modify) {
		g[REG_RAX] = 0x1111;
		g[REG_RBX] = 0x2222;
		g[REG_R12] = 0x3333;
		g[REG_R15] = 0x4444;
		g[REG_EFL] &= ~1L; /* clear CF */
	}
}

static volatile int usr2_calls;

static void rax_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	(void)si;
	usr2_calls++;
	uc->uc_mcontext.gregs[REG_RAX] = 4242;
}

static void registers(void)
{
	uint64_t out[18];
	int same;

	printf("registers:\n");
	install(SIGILL, ill_handler, SA_SIGINFO, 0);
	for (int i = 0; i < 15; i++)
		reg_in[i] = 0x0101010101010101ULL * (i + 1) ^ 0x8000000000000000ULL;
	memset(out, 0, sizeof(out));
	ill_modify = 0;
	run_ud2(reg_in, out);
	printf("  ud2: handler calls %d si_code %d si_addr==insn %d RIP==insn %d"
	       " trapno %d err %d\n", ill_calls, ill_code, ill_addr_ok, ill_rip_ok,
	       ill_trapno, ill_err);
	printf("  gregs hold the registers at the fault: %d, EFL CF|DF 0x%x,"
	       " DF in handler %d\n", ill_gregs_match, ill_efl_flags, ill_df);
	same = 1;
	for (int i = 0; i < 15; i++)
		if (out[i] != reg_in[i]) {
			printf("  %s changed\n", reg_names[i]);
			same = 0;
		}
	printf("  all general registers restored: %d, rsp restored %d,"
	       " CF|DF after 0x%llx\n", same, out[16] == out[17],
	       (unsigned long long)(out[15] & 0x401));

	ill_modify = 1;
	ill_calls = 0;
	run_ud2(reg_in, out);
	printf("  handler changed gregs: calls %d rax 0x%llx rbx 0x%llx r12 0x%llx"
	       " r15 0x%llx CF|DF 0x%llx\n", ill_calls,
	       (unsigned long long)out[0], (unsigned long long)out[1],
	       (unsigned long long)out[11], (unsigned long long)out[14],
	       (unsigned long long)(out[15] & 0x401));
	same = 1;
	for (int i = 0; i < 15; i++)
		if (i != 0 && i != 1 && i != 11 && i != 14 && out[i] != reg_in[i])
			same = 0;
	printf("  the others restored: %d\n", same);
	dfl(SIGILL);

	/* A signal on return from a raw syscall; the handler sets RAX, which
	 * becomes the syscall's result. */
	install(SIGUSR2, rax_handler, SA_SIGINFO, 0);
	long r;
	asm volatile("syscall"
		     : "=a"(r)
		     : "0"((long)SYS_tgkill), "D"((long)getpid()), "S"((long)tid()),
		       "d"((long)SIGUSR2)
		     : "rcx", "r11", "memory");
	printf("  tgkill result after the handler set RAX: %ld (calls %d)\n", r, usr2_calls);
	dfl(SIGUSR2);
}

int main(void)
{
	alarm(10);
	senders();
	masks();
	resethand();
	nesting();
	delivery_order();
	alternate_stack();
	registers();
	printf("final mask 0x%llx\n", (unsigned long long)cur_mask());
	return 0;
}
