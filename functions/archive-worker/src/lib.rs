//! `archive-worker`: consumes the archive queue (SQS FIFO, one message group per ticket) and
//! runs the archive job for each message, in order (`shared::archive::worker`).

pub use shared::archive::worker::handle_batch as handle;
