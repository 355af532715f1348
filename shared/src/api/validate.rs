//! Rules on values (422), and conversion of valid bodies into store inputs.

use lambda_http::Request;
use mongodb::bson::DateTime;

use super::requests::{
    CreateClientBody, CreateTicketBody, TransactionBody, UpdateClientBody, UpdateTicketBody,
};
use crate::dates::to_bson;
use crate::db::cursor::{self, CursorKind};
use crate::db::{NewClient, TicketDoc, TicketPatch, TransactionDoc};
use crate::error::AppError;
use crate::http::query_param;

pub const MAX_IDENTIFIER_CHARS: usize = 320;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_LABEL_CHARS: usize = 100;
pub const MAX_TAGS: usize = 50;
pub const MAX_TRANSACTIONS: usize = 10_000;
pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;

fn invalid(message: String) -> AppError {
    AppError::Validation(message)
}

/// A client identifier: a phone number's digits or an email, used as given.
pub fn validate_identifier(identifier: &str) -> Result<(), AppError> {
    text_rule("identifier", identifier, MAX_IDENTIFIER_CHARS)?;
    // API Gateway HTTP APIs hand path parameters over decoded, and handlers decode them once
    // more for callers that send them encoded: neither round-trips a '%' or a '/'.
    if identifier.contains(['/', '%']) || identifier.chars().any(char::is_whitespace) {
        return Err(invalid(
            "identifier must not contain '/', '%' or white space".into(),
        ));
    }
    Ok(())
}

/// Non-empty, bounded, no control characters, no leading or trailing space, and nothing that
/// looks like a MongoDB operator.
fn text_rule(field: &str, value: &str, max_chars: usize) -> Result<(), AppError> {
    if value.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    if value.chars().count() > max_chars {
        return Err(invalid(format!(
            "{field} is longer than {max_chars} characters"
        )));
    }
    if value.trim() != value {
        return Err(invalid(format!(
            "{field} must not start or end with white space"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    if value.starts_with('$') {
        return Err(invalid(format!("{field} must not start with '$'")));
    }
    Ok(())
}

fn validate_name(field: &str, name: &Option<String>) -> Result<(), AppError> {
    match name {
        Some(name) => text_rule(field, name, MAX_NAME_CHARS),
        None => Ok(()),
    }
}

fn validate_tags(tags: &[String]) -> Result<(), AppError> {
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!("at most {MAX_TAGS} tags are allowed")));
    }
    tags.iter()
        .try_for_each(|tag| text_rule("tags[]", tag, MAX_LABEL_CHARS))
}

fn validate_ticket_id(ticket_id: i64) -> Result<(), AppError> {
    if ticket_id <= 0 {
        return Err(invalid("ticketId must be a positive integer".into()));
    }
    Ok(())
}

fn transactions(bodies: Vec<TransactionBody>) -> Result<Vec<TransactionDoc>, AppError> {
    if bodies.len() > MAX_TRANSACTIONS {
        return Err(invalid(format!(
            "at most {MAX_TRANSACTIONS} transactions are allowed"
        )));
    }
    for body in &bodies {
        text_rule("transactions[].type", &body.kind, MAX_LABEL_CHARS)?;
        validate_name("transactions[].senderName", &body.sender_name)?;
    }
    Ok(bodies.into_iter().map(TransactionDoc::from).collect())
}

/// A field of a patch that may be left out but not set to `null`.
fn required<T>(field: &str, value: Option<Option<T>>) -> Result<Option<T>, AppError> {
    match value {
        Some(None) => Err(invalid(format!("{field} must not be null"))),
        Some(Some(value)) => Ok(Some(value)),
        None => Ok(None),
    }
}

/// A ticket id from the path.
pub fn parse_ticket_id(raw: &str) -> Result<i64, AppError> {
    let ticket_id: i64 = raw
        .parse()
        .map_err(|_| AppError::BadRequest("ticketId must be an integer".into()))?;
    validate_ticket_id(ticket_id)?;
    Ok(ticket_id)
}

impl CreateClientBody {
    pub fn validate(self) -> Result<NewClient, AppError> {
        validate_identifier(&self.identifier)?;
        validate_name("name", &self.name)?;
        Ok(NewClient {
            identifier: self.identifier,
            name: self.name,
        })
    }
}

impl UpdateClientBody {
    /// `None`: leave the name; `Some(None)`: clear it.
    pub fn validate(self) -> Result<Option<Option<String>>, AppError> {
        if let Some(name) = &self.name {
            validate_name("name", name)?;
        }
        Ok(self.name)
    }
}

impl CreateTicketBody {
    pub fn validate(self, client_identifier: String) -> Result<TicketDoc, AppError> {
        validate_ticket_id(self.ticket_id)?;
        validate_name("clientName", &self.client_name)?;
        text_rule("protocolType", &self.protocol_type, MAX_LABEL_CHARS)?;
        validate_tags(&self.tags)?;
        let now = DateTime::now();
        Ok(TicketDoc {
            ticket_id: self.ticket_id,
            client_identifier,
            client_name: self.client_name,
            ticket_opening_date: to_bson(self.ticket_opening_date),
            protocol_type: self.protocol_type,
            transactions: transactions(self.transactions)?,
            closed_at: self.closed_at.map(to_bson),
            tags: self.tags,
            archived_at: None,
            scrambled_at: None,
            created_at: now,
            updated_at: now,
        })
    }
}

impl UpdateTicketBody {
    pub fn validate(self) -> Result<TicketPatch, AppError> {
        if let Some(name) = &self.client_name {
            validate_name("clientName", name)?;
        }
        let protocol_type = required("protocolType", self.protocol_type)?;
        if let Some(protocol) = &protocol_type {
            text_rule("protocolType", protocol, MAX_LABEL_CHARS)?;
        }
        let tags = required("tags", self.tags)?;
        if let Some(tags) = &tags {
            validate_tags(tags)?;
        }
        let transactions = required("transactions", self.transactions)?
            .map(transactions)
            .transpose()?;
        Ok(TicketPatch {
            client_name: self.client_name,
            ticket_opening_date: required("ticketOpeningDate", self.ticket_opening_date)?
                .map(to_bson),
            protocol_type,
            transactions,
            closed_at: self.closed_at.map(|date| date.map(to_bson)),
            tags,
        })
    }
}

/// `?limit=&cursor=` of a list route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pagination {
    pub limit: u32,
    /// The decoded sort key to continue after.
    pub after: Option<String>,
}

impl Pagination {
    pub fn from_request(request: &Request, kind: CursorKind) -> Result<Self, AppError> {
        let limit = match query_param(request, "limit") {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|limit| (1..=MAX_PAGE_SIZE).contains(limit))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "limit must be an integer from 1 to {MAX_PAGE_SIZE}"
                    ))
                })?,
        };
        let after =
            match query_param(request, "cursor") {
                None => None,
                Some(raw) => Some(cursor::decode(kind, raw).map_err(|_| {
                    AppError::BadRequest("cursor is not valid for this list".into())
                })?),
            };
        Ok(Self { limit, after })
    }
}
