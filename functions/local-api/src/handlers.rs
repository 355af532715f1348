//! The Lambdas' own handlers, by binary name: the local API has no route of its own.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use lambda_http::{Body, Request, Response};
use shared::access::RouteScope;
use shared::error::AppError;
use shared::files::FileStore;
use shared::response::error_response;
use shared::rest::{RestHandler, serve};
use shared::state::{ApiState, ClosingState, ExportRequests, NewTicketState, NoFiles};

use shared::queue::AnyQueue;

pub type ResponseFuture<'a> = Pin<Box<dyn Future<Output = Response<Body>> + Send + 'a>>;

#[derive(Clone, Copy)]
pub enum Handler {
    Rest(RestHandler),
    /// A route that serves or erases archived files.
    RestWithFiles(RestHandler<FileStore>),
    /// The route that queues exports.
    RestWithExports(RestHandler<ExportRequests>),
    NewTicket(for<'a> fn(&'a NewTicketState, Request) -> ResponseFuture<'a>),
    Closing(for<'a> fn(&'a ClosingState<AnyQueue>, Request) -> ResponseFuture<'a>),
    /// The archive viewer's page and assets: no token, no database.
    Viewer(fn(&viewer::Viewer, &Request) -> Response<Body>),
}

/// Every deployed binary and its handler.
pub const HANDLERS: [(&str, Handler); 25] = [
    (
        "webhook-new-ticket",
        Handler::NewTicket(|s, r| Box::pin(webhook_new_ticket::handle(s, r))),
    ),
    (
        "webhook-ticket-state-change",
        Handler::Closing(|s, r| Box::pin(webhook_ticket_state_change::handle(s, r))),
    ),
    ("create-client", Handler::Rest(create_client::HANDLER)),
    ("list-clients", Handler::Rest(list_clients::HANDLER)),
    ("search-tickets", Handler::Rest(search_tickets::HANDLER)),
    ("get-client", Handler::Rest(get_client::HANDLER)),
    ("update-client", Handler::Rest(update_client::HANDLER)),
    (
        "delete-client",
        Handler::RestWithFiles(delete_client::HANDLER),
    ),
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
    (
        "get-attachment",
        Handler::RestWithFiles(get_attachment::HANDLER),
    ),
    (
        "update-ticket",
        Handler::RestWithFiles(update_ticket::HANDLER),
    ),
    (
        "delete-ticket",
        Handler::RestWithFiles(delete_ticket::HANDLER),
    ),
    ("get-me", Handler::Rest(get_me::HANDLER)),
    ("list-access-log", Handler::Rest(list_access_log::HANDLER)),
    (
        "place-ticket-hold",
        Handler::Rest(place_ticket_hold::HANDLER),
    ),
    ("lift-ticket-hold", Handler::Rest(lift_ticket_hold::HANDLER)),
    (
        "place-client-hold",
        Handler::Rest(place_client_hold::HANDLER),
    ),
    ("lift-client-hold", Handler::Rest(lift_client_hold::HANDLER)),
    (
        "request-client-export",
        Handler::RestWithExports(request_client_export::HANDLER),
    ),
    ("get-export", Handler::Rest(get_export::HANDLER)),
    (
        "download-export",
        Handler::RestWithFiles(download_export::HANDLER),
    ),
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
    pub api: ApiState<FileStore>,
    pub webhooks: Option<Webhooks>,
    pub exports: ExportRequests,
}

pub struct Webhooks {
    pub new_ticket: NewTicketState,
    pub closing: ClosingState<AnyQueue>,
}

impl Handler {
    /// Whether the handler is a REST route, which requires a scope.
    pub fn is_rest(&self) -> bool {
        matches!(
            self,
            Handler::Rest(_) | Handler::RestWithFiles(_) | Handler::RestWithExports(_)
        )
    }
}

impl States {
    /// The routes over `api`, exports queued in its database and kept the default time.
    pub fn new(api: ApiState<FileStore>, webhooks: Option<Webhooks>) -> Self {
        let lifetime = chrono::Duration::days(shared::config::DEFAULT_EXPORT_DAYS);
        let exports = ExportRequests::in_database(&api.store, lifetime);
        Self {
            api,
            webhooks,
            exports,
        }
    }

    /// Runs `handler`; a REST route with what `scope` requires of a token (from the template).
    pub async fn call(
        &self,
        handler: Handler,
        scope: Option<RouteScope>,
        request: Request,
    ) -> Response<Body> {
        match handler {
            Handler::Rest(handler) => serve(&self.api_for(scope, NoFiles), request, handler).await,
            Handler::RestWithFiles(handler) => {
                serve(
                    &self.api_for(scope, self.api.files.clone()),
                    request,
                    handler,
                )
                .await
            }
            Handler::RestWithExports(handler) => {
                serve(&self.api_for(scope, self.exports.clone()), request, handler).await
            }
            Handler::NewTicket(handle) => match &self.webhooks {
                Some(webhooks) => handle(&webhooks.new_ticket, request).await,
                None => webhooks_disabled(),
            },
            Handler::Closing(handle) => match &self.webhooks {
                Some(webhooks) => handle(&webhooks.closing, request).await,
                None => webhooks_disabled(),
            },
            Handler::Viewer(handle) => handle(local_viewer(), &request),
        }
    }
}

impl States {
    /// The REST state of one route; without a scope it refuses every request.
    fn api_for<F>(&self, scope: Option<RouteScope>, files: F) -> ApiState<F> {
        let mut state = self.api.with_files(files);
        state.route = scope;
        state
    }
}

fn webhooks_disabled() -> Response<Body> {
    error_response(&AppError::Unavailable(
        "webhooks need GLASSIX_* settings; see README.md".into(),
    ))
}

/// The viewer as its Lambda builds it, from this process's environment, once.
fn local_viewer() -> &'static viewer::Viewer {
    static VIEWER: OnceLock<viewer::Viewer> = OnceLock::new();
    VIEWER.get_or_init(viewer::Viewer::from_env)
}
