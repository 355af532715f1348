//! Legal holds: placed and lifted on a ticket or a client; what they hold.

use mongodb::bson::{Bson, DateTime, Document, doc};
use mongodb::options::ReturnDocument;

use super::{ClientDoc, LegalHold, Store, StoreError, TicketDoc, active_hold};

/// What holds a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldBy {
    Ticket,
    Client,
}

/// Documents whose hold holds at `now` (one past its `until` does not).
pub(super) fn held_at(now: DateTime) -> Document {
    doc! {
        "legalHold": {"$ne": Bson::Null},
        "$or": [{"legalHold.until": Bson::Null}, {"legalHold.until": {"$gt": now}}],
    }
}

impl Store {
    /// Places (`Some`) or lifts (`None`) a ticket's hold; the ticket as it now is, `None` when
    /// there is no such ticket.
    pub async fn set_ticket_hold(
        &self,
        ticket_id: i64,
        hold: Option<&LegalHold>,
    ) -> Result<Option<TicketDoc>, StoreError> {
        Ok(self
            .tickets
            .find_one_and_update(doc! {"ticketId": ticket_id}, hold_update(hold)?)
            .return_document(ReturnDocument::After)
            .await?)
    }

    /// Places or lifts a client's hold; never on a client being deleted.
    pub async fn set_client_hold(
        &self,
        identifier: &str,
        hold: Option<&LegalHold>,
    ) -> Result<Option<ClientDoc>, StoreError> {
        Ok(self
            .clients
            .find_one_and_update(
                doc! {"identifier": identifier, "deleting": {"$ne": true}},
                hold_update(hold)?,
            )
            .return_document(ReturnDocument::After)
            .await?)
    }

    /// What holds `ticket` at `now`: its own hold, or its client's.
    pub async fn ticket_held_by(
        &self,
        ticket: &TicketDoc,
        now: DateTime,
    ) -> Result<Option<HeldBy>, StoreError> {
        if active_hold(&ticket.legal_hold, now).is_some() {
            return Ok(Some(HeldBy::Ticket));
        }
        let client = self.get_client(&ticket.client_identifier).await?;
        Ok(client
            .filter(|client| active_hold(&client.legal_hold, now).is_some())
            .map(|_| HeldBy::Client))
    }

    /// What holds a client or any of its tickets at `now`.
    pub async fn client_held_by(
        &self,
        client: &ClientDoc,
        now: DateTime,
    ) -> Result<Option<HeldBy>, StoreError> {
        if active_hold(&client.legal_hold, now).is_some() {
            return Ok(Some(HeldBy::Client));
        }
        let mut held_ticket = held_at(now);
        held_ticket.insert("clientIdentifier", client.identifier.as_str());
        let held = self.tickets.count_documents(held_ticket).await?;
        Ok((held > 0).then_some(HeldBy::Ticket))
    }
}

fn hold_update(hold: Option<&LegalHold>) -> Result<Document, StoreError> {
    let value = match hold {
        Some(hold) => mongodb::bson::to_bson(hold).map_err(super::tickets::to_store_error)?,
        None => Bson::Null,
    };
    Ok(doc! {"$set": {"legalHold": value, "updatedAt": DateTime::now()}})
}
