//! `export-worker`: consumes the export queue (SQS FIFO, one message group per export) and
//! builds each requested export (`shared::export::worker`).

pub use shared::export::worker::handle_batch as handle;
