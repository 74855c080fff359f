//! Running the `rds-emulator` executable the way its users do: start it, read the one line it
//! announces its URL with, talk to it, close its stdin and collect what it wrote.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_rds-emulator");
pub const ANNOUNCEMENT: &str = "RDS broker emulator listening on ";

/// How long a test waits for the binary to exit once its stdin is closed.
const EXIT_LIMIT: Duration = Duration::from_secs(10);

/// A running `rds-emulator` started with `--exit-on-stdin-eof`.
pub struct EmulatorProcess {
    pub child: Child,
    /// The announced base URL, e.g. `http://127.0.0.1:49152`.
    pub url: String,
    /// Stdout after the announcement line.
    stdout: BufReader<ChildStdout>,
}

impl EmulatorProcess {
    /// Starts the binary with `args`, `--exit-on-stdin-eof` and the extra environment `env`,
    /// stdin and stdout piped, stderr piped when `capture_stderr` (discarded otherwise), and
    /// reads the announcement line (failing on anything else).
    pub fn start(args: &[&str], env: &[(&str, &str)], capture_stderr: bool) -> Self {
        let mut child = Command::new(BINARY)
            .args(args)
            .arg("--exit-on-stdin-eof")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if capture_stderr {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("binary starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("first line");
        let url = line
            .trim_end()
            .strip_prefix(ANNOUNCEMENT)
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, url, stdout }
    }

    /// Closes stdin, which makes the binary exit, and waits for it (killing it and failing
    /// after a few seconds).
    pub fn close_stdin_and_wait(&mut self) -> ExitStatus {
        drop(self.child.stdin.take());
        wait_with_timeout(&mut self.child, EXIT_LIMIT)
    }

    /// Everything on stdout after the announcement line, up to the end (call after exit).
    pub fn rest_of_stdout(&mut self) -> String {
        let mut rest = String::new();
        self.stdout
            .read_to_string(&mut rest)
            .expect("rest of stdout");
        rest
    }

    /// Everything on stderr (call after exit; needs `capture_stderr`).
    pub fn stderr(&mut self) -> String {
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut stderr)
            .expect("stderr");
        stderr
    }
}

/// Waits for the child to exit, killing it (and failing) after `limit`.
pub fn wait_with_timeout(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("rds-emulator did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes `contents` to a file `name` in a new temporary directory and returns the guard of the
/// directory (dropping it removes both) and the file's path.
pub fn temp_file(name: &str, contents: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("write temp file");
    let path = path.to_str().expect("UTF-8 path").to_owned();
    (dir, path)
}
