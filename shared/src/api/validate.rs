//! Rules on values (422), and conversion of valid bodies into store inputs.

use super::requests::{
    CreateClientBody, CreateTicketBody, TransactionBody, UpdateClientBody, UpdateTicketBody,
};
use crate::dates::to_bson;
use crate::db::{NewClient, TicketContent, TicketPatch, TransactionDoc};
use crate::error::AppError;

/// The longest client identifier (an e-mail address can be 320 characters).
pub const MAX_IDENTIFIER_CHARS: usize = 320;
const MAX_NAME_CHARS: usize = 200;
/// The longest tag or channel name.
pub const MAX_LABEL_CHARS: usize = 100;
const MAX_TAGS: usize = 50;
const MAX_TRANSACTIONS: usize = 10_000;

fn invalid(message: String) -> AppError {
    AppError::Validation(message)
}

/// A client identifier: a phone number's digits or an email, used as given.
pub fn validate_identifier(identifier: &str) -> Result<(), AppError> {
    text_rule("identifier", identifier, MAX_IDENTIFIER_CHARS)?;
    // A '/' is no path segment even encoded (API Gateway decodes %2F before routing); a '%'
    // or white space makes a URL typed by hand ambiguous. Identifiers archived from Glassix
    // skip this rule: path parameters are decoded exactly once, so those stay reachable.
    if identifier.contains(['/', '%']) || identifier.chars().any(char::is_whitespace) {
        return Err(invalid(
            "identifier must not contain '/', '%' or white space".into(),
        ));
    }
    Ok(())
}

/// Non-empty, bounded, no control characters, no leading or trailing space, and nothing that
/// looks like a MongoDB operator.
pub(super) fn text_rule(field: &str, value: &str, max_chars: usize) -> Result<(), AppError> {
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
    // A ticket stores one transaction per id: a second with the same id would be dropped
    // while the ticket counted both.
    let mut ids = std::collections::HashSet::with_capacity(bodies.len());
    for body in &bodies {
        text_rule("transactions[].type", &body.kind, MAX_LABEL_CHARS)?;
        validate_name("transactions[].senderName", &body.sender_name)?;
        if !ids.insert(body.id) {
            return Err(invalid(format!(
                "transactions[].id {} appears more than once",
                body.id
            )));
        }
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
    pub fn validate(self, client_identifier: String) -> Result<TicketContent, AppError> {
        validate_ticket_id(self.ticket_id)?;
        validate_name("clientName", &self.client_name)?;
        text_rule("protocolType", &self.protocol_type, MAX_LABEL_CHARS)?;
        validate_tags(&self.tags)?;
        Ok(TicketContent {
            ticket_id: self.ticket_id,
            client_identifier,
            client_name: self.client_name,
            ticket_opening_date: to_bson(self.ticket_opening_date),
            protocol_type: self.protocol_type,
            transactions: transactions(self.transactions)?,
            closed_at: self.closed_at.map(to_bson),
            tags: self.tags,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(result: Result<(), AppError>) -> String {
        match result {
            Ok(()) => "accepted".into(),
            Err(error) => format!("{} {error}", error.code()),
        }
    }

    #[test]
    fn identifiers_are_phone_digits_or_emails_used_as_given() {
        for good in [
            "972521234567",
            "dana+vip@example.com",
            "דנה@example.co.il",
            "a",
        ] {
            assert_eq!(refusal(validate_identifier(good)), "accepted", "{good}");
        }
    }

    #[test]
    fn identifiers_that_cannot_round_trip_a_path_are_refused() {
        for bad in ["a/b", "100%", "dana cohen", "tab\there"] {
            assert!(
                refusal(validate_identifier(bad)).starts_with("validation_failed "),
                "{bad}"
            );
        }
        assert_eq!(
            refusal(validate_identifier(&"1".repeat(321))),
            "validation_failed identifier is longer than 320 characters"
        );
        assert_eq!(
            refusal(validate_identifier("")),
            "validation_failed identifier must not be empty"
        );
    }

    #[test]
    fn text_is_bounded_trimmed_printable_and_never_an_operator() {
        let rule = |value: &str| refusal(text_rule("name", value, 5));
        assert_eq!(rule("Dana"), "accepted");
        assert_eq!(
            rule("דנה כהן"),
            "validation_failed name is longer than 5 characters"
        );
        assert_eq!(
            rule(" Dana"),
            "validation_failed name must not start or end with white space"
        );
        assert_eq!(
            rule("a\u{7}b"),
            "validation_failed name must not contain control characters"
        );
        assert_eq!(
            rule("$gt"),
            "validation_failed name must not start with '$'"
        );
        assert_eq!(rule("a$b"), "accepted", "a dollar inside is only text");
    }

    #[test]
    fn tags_are_counted_and_each_checked() {
        assert_eq!(refusal(validate_tags(&["VIP".into()])), "accepted");
        let many: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
        assert_eq!(
            refusal(validate_tags(&many)),
            "validation_failed at most 50 tags are allowed"
        );
        assert_eq!(
            refusal(validate_tags(&["ok".into(), "".into()])),
            "validation_failed tags[] must not be empty"
        );
    }

    #[test]
    fn a_ticket_id_in_a_path_is_a_positive_integer() {
        assert_eq!(parse_ticket_id("48213977").ok(), Some(48213977));
        assert_eq!(
            parse_ticket_id("forty-two").map_err(|e| e.code()),
            Err("bad_request")
        );
        for bad in ["0", "-5"] {
            assert_eq!(
                parse_ticket_id(bad).map_err(|e| e.code()),
                Err("validation_failed"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_transaction_id_appears_once_per_ticket() {
        let transaction = |id: i64| TransactionBody {
            id,
            guid: None,
            date_time: chrono::DateTime::UNIX_EPOCH,
            kind: "Message".into(),
            text: String::new(),
            html: String::new(),
            from_protocol_type: None,
            sender_name: None,
            sender_type: None,
            attachments: Vec::new(),
        };
        assert_eq!(
            transactions(vec![transaction(1), transaction(2)])
                .map(|t| t.len())
                .ok(),
            Some(2)
        );
        assert_eq!(
            transactions(vec![transaction(1), transaction(2), transaction(1)])
                .map_err(|e| format!("{} {e}", e.code()))
                .err(),
            Some("validation_failed transactions[].id 1 appears more than once".into())
        );
    }

    #[test]
    fn a_patch_field_may_be_left_out_but_not_nulled() {
        assert_eq!(required::<u8>("tags", None).ok(), Some(None));
        assert_eq!(required("tags", Some(Some(1))).ok(), Some(Some(1)));
        assert_eq!(
            required::<u8>("tags", Some(None)).map_err(|e| e.to_string()),
            Err("tags must not be null".into())
        );
    }
}
