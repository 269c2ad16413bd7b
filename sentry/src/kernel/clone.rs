//! clone, fork and vfork (the kernel side; flag decoding is in the
//! syscalls crate): a new task that shares or copies each resource as the
//! flags say, in the same process (CLONE_THREAD) or a new one, on a sentry
//! thread of its own.

use std::sync::Arc;

use crate::abi::signal::SS_DISABLE;
use crate::abi::{Errno, StackT};
use crate::kernel::block::{Completion, Registration, EVENT_ANY};
use crate::kernel::task::{Resources, TaskShared};
use crate::kernel::task_set::Proc;
use crate::kernel::thread_group::StopState;
use crate::kernel::{Kernel, Task, ThreadGroup};
use crate::mm::MemoryManager;
use crate::vfs::FdTable;

/// What clone was asked for, decoded.
#[derive(Clone, Copy, Debug, Default)]
pub struct CloneRequest {
    /// CLONE_* flags (without the exit signal).
    pub flags: u64,
    /// The signal the parent gets when the child exits.
    pub exit_signal: i32,
    /// New stack pointer (0: the parent's).
    pub stack: u64,
    /// New TLS (CLONE_SETTLS).
    pub tls: u64,
    /// Where to store the child's tid in the parent (CLONE_PARENT_SETTID).
    pub parent_tid: u64,
    /// Where to store (CLONE_CHILD_SETTID) or clear (CLONE_CHILD_CLEARTID)
    /// the child's tid in the child.
    pub child_tid: u64,
    /// Where to store a pidfd (CLONE_PIDFD).
    pub pidfd: u64,
}

const NAMESPACES: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWCGROUP) as u64
    | 0x80; // CLONE_NEWTIME

/// clone3's CLONE_CLEAR_SIGHAND: the child's caught signals start at
/// SIG_DFL.
pub const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;

fn has(flags: u64, f: i32) -> bool {
    flags & f as u64 != 0
}

impl Task {
    /// Creates the child task and starts it. A vfork parent returns once the
    /// child has exec'd or exited.
    pub fn clone_task(&mut self, req: &CloneRequest) -> Result<Arc<TaskShared>, Errno> {
        let f = req.flags;
        if has(f, libc::CLONE_THREAD) && !has(f, libc::CLONE_SIGHAND) {
            return Err(Errno::EINVAL);
        }
        if has(f, libc::CLONE_SIGHAND) && !has(f, libc::CLONE_VM) {
            return Err(Errno::EINVAL);
        }
        if has(f, libc::CLONE_NEWNS) && has(f, libc::CLONE_FS) {
            return Err(Errno::EINVAL);
        }
        if has(f, libc::CLONE_THREAD) && f & (libc::CLONE_NEWPID | libc::CLONE_NEWUSER) as u64 != 0 {
            return Err(Errno::EINVAL);
        }
        if has(f, libc::CLONE_PIDFD) && has(f, libc::CLONE_THREAD) {
            return Err(Errno::EINVAL);
        }
        if has(f, libc::CLONE_PARENT) && self.tg.pid == 1 {
            // Init's siblings would have no parent in the namespace.
            return Err(Errno::EINVAL);
        }
        if f & NAMESPACES != 0 {
            // New namespaces are not supported; Linux refuses them to an
            // unprivileged caller the same way.
            return Err(Errno::EPERM);
        }
        let thread = has(f, libc::CLONE_THREAD);
        let uid = self.creds.uid;
        {
            let tree = self.kernel.tasks.read();
            if tree.tasks.len() >= self.kernel.task_limit() {
                return Err(Errno::EAGAIN);
            }
            let nproc = self.rlimit(libc::RLIMIT_NPROC);
            let exempt = uid == 0
                || self.creds.capable(crate::auth::CAP_SYS_RESOURCE)
                || self.creds.capable(crate::auth::CAP_SYS_ADMIN);
            if !exempt && nproc != crate::kernel::limits::INF {
                let mine = tree.tasks.values().filter(|t| t.resources().creds.uid == uid).count() as u64;
                if mine >= nproc {
                    return Err(Errno::EAGAIN);
                }
            }
        }
        // Resources, shared or copied.
        let mm = if has(f, libc::CLONE_VM) {
            self.mm.clone()
        } else {
            {
                let r = &self.cpu.regs;
                Arc::new(self.mm.fork(&[r.rip, r.rsp, r.fs_base])?)
            }
        };
        let fds = if has(f, libc::CLONE_FILES) { self.fds.clone() } else { Arc::new(self.fds.copy()) };
        let fs = if has(f, libc::CLONE_FS) { self.fs.clone() } else { self.fs.copy() };
        let res = Resources { mm: mm.clone(), fds, fs, creds: self.creds.clone(), comm: self.comm() };
        // Registers: the child returns 0 from the syscall.
        self.load_fp()?;
        let mut cpu = self.cpu.clone();
        cpu.mark_fp_dirty();
        cpu.regs.rax = 0;
        if req.stack != 0 {
            cpu.regs.rsp = req.stack;
        }
        if has(f, libc::CLONE_SETTLS) {
            if req.tls >= crate::mm::TASK_SIZE {
                return Err(Errno::EPERM);
            }
            cpu.regs.fs_base = req.tls;
        }
        let mask = self.signal_mask();
        let shared = self.register_child(req, thread, res.clone(), mask)?;
        let tid = shared.tid();
        // The child's view of its own id, and the parent's.
        if has(f, libc::CLONE_CHILD_SETTID) {
            let _ = mm.copy_out_obj(req.child_tid, &tid);
        }
        if has(f, libc::CLONE_PARENT_SETTID) {
            let _ = self.mm.copy_out_obj(req.parent_tid, &tid);
        }
        let vfork = has(f, libc::CLONE_VFORK).then(Completion::new);
        if let Some(c) = &vfork {
            *shared.vfork_done.lock().unwrap_or_else(|e| e.into_inner()) = Some(c.clone());
        }
        let altstack = if has(f, libc::CLONE_VM) && !has(f, libc::CLONE_VFORK) {
            StackT { ss_sp: 0, ss_flags: SS_DISABLE, pad: 0, ss_size: 0 }
        } else {
            self.altstack
        };
        let ctx = self.kernel.platform.new_context();
        let mut child = Task::new(self.kernel.clone(), shared.clone(), cpu, ctx, res, altstack);
        if has(f, libc::CLONE_CHILD_CLEARTID) {
            child.clear_child_tid = req.child_tid;
        }
        if !has(f, libc::CLONE_VM) {
            child.rseq = self.rseq;
        }
        if !thread {
            crate::kernel::cpu_clock::watch_cpu_limit(&self.kernel, &shared.tg);
        }
        if has(f, libc::CLONE_VM) {
            if let Some(a) = &self.aspace {
                a.prepare_thread();
            }
        }
        if let Err(e) = Kernel::spawn(child) {
            self.kernel.unregister_failed_child(&shared, thread);
            return Err(e);
        }
        if let Some(c) = vfork {
            self.wait_vfork(&c);
        }
        Ok(shared)
    }

    /// Adds the child to the pid namespace and its thread group.
    fn register_child(
        &mut self,
        req: &CloneRequest,
        thread: bool,
        res: Resources,
        mask: u64,
    ) -> Result<Arc<TaskShared>, Errno> {
        let f = req.flags;
        let mut tree = self.kernel.tasks.write();
        let tid = tree.alloc_id()?;
        let tg = if thread {
            self.tg.clone()
        } else {
            let handlers = if has(f, libc::CLONE_SIGHAND) {
                self.handlers()
            } else if f & CLONE_CLEAR_SIGHAND != 0 {
                self.handlers().for_exec()
            } else {
                self.handlers().copy()
            };
            let limits = self.tg.state().rlimits;
            let tg = ThreadGroup::new(tid, handlers, limits);
            {
                let mine = self.tg.state();
                let mut child = tg.state();
                child.exe = mine.exe.clone();
                child.exe_path = mine.exe_path.clone();
                child.dumpable = mine.dumpable;
                child.no_new_privs = mine.no_new_privs;
                child.personality = mine.personality;
                child.oom_score_adj = mine.oom_score_adj;
            }
            tg
        };
        let shared = TaskShared::new(tid, tg.clone(), res, mask);
        {
            let mut attr = self.shared.sched().clone();
            if attr.reset_on_fork {
                attr.reset_on_fork = false;
                if attr.policy == libc::SCHED_FIFO || attr.policy == libc::SCHED_RR {
                    attr.policy = libc::SCHED_OTHER;
                    attr.priority = 0;
                }
                attr.nice = attr.nice.max(0);
            }
            *shared.sched() = attr;
        }
        {
            let mut gs = tg.signals();
            if gs.exiting.is_some() || gs.execer.is_some() {
                // The process is going away; the caller will exit.
                return Err(Errno::ERESTARTNOINTR);
            }
            if let StopState::Stopping { signo, remaining } = gs.stop {
                gs.stop = StopState::Stopping { signo, remaining: remaining + 1 };
            }
            gs.threads.push(shared.clone());
        }
        if !thread {
            let me = tree.procs.get(&self.tg.pid).ok_or(Errno::ESRCH)?;
            let parent = if has(f, libc::CLONE_PARENT) { me.parent } else { self.tg.pid };
            let (pgid, sid, container) = (me.pgid, me.sid, me.container);
            tree.add_proc(Proc {
                tg,
                parent,
                children: Default::default(),
                pgid,
                sid,
                exit_signal: req.exit_signal,
                zombie: None,
                zombie_usage: Default::default(),
                stop_report: None,
                cont_report: false,
                creator: self.tid,
                uid: self.creds.uid,
                container,
            });
        }
        tree.tasks.insert(tid, shared.clone());
        Ok(shared)
    }

    /// Waits (killable only) until the vfork child execs or exits.
    fn wait_vfork(&mut self, c: &Arc<Completion>) {
        let w = self.waker();
        let _reg = Registration::new(&c.queue, EVENT_ANY, w.clone());
        while !c.is_done() {
            if self.tg.signals().exiting.is_some() {
                return;
            }
            w.reset();
            if c.is_done() {
                return;
            }
            self.park(Some(std::time::Instant::now() + std::time::Duration::from_millis(50)));
        }
    }
}

/// A process to start from outside the sandbox: its loaded image and
/// what it starts with.
pub struct NewProcess {
    /// Its address space, with the image loaded.
    pub mm: Arc<MemoryManager>,
    /// Its open files.
    pub fds: Arc<FdTable>,
    /// Its root, working directory and umask.
    pub fs: Arc<crate::vfs::FsState>,
    /// Its credentials.
    pub creds: crate::auth::Credentials,
    /// Its resource limits.
    pub rlimits: [crate::abi::Rlimit; crate::kernel::limits::RLIM_NLIMITS],
    /// Its personality.
    pub personality: u32,
    /// PR_SET_NO_NEW_PRIVS from the start (the spec's noNewPrivileges).
    pub no_new_privs: bool,
    /// The loaded program.
    pub exec: crate::loader::Loaded,
    /// A terminal to be the controlling terminal of its session (a
    /// process exec'd with one), with it as the foreground group.
    pub ctty: Option<Arc<crate::fs::tty::Terminal>>,
    /// The container of the pod it runs in (0: the sandbox's first).
    pub container: u32,
    /// Its oom_score_adj (-1000..=1000).
    pub oom_score_adj: i32,
}

impl Kernel {
    /// Undoes `register_child` when the child's thread could not start.
    fn unregister_failed_child(&self, shared: &Arc<TaskShared>, thread: bool) {
        let mut tree = self.tasks.write();
        tree.tasks.remove(&shared.tid());
        shared.tg.signals().threads.retain(|t| !Arc::ptr_eq(t, shared));
        if !thread {
            tree.remove_proc(shared.tg.pid);
        }
    }

    /// Starts the sandbox's init process (pid 1) from a loaded image.
    pub fn start_init(self: &Arc<Kernel>, image: NewProcess) -> Result<(), Errno> {
        self.tasks.write().release_init_pid();
        self.start_process(image).map(|_| ())
    }

    /// Keeps pid 1 for init until [`Kernel::start_init`]: processes
    /// started before it (a container's startContainer hooks) get others.
    pub fn reserve_init_pid(&self) {
        self.tasks.write().init_reserved = true;
    }

    /// Starts a process from outside the sandbox (init, or `runsc exec`):
    /// no parent in the sandbox, a session and process group of its own.
    /// Its exit status is kept on the returned thread group.
    pub fn start_process(self: &Arc<Kernel>, image: NewProcess) -> Result<Arc<ThreadGroup>, Errno> {
        let NewProcess { mm, fds, fs, creds, rlimits, personality, no_new_privs, exec, ctty, container, oom_score_adj } =
            image;
        let creds = Arc::new(creds);
        let mut tree = self.tasks.write();
        if tree.tasks.len() >= self.task_limit() {
            return Err(Errno::EAGAIN);
        }
        let pid = tree.alloc_id()?;
        let tg = ThreadGroup::new(pid, crate::kernel::signals::SignalHandlers::new(), rlimits);
        {
            let mut st = tg.state();
            st.exe = Some(exec.exe.clone());
            st.exe_path = exec.exe_path.clone();
            st.personality = personality;
            st.no_new_privs = no_new_privs;
            st.oom_score_adj = oom_score_adj.clamp(-1000, 1000);
        }
        let res = Resources { mm, fds, fs, creds: creds.clone(), comm: exec.comm.clone() };
        let shared = TaskShared::new(pid, tg.clone(), res.clone(), 0);
        tg.signals().threads.push(shared.clone());
        tree.add_proc(Proc {
            tg: tg.clone(),
            parent: 0,
            children: Default::default(),
            pgid: pid,
            sid: pid,
            exit_signal: 0,
            zombie: None,
            zombie_usage: Default::default(),
            stop_report: None,
            cont_report: false,
            creator: 0,
            uid: creds.uid,
            container,
        });
        tree.tasks.insert(pid, shared.clone());
        if let Some(term) = &ctty {
            // Before it runs: its session (sid = pid) has the terminal
            // from the start, as after setsid and TIOCSCTTY.
            self.ttys.attach(term, pid, pid);
        }
        drop(tree);
        crate::kernel::cpu_clock::watch_cpu_limit(self, &tg);
        let mut regs = self.platform.initial_regs();
        regs.rip = exec.entry;
        regs.rsp = exec.sp;
        let cpu = crate::platform::CpuState::new(regs, self.platform.initial_fp());
        let ctx = self.platform.new_context();
        let altstack = StackT { ss_sp: 0, ss_flags: SS_DISABLE, pad: 0, ss_size: 0 };
        if let Err(e) = Kernel::spawn(Task::new(self.clone(), shared.clone(), cpu, ctx, res, altstack)) {
            self.unregister_failed_child(&shared, false);
            return Err(e);
        }
        Ok(tg)
    }
}
