//! Every file in `events/` is a valid event (API Gateway; SQS for the archive worker,
//! EventBridge for reconciliation, a CloudFormation custom resource for the migration) that
//! its own function's handler accepts, so the files `sam local invoke` and `cargo lambda
//! invoke` use never rot.

use local_api::AnyQueue;
use local_api::handlers::{States, Webhooks, handler};
use shared::access::RouteScope;
use shared::queue::poller::work_off;
use shared::testing::glassix::{BASE_PATH, GlassixStub, LiveTicket};
use shared::testing::requests::{
    api_state_accepting, closing_state, json_body, new_ticket_state, worker_state,
};
use shared::testing::{self};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, ResponseTemplate};

/// In the order a person would try them, so that each finds what the one before made.
const ORDER: [(&str, u16); 25] = [
    ("viewer", 200),
    ("create-client", 201),
    ("get-client", 200),
    ("request-client-export", 202),
    // The event's export id is an example (export-worker's tests build it): none here.
    ("get-export", 404),
    ("download-export", 404),
    ("update-client", 200),
    ("list-clients", 200),
    ("create-ticket", 201),
    ("list-client-tickets", 200),
    ("get-ticket", 200),
    ("search-tickets", 200),
    ("list-ticket-transactions", 200),
    ("update-ticket", 200),
    ("place-ticket-hold", 200),
    ("lift-ticket-hold", 200),
    ("delete-ticket", 204),
    ("place-client-hold", 200),
    ("lift-client-hold", 200),
    ("delete-client", 204),
    ("webhook-new-ticket", 200),
    ("webhook-ticket-state-change", 200),
    ("get-attachment", 200),
    ("get-me", 200),
    ("list-access-log", 200),
];

async fn glassix_answering_everything() -> GlassixStub {
    let stub = GlassixStub::start().await;
    let ticket = serde_json::from_slice(&testing::fixture("glassix/ticket.json")).expect("fixture");
    LiveTicket::mount(&stub, ticket).await;
    Mock::given(method("POST"))
        .and(path_regex(format!("^{BASE_PATH}/tickets/addtags/\\d+$")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&stub.server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!("^{BASE_PATH}/tickets/list$")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"tickets": [], "paging": {}})),
        )
        .mount(&stub.server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(format!("^{BASE_PATH}/tickets/addnote/\\d+$")))
        .respond_with(ResponseTemplate::new(200))
        .mount(&stub.server)
        .await;
    stub
}

#[tokio::test]
async fn every_event_file_runs_through_its_handler() {
    let events_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    let files: usize = std::fs::read_dir(&events_dir).expect("events/").count();
    // Besides the routes: the two workers, the two schedules and the migration.
    assert_eq!(files, ORDER.len() + 5, "one event per function");

    let stub = glassix_answering_everything().await;
    let store = testing::store().await;
    let worker = worker_state(&stub, store.clone());
    // One file store for all, as one deployment has one bucket.
    let api = api_state_accepting(store.clone(), "local-dev-token-0123456789abcdef")
        .with_files(worker.files.clone());
    let states = States::new(
        api,
        Some(Webhooks {
            new_ticket: new_ticket_state(&stub, store.clone()).await,
            closing: closing_state(&stub, store).map_queue(AnyQueue::Database),
        }),
    );
    let queue = &states.webhooks.as_ref().expect("webhooks").closing.queue;
    let job_time = std::time::Duration::from_secs(60);
    let routes = local_api::routes::from_template(include_str!("../../../template.yaml"))
        .expect("template parses");

    for (binary, expected) in ORDER {
        let text =
            std::fs::read_to_string(events_dir.join(format!("{binary}.json"))).expect("event file");
        let request = lambda_http::request::from_str(&text)
            .unwrap_or_else(|e| panic!("{binary}: not an API Gateway event: {e}"));
        let handler = handler(binary).expect("a handler");
        let scope = routes
            .iter()
            .find(|route| route.binary == binary)
            .and_then(|route| route.scope.as_deref())
            .and_then(RouteScope::parse);

        let response = states.call(handler, scope, request).await;

        assert_eq!(
            response.status(),
            expected,
            "{binary}: {}",
            json_body(&response)
        );
        // What local-api's poller does next: the queued closing is archived.
        let worked = work_off(queue, &worker, job_time)
            .await
            .expect("the queue answers");
        assert_eq!(worked.failed, 0, "{binary}");
    }
    assert_eq!(
        stub.received("DELETE", "tickets/scramble/48213977")
            .await
            .len(),
        1
    );

    // The worker's SQS event, after the queued job archived the ticket: a duplicate job,
    // acknowledged (no failure reported), nothing scrambled twice.
    let text = std::fs::read_to_string(events_dir.join("archive-worker.json")).expect("event file");
    let event = serde_json::from_str(&text).expect("archive-worker: not an SQS event");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let response = archive_worker::handle(&worker, event, deadline).await;
    assert!(response.batch_item_failures.is_empty());

    // The schedule's event: a reconciliation run that finds nothing new (an empty list).
    let text = std::fs::read_to_string(events_dir.join("reconcile-closed-tickets.json"))
        .expect("event file");
    let event: serde_json::Value = serde_json::from_str(&text).expect("an EventBridge event");
    assert_eq!(event["detail-type"], "Scheduled Event");
    let reconcile = shared::state::ReconcileState {
        store: states.api.store.clone(),
        glassix: stub.client(),
        queue: shared::queue::LocalQueue::new(states.api.store.clone()),
        since: None,
        dry_run: false,
    };
    let run_until = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let report = reconcile_closed_tickets::handle(&reconcile, event, run_until).await;
    assert_eq!(report.stopped, "caught up");

    // The purge's schedule: retention is off here, so it only prunes the access log.
    let text =
        std::fs::read_to_string(events_dir.join("purge-expired-tickets.json")).expect("event file");
    let event: serde_json::Value = serde_json::from_str(&text).expect("an EventBridge event");
    assert_eq!(event["detail-type"], "Scheduled Event");
    let purge = shared::state::PurgeState {
        store: states.api.store.clone(),
        files: worker.files.clone(),
        retention: None,
        dry_run: false,
        access_log_retention: chrono::Duration::days(730),
    };
    let report = purge_expired_tickets::handle(&purge, event, run_until).await;
    assert_eq!(report.stopped, "retention off");

    // The deploy's custom resource event: the migration on the same database, told to a
    // local stand-in for the pre-signed response URL.
    let text = std::fs::read_to_string(events_dir.join("migrate.json")).expect("event file");
    let mut event: serde_json::Value = serde_json::from_str(&text).expect("json");
    let cloudformation = wiremock::MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&cloudformation)
        .await;
    event["ResponseURL"] = format!("{}/response", cloudformation.uri()).into();
    let event = serde_json::from_value(event).expect("a CloudFormation custom resource event");
    let migration = migrate::MigrateState {
        store: states.api.store.clone(),
        http: shared::testing::http_client(),
    };
    let outcome = migrate::handle(&migration, event, run_until).await;
    assert_eq!(outcome, Ok("indexes created; every ticket searchable"));

    // The access log read what API Gateway tells a function: the route key, the request id,
    // the caller's address and user agent; the token is the development token's name.
    let filter = shared::access::AccessFilter {
        ticket_id: Some(48213977),
        ..Default::default()
    };
    let logged = states
        .api
        .store
        .access_log_page(&filter, &shared::pagination::PageRequest::first())
        .await
        .expect("the access log answers");
    let read = logged
        .items
        .iter()
        .find(|entry| entry.record.route == "GET /tickets/{ticketId}")
        .expect("the ticket's read is logged");
    assert_eq!(
        (
            read.record.token.as_str(),
            read.record.status,
            read.record.source_ip.as_deref()
        ),
        ("token-1", 200, Some("192.0.2.10"))
    );
    assert_eq!(read.record.user_agent.as_deref(), Some("curl/8.5.0"));
    assert_eq!(
        read.record.request_id.as_deref(),
        Some("c6af9ac6-7b61-11e6-9a41-93e8deadbeef")
    );
    assert_eq!(
        stub.received("DELETE", "tickets/scramble/48213977")
            .await
            .len(),
        1
    );
}
