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

use chrono::{DateTime, Utc};

pub(crate) fn to_bson_date(date: DateTime<Utc>) -> mongodb::bson::DateTime {
    mongodb::bson::DateTime::from_millis(date.timestamp_millis())
}

pub(crate) fn to_chrono(date: mongodb::bson::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(date.timestamp_millis()).unwrap_or_default()
}
