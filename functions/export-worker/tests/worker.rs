//! The export worker through its own handler, as Lambda's SQS event source calls it with
//! `events/export-worker.json`: real FerretDB, the export stored in S3 (moto).

use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use export_worker::handle;
use shared::db::{ExportDoc, ExportStatus, Store};
use shared::export::worker::ExportState;
use shared::testing::requests::{seed_client, seed_ticket};
use shared::testing::{self, files};
use tokio::time::Instant;

const CLIENT: &str = "dana+vip@example.com";

fn event_file() -> SqsEvent {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/export-worker.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("events/export-worker.json"))
        .expect("an SQS event")
}

fn export_id(event: &SqsEvent) -> String {
    let body: serde_json::Value =
        serde_json::from_str(event.records[0].body.as_deref().expect("a body")).expect("JSON");
    body["exportId"].as_str().expect("an id").to_owned()
}

async fn requested(store: &Store, export_id: &str) {
    let now = chrono::Utc::now();
    store
        .create_export(&ExportDoc {
            export_id: export_id.to_owned(),
            client_identifier: CLIENT.to_owned(),
            status: ExportStatus::Pending,
            created_at: shared::dates::to_bson(now),
            ready_at: None,
            expires_at: shared::dates::to_bson(now + chrono::Duration::days(7)),
            size_bytes: None,
            sha256: None,
            tickets: None,
            files: None,
            requested_by: "dpo".into(),
            failure: None,
        })
        .await
        .expect("recorded");
}

#[tokio::test]
async fn the_event_file_builds_the_export_into_s3_once() {
    let store = testing::store().await;
    seed_client(&store, CLIENT, Some("דנה כהן")).await;
    seed_ticket(&store, CLIENT, 48213977).await;
    let event = event_file();
    let id = export_id(&event);
    requested(&store, &id).await;
    let state = ExportState {
        store: store.clone(),
        files: files::s3_bucket().await,
        lifetime: chrono::Duration::days(7),
    };

    let answer = handle(
        &state,
        event.clone(),
        Instant::now() + Duration::from_secs(60),
    )
    .await;
    assert!(answer.batch_item_failures.is_empty());
    let ready = store.get_export(&id).await.expect("read").expect("kept");
    assert_eq!(ready.status, ExportStatus::Ready);
    assert_eq!(ready.tickets, Some(1));
    let key = format!("exports/{id}.zip");
    let stored = state.files.head(&key).await.expect("head").expect("stored");
    assert_eq!(Some(stored.size), ready.size_bytes);
    assert_eq!(Some(stored.sha256), ready.sha256);
    assert_eq!(stored.content_type, "application/zip");

    // Delivered again (SQS delivers at least once) after the client got another ticket:
    // nothing is rebuilt, so the stored ZIP is still the one its record describes.
    seed_ticket(&store, CLIENT, 48213978).await;
    let answer = handle(&state, event, Instant::now() + Duration::from_secs(60)).await;
    assert!(answer.batch_item_failures.is_empty());
    let again = state.files.head(&key).await.expect("head").expect("stored");
    assert_eq!(Some(again.sha256), ready.sha256, "the ZIP was not rebuilt");
    assert_eq!(store.get_export(&id).await.expect("read"), Some(ready));
}

#[tokio::test]
async fn a_malformed_message_is_reported_failed_and_builds_nothing() {
    let store = testing::store().await;
    let mut event = event_file();
    let id = export_id(&event);
    requested(&store, &id).await;
    event.records[0].body = Some(r#"{"exportId": 7}"#.into());
    let state = ExportState {
        store: store.clone(),
        files: files::s3_bucket().await,
        lifetime: chrono::Duration::days(7),
    };

    let answer = handle(&state, event, Instant::now() + Duration::from_secs(60)).await;
    assert_eq!(answer.batch_item_failures.len(), 1);
    assert_eq!(
        store.get_export(&id).await.expect("read").map(|e| e.status),
        Some(ExportStatus::Pending)
    );
}
