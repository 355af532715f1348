//! The closing pipeline under the timings that used to lose data: a message written while the
//! ticket is archived, a ticket reopened meanwhile, an incomplete answer from Glassix, and two
//! jobs of one ticket at once. Through the webhook's and the worker's own handlers on a local
//! queue, against FerretDB and a Glassix stub whose ticket changes between the job's steps.

use shared::job::Outcome;
use shared::testing::glassix::{GlassixStub, LiveTicket, message};
use shared::testing::pipeline::ClosingPipeline;
use shared::testing::requests::{json_body, signed_webhook};
use shared::testing::{self, fixture};
use webhook_ticket_state_change::handle;

const TICKET: i64 = 48213977;

fn closed_event() -> Vec<u8> {
    fixture("glassix/ticket-state-change-closed-event.json")
}

fn ticket_json() -> serde_json::Value {
    serde_json::from_slice(&fixture("glassix/ticket.json")).expect("fixture")
}

async fn scrambles(stub: &GlassixStub) -> usize {
    stub.received("DELETE", &format!("tickets/scramble/{TICKET}"))
        .await
        .len()
}

#[tokio::test]
async fn a_message_written_while_the_ticket_is_archived_is_archived_before_the_scramble() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_json()).await;
    live.after_get(1, |ticket| {
        let transactions = ticket["transactions"].as_array_mut().expect("transactions");
        transactions.push(message(905113299, "one more thing: my order is A-1043"));
        ticket["transactionsCount"] = transactions.len().into();
    });
    let store = testing::store().await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());

    let response = handle(&pipeline.webhook, signed_webhook(&closed_event())).await;
    let worked = pipeline.work_off().await;

    assert_eq!(response.status(), 200, "{}", json_body(&response));
    assert_eq!(
        worked.outcomes,
        vec![Outcome::Processed("archived and scrambled")]
    );
    let archived = store
        .get_ticket(TICKET)
        .await
        .expect("read")
        .expect("archived");
    let transactions = testing::transactions_of(&store, TICKET).await;
    assert_eq!(transactions.len(), 6);
    let last = transactions
        .iter()
        .find(|t| t.id == 905113299)
        .expect("the late message is archived");
    // Read from Glassix before the scramble: after it, the text would be "*****".
    assert_eq!(last.text, "one more thing: my order is A-1043");
    assert!(archived.scrambled_at.is_some());
    assert_eq!(scrambles(&stub).await, 1);
}

#[tokio::test]
async fn a_ticket_reopened_while_it_is_archived_is_not_scrambled() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_json()).await;
    live.after_get(1, |ticket| ticket["state"] = "Open".into());
    let store = testing::store().await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());

    let response = handle(&pipeline.webhook, signed_webhook(&closed_event())).await;
    let worked = pipeline.work_off().await;

    assert_eq!(response.status(), 200);
    assert_eq!(worked.outcomes[0].reason(), "ticket is no longer closed");
    assert_eq!(scrambles(&stub).await, 0);
    assert_eq!(live.ticket()["isScrambled"], false);
    let archived = store.get_ticket(TICKET).await.expect("read").expect("kept");
    assert_eq!(archived.scrambled_at, None);
}

/// Turns the fixture into an answer the archive must not trust.
type BreakAnswer = fn(&mut serde_json::Value);

#[tokio::test]
async fn an_incomplete_answer_is_never_archived_or_scrambled() {
    let cases: [(&str, BreakAnswer); 4] = [
        ("transactions null", |t| {
            t["transactions"] = serde_json::Value::Null
        }),
        ("transactions missing", |t| {
            t.as_object_mut().expect("object").remove("transactions");
        }),
        ("fewer transactions than counted", |t| {
            t["transactionsCount"] = 9.into()
        }),
        ("another ticket", |t| t["id"] = 1.into()),
    ];
    for (name, break_answer) in cases {
        let stub = GlassixStub::start().await;
        let mut answer = ticket_json();
        break_answer(&mut answer);
        // The live ticket answers the scramble, were it ever called; the GET is broken.
        LiveTicket::mount(&stub, ticket_json()).await;
        stub.answer_first(
            u64::MAX,
            "GET",
            &format!("tickets/get/{TICKET}"),
            wiremock::ResponseTemplate::new(200).set_body_json(answer),
        )
        .await;
        let store = testing::store().await;
        let mut pipeline = ClosingPipeline::new(&stub, store.clone());
        pipeline.job_time = std::time::Duration::from_millis(1500);

        handle(&pipeline.webhook, signed_webhook(&closed_event())).await;
        let worked = pipeline.work_off().await;

        assert_eq!(worked.failed, 1, "{name}");
        assert_eq!(scrambles(&stub).await, 0, "{name}");
        assert!(testing::stored_tickets(&store).await.is_empty(), "{name}");
    }
}

#[tokio::test]
async fn two_jobs_of_one_ticket_at_the_same_time_scramble_once() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_json()).await;
    live.delay_gets(std::time::Duration::from_millis(300));
    let store = testing::store().await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());
    let archiver = pipeline.worker.archiver();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);

    // The queue never hands out two jobs of one ticket at once; a job whose visibility ran
    // out while it was slow, next to its own redelivery, is held off by the ticket's lock.
    let (first, second) = tokio::join!(
        archiver.run(TICKET, deadline),
        archiver.run(TICKET, deadline)
    );

    let mut statuses = [first, second].map(|result| match result {
        Ok(outcome) => outcome.label().to_owned(),
        Err(error) => error.code().to_owned(),
    });
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        ["processed", "unavailable"],
        "the second job waits for the first"
    );
    assert_eq!(scrambles(&stub).await, 1);
    let archived = store
        .get_ticket(TICKET)
        .await
        .expect("read")
        .expect("archived");
    assert_eq!(testing::transactions_of(&store, TICKET).await.len(), 5);
    assert!(archived.scrambled_at.is_some());

    // The refused one is tried again later: a duplicate, nothing more.
    let retried = archiver.run(TICKET, deadline).await.expect("retried");
    assert_eq!(retried.label(), "duplicate");
    assert_eq!(scrambles(&stub).await, 1);
}

#[tokio::test]
async fn one_closing_that_fails_does_not_stop_the_others_of_its_delivery() {
    let stub = GlassixStub::start().await;
    // Glassix refuses the first ticket outright (no retry), so the failure is quick and the
    // second change has the delivery's whole budget whatever the machine's load.
    stub.answer(
        "GET",
        &format!("tickets/get/{TICKET}"),
        wiremock::ResponseTemplate::new(400),
    )
    .await;
    let mut other = ticket_json();
    other["id"] = 48213978.into();
    LiveTicket::mount(&stub, other).await;
    let mut delivery: serde_json::Value = serde_json::from_slice(&closed_event()).expect("event");
    let mut second = delivery["changes"][0].clone();
    second["ticketId"] = 48213978.into();
    second["ticket"]["id"] = 48213978.into();
    delivery["changes"]
        .as_array_mut()
        .expect("changes")
        .push(second);
    let body = serde_json::to_vec(&delivery).expect("json");
    let store = testing::store().await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());

    let response = handle(&pipeline.webhook, signed_webhook(&body)).await;
    let worked = pipeline.work_off().await;

    assert_eq!(json_body(&response)["processed"], 2, "both queued");
    assert_eq!((worked.handled, worked.failed), (2, 1));
    assert_eq!(
        pipeline.waiting().await.len(),
        1,
        "the failed one is kept for its retry"
    );
    let archived = store
        .get_ticket(48213978)
        .await
        .expect("read")
        .expect("archived");
    assert!(
        archived.scrambled_at.is_some(),
        "the second change was done"
    );
    assert_eq!(store.get_ticket(TICKET).await.expect("read"), None);
}

#[tokio::test]
async fn a_ticket_that_keeps_changing_is_not_scrambled_and_is_retried() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_json()).await;
    // A new message after every GET: the job never sees the same ticket twice.
    for nth in 1..=10 {
        live.after_get(nth, move |ticket| {
            let transactions = ticket["transactions"].as_array_mut().expect("transactions");
            transactions.push(message(905_200_000 + nth as i64, "still typing"));
            ticket["transactionsCount"] = transactions.len().into();
        });
    }
    let store = testing::store().await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());

    handle(&pipeline.webhook, signed_webhook(&closed_event())).await;
    let worked = pipeline.work_off().await;

    assert_eq!(worked.failed, 1);
    assert_eq!(pipeline.waiting().await.len(), 1, "retried later");
    assert_eq!(scrambles(&stub).await, 0);
    assert_eq!(live.ticket()["isScrambled"], false);
}
