//! The REST API's JSON contract: request bodies, validation, response views, pagination.
//! camelCase JSON, RFC 3339 dates.

mod requests;
mod validate;
mod views;

pub use requests::{
    CreateClientBody, CreateTicketBody, TransactionBody, UpdateClientBody, UpdateTicketBody,
};
pub use validate::{Pagination, parse_ticket_id, validate_identifier};
pub use views::{ClientView, PageView, TicketView};
