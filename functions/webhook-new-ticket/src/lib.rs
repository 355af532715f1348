//! `POST /webhooks/glassix/new-ticket`: each `NEW_TICKET` change is tagged and gets an
//! agent-only note saying who the client is (`shared::new_ticket`, once per ticket across
//! repeated and concurrent deliveries).

use lambda_http::{Body, Request, Response};
use shared::glassix::EventName;
use shared::job::Outcome;
use shared::new_ticket::tag_and_note;
use shared::response::error_response;
use shared::state::NewTicketState;
use shared::webhook::{self, OTHER_EVENT};
use tokio::time::Instant;

pub async fn handle(state: &NewTicketState, request: Request) -> Response<Body> {
    let received = match webhook::receive(&request, &state.credentials, state.budget).await {
        Ok(received) => received,
        Err(error) => return error_response(&error),
    };
    let mut answer = received.answer();
    for change in received.changes() {
        let started = Instant::now();
        let result = if change.is(EventName::NewTicket) {
            tag_and_note(state, change.change, received.deadline).await
        } else {
            Ok(Outcome::Ignored(OTHER_EVENT))
        };
        answer.record(&change, result, started);
    }
    answer.into_response()
}
