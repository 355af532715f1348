//! The Glassix endpoints this service calls.

use http::Method;
use serde::Serialize;

use super::{Deadline, GlassixClient, GlassixError, json};
use crate::glassix::models::{Ticket, TicketList};
use crate::glassix::time::list_format;

/// Which page of `GET /tickets/list` to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListPage {
    /// The first page of closed tickets whose open, close or last activity falls between
    /// `since` and `until` (at most one calendar month apart, Glassix's rule).
    First {
        since: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    },
    /// A `paging.next` URL from the previous page, used as given (valid for 24 hours).
    Next(String),
}

impl GlassixClient {
    /// `GET /tickets/get/{id}`: the full ticket, transactions included.
    pub async fn get_ticket(
        &self,
        ticket_id: i64,
        deadline: Deadline,
    ) -> Result<Ticket, GlassixError> {
        let path = format!("tickets/get/{ticket_id}");
        let body = self.call(Method::GET, &path, None, deadline).await?;
        decode(&body)
    }

    /// `GET /tickets/list`: one page (at most 100) of closed tickets, without transactions.
    pub async fn list_closed_tickets(
        &self,
        page: &ListPage,
        deadline: Deadline,
    ) -> Result<TicketList, GlassixError> {
        let url = match page {
            ListPage::First { since, until } => {
                let mut url = self.url("tickets/list")?;
                url.query_pairs_mut()
                    .append_pair("since", &list_format(*since))
                    .append_pair("until", &list_format(*until))
                    .append_pair("ticketState", "Closed");
                url
            }
            ListPage::Next(next) => self.same_origin(next)?,
        };
        let body = self
            .call_url(Method::GET, url, "tickets/list", None, deadline)
            .await?;
        decode(&body)
    }

    /// `POST /tickets/addtags/{id}` with a bare JSON array; returns the ticket's tags after it.
    pub async fn add_tags(
        &self,
        ticket_id: i64,
        tags: &[String],
        deadline: Deadline,
    ) -> Result<Vec<String>, GlassixError> {
        let path = format!("tickets/addtags/{ticket_id}");
        let body = self
            .call(Method::POST, &path, Some(json(&tags)?), deadline)
            .await?;
        Ok(serde_json::from_slice(&body).unwrap_or_default())
    }

    /// `POST /tickets/addnote/{id}` with `{"text": ...}`: a note only agents see.
    pub async fn add_note(
        &self,
        ticket_id: i64,
        text: &str,
        deadline: Deadline,
    ) -> Result<(), GlassixError> {
        #[derive(Serialize)]
        struct Note<'a> {
            text: &'a str,
        }
        let path = format!("tickets/addnote/{ticket_id}");
        self.call(Method::POST, &path, Some(json(&Note { text })?), deadline)
            .await
            .map(drop)
    }

    /// `DELETE /tickets/scramble/{id}`: permanently erases the ticket's content in Glassix.
    pub async fn scramble(&self, ticket_id: i64, deadline: Deadline) -> Result<(), GlassixError> {
        let path = format!("tickets/scramble/{ticket_id}");
        self.call(Method::DELETE, &path, None, deadline)
            .await
            .map(drop)
    }

    /// Whether Glassix reports the ticket as scrambled; confirms a scramble whose answer was
    /// an error or never came.
    pub async fn is_scrambled(
        &self,
        ticket_id: i64,
        deadline: Deadline,
    ) -> Result<bool, GlassixError> {
        Ok(self.get_ticket(ticket_id, deadline).await?.is_scrambled)
    }
}

/// Parses a Glassix answer. The error names the category, line and column only: serde's own
/// message quotes the offending value (a name, a phone number) and ends up in logs.
fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, GlassixError> {
    serde_json::from_slice(body).map_err(|e| {
        let category = match e.classify() {
            serde_json::error::Category::Io => "i/o",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "end of input",
        };
        GlassixError::Decode(format!(
            "{category} error at line {} column {}",
            e.line(),
            e.column()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decode_error_never_quotes_the_value() {
        // serde's own message would be: invalid type: string "Dana Cohen 972521234567", …
        let body = br#"{"id": "Dana Cohen 972521234567", "transactions": []}"#;
        let error = decode::<Ticket>(body).expect_err("an id is a number");
        let text = error.to_string();
        assert!(text.contains("data error at line 1"), "{text}");
        assert!(
            !text.contains("Dana") && !text.contains("972521234567"),
            "{text}"
        );
    }
}
