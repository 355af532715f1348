//! `local-api` as an operator runs it: `--help` from the parser, a configuration to fix named
//! in a readable line with exit code 2, and the redrive of the local dead-letter list.

use std::process::{Command, Output};
use std::time::Duration;

use shared::queue::{ArchiveJob, JobQueue, LocalQueue};
use shared::testing::queue::fail_every_receive;
use shared::testing::{self, servers};

fn local_api(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_local-api"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("local-api runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_every_command_and_needs_no_configuration() {
    let help = local_api(&["--help"], &[]);

    assert_eq!(help.status.code(), Some(0));
    let shown = text(&help.stdout);
    for command in ["serve", "migrate", "reconcile", "dead-letters", "redrive"] {
        assert!(shown.contains(command), "{shown}");
    }
}

#[test]
fn a_missing_configuration_is_one_readable_line_and_exit_code_2() {
    let missing = local_api(&["migrate"], &[]);

    assert_eq!(missing.status.code(), Some(2));
    let said = text(&missing.stderr);
    assert!(
        said.contains("configuration key MONGODB_URI is missing"),
        "{said}"
    );
    assert!(!said.contains("Missing("), "no debug output: {said}");
    let unknown = local_api(&["frobnicate"], &[]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[tokio::test]
async fn redrive_sends_the_local_dead_letters_back() {
    let store = testing::store().await;
    let queue = LocalQueue::new(store.clone());
    queue
        .enqueue(
            &ArchiveJob {
                ticket_id: 48213977,
            },
            b"a closing",
        )
        .await
        .expect("queued");
    fail_every_receive(&queue).await;
    assert!(
        queue
            .receive(1, Duration::ZERO)
            .await
            .expect("received")
            .is_empty()
    );
    let database = store.database().name().to_owned();

    let redriven = tokio::task::spawn_blocking(move || {
        local_api(
            &["redrive"],
            &[
                ("MONGODB_URI", servers::mongodb_uri()),
                ("MONGODB_DATABASE", &database),
            ],
        )
    })
    .await
    .expect("local-api ran");

    assert_eq!(
        redriven.status.code(),
        Some(0),
        "{}",
        text(&redriven.stderr)
    );
    assert!(text(&redriven.stdout).contains("1 archive jobs sent back"));
    assert_eq!(
        queue
            .receive(1, Duration::ZERO)
            .await
            .expect("received")
            .len(),
        1
    );
}
