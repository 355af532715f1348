//! `PUT /tickets/{ticketId}/legal-hold` `{reason, until?}` → 200 `{"legalHold": …}`: places or replaces a legal hold on a ticket
//! (`shared::api::holds`).

use shared::api::HoldTarget;
use shared::api::holds::place;
use shared::rest::RestHandler;

pub const HANDLER: RestHandler =
    |state, request| Box::pin(place(state, request, HoldTarget::Ticket));
