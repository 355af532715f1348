//! The Lambdas' own handlers, by binary name: the local API has no route of its own.

use std::future::Future;
use std::pin::Pin;

use lambda_http::{Body, Request, Response};
use shared::error::AppError;
use shared::http::error_response;
use shared::state::{ApiState, WebhookState};

pub type ResponseFuture<'a> = Pin<Box<dyn Future<Output = Response<Body>> + Send + 'a>>;

#[derive(Clone, Copy)]
pub enum Handler {
    Api(for<'a> fn(&'a ApiState, Request) -> ResponseFuture<'a>),
    Webhook(for<'a> fn(&'a WebhookState, Request) -> ResponseFuture<'a>),
}

/// Every deployed binary and its handler.
pub const HANDLERS: [(&str, Handler); 12] = [
    (
        "webhook-new-ticket",
        Handler::Webhook(|s, r| Box::pin(webhook_new_ticket::handle(s, r))),
    ),
    (
        "webhook-ticket-state-change",
        Handler::Webhook(|s, r| Box::pin(webhook_ticket_state_change::handle(s, r))),
    ),
    (
        "create-client",
        Handler::Api(|s, r| Box::pin(create_client::handle(s, r))),
    ),
    (
        "list-clients",
        Handler::Api(|s, r| Box::pin(list_clients::handle(s, r))),
    ),
    (
        "get-client",
        Handler::Api(|s, r| Box::pin(get_client::handle(s, r))),
    ),
    (
        "update-client",
        Handler::Api(|s, r| Box::pin(update_client::handle(s, r))),
    ),
    (
        "delete-client",
        Handler::Api(|s, r| Box::pin(delete_client::handle(s, r))),
    ),
    (
        "create-ticket",
        Handler::Api(|s, r| Box::pin(create_ticket::handle(s, r))),
    ),
    (
        "list-client-tickets",
        Handler::Api(|s, r| Box::pin(list_client_tickets::handle(s, r))),
    ),
    (
        "get-ticket",
        Handler::Api(|s, r| Box::pin(get_ticket::handle(s, r))),
    ),
    (
        "update-ticket",
        Handler::Api(|s, r| Box::pin(update_ticket::handle(s, r))),
    ),
    (
        "delete-ticket",
        Handler::Api(|s, r| Box::pin(delete_ticket::handle(s, r))),
    ),
];

pub fn handler(binary: &str) -> Option<Handler> {
    HANDLERS
        .iter()
        .find(|(name, _)| *name == binary)
        .map(|(_, handler)| *handler)
}

/// The states the handlers need. Webhooks are optional locally: without Glassix settings the
/// REST API still runs and the webhook routes answer 503.
pub struct States {
    pub api: ApiState,
    pub webhooks: Option<WebhookState>,
}

impl States {
    pub async fn call(&self, handler: Handler, request: Request) -> Response<Body> {
        match handler {
            Handler::Api(handle) => handle(&self.api, request).await,
            Handler::Webhook(handle) => match &self.webhooks {
                Some(state) => handle(state, request).await,
                None => error_response(&AppError::Unavailable(
                    "webhooks need GLASSIX_* settings; see README.md".into(),
                )),
            },
        }
    }
}
