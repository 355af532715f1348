//! Reconciliation through its own handler, against FerretDB, a Glassix stub listing 250 closed
//! tickets over 3 pages (some already archived here, some scrambled elsewhere, one reopened),
//! and moto's SQS for the queue mode.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use shared::db::TicketContent;
use shared::db::bson::DateTime as BsonDate;
use shared::db::checkpoints::CLOSED_TICKETS;
use shared::queue::LocalQueue;
use shared::queue::poller::work_off;
use shared::state::{ReconcileState, WorkerState};
use shared::testing::glassix::{BASE_PATH, GlassixStub, LiveTicket};
use shared::testing::queue::{counts, fifo_queue};
use shared::testing::{self, fixture};
use tokio::time::Instant;
use wiremock::{Mock, Request, Respond, ResponseTemplate};

const FIRST: i64 = 5000;
const ALREADY_ARCHIVED: std::ops::Range<i64> = 5000..5010;
const SCRAMBLED_ELSEWHERE: std::ops::Range<i64> = 5010..5020;
const REOPENED: i64 = 5020;
const TO_ARCHIVE: std::ops::Range<i64> = 5021..5250;

/// `GET /tickets/list` as documented: 100 tickets a page, `paging.next` a full URL on the same
/// host, `paging` empty on the last page.
struct ClosedTicketList {
    pages: Vec<Vec<serde_json::Value>>,
    base: String,
}

impl Respond for ClosedTicketList {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let page: usize = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.trim_start_matches('p').parse().ok())
            .unwrap_or(1);
        let tickets = self.pages.get(page - 1).cloned().unwrap_or_default();
        let paging = if page < self.pages.len() {
            serde_json::json!({"next": format!("{}/tickets/list?page=p{}", self.base, page + 1)})
        } else {
            serde_json::json!({})
        };
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"tickets": tickets, "paging": paging}))
    }
}

fn listed(id: i64) -> serde_json::Value {
    serde_json::json!({
        "id": id, "state": "Closed", "isScrambled": SCRAMBLED_ELSEWHERE.contains(&id),
        "open": "2024-03-10T08:15:42.37", "close": "2024-03-10T09:02:11.903Z", "transactions": null
    })
}

async fn glassix_with_250_closed_tickets() -> GlassixStub {
    let stub = GlassixStub::start().await;
    let all: Vec<serde_json::Value> = (FIRST..FIRST + 250).map(listed).collect();
    let pages = all.chunks(100).map(<[serde_json::Value]>::to_vec).collect();
    Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(format!(
            "{BASE_PATH}/tickets/list"
        )))
        .respond_with(ClosedTicketList {
            pages,
            base: stub.base_url(),
        })
        .mount(&stub.server)
        .await;
    for id in TO_ARCHIVE.chain([REOPENED]) {
        let mut ticket: serde_json::Value =
            serde_json::from_slice(&fixture("glassix/ticket.json")).expect("fixture");
        ticket["id"] = id.into();
        if id == REOPENED {
            ticket["state"] = "Open".into();
        }
        // Files are covered by the archive's own tests; here, 229 jobs must stay quick.
        for transaction in ticket["transactions"].as_array_mut().expect("transactions") {
            transaction["attachments"] = serde_json::json!([]);
        }
        LiveTicket::mount(&stub, ticket).await;
    }
    stub
}

/// The reconciliation on a local queue, and the worker that works the queue off.
async fn state(stub: &GlassixStub, dry_run: bool) -> (ReconcileState<LocalQueue>, WorkerState) {
    let store = testing::store().await;
    for id in ALREADY_ARCHIVED {
        store
            .archive_ticket(&TicketContent {
                ticket_id: id,
                client_identifier: "972521234567".into(),
                client_name: None,
                ticket_opening_date: BsonDate::from_millis(1_710_058_542_370),
                protocol_type: "WhatsApp".into(),
                closed_at: None,
                tags: Vec::new(),
                transactions: Vec::new(),
            })
            .await
            .expect("archived");
        store.mark_scrambled(id).await.expect("scrambled");
    }
    let state = ReconcileState {
        store: store.clone(),
        glassix: stub.client(),
        queue: LocalQueue::new(store.clone()),
        since: Some(now() - chrono::TimeDelta::days(3)),
        dry_run,
    };
    let worker = WorkerState {
        store,
        glassix: stub.client(),
        files: testing::local_files(),
    };
    (state, worker)
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 12, 10, 0, 0)
        .single()
        .expect("date")
}

/// Generous: these tests are about what is archived, not the time budget.
fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(900)
}

async fn scrambled_ids(stub: &GlassixStub) -> Vec<i64> {
    let mut ids: Vec<i64> = stub
        .all_received()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .filter_map(|r| r.url.path().rsplit('/').next()?.parse().ok())
        .collect();
    ids.sort_unstable();
    ids
}

async fn list_requests(stub: &GlassixStub) -> Vec<String> {
    stub.all_received()
        .await
        .iter()
        .filter(|r| r.url.path().ends_with("/tickets/list"))
        .map(|r| r.url.query().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn exactly_the_closed_tickets_nobody_archived_are_archived_and_scrambled() {
    let stub = glassix_with_250_closed_tickets().await;
    let (state, worker) = state(&stub, false).await;

    let report = state.reconciler().run_and_report(now(), deadline()).await;
    let worked = work_off(&state.queue, &worker, Duration::from_secs(60))
        .await
        .expect("the local queue answers");

    assert_eq!(report.stopped, "caught up");
    assert_eq!((report.seen, report.pages), (250, 3));
    assert_eq!(report.already_done, 10);
    // Every closed ticket not archived here; the job itself finds the reopened one.
    assert_eq!(report.handed_to_archive, 230);
    assert_eq!(report.skipped.get("scrambled in Glassix"), Some(&10));
    assert_eq!((worked.handled, worked.failed), (230, 0));
    let reasons = |reason: &str| {
        worked
            .outcomes
            .iter()
            .filter(|o| o.reason() == reason)
            .count()
    };
    assert_eq!(reasons("archived and scrambled"), 229);
    assert_eq!(reasons("ticket is no longer closed"), 1);
    assert_eq!(scrambled_ids(&stub).await, TO_ARCHIVE.collect::<Vec<_>>());
    let store = &state.store;
    for id in TO_ARCHIVE {
        let ticket = store.get_ticket(id).await.expect("read").expect("archived");
        assert!(ticket.scrambled_at.is_some(), "{id}");
    }
    assert_eq!(testing::transactions_of(store, 5100).await.len(), 5);
    let reopened = store.get_ticket(REOPENED).await.expect("read");
    assert!(reopened.is_none_or(|t| t.scrambled_at.is_none()));

    // A quarter of an hour later, the next run lists the overlap again: nothing new to archive.
    let later = now() + chrono::TimeDelta::minutes(15);
    let again = state.reconciler().run_and_report(later, deadline()).await;
    work_off(&state.queue, &worker, Duration::from_secs(60))
        .await
        .expect("the local queue answers");
    // Only the reopened one, which its job leaves alone again.
    assert_eq!(again.handed_to_archive, 1);
    assert_eq!(again.already_done, 239);
    assert_eq!(scrambled_ids(&stub).await.len(), 229);
}

#[tokio::test]
async fn a_run_cut_after_page_two_resumes_at_page_three_and_queues_each_ticket_once() {
    let stub = glassix_with_250_closed_tickets().await;
    // Page 3 is refused once: the run stops there, its checkpoint on page 3.
    Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(format!(
            "{BASE_PATH}/tickets/list"
        )))
        .and(wiremock::matchers::query_param("page", "p3"))
        .respond_with(ResponseTemplate::new(400))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&stub.server)
        .await;
    // The deployed function's state: it queues to SQS.
    let (local, _) = state(&stub, false).await;
    let queue = fifo_queue().await;
    let state = ReconcileState {
        store: local.store,
        glassix: local.glassix,
        queue: queue.clone(),
        since: local.since,
        dry_run: false,
    };

    let cut = state.reconciler().run_and_report(now(), deadline()).await;
    assert_eq!(cut.stopped, "failed");
    let checkpoint = state
        .store
        .load_checkpoint(CLOSED_TICKETS)
        .await
        .expect("read")
        .expect("saved");
    let open = checkpoint.window.expect("the window is still open");
    assert!(open.next.expect("next page").ends_with("page=p3"));

    let resumed = state.reconciler().run_and_report(now(), deadline()).await;

    assert_eq!(resumed.stopped, "caught up");
    assert_eq!((resumed.seen, resumed.pages), (50, 1), "page 3 only");
    let requests = list_requests(&stub).await;
    assert_eq!(
        requests.iter().filter(|q| q.contains("since=")).count(),
        1,
        "{requests:?}"
    );
    assert_eq!(requests.iter().filter(|q| q.contains("page=p3")).count(), 2);
    // Every closed ticket not archived here, once (the job itself finds the reopened one).
    assert_eq!(cut.handed_to_archive + resumed.handed_to_archive, 230);
    assert_eq!(counts(&queue).await, (230, 0));
    assert!(
        scrambled_ids(&stub).await.is_empty(),
        "the worker scrambles, not reconciliation"
    );
}

#[tokio::test]
async fn a_forty_day_catch_up_lists_two_windows_of_at_most_a_month_in_the_glassix_format() {
    let stub = GlassixStub::start().await;
    Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(format!(
            "{BASE_PATH}/tickets/list"
        )))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"tickets": [], "paging": {}})),
        )
        .mount(&stub.server)
        .await;
    let (mut state, _) = state(&stub, false).await;
    state.since = Some(now() - chrono::TimeDelta::days(40));

    let report = state.reconciler().run_and_report(now(), deadline()).await;

    assert_eq!(report.stopped, "caught up");
    let queries: Vec<Vec<(String, String)>> = stub
        .all_received()
        .await
        .iter()
        .filter(|r| r.url.path().ends_with("/tickets/list"))
        .map(|r| {
            r.url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .collect();
    assert_eq!(
        queries,
        vec![
            vec![
                ("since".into(), "01/02/2024 10:00:00:00".into()),
                ("until".into(), "01/03/2024 10:00:00:00".into()),
                ("ticketState".into(), "Closed".into()),
            ],
            vec![
                ("since".into(), "01/03/2024 09:00:00:00".into()),
                ("until".into(), "12/03/2024 10:00:00:00".into()),
                ("ticketState".into(), "Closed".into()),
            ],
        ]
    );
}

#[tokio::test]
async fn a_dry_run_lists_what_it_would_archive_and_changes_nothing() {
    let stub = glassix_with_250_closed_tickets().await;
    let (state, _) = state(&stub, true).await;
    let tickets_before = testing::stored_tickets(&state.store).await;

    let report = state.reconciler().run_and_report(now(), deadline()).await;

    assert!(report.dry_run);
    let mut would: Vec<i64> = report.would_archive.clone();
    would.sort_unstable();
    let mut expected: Vec<i64> = TO_ARCHIVE.chain([REOPENED]).collect();
    expected.sort_unstable();
    assert_eq!(would, expected);
    assert_eq!(report.handed_to_archive, 0);
    assert!(scrambled_ids(&stub).await.is_empty());
    assert!(
        stub.all_received()
            .await
            .iter()
            .all(|r| !r.url.path().contains("/tickets/get/")),
        "no ticket was fetched for archiving"
    );
    assert_eq!(testing::stored_tickets(&state.store).await, tickets_before);
    assert!(
        state.queue.waiting().await.expect("read").is_empty(),
        "nothing queued"
    );
    assert_eq!(
        state
            .store
            .load_checkpoint(CLOSED_TICKETS)
            .await
            .expect("read"),
        None,
        "no checkpoint"
    );
}
