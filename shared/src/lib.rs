//! The library every ClientTicketManager Lambda shares: configuration, the error type and its
//! HTTP mapping, the Glassix client, the MongoDB models and store.

pub mod api;
pub mod config;
pub mod db;
pub mod error;
pub mod glassix;
pub mod http;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::AppError;
