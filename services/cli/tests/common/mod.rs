//! Running the real `lienthong` binary from tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The binary under test, with every `LIENTHONG_*` variable of the test
/// environment removed (`LIENTHONG_SECTION__KEY` overrides the node config and
/// `LIENTHONG_NODE` changes `search`'s default node), so each test says it all.
pub fn lienthong() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lienthong"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LIENTHONG_") {
            command.env_remove(key);
        }
    }
    command.env_remove("RUST_LOG");
    command
}

/// Runs `command` to completion, killing it if it takes longer than `limit`.
pub fn run_within(mut command: Command, limit: Duration) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lienthong");
    let id = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done_tx.send(());
        output
    });
    if done_rx.recv_timeout(limit).is_err() {
        // Still running: end exactly this child, then fail.
        let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
        let _ = waiter.join();
        panic!("lienthong did not finish within {limit:?}");
    }
    waiter
        .join()
        .expect("waiter thread")
        .expect("lienthong output")
}

/// Runs `command` off the async runtime, with a generous time limit.
pub async fn run(command: Command) -> Output {
    tokio::task::spawn_blocking(move || run_within(command, Duration::from_secs(300)))
        .await
        .expect("blocking task")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// Writes a node config for `node_id` over the SQLite file `database`.
pub fn write_config(dir: &Path, name: &str, node_id: &str, database: &Path) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "[node]\nid = \"{node_id}\"\ndisplay_name = \"Sở KH&CN {node_id}\"\n\
             [database]\nurl = \"sqlite://{}\"\nmax_connections = 4\n\
             [grpc]\nlisten = \"127.0.0.1:0\"\n\
             [admin]\nlisten = \"127.0.0.1:0\"\n",
            database.display()
        ),
    )
    .expect("write the config");
    path
}
