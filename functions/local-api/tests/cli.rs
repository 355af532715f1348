//! `local-api` as an operator runs it: `--help` from the parser, a configuration to fix named
//! in a readable line with exit code 2, the redrive of the local dead-letter list, and one
//! retention purge pass.

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

/// The report a command prints last, as pretty JSON after its log lines.
fn printed_report(stdout: &[u8]) -> serde_json::Value {
    let printed = text(stdout);
    let start = printed.rfind("\n{\n").map_or(0, |at| at + 1);
    serde_json::from_str(&printed[start..]).unwrap_or_else(|e| panic!("{e}: {printed}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_every_command_and_needs_no_configuration() {
    let help = local_api(&["--help"], &[]);

    assert_eq!(help.status.code(), Some(0));
    let shown = text(&help.stdout);
    for command in [
        "serve",
        "migrate",
        "reconcile",
        "purge",
        "dead-letters",
        "redrive",
    ] {
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

#[tokio::test]
async fn purge_runs_one_pass_with_the_local_configuration_and_prints_its_report() {
    let store = testing::store().await;
    let files = servers::scratch_folder()
        .join(format!("files-{}", testing::unique_database_name()))
        .display()
        .to_string();
    for (ticket_id, closed_days_ago) in [(1, 400), (2, 10)] {
        let body: shared::api::CreateTicketBody =
            serde_json::from_value(shared::testing::requests::ticket_body(ticket_id))
                .expect("body");
        if ticket_id == 1 {
            shared::testing::requests::seed_client(&store, "972500000001", None).await;
        }
        let mut ticket = body.validate("972500000001".into()).expect("valid");
        ticket.closed_at = Some(shared::db::bson::DateTime::from_millis(
            chrono::Utc::now().timestamp_millis() - closed_days_ago * 86_400_000,
        ));
        store.create_ticket(ticket).await.expect("ticket");
    }
    let database = store.database().name().to_owned();
    let run = |dry_run: &'static str| {
        let database = database.clone();
        let files = files.clone();
        tokio::task::spawn_blocking(move || {
            local_api(
                &["purge"],
                &[
                    ("MONGODB_URI", servers::mongodb_uri()),
                    ("MONGODB_DATABASE", &database),
                    ("FILES_DIR", &files),
                    ("RETENTION_DAYS", "365"),
                    ("PURGE_DRY_RUN", dry_run),
                ],
            )
        })
    };

    let dry = run("true").await.expect("local-api ran");
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let report = printed_report(&dry.stdout);
    assert_eq!(
        (report["wouldDelete"].clone(), report["deleted"].clone()),
        (serde_json::json!([1]), serde_json::json!(0))
    );
    assert!(
        store.get_ticket(1).await.expect("read").is_some(),
        "a dry run deletes nothing"
    );

    let purged = run("false").await.expect("local-api ran");
    assert_eq!(purged.status.code(), Some(0), "{}", text(&purged.stderr));
    let report = printed_report(&purged.stdout);
    assert_eq!(
        (report["deleted"].clone(), report["stopped"].clone()),
        (serde_json::json!(1), serde_json::json!("caught up"))
    );
    assert!(store.get_ticket(1).await.expect("read").is_none());
    assert!(store.get_ticket(2).await.expect("read").is_some());
}
