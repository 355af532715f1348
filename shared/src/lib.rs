//! The library every ClientTicketManager Lambda shares: configuration, the error type and its
//! HTTP mapping, the Glassix client, the MongoDB models and store.

pub mod access;
pub mod api;
pub mod archive;
pub mod archived_files;
pub mod auth;
pub mod aws;
pub mod closing;
pub mod config;
pub mod credentials;
pub mod dates;
pub mod db;
pub mod domain;
pub mod error;
pub mod export;
pub mod files;
pub mod glassix;
pub mod html_text;
pub mod job;
pub mod keys;
pub mod metrics;
pub mod new_ticket;
pub mod pagination;
pub mod queue;
pub mod reconcile;
pub mod request;
pub mod response;
pub mod rest;
pub mod retention;
pub mod runtime;
pub mod search;
pub mod secret;
pub mod state;
#[cfg(feature = "template")]
pub mod template;
pub mod tls;
pub mod webhook;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::AppError;
