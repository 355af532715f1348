//! The REST API's JSON contract: request bodies, validation, response views, pagination.
//! camelCase JSON, RFC 3339 dates. Pagination is in `crate::pagination`.

pub mod holds;
mod requests;
mod validate;
mod views;

pub use holds::{HoldTarget, HoldView};
pub use requests::{
    AttachmentBody, CreateClientBody, CreateTicketBody, FileView, TransactionBody,
    UpdateClientBody, UpdateTicketBody,
};
pub use validate::{MAX_IDENTIFIER_CHARS, MAX_LABEL_CHARS, parse_ticket_id, validate_identifier};
pub use views::{ClientView, MatchView, PageView, SearchResultView, TicketView, transactions};
