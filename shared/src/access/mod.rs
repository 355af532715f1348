//! Who may do what, and who did: the scopes of the REST API, its named tokens, and the access
//! log every read or change of archived data appends to.

pub mod log;
mod scopes;
mod tokens;

pub use log::{AccessEntry, AccessFilter, AccessRecord, Concerning};
pub use scopes::{RouteScope, Scope, Scopes};
pub use tokens::{ApiToken, ApiTokens};
