//! The retention purge through the function's handler, against FerretDB and a real file store
//! (a local folder, and S3 in moto): what expired goes with its transactions and files, what
//! is newer or held stays, a run cut part-way resumes and completes, a dry run changes nothing.

use std::time::Duration;

use chrono::Utc;
use shared::db::bson::{DateTime, doc};
use shared::db::{
    Attachment, LegalHold, NewClient, Store, StoredAttachment, TicketContent, TransactionDoc,
};
use shared::files::FileStore;
use shared::retention::PurgeReport;
use shared::state::PurgeState;
use shared::testing::files::{local_dir, new_s3_bucket, s3_store_in, sample_file, stored_keys};
use shared::testing::servers::moto_endpoint;
use shared::testing::{self, access_log, stored_documents, transactions_of};

const RETENTION_DAYS: i64 = 365;
const FILE_BYTES: usize = 2048;

fn days_ago(days: i64) -> DateTime {
    DateTime::from_millis((Utc::now() - chrono::Duration::days(days)).timestamp_millis())
}

/// An archived ticket of `client` closed `closed_days_ago` (or never), with one transaction
/// whose attachment's file is in `files`.
async fn archived(
    store: &Store,
    files: &FileStore,
    client: &str,
    ticket_id: i64,
    closed_days_ago: Option<i64>,
) {
    let key = format!("tickets/{ticket_id}/1/a1");
    let scratch = tempfile::tempdir().expect("scratch");
    let (path, sha256) = sample_file(scratch.path(), "file", FILE_BYTES, ticket_id as u64);
    files
        .put_file(&key, &path, "application/pdf", &sha256)
        .await
        .expect("file stored");
    let attachment = Attachment {
        id: Some(1),
        kind: Some("Document".into()),
        original_file_name: Some("receipt.pdf".into()),
        file_identifier: None,
        is_embedded: false,
        stored: Some(StoredAttachment {
            key,
            size: FILE_BYTES as u64,
            sha256,
            content_type: "application/pdf".into(),
            stored_at: days_ago(closed_days_ago.unwrap_or(0)),
        }),
    };
    let transaction = TransactionDoc {
        id: 1,
        guid: None,
        date_time: days_ago(closed_days_ago.unwrap_or(0) + 1),
        kind: "Message".into(),
        text: "a message".into(),
        html: String::new(),
        from_protocol_type: None,
        sender_name: None,
        sender_type: Some("Client".into()),
        attachments: vec![attachment],
    };
    store
        .archive_ticket(&TicketContent {
            ticket_id,
            client_identifier: client.into(),
            client_name: None,
            ticket_opening_date: days_ago(closed_days_ago.unwrap_or(0) + 1),
            protocol_type: "WhatsApp".into(),
            closed_at: closed_days_ago.map(days_ago),
            tags: Vec::new(),
            transactions: vec![transaction],
        })
        .await
        .expect("archived");
}

fn hold(until: Option<DateTime>) -> LegalHold {
    LegalHold {
        reason: "Dispute 2026-117".into(),
        since: days_ago(30),
        until,
        by: "dpo".into(),
    }
}

fn purge_state(store: &Store, files: &FileStore, dry_run: bool) -> PurgeState {
    PurgeState {
        store: store.clone(),
        files: files.clone(),
        retention: Some(chrono::Duration::days(RETENTION_DAYS)),
        dry_run,
        access_log_retention: chrono::Duration::days(730),
    }
}

async fn run(state: &PurgeState, time: Duration) -> PurgeReport {
    let deadline = tokio::time::Instant::now() + time;
    purge_expired_tickets::handle(state, serde_json::json!({}), deadline).await
}

async fn ticket_exists(store: &Store, ticket_id: i64) -> bool {
    store.get_ticket(ticket_id).await.expect("read").is_some()
}

async fn client_exists(store: &Store, identifier: &str) -> bool {
    store.get_client(identifier).await.expect("read").is_some()
}

/// Expired: 1 (A, also has a newer one), 3 (B's only), 4 (D's, created through the API and
/// never closed), 7 (G's, its hold expired). Kept: 2 (newer), 5 (held), 6 (its client held).
/// C never had a ticket.
async fn seed_archive(store: &Store, files: &FileStore) {
    archived(store, files, "972500000001", 1, Some(400)).await;
    archived(store, files, "972500000001", 2, Some(10)).await;
    archived(store, files, "972500000002", 3, Some(400)).await;
    store
        .create_client(NewClient {
            identifier: "972500000003".into(),
            name: None,
        })
        .await
        .expect("client");
    store
        .create_client(NewClient {
            identifier: "972500000004".into(),
            name: None,
        })
        .await
        .expect("client");
    let created: shared::api::CreateTicketBody =
        serde_json::from_value(shared::testing::requests::ticket_body(4)).expect("body");
    store
        .create_ticket(created.validate("972500000004".into()).expect("valid"))
        .await
        .expect("ticket");
    store
        .database()
        .collection::<shared::db::bson::Document>("tickets")
        .update_one(
            doc! {"ticketId": 4},
            doc! {"$set": {"createdAt": days_ago(500)}},
        )
        .await
        .expect("aged");
    archived(store, files, "972500000005", 5, Some(400)).await;
    store
        .set_ticket_hold(5, Some(&hold(None)))
        .await
        .expect("held");
    archived(store, files, "972500000006", 6, Some(400)).await;
    store
        .set_client_hold("972500000006", Some(&hold(Some(days_ago(-30)))))
        .await
        .expect("held");
    archived(store, files, "972500000007", 7, Some(400)).await;
    store
        .set_ticket_hold(7, Some(&hold(Some(days_ago(1)))))
        .await
        .expect("expired hold");
}

#[tokio::test]
async fn expired_tickets_go_with_their_transactions_files_and_last_client_and_the_rest_stays() {
    let store = testing::store().await;
    let (files, _dir) = local_dir();
    seed_archive(&store, &files).await;

    let report = run(&purge_state(&store, &files, false), Duration::from_secs(60)).await;

    assert_eq!(report.stopped, "caught up", "{report:?}");
    assert_eq!(
        (
            report.seen,
            report.deleted,
            report.held,
            report.clients_deleted
        ),
        (6, 4, 2, 3),
        "{report:?}"
    );
    assert_eq!((report.files, report.bytes), (3, 3 * FILE_BYTES as u64));
    for gone in [1, 3, 4, 7] {
        assert!(!ticket_exists(&store, gone).await, "ticket {gone}");
        assert!(
            transactions_of(&store, gone).await.is_empty(),
            "ticket {gone}'s transactions"
        );
        assert!(
            stored_keys(&files, &format!("tickets/{gone}/"))
                .await
                .is_empty()
        );
    }
    for kept in [2, 5, 6] {
        assert!(ticket_exists(&store, kept).await, "ticket {kept}");
        assert_eq!(transactions_of(&store, kept).await.len(), 1);
        assert_eq!(
            stored_keys(&files, &format!("tickets/{kept}/")).await,
            [format!("tickets/{kept}/1/a1")]
        );
    }
    for (client, kept) in [
        ("972500000001", true),
        ("972500000002", false),
        ("972500000003", true),
        ("972500000004", false),
        ("972500000005", true),
        ("972500000006", true),
        ("972500000007", false),
    ] {
        assert_eq!(client_exists(&store, client).await, kept, "client {client}");
    }
    assert_eq!(
        testing::searchable_ticket_ids(&store).await,
        [2, 5, 6],
        "a deleted ticket is not found by search any more"
    );
    let client = store
        .get_client("972500000001")
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(
        client.tickets,
        [2],
        "the deleted ticket left its client's list"
    );

    let mut logged: Vec<(String, String, Option<i64>)> = access_log(&store)
        .await
        .into_iter()
        .map(|e| (e.record.token, e.record.route, e.record.ticket_id))
        .collect();
    logged.sort();
    let expected: Vec<(String, String, Option<i64>)> = [1, 3, 4, 7]
        .into_iter()
        .map(|id| ("retention".into(), "purge-expired-tickets".into(), Some(id)))
        .collect();
    assert_eq!(logged, expected);

    // The next run finds nothing new, and the held ones are still held.
    let again = run(&purge_state(&store, &files, false), Duration::from_secs(60)).await;
    assert_eq!(
        (again.deleted, again.held, again.stopped),
        (0, 2, "caught up")
    );
}

#[tokio::test]
async fn files_in_the_bucket_go_with_their_ticket() {
    let store = testing::store().await;
    let (_, bucket) = new_s3_bucket().await;
    let files = s3_store_in(moto_endpoint(), &bucket);
    archived(&store, &files, "972500000001", 1, Some(400)).await;
    archived(&store, &files, "972500000001", 2, Some(10)).await;

    let report = run(&purge_state(&store, &files, false), Duration::from_secs(60)).await;

    assert_eq!((report.deleted, report.files), (1, 1), "{report:?}");
    assert_eq!(stored_keys(&files, "tickets/").await, ["tickets/2/1/a1"]);
}

#[tokio::test]
async fn a_dry_run_lists_what_it_would_delete_and_changes_nothing() {
    let store = testing::store().await;
    let (files, _dir) = local_dir();
    seed_archive(&store, &files).await;
    let before = stored_documents(&store).await;

    let report = run(&purge_state(&store, &files, true), Duration::from_secs(60)).await;

    assert!(report.dry_run);
    assert_eq!(report.would_delete, [1, 3, 4, 7], "{report:?}");
    assert_eq!((report.deleted, report.held, report.files), (0, 2, 0));
    assert_eq!(stored_documents(&store).await, before);
    assert_eq!(stored_keys(&files, "tickets/").await.len(), 6);
    assert!(access_log(&store).await.is_empty());
}

#[tokio::test]
async fn a_run_cut_part_way_resumes_where_it_stopped_and_completes() {
    const EXPIRED: i64 = 30;
    let store = testing::store().await;
    let (_, bucket) = new_s3_bucket().await;
    let files = s3_store_in(moto_endpoint(), &bucket);
    for ticket_id in 1..=EXPIRED {
        archived(&store, &files, "972500000001", ticket_id, Some(400)).await;
    }
    archived(&store, &files, "972500000001", EXPIRED + 1, Some(10)).await;
    // Every S3 answer takes 300 ms: the first run has about 10 s for files before its time
    // budget (a page needs 30 s left, a ticket's files 20 s), a dozen tickets' worth.
    let relay = testing::faults::slow_relay(
        moto_endpoint().trim_start_matches("http://").to_owned(),
        Duration::from_millis(300),
    )
    .await;
    let slow = s3_store_in(&format!("http://{relay}"), &bucket);

    let cut = run(&purge_state(&store, &slow, false), Duration::from_secs(32)).await;

    assert!(
        cut.stopped == "time budget" || cut.stopped == "failed",
        "{cut:?}"
    );
    assert!(0 < cut.deleted && cut.deleted < EXPIRED as u64, "{cut:?}");
    // Never half a ticket: each expired one is either gone whole, or still there with its
    // transactions (its files may be gone: they go first).
    for ticket_id in 1..=EXPIRED {
        if ticket_exists(&store, ticket_id).await {
            assert_eq!(transactions_of(&store, ticket_id).await.len(), 1);
        } else {
            let left = stored_keys(&files, &format!("tickets/{ticket_id}/")).await;
            assert!(left.is_empty(), "{left:?}");
        }
    }

    let rest = run(&purge_state(&store, &files, false), Duration::from_secs(60)).await;

    assert_eq!(rest.stopped, "caught up", "{rest:?}");
    assert_eq!(
        cut.deleted + rest.deleted,
        EXPIRED as u64,
        "{cut:?} then {rest:?}"
    );
    for ticket_id in 1..=EXPIRED {
        assert!(
            !ticket_exists(&store, ticket_id).await,
            "ticket {ticket_id}"
        );
    }
    let kept = format!("tickets/{}/1/a1", EXPIRED + 1);
    assert_eq!(stored_keys(&files, "tickets/").await, [kept]);
    assert!(client_exists(&store, "972500000001").await);
}

#[tokio::test]
async fn without_a_retention_nothing_is_deleted_but_expired_access_log_entries() {
    let store = testing::store().await;
    let (files, _dir) = local_dir();
    archived(&store, &files, "972500000001", 1, Some(4000)).await;
    let kept = shared::access::AccessEntry::by_job(
        "dpo",
        "GET /tickets/{ticketId}",
        "GET",
        shared::access::Concerning::ticket(1),
        chrono::Duration::days(730),
    );
    let expired = shared::access::AccessEntry::by_job(
        "dpo",
        "GET /tickets/{ticketId}",
        "GET",
        shared::access::Concerning::ticket(1),
        chrono::Duration::days(-1),
    );
    store.append_access(&kept).await.expect("entry");
    store.append_access(&expired).await.expect("entry");
    let mut state = purge_state(&store, &files, false);
    state.retention = None;

    let report = run(&state, Duration::from_secs(60)).await;

    assert_eq!(
        (report.stopped, report.deleted, report.access_log_pruned),
        ("retention off", 0, 1)
    );
    assert!(ticket_exists(&store, 1).await);
    assert_eq!(access_log(&store).await, [kept]);
}
