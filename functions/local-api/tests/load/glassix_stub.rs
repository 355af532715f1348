//! The Glassix stub of the run: new tickets keep what is posted to them, closed tickets wait
//! for their archive job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use shared::testing::fixture;
use shared::testing::glassix::{GlassixStub, LiveTicket};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, ResponseTemplate};

use crate::CLOSED_TICKETS;
use crate::payloads::glassix_ticket;

/// The Glassix stub. New tickets live in it the way they live in Glassix: tags and notes
/// posted to any of them are kept, and `GET tickets/get/{id}` shows them (a delivery that
/// takes over an uncertain claim reads the ticket before acting). One mock per endpoint,
/// whatever the number of tickets.
pub(crate) async fn start() -> GlassixStub {
    let stub = GlassixStub::start().await;
    let tickets = NewTickets::default();
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/v1\.2/tickets/addtags/[0-9]+$"))
        .respond_with(AddTags(tickets.clone()))
        .mount(&stub.server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/v1\.2/tickets/addnote/[0-9]+$"))
        .respond_with(AddNote(tickets.clone()))
        .mount(&stub.server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v1\.2/tickets/get/5[0-9]{8}$"))
        .respond_with(GetNewTicket(tickets))
        .mount(&stub.server)
        .await;
    stub
}

/// A closed ticket in the stub, for one worker to deliver its closing.
pub(crate) struct ClosedTicket {
    pub(crate) ticket_id: i64,
    pub(crate) client: String,
}

/// Mounts `count` closed tickets, each of its own client.
pub(crate) async fn mount_closed_tickets(stub: &GlassixStub, count: usize) -> Vec<ClosedTicket> {
    let mut closed = Vec::new();
    for n in 0..count {
        let ticket_id = CLOSED_TICKETS + n as i64;
        let client = format!("97259{n:07}");
        LiveTicket::mount(stub, glassix_ticket(ticket_id, &client)).await;
        closed.push(ClosedTicket { ticket_id, client });
    }
    closed
}

/// What was posted to a new ticket in the stub.
#[derive(Clone, Default)]
struct StubTicket {
    tags: Vec<String>,
    notes: Vec<String>,
}

/// The new tickets of the stub, by id.
#[derive(Clone, Default)]
struct NewTickets(Arc<Mutex<HashMap<i64, StubTicket>>>);

impl NewTickets {
    /// Applies `change` to the ticket named by the request's last path segment.
    fn update<T>(
        &self,
        request: &wiremock::Request,
        change: impl FnOnce(i64, &mut StubTicket) -> T,
    ) -> Option<T> {
        let id = request.url.path().rsplit('/').next()?.parse().ok()?;
        let mut tickets = self.0.lock().expect("stub tickets");
        Some(change(id, tickets.entry(id).or_default()))
    }
}

struct AddTags(NewTickets);

impl wiremock::Respond for AddTags {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let posted: Vec<String> = serde_json::from_slice(&request.body).unwrap_or_default();
        let kept = self.0.update(request, |_, ticket| {
            for tag in posted {
                if !ticket.tags.contains(&tag) {
                    ticket.tags.push(tag);
                }
            }
            ticket.tags.clone()
        });
        ResponseTemplate::new(200).set_body_json(kept.unwrap_or_default())
    }
}

struct AddNote(NewTickets);

impl wiremock::Respond for AddNote {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let text = body["text"].as_str().unwrap_or_default().to_owned();
        self.0.update(request, |_, ticket| ticket.notes.push(text));
        ResponseTemplate::new(200)
    }
}

struct GetNewTicket(NewTickets);

impl wiremock::Respond for GetNewTicket {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let Some((ticket_id, posted)) = self.0.update(request, |id, ticket| (id, ticket.clone()))
        else {
            return ResponseTemplate::new(404);
        };
        let event: Value =
            serde_json::from_slice(&fixture("glassix/new-ticket-event.json")).expect("json");
        let mut ticket = event["changes"][0]["ticket"].clone();
        ticket["id"] = ticket_id.into();
        ticket["tags"] = json!(posted.tags);
        ticket["transactions"] = posted
            .notes
            .iter()
            .enumerate()
            .map(|(n, text)| {
                json!({
                    "id": n + 1, "dateTime": "2024-03-10T08:15:43.000Z", "type": "Note",
                    "text": text, "html": "",
                    "fromParticipant": {"type": "User", "identifier": "api-bot", "name": "API"},
                    "attachments": []
                })
            })
            .collect();
        ticket["transactionsCount"] = posted.notes.len().into();
        ResponseTemplate::new(200).set_body_json(ticket)
    }
}
