//! Search over the archive without a search engine: each ticket's normalised terms kept in a
//! document of its own with a multikey index (MongoDB's "keyword array" pattern), every term
//! of a query required with `$all`. FerretDB serves it as MongoDB does; neither `$text` nor a
//! regular expression is used (see the README, "Search").

pub mod document;
pub mod phone;
pub mod query;
pub mod snippet;
pub mod terms;

pub use document::{SearchDoc, SearchText, build};
pub use query::Query;
pub use snippet::{Highlight, Snippet, snippet};
