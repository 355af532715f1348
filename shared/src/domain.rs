//! Business rules, free of Lambda and HTTP: what a new ticket is tagged with, what its note
//! says, and what the archive keeps of a closed ticket.

use chrono::Utc;

use crate::dates::{to_bson, to_chrono};
use crate::db::{ClientHistory, TicketContent, TransactionDoc};
use crate::glassix::Ticket;
use crate::glassix::models::ParticipantType;

/// Every note we add starts with this, so a ticket shows whether our note reached it.
const NOTE_PREFIX: &str = "ClientTicketManager:";
const NEW_CLIENT_TAG: &str = "new-client";
const RETURNING_CLIENT_TAG: &str = "returning-client";

/// The configured tags plus whether the archive already knows this client.
pub fn new_ticket_tags(configured: &[String], history: &ClientHistory) -> Vec<String> {
    let mut tags = configured.to_vec();
    let marker = if history.archived_tickets > 0 {
        RETURNING_CLIENT_TAG
    } else {
        NEW_CLIENT_TAG
    };
    if !tags.iter().any(|t| t == marker) {
        tags.push(marker.to_owned());
    }
    tags
}

/// The agent-only note on a new ticket: who this client is, from the archive.
pub fn new_ticket_note(history: &ClientHistory) -> String {
    match (&history.latest, history.archived_tickets) {
        (_, 0) | (None, _) => {
            format!("{NOTE_PREFIX} new client, no earlier tickets in the archive.")
        }
        (Some((opened, protocol)), count) => {
            let opened = to_chrono(*opened).format("%Y-%m-%d");
            let tickets = if count == 1 { "ticket" } else { "tickets" };
            format!(
                "{NOTE_PREFIX} returning client, {count} archived {tickets}; \
                 the most recent was opened on {opened} via {protocol}."
            )
        }
    }
}

/// Whether the ticket already holds a note of ours: an agent's or the system's transaction
/// (never the client's, who could type anything) whose text or HTML starts with our prefix.
/// Decides, after a note call whose fate is unknown, whether to add it again.
pub fn has_our_note(ticket: &Ticket) -> bool {
    ticket.transactions().iter().any(|transaction| {
        let from_client = transaction
            .from_participant
            .as_ref()
            .is_some_and(|p| p.kind == Some(ParticipantType::Client));
        let starts_with_prefix = |content: &str| {
            let content = content.trim_start();
            content.starts_with(NOTE_PREFIX)
                || content
                    .strip_prefix('<')
                    .is_some_and(|html| html.contains(&format!(">{NOTE_PREFIX}")))
        };
        !from_client
            && (starts_with_prefix(&transaction.text) || starts_with_prefix(&transaction.html))
    })
}

/// Whether the ticket carries every one of `tags` already.
pub fn has_tags(ticket: &Ticket, tags: &[String]) -> bool {
    tags.iter().all(|tag| ticket.tags.contains(tag))
}

/// Why a closed ticket cannot be archived as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotArchivable {
    /// No participant of type `Client` with an identifier: nobody to file it under.
    NoClient,
}

/// What the archive keeps of a closed Glassix ticket.
pub fn archive_record(ticket: &Ticket) -> Result<TicketContent, NotArchivable> {
    let client = ticket.client().ok_or(NotArchivable::NoClient)?;
    let first_transaction = ticket
        .transactions()
        .iter()
        .filter_map(|t| t.date_time)
        .min();
    let opened = ticket
        .open
        .or(first_transaction)
        .or(ticket.close)
        .unwrap_or_else(Utc::now);
    let protocol = ticket
        .primary_protocol_type
        .as_ref()
        .or(client.protocol_type.as_ref())
        .map_or("Undefined", |p| p.as_str());
    Ok(TicketContent {
        ticket_id: ticket.id,
        client_identifier: client.identifier.clone().unwrap_or_default(),
        client_name: client.best_name().map(str::to_owned),
        ticket_opening_date: to_bson(opened),
        protocol_type: protocol.to_owned(),
        closed_at: ticket.close.map(to_bson),
        tags: ticket.tags.clone(),
        transactions: ticket
            .transactions()
            .iter()
            .map(|t| TransactionDoc {
                id: t.id,
                guid: t.guid_transaction_id.clone(),
                date_time: to_bson(t.date_time.unwrap_or(opened)),
                kind: t
                    .kind
                    .as_ref()
                    .map_or("Undefined", |k| k.as_str())
                    .to_owned(),
                text: t.text.clone(),
                html: t.html.clone(),
                from_protocol_type: t.from_protocol_type.as_ref().map(|p| p.as_str().to_owned()),
                sender_name: t
                    .from_participant
                    .as_ref()
                    .and_then(|p| p.best_name())
                    .map(str::to_owned),
                sender_type: t
                    .from_participant
                    .as_ref()
                    .and_then(|p| p.kind.as_ref())
                    .map(|k| k.as_str().to_owned()),
                attachments: t
                    .attachments
                    .iter()
                    .map(|a| crate::db::Attachment {
                        id: a.id,
                        kind: a.kind.clone(),
                        original_file_name: a.original_file_name.clone(),
                        file_identifier: a.file_identifier.clone(),
                        is_embedded: a.is_embedded,
                        stored: None,
                    })
                    .collect(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::DateTime as BsonDate;

    fn history(count: u64, latest: Option<(i64, &str)>) -> ClientHistory {
        ClientHistory {
            archived_tickets: count,
            latest: latest.map(|(ms, p)| (BsonDate::from_millis(ms), p.to_owned())),
        }
    }

    #[test]
    fn a_new_client_is_tagged_and_noted_as_new() {
        let none = history(0, None);
        assert_eq!(
            new_ticket_tags(&["archive".into()], &none),
            vec!["archive", "new-client"]
        );
        assert_eq!(
            new_ticket_note(&none),
            "ClientTicketManager: new client, no earlier tickets in the archive."
        );
    }

    #[test]
    fn a_returning_client_is_tagged_and_noted_with_their_history() {
        let known = history(3, Some((1_710_058_542_370, "WhatsApp")));
        assert_eq!(new_ticket_tags(&[], &known), vec!["returning-client"]);
        assert_eq!(
            new_ticket_note(&known),
            "ClientTicketManager: returning client, 3 archived tickets; the most recent was opened on 2024-03-10 via WhatsApp."
        );
        assert!(new_ticket_note(&history(1, Some((0, "Mail")))).contains("1 archived ticket;"));
    }

    #[test]
    fn the_archive_record_keeps_every_transaction_and_the_client() {
        let ticket: Ticket =
            serde_json::from_slice(include_bytes!("../fixtures/glassix/ticket.json"))
                .expect("fixture");
        let record = archive_record(&ticket).expect("archivable");
        assert_eq!(record.client_identifier, "972521234567");
        assert_eq!(record.client_name.as_deref(), Some("Dana Cohen"));
        assert_eq!(record.protocol_type, "WhatsApp");
        assert_eq!(record.transactions.len(), 5);
        assert_eq!(record.transactions[2].kind, "Note");
        assert_eq!(record.transactions[1].sender_type.as_deref(), Some("User"));
        assert_eq!(
            record.transactions[0].attachments[0]
                .original_file_name
                .as_deref(),
            Some("קבלה-receipt.jpg")
        );
        assert_eq!(
            record.ticket_opening_date,
            BsonDate::from_millis(1_710_058_542_370)
        );
    }

    fn ticket_with(transactions: serde_json::Value) -> Ticket {
        serde_json::from_value(serde_json::json!({"id": 1, "tags": ["vip", "new-client"], "transactions": transactions}))
            .expect("parses")
    }

    #[test]
    fn our_note_is_recognised_from_an_agent_or_the_system_only() {
        let note = new_ticket_note(&history(0, None));
        let from = |kind: &str, text: &str, html: &str| {
            serde_json::json!({"id": 9, "type": "Note", "text": text, "html": html,
                "fromParticipant": {"id": 2, "type": kind}})
        };
        assert!(has_our_note(&ticket_with(serde_json::json!([from(
            "User", &note, ""
        )]))));
        assert!(has_our_note(&ticket_with(serde_json::json!([
            {"id": 9, "type": "Note", "text": format!("  {note}")}
        ]))));
        assert!(has_our_note(&ticket_with(serde_json::json!([from(
            "User",
            "",
            &format!("<p>{note}</p>")
        )]))));
        assert!(!has_our_note(&ticket_with(serde_json::json!([from(
            "Client", &note, ""
        )]))));
        assert!(!has_our_note(&ticket_with(serde_json::json!([from(
            "User",
            &format!("as the note says: {note}"),
            ""
        )]))));
        assert!(!has_our_note(&ticket_with(serde_json::json!([]))));
    }

    #[test]
    fn tags_count_as_present_only_when_every_one_is() {
        let ticket = ticket_with(serde_json::json!([]));
        assert!(has_tags(&ticket, &["new-client".into()]));
        assert!(has_tags(&ticket, &[]));
        assert!(!has_tags(
            &ticket,
            &["new-client".into(), "archived-by-ctm".into()]
        ));
    }

    #[test]
    fn a_ticket_without_a_client_is_not_archivable() {
        let ticket: Ticket = serde_json::from_value(serde_json::json!({
            "id": 1, "participants": [{"type": "User", "identifier": "agent"}]
        }))
        .expect("parses");
        assert_eq!(archive_record(&ticket).err(), Some(NotArchivable::NoClient));
    }
}
