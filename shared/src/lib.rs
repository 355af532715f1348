//! The library every ClientTicketManager Lambda shares: configuration, the error type and its
//! HTTP mapping, the Glassix client, the MongoDB models and store.

pub mod config;
pub mod db;
pub mod error;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::AppError;
