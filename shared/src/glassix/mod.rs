//! Everything Glassix: the REST client, its JSON models, and inbound webhook verification.

mod client;
pub mod freshness;
pub mod inbound;
pub mod models;
pub mod time;

pub use client::{
    Deadline, DownloadError, Downloaded, GlassixClient, GlassixError, ListPage, RetryPolicy,
};
pub use models::{
    EventName, Participant, ParticipantType, ProtocolType, Ticket, TicketList, TicketState,
    Transaction, TransactionType,
};
