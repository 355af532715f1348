//! `DELETE /tickets/{ticketId}/legal-hold` → 200 `{"legalHold": …}`: lifts a ticket's legal hold
//! (`shared::api::holds`).

use shared::api::HoldTarget;
use shared::api::holds::lift;
use shared::rest::RestHandler;

pub const HANDLER: RestHandler =
    |state, request| Box::pin(lift(state, request, HoldTarget::Ticket));
