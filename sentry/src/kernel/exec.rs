//! execve and execveat (the kernel side): the loader builds a complete new
//! image in a fresh address space first, so a failed exec leaves the
//! caller as it was. Then the point of no return: the other threads are
//! ended (the caller takes the leader's tid), and the task switches to the
//! image: close-on-exec fds closed, caught signals reset, alternate stack,
//! robust list and rseq dropped, a vfork parent released.

use std::sync::Arc;

use crate::abi::signal::SS_DISABLE;
use crate::abi::{Errno, StackT};
use crate::kernel::block::{Registration, EVENT_ANY};
use crate::kernel::Task;
use crate::loader::{self, ExecEnv, Loaded};
use crate::mm::MemoryManager;
use crate::platform::CpuState;
use crate::vfs::Location;

/// What to execute.
pub enum ExecTarget<'a> {
    /// A path, relative to a directory.
    Path {
        /// Where relative paths start.
        start: Location,
        /// The path.
        path: &'a [u8],
    },
    /// An open file (execveat with AT_EMPTY_PATH), shown as `name`.
    File {
        /// The file's location.
        loc: Location,
        /// The name for AT_EXECFN and `#!` (`/dev/fd/N`).
        name: Vec<u8>,
    },
}

impl Task {
    /// Replaces the task's program. Only returns on failure, with the task
    /// unchanged; on success the registers are the new program's.
    pub fn execve(&mut self, target: ExecTarget<'_>, argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>) -> Result<(), Errno> {
        let mm = Arc::new(MemoryManager::new(self.kernel.mf.clone(), self.kernel.platform.clone()));
        let (root, cwd) = {
            let fs = self.fs.lock();
            (fs.root.clone(), fs.cwd.clone())
        };
        let randomize = self.tg.state().personality & crate::kernel::thread_group::ADDR_NO_RANDOMIZE == 0;
        let env = ExecEnv {
            root: &root,
            cwd: &cwd,
            creds: &self.creds,
            stack_limit: self.rlimit(libc::RLIMIT_STACK),
            randomize,
            no_new_privs: self.tg.state().no_new_privs,
        };
        let vdso = self.kernel.vdso.clone();
        let loaded = match target {
            ExecTarget::Path { start, path } => loader::load(&env, &mm, &vdso, &start, path, argv, envp)?,
            ExecTarget::File { loc, name } => {
                let first = loader::open_exec_at(&env, loc, &name)?;
                loader::load_opened(&env, &mm, &vdso, first, &name, argv, envp)?
            }
        };
        self.end_other_threads()?;
        self.commit_exec(mm, loaded);
        Ok(())
    }

    /// de_thread: every other thread of the process exits; a non-leader
    /// caller then takes the leader's tid.
    fn end_other_threads(&mut self) -> Result<(), Errno> {
        let tg = self.tg.clone();
        let alone = {
            let mut gs = tg.signals();
            if gs.exiting.is_some() || gs.execer.is_some() {
                return Err(Errno::ERESTARTNOINTR);
            }
            let alone = gs.threads.len() == 1;
            if !alone {
                gs.execer = Some(self.tid);
                for t in &gs.threads {
                    if t.tid() != self.tid {
                        t.kick();
                    }
                }
            }
            alone
        };
        if alone {
            self.take_leader_tid();
            return Ok(());
        }
        let w = self.waker();
        let _reg = Registration::new(&tg.thread_exits, EVENT_ANY, w.clone());
        loop {
            w.reset();
            {
                let mut gs = tg.signals();
                if gs.exiting.is_some() {
                    gs.execer = None;
                    return Err(Errno::ERESTARTNOINTR);
                }
                if gs.threads.len() == 1 {
                    gs.execer = None;
                    break;
                }
            }
            self.park(Some(std::time::Instant::now() + std::time::Duration::from_millis(50)));
        }
        self.take_leader_tid();
        Ok(())
    }

    /// The exec'ing thread becomes the leader: it takes the process's pid
    /// as its tid.
    fn take_leader_tid(&mut self) {
        let pid = self.tg.pid;
        if self.tid == pid {
            return;
        }
        let mut tree = self.kernel.tasks.write();
        tree.tasks.remove(&self.tid);
        tree.tasks.insert(pid, self.shared.clone());
        self.shared.set_tid(pid);
        self.tid = pid;
    }

    /// Switches to the loaded image (no failure possible from here).
    fn commit_exec(&mut self, mm: Arc<MemoryManager>, l: Loaded) {
        // The old address space's clear_child_tid and vfork parent.
        self.release_child_tid();
        self.complete_vfork();
        self.sample_maxrss();
        // This task and its shared part hold the old image; if nobody else
        // does (a vfork parent would), its host address space is reused.
        if Arc::strong_count(&self.mm) <= 2 {
            mm.inherit_address_space(&self.mm);
        }
        mm.premap_image(&[l.entry, l.sp]);
        self.set_mm(mm);
        if Arc::strong_count(&self.fds) > 1 {
            let copy = Arc::new(self.fds.copy());
            self.set_fds(copy);
        }
        drop(self.fds.close_on_exec());
        self.tg.set_handlers(self.handlers().for_exec());
        self.tg.timers.clear_posix();
        self.altstack = StackT { ss_sp: 0, ss_flags: SS_DISABLE, pad: 0, ss_size: 0 };
        self.robust_list = (0, 0);
        self.rseq = None;
        self.restart = None;
        self.shared.signals().saved_mask = None;
        self.set_comm(&l.comm);
        {
            let mut st = self.tg.state();
            st.exe = Some(l.exe.clone());
            st.exe_path = l.exe_path.clone();
            st.dumpable = 1;
            st.execed = true;
            st.keepcaps = false;
        }
        {
            let mut st = self.tg.state();
            // A privileged exec is not dumpable (nor ptrace-able) by its
            // old owner, as Linux's would_dump/setup_new_exec have it.
            if l.creds.euid != l.creds.uid || l.creds.egid != l.creds.gid {
                st.dumpable = 0;
            }
        }
        self.set_creds(l.creds.clone());
        let mut regs = self.kernel.platform.initial_regs();
        regs.rip = l.entry;
        regs.rsp = l.sp;
        self.cpu = CpuState::new(regs, self.kernel.platform.initial_fp());
    }
}
