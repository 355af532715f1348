//! The library every ClientTicketManager Lambda shares: configuration, the error type and its
//! HTTP mapping, the Glassix client, the MongoDB models and store.

pub mod api;
pub mod config;
pub mod dates;
pub mod db;
pub mod domain;
pub mod error;
pub mod glassix;
pub mod http;
pub mod runtime;
pub mod state;
pub mod webhook;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::AppError;
