//! The Lambdas' own handlers, by binary name: the local API has no route of its own.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use lambda_http::{Body, Request, Response};
use shared::error::AppError;
use shared::response::error_response;
use shared::rest::{RestHandler, serve};
use shared::state::{ApiState, WebhookState};

pub type ResponseFuture<'a> = Pin<Box<dyn Future<Output = Response<Body>> + Send + 'a>>;

#[derive(Clone, Copy)]
pub enum Handler {
    Rest(RestHandler),
    Webhook(for<'a> fn(&'a WebhookState, Request) -> ResponseFuture<'a>),
    /// The archive viewer's page and assets: no token, no database.
    Viewer(fn(&viewer::Viewer, &Request) -> Response<Body>),
}

/// Every deployed binary and its handler.
pub const HANDLERS: [(&str, Handler); 15] = [
    (
        "webhook-new-ticket",
        Handler::Webhook(|s, r| Box::pin(webhook_new_ticket::handle(s, r))),
    ),
    (
        "webhook-ticket-state-change",
        Handler::Webhook(|s, r| Box::pin(webhook_ticket_state_change::handle(s, r))),
    ),
    ("create-client", Handler::Rest(create_client::HANDLER)),
    ("list-clients", Handler::Rest(list_clients::HANDLER)),
    ("get-client", Handler::Rest(get_client::HANDLER)),
    ("update-client", Handler::Rest(update_client::HANDLER)),
    ("delete-client", Handler::Rest(delete_client::HANDLER)),
    ("create-ticket", Handler::Rest(create_ticket::HANDLER)),
    (
        "list-client-tickets",
        Handler::Rest(list_client_tickets::HANDLER),
    ),
    ("get-ticket", Handler::Rest(get_ticket::HANDLER)),
    (
        "list-ticket-transactions",
        Handler::Rest(list_ticket_transactions::HANDLER),
    ),
    ("get-attachment", Handler::Rest(get_attachment::HANDLER)),
    ("update-ticket", Handler::Rest(update_ticket::HANDLER)),
    ("delete-ticket", Handler::Rest(delete_ticket::HANDLER)),
    ("viewer", Handler::Viewer(viewer::handle)),
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
            Handler::Rest(handler) => serve(&self.api, request, handler).await,
            Handler::Webhook(handle) => match &self.webhooks {
                Some(state) => handle(state, request).await,
                None => error_response(&AppError::Unavailable(
                    "webhooks need GLASSIX_* settings; see README.md".into(),
                )),
            },
            Handler::Viewer(handle) => handle(local_viewer(), &request),
        }
    }
}

/// The viewer as its Lambda builds it, from this process's environment, once.
fn local_viewer() -> &'static viewer::Viewer {
    static VIEWER: OnceLock<viewer::Viewer> = OnceLock::new();
    VIEWER.get_or_init(viewer::Viewer::from_env)
}
