//! The line discipline (Linux's n_tty) of a pseudo-terminal: what the
//! master writes is input, processed by the termios input flags (CR/NL
//! mapping, ISIG characters, IXON flow control), edited into lines in
//! canonical mode (ERASE, KILL, WERASE, LNEXT, EOF, EOL) and echoed; what
//! the replica writes is output, processed by the output flags (ONLCR,
//! OCRNL, ONOCR, ONLRET, XTABS, OLCUC). Pure state: the caller locks it,
//! wakes readers and writers, and sends the signals it returns.

use std::collections::VecDeque;

use crate::abi::Termios;

// c_cc indices.
const VINTR: usize = 0;
const VQUIT: usize = 1;
const VERASE: usize = 2;
const VKILL: usize = 3;
const VEOF: usize = 4;
/// VTIME: deciseconds a non-canonical read waits.
pub const VTIME: usize = 5;
/// VMIN: bytes a non-canonical read waits for.
pub const VMIN: usize = 6;
const VSTART: usize = 8;
const VSTOP: usize = 9;
const VSUSP: usize = 10;
const VEOL: usize = 11;
const VREPRINT: usize = 12;
const VWERASE: usize = 14;
const VLNEXT: usize = 15;
const VEOL2: usize = 16;

// c_iflag.
const ISTRIP: u32 = 0o40;
const INLCR: u32 = 0o100;
const IGNCR: u32 = 0o200;
const ICRNL: u32 = 0o400;
const IUCLC: u32 = 0o1000;
const IXON: u32 = 0o2000;
const IXANY: u32 = 0o4000;

// c_oflag.
const OPOST: u32 = 0o1;
const OLCUC: u32 = 0o2;
const ONLCR: u32 = 0o4;
const OCRNL: u32 = 0o10;
const ONOCR: u32 = 0o20;
const ONLRET: u32 = 0o40;
const TABDLY: u32 = 0o14000;
const XTABS: u32 = 0o14000;

// c_lflag.
const ISIG: u32 = 0o1;
const ICANON: u32 = 0o2;
const ECHO: u32 = 0o10;
const ECHOE: u32 = 0o20;
const ECHOK: u32 = 0o40;
const ECHONL: u32 = 0o100;
const NOFLSH: u32 = 0o200;
/// TOSTOP: background writes raise SIGTTOU.
pub const TOSTOP: u32 = 0o400;
const ECHOCTL: u32 = 0o1000;
const ECHOKE: u32 = 0o4000;
const IEXTEN: u32 = 0o100000;

/// The longest line canonical mode keeps (N_TTY_BUF_SIZE - 1); further
/// characters but the line's end are dropped.
const LINE_MAX: usize = 4095;
/// The most input queued for the replica to read.
pub const INPUT_MAX: usize = 65536;
/// The most output queued for the master to read.
pub const OUTPUT_MAX: usize = 65536;

/// The termios a new pty replica starts with (Linux's tty_std_termios
/// with the pty driver's c_cflag).
pub fn default_termios() -> Termios {
    let mut t = Termios {
        c_iflag: ICRNL | IXON,
        c_oflag: OPOST | ONLCR,
        // B38400 | CS8 | CREAD: the pty driver's, without HUPCL.
        c_cflag: 0o17 | 0o60 | 0o200,
        c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
        c_line: 0,
        c_cc: [0; 19],
    };
    let cc = b"\x03\x1c\x7f\x15\x04\x00\x01\x00\x11\x13\x1a\x00\x12\x0f\x17\x16\x00";
    t.c_cc[..cc.len()].copy_from_slice(cc);
    t
}

/// A line discipline's state.
pub struct Ldisc {
    /// The terminal's settings.
    pub termios: Termios,
    /// The line being edited (canonical mode).
    line: Vec<u8>,
    /// Input the replica may read.
    input: VecDeque<u8>,
    /// Lengths of the complete lines at the front of `input` (canonical
    /// mode); an end of file on an empty line is a line of length 0.
    lines: VecDeque<usize>,
    /// Output the master may read: replica writes and echoes.
    pub output: VecDeque<u8>,
    /// The next input character is literal (after VLNEXT).
    lnext: bool,
    /// Output is stopped (VSTOP with IXON).
    pub stopped: bool,
    /// The output column, for tabs and ONOCR.
    column: usize,
}

impl Default for Ldisc {
    fn default() -> Self {
        Ldisc {
            termios: default_termios(),
            line: Vec::new(),
            input: VecDeque::new(),
            lines: VecDeque::new(),
            output: VecDeque::new(),
            lnext: false,
            stopped: false,
            column: 0,
        }
    }
}

fn is_ctrl(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}

impl Ldisc {
    fn lflag(&self, f: u32) -> bool {
        self.termios.c_lflag & f != 0
    }

    fn iflag(&self, f: u32) -> bool {
        self.termios.c_iflag & f != 0
    }

    /// Whether `c` is the (enabled) control character `idx`.
    fn is_cc(&self, c: u8, idx: usize) -> bool {
        let v = self.termios.c_cc[idx];
        v != 0 && v == c
    }

    /// Whether canonical mode is on.
    pub fn canonical(&self) -> bool {
        self.lflag(ICANON)
    }

    /// Sets new termios, as TCSETS does: leaving canonical mode makes the
    /// line being edited readable; entering it makes unread raw input the
    /// line being edited.
    pub fn set_termios(&mut self, t: Termios) {
        let was = self.canonical();
        self.termios = t;
        let now = self.canonical();
        if was && !now {
            self.input.extend(self.line.drain(..));
            self.lines.clear();
        } else if !was && now {
            let rest: Vec<u8> = self.input.drain(..).collect();
            self.line.splice(0..0, rest);
            self.line.truncate(LINE_MAX);
        }
        if !self.iflag(IXON) {
            self.stopped = false;
        }
    }

    /// Discards unread input (TCFLSH TCIFLUSH).
    pub fn flush_input(&mut self) {
        self.line.clear();
        self.input.clear();
        self.lines.clear();
        self.lnext = false;
    }

    /// Bytes a read may take now (FIONREAD): complete lines only in
    /// canonical mode.
    pub fn readable(&self) -> usize {
        if self.canonical() {
            self.lines.iter().sum()
        } else {
            self.input.len()
        }
    }

    /// Whether a read (or poll) would find input: a complete line, or in
    /// non-canonical mode VMIN bytes (1 when VTIME is set or VMIN is 0).
    pub fn input_ready(&self) -> bool {
        if self.canonical() {
            return !self.lines.is_empty();
        }
        let (min, time) = (self.termios.c_cc[VMIN] as usize, self.termios.c_cc[VTIME]);
        let need = if time == 0 && min > 0 { min } else { 1 };
        self.input.len() >= need
    }

    /// Whether the master may write more input.
    pub fn input_room(&self) -> bool {
        self.input.len() + self.line.len() < INPUT_MAX
    }

    /// Reads input for the replica: a line (or what fits of it) in
    /// canonical mode, else what is there. `None`: nothing yet (the caller
    /// waits, or returns 0 for a non-canonical read with VMIN 0).
    pub fn read(&mut self, buf: &mut [u8]) -> Option<usize> {
        if self.canonical() {
            let len = *self.lines.front()?;
            let n = len.min(buf.len());
            for (i, b) in self.input.drain(..n).enumerate() {
                buf[i] = b;
            }
            if n == len {
                self.lines.pop_front();
            } else if let Some(l) = self.lines.front_mut() {
                *l -= n;
            }
            return Some(n);
        }
        if self.input.is_empty() {
            return None;
        }
        let n = buf.len().min(self.input.len());
        for (i, b) in self.input.drain(..n).enumerate() {
            buf[i] = b;
        }
        Some(n)
    }

    /// Takes input the master wrote; returns how many bytes it took (it
    /// stops when the input is full) and pushes the signals (SIGINT,
    /// SIGQUIT, SIGTSTP) for the foreground process group onto `sigs`.
    pub fn receive(&mut self, data: &[u8], sigs: &mut Vec<i32>) -> usize {
        let mut taken = 0;
        for &raw in data {
            if !self.input_room() {
                break;
            }
            taken += 1;
            self.receive_char(raw, sigs);
        }
        taken
    }

    fn receive_char(&mut self, raw: u8, sigs: &mut Vec<i32>) {
        let mut c = if self.iflag(ISTRIP) { raw & 0x7f } else { raw };
        if self.lnext {
            self.lnext = false;
            if self.lflag(ECHO) && self.lflag(ECHOCTL) {
                // Rub out the "^" echoed for VLNEXT.
                self.echo_bytes(b"\x08");
            }
            self.put(c);
            return;
        }
        if self.lflag(ISIG) {
            let sig = if self.is_cc(c, VINTR) {
                libc::SIGINT
            } else if self.is_cc(c, VQUIT) {
                libc::SIGQUIT
            } else if self.is_cc(c, VSUSP) {
                libc::SIGTSTP
            } else {
                0
            };
            if sig != 0 {
                // Only input is flushed: a pty's driver keeps what the
                // master has not read yet.
                if !self.lflag(NOFLSH) {
                    self.flush_input();
                }
                if self.lflag(ECHO) {
                    self.echo_char(c);
                }
                sigs.push(sig);
                return;
            }
        }
        if self.iflag(IXON) {
            if self.is_cc(c, VSTOP) {
                self.stopped = true;
                return;
            }
            if self.is_cc(c, VSTART) {
                self.stopped = false;
                return;
            }
            if self.iflag(IXANY) {
                self.stopped = false;
            }
        }
        if c == b'\r' {
            if self.iflag(IGNCR) {
                return;
            }
            if self.iflag(ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && self.iflag(INLCR) {
            c = b'\r';
        }
        if self.iflag(IUCLC) && self.lflag(IEXTEN) {
            c = c.to_ascii_lowercase();
        }
        if !self.canonical() {
            self.input.push_back(c);
            if self.lflag(ECHO) {
                self.echo_char(c);
            } else if c == b'\n' && self.lflag(ECHONL) {
                self.echo_bytes(b"\n");
            }
            return;
        }
        let ext = self.lflag(IEXTEN);
        if self.is_cc(c, VERASE) || self.is_cc(c, VKILL) || (ext && self.is_cc(c, VWERASE)) {
            self.erase(c);
            return;
        }
        if ext && self.is_cc(c, VLNEXT) {
            self.lnext = true;
            if self.lflag(ECHO) && self.lflag(ECHOCTL) {
                self.echo_bytes(b"^");
            }
            return;
        }
        if ext && self.is_cc(c, VREPRINT) && self.lflag(ECHO) {
            self.echo_char(c);
            self.echo_bytes(b"\n");
            let line = self.line.clone();
            for b in line {
                self.echo_char(b);
            }
            return;
        }
        if c == b'\n' {
            if self.lflag(ECHO) || self.lflag(ECHONL) {
                self.echo_bytes(b"\n");
            }
            self.line.push(c);
            self.commit();
            return;
        }
        if self.is_cc(c, VEOF) {
            self.commit();
            return;
        }
        if self.is_cc(c, VEOL) || (ext && self.is_cc(c, VEOL2)) {
            if self.lflag(ECHO) {
                self.echo_char(c);
            }
            self.line.push(c);
            self.commit();
            return;
        }
        self.put(c);
    }

    /// Adds an ordinary character: to the line (canonical) or the input.
    fn put(&mut self, c: u8) {
        if self.canonical() {
            if self.line.len() >= LINE_MAX {
                return;
            }
            self.line.push(c);
        } else {
            self.input.push_back(c);
        }
        if self.lflag(ECHO) {
            self.echo_char(c);
        }
    }

    /// Ends the line being edited: it becomes readable.
    fn commit(&mut self) {
        let n = self.line.len();
        self.input.extend(self.line.drain(..));
        self.lines.push_back(n);
    }

    /// VERASE, VWERASE or VKILL on the line being edited.
    fn erase(&mut self, c: u8) {
        if self.line.is_empty() {
            return;
        }
        let kill = self.is_cc(c, VKILL);
        let echo = self.lflag(ECHO);
        if kill && echo && !(self.lflag(ECHOKE) && self.lflag(ECHOE)) {
            self.line.clear();
            self.echo_char(c);
            if self.lflag(ECHOK) {
                self.echo_bytes(b"\n");
            }
            return;
        }
        let werase = !kill && !self.is_cc(c, VERASE);
        let mut seen_word = false;
        while let Some(&last) = self.line.last() {
            if werase {
                let space = last == b' ' || last == b'\t';
                if space && seen_word {
                    break;
                }
                seen_word |= !space;
            }
            self.line.pop();
            if echo {
                if self.lflag(ECHOE) {
                    let width = if is_ctrl(last) && last != b'\t' && self.lflag(ECHOCTL) { 2 } else { 1 };
                    for _ in 0..width {
                        self.echo_bytes(b"\x08 \x08");
                    }
                } else {
                    self.echo_char(c);
                }
            }
            if !kill && !werase {
                break;
            }
        }
    }

    /// Echoes one input character: control characters as ^X with ECHOCTL.
    fn echo_char(&mut self, c: u8) {
        if self.lflag(ECHOCTL) && is_ctrl(c) && c != b'\t' && c != b'\n' {
            self.echo_bytes(&[b'^', c ^ 0x40]);
        } else {
            self.echo_bytes(&[c]);
        }
    }

    fn echo_bytes(&mut self, s: &[u8]) {
        for &c in s {
            self.output_char(c);
        }
    }

    /// Whether the master's side has room for more output.
    pub fn output_room(&self) -> bool {
        self.output.len() < OUTPUT_MAX
    }

    /// Takes output the replica wrote, processed; returns how many bytes
    /// it took (it stops when the output queue is full).
    pub fn write(&mut self, data: &[u8]) -> usize {
        let mut taken = 0;
        for &c in data {
            if !self.output_room() {
                break;
            }
            self.output_char(c);
            taken += 1;
        }
        taken
    }

    /// One output character through OPOST processing.
    fn output_char(&mut self, c: u8) {
        let o = self.termios.c_oflag;
        if o & OPOST == 0 {
            self.output.push_back(c);
            return;
        }
        match c {
            b'\n' => {
                if o & ONLCR != 0 {
                    self.output.extend(b"\r\n");
                    self.column = 0;
                    return;
                }
                if o & ONLRET != 0 {
                    self.column = 0;
                }
                self.output.push_back(c);
            }
            b'\r' => {
                if o & ONOCR != 0 && self.column == 0 {
                    return;
                }
                if o & OCRNL != 0 {
                    if o & ONLRET != 0 {
                        self.column = 0;
                    }
                    self.output.push_back(b'\n');
                    return;
                }
                self.column = 0;
                self.output.push_back(c);
            }
            b'\t' => {
                let spaces = 8 - self.column % 8;
                if o & TABDLY == XTABS {
                    self.output.extend(std::iter::repeat_n(b' ', spaces));
                } else {
                    self.output.push_back(c);
                }
                self.column += spaces;
            }
            0x08 => {
                self.column = self.column.saturating_sub(1);
                self.output.push_back(c);
            }
            _ => {
                let c = if o & OLCUC != 0 { c.to_ascii_uppercase() } else { c };
                if !is_ctrl(c) {
                    self.column += 1;
                }
                self.output.push_back(c);
            }
        }
    }

    /// Reads output for the master.
    pub fn read_output(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.output.len());
        for (i, b) in self.output.drain(..n).enumerate() {
            buf[i] = b;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(l: &mut Ldisc) -> Vec<u8> {
        l.output.drain(..).collect()
    }

    fn read(l: &mut Ldisc) -> Option<Vec<u8>> {
        let mut b = [0u8; 64];
        l.read(&mut b).map(|n| b[..n].to_vec())
    }

    #[test]
    fn canonical_lines_erase_and_echo() {
        let mut l = Ldisc::default();
        let mut sigs = vec![];
        l.receive(b"helo\x7flo\r", &mut sigs);
        assert_eq!(out(&mut l), b"helo\x08 \x08lo\r\n");
        assert_eq!(read(&mut l).unwrap(), b"hello\n");
        assert_eq!(read(&mut l), None);
        l.receive(b"abc def\x17x\x04\x04", &mut sigs);
        assert_eq!(read(&mut l).unwrap(), b"abc x");
        assert_eq!(read(&mut l).unwrap(), b"");
        l.receive(b"zz\x15q\n", &mut sigs);
        assert_eq!(read(&mut l).unwrap(), b"q\n");
        assert!(sigs.is_empty());
    }

    #[test]
    fn signals_flush_and_echo_ctl() {
        let mut l = Ldisc::default();
        let mut sigs = vec![];
        l.receive(b"partial\x03", &mut sigs);
        assert_eq!(sigs, vec![libc::SIGINT]);
        assert_eq!(out(&mut l), b"partial^C");
        assert_eq!(l.readable(), 0);
        l.receive(b"\x1c\x1a", &mut sigs);
        assert_eq!(sigs, vec![libc::SIGINT, libc::SIGQUIT, libc::SIGTSTP]);
    }

    #[test]
    fn raw_mode_and_output_processing() {
        let mut l = Ldisc::default();
        let mut t = l.termios;
        t.c_lflag &= !(ICANON | ECHO);
        l.set_termios(t);
        let mut sigs = vec![];
        l.receive(b"a\rb", &mut sigs);
        assert_eq!(read(&mut l).unwrap(), b"a\nb");
        assert_eq!(l.write(b"x\ny\tz"), 5);
        assert_eq!(out(&mut l), b"x\r\ny\tz");
        t.c_oflag &= !OPOST;
        l.set_termios(t);
        l.write(b"\n");
        assert_eq!(out(&mut l), b"\n");
    }

    #[test]
    fn lnext_takes_the_next_character_literally() {
        let mut l = Ldisc::default();
        let mut sigs = vec![];
        l.receive(b"\x16\x03\n", &mut sigs);
        assert!(sigs.is_empty());
        assert_eq!(read(&mut l).unwrap(), b"\x03\n");
    }
}
