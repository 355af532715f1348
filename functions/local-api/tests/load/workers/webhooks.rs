//! The webhook half of the mix: Glassix deliveries, repeated and concurrent the way Glassix
//! sends them, and one with a wrong signature.

use std::sync::atomic::Ordering;

use shared::glassix::inbound::sign;
use shared::testing::glassix::TEST_API_SECRET;

use super::{Worker, timed};
use crate::payloads::{closed_event, new_ticket_event};
use crate::{NEW_TICKETS, UNSIGNED_TICKETS, WEBHOOK_ANSWERS};

impl Worker {
    /// A delivery to `route`, signed with `secret` the way Glassix signs it.
    fn webhook(&self, route: &str, body: Vec<u8>, secret: &str) -> reqwest::RequestBuilder {
        self.run
            .http
            .post(self.run.url(&format!("/webhooks/glassix/{route}")))
            .header("content-type", "application/json")
            .header("X-Hub-Signature", sign(secret, &body))
            .body(body)
    }

    /// A client for a new ticket: one of this worker's (maybe with tickets), or a stranger.
    fn new_ticket_client(&mut self) -> String {
        if self.rng.chance(50) {
            let index = self.any_client();
            self.log.clients[index].identifier.clone()
        } else {
            format!("97258{:07}", self.rng.below(10_000_000))
        }
    }

    /// A new ticket's delivery; `repeated`: Glassix delivers the same event again (same bytes,
    /// same key), a duplicate after a 200 and the retry that does the work after a refusal.
    pub(super) async fn new_ticket(&mut self, repeated: bool) {
        let ticket_id = NEW_TICKETS + self.run.new_tickets.fetch_add(1, Ordering::Relaxed) as i64;
        let client = self.new_ticket_client();
        let event = new_ticket_event(ticket_id, &client);
        let request = self.webhook("new-ticket", event.clone(), TEST_API_SECRET);
        let mut acknowledged = false;
        if let Some((200, body)) = self
            .send("webhook new-ticket", request, WEBHOOK_ANSWERS)
            .await
        {
            acknowledged = true;
            if body["processed"] != 1 {
                self.fail(format!("new ticket {ticket_id}: answered {body}"));
            }
        }
        if repeated {
            acknowledged = self
                .deliver_again(
                    "webhook new-ticket (repeat)",
                    ticket_id,
                    event,
                    acknowledged,
                )
                .await;
        }
        self.new_ticket_outcome(ticket_id, acknowledged);
    }

    /// Two deliveries of one ticket at once, then the retry Glassix would make. A delivery
    /// that finds an action claimed by the other may wait for it or answer 503; the retry
    /// finds everything done.
    pub(super) async fn new_ticket_concurrent(&mut self) {
        let ticket_id = NEW_TICKETS + self.run.new_tickets.fetch_add(1, Ordering::Relaxed) as i64;
        let client = self.new_ticket_client();
        let event = new_ticket_event(ticket_id, &client);
        let (first, second) = tokio::join!(
            timed(self.webhook("new-ticket", event.clone(), TEST_API_SECRET)),
            timed(self.webhook("new-ticket", event.clone(), TEST_API_SECRET)),
        );
        let op = "webhook new-ticket (concurrent)";
        let first = self.record(op, first.0, first.1, &[200, 503]);
        let second = self.record(op, second.0, second.1, &[200, 503]);
        let acknowledged = [first, second]
            .iter()
            .any(|answer| matches!(answer, Some((200, _))));
        let acknowledged = self
            .deliver_again("webhook new-ticket (retry)", ticket_id, event, acknowledged)
            .await;
        self.new_ticket_outcome(ticket_id, acknowledged);
    }

    /// Glassix delivers a new ticket's `event` again. A 200 after an earlier 200 did nothing;
    /// after refusals it may have finished what they left. Returns whether the delivery is
    /// acknowledged now.
    async fn deliver_again(
        &mut self,
        op: &'static str,
        ticket_id: i64,
        event: Vec<u8>,
        after_acknowledgement: bool,
    ) -> bool {
        let request = self.webhook("new-ticket", event, TEST_API_SECRET);
        let Some((200, body)) = self.send(op, request, WEBHOOK_ANSWERS).await else {
            return after_acknowledgement;
        };
        let fine = if after_acknowledgement {
            body["duplicates"] == 1
        } else {
            body["duplicates"] == 1 || body["processed"] == 1
        };
        if !fine {
            self.fail(format!("repeated new ticket {ticket_id}: answered {body}"));
        }
        true
    }

    fn new_ticket_outcome(&mut self, ticket_id: i64, acknowledged: bool) {
        if acknowledged {
            self.log.new_tickets.push(ticket_id);
        } else {
            self.log.new_unacknowledged.push(ticket_id);
        }
    }

    /// A closed ticket's delivery, queued for archiving; `repeated` as for new tickets (the
    /// queue drops the repeat's copy).
    pub(super) async fn closed(&mut self, repeated: bool) {
        let run = self.run.clone();
        let Some((index, closed)) = run.take_closed() else {
            // Another worker took the last one: the same number of requests, elsewhere.
            let requests = if repeated { 2 } else { 1 };
            for _ in 0..requests {
                self.list_clients().await;
            }
            return;
        };
        let event = closed_event(closed.ticket_id, &closed.client);
        let request = self.webhook("ticket-state-change", event.clone(), TEST_API_SECRET);
        let mut acknowledged = false;
        if let Some((200, body)) = self.send("webhook closed", request, WEBHOOK_ANSWERS).await {
            acknowledged = true;
            if body["results"][0]["reason"] != "queued for archiving" {
                self.fail(format!("closed {}: answered {body}", closed.ticket_id));
            }
        }
        if repeated {
            let request = self.webhook("ticket-state-change", event, TEST_API_SECRET);
            if let Some((200, body)) = self
                .send("webhook closed (repeat)", request, WEBHOOK_ANSWERS)
                .await
            {
                if body["results"][0]["reason"] != "queued for archiving" {
                    self.fail(format!(
                        "repeated closed {}: answered {body}",
                        closed.ticket_id
                    ));
                }
                acknowledged = true;
            }
        }
        if acknowledged {
            self.log.closed.push(index);
        } else {
            self.log.closed_unacknowledged.push(index);
        }
    }

    pub(super) async fn bad_signature(&mut self) {
        let ticket_id = UNSIGNED_TICKETS + self.run.unsigned.fetch_add(1, Ordering::Relaxed) as i64;
        let event = new_ticket_event(ticket_id, "972500000000");
        let request = self.webhook("new-ticket", event, "not-the-api-secret");
        self.send("webhook new-ticket (bad signature)", request, &[401])
            .await;
        self.log.unsigned.push(ticket_id);
    }
}
