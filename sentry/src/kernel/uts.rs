//! The sandbox's identity as uname(2) reports it.

/// The kernel release the sandbox reports: modern enough that programs and
/// test suites do not refuse to run.
pub const RELEASE: &str = "6.8.0";
/// The version string.
pub const VERSION: &str = "#1 SMP PREEMPT_DYNAMIC runsc";

/// Host and domain names.
#[derive(Clone, Debug)]
pub struct Uts {
    /// nodename.
    pub hostname: String,
    /// domainname.
    pub domainname: String,
}
