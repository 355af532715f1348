//! `POST /webhooks/glassix/new-ticket`: each `NEW_TICKET` change is tagged and gets an
//! agent-only note saying who the client is (`shared::new_ticket`, once per ticket across
//! repeated and concurrent deliveries).

use lambda_http::{Body, Request, Response};
use shared::state::NewTicketState;

pub async fn handle(state: &NewTicketState, request: Request) -> Response<Body> {
    shared::webhook::serve(state, &request).await
}
