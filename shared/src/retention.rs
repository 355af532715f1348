//! Retention: the purge deletes every archived ticket closed longer ago than `RETENTION_DAYS`
//! (its transactions, its files, and its client once the client has no ticket left), skips
//! what a legal hold holds, and prunes access-log entries past their expiry (servers without
//! TTL indexes keep them otherwise).
//!
//! A ticket's files go first, then its documents: a run cut in between leaves the ticket in
//! place, still expired, so the next run finds it and finishes; files deleted last could be
//! left behind by a ticket already gone, and nothing would find them again. Tickets are taken
//! in id order after a checkpoint, a page at a time (one query or write per collection and
//! page), so a run cut by its time budget resumes where it stopped (held tickets are not
//! looked at again in the same pass); a pass that reaches the end starts over at the next
//! run. Every deletion is in the access log as the token `retention`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::time::Instant;

use crate::access::{AccessEntry, Concerning};
use crate::dates::to_bson;
use crate::db::{Store, TicketDoc, active_hold};
use crate::error::AppError;
use crate::files::FileStore;
use crate::glassix::Deadline;
use crate::job::{within, within_deadline};

/// The access log's name for what the purge does.
pub const RETENTION_TOKEN: &str = "retention";
/// The access log's route for the purge's deletions.
pub const PURGE_ROUTE: &str = "purge-expired-tickets";
/// Tickets read per query, and deleted per write.
const PAGE: i64 = 100;
/// A page is not started with less time than this left: its queries and writes.
const PAGE_RESERVE: Duration = Duration::from_secs(30);
/// A ticket's files are not erased with less time than this left: the page's documents
/// still have to be deleted.
const TICKET_RESERVE: Duration = Duration::from_secs(20);

pub struct Purger<'a> {
    pub store: &'a Store,
    pub files: &'a FileStore,
    /// `None`: keep every ticket (only the access log is pruned).
    pub retention: Option<chrono::Duration>,
    /// List what would be deleted; change nothing.
    pub dry_run: bool,
    /// How long the access log keeps the purge's entries.
    pub access_log_retention: chrono::Duration,
}

/// One run, as logged (one JSON line: ids and counts, nothing about a person).
#[derive(Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PurgeReport {
    pub dry_run: bool,
    /// Days kept; `None`: retention is off.
    pub retention_days: Option<i64>,
    /// Expired tickets looked at.
    pub seen: u64,
    pub deleted: u64,
    /// Expired but held (the ticket's hold or its client's).
    pub held: u64,
    pub clients_deleted: u64,
    pub files: u64,
    pub bytes: u64,
    pub access_log_pruned: u64,
    /// Data exports past their expiry whose file and record were deleted.
    pub exports_expired: u64,
    /// Ids a dry run would delete.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_delete: Vec<i64>,
    /// `caught up`, `time budget`, `retention off` or `failed` (the next run resumes).
    pub stopped: &'static str,
}

impl Purger<'_> {
    /// One run, reported in one JSON log line and as metrics.
    pub async fn run_and_report(&self, now: DateTime<Utc>, deadline: Deadline) -> PurgeReport {
        let mut report = PurgeReport {
            dry_run: self.dry_run,
            retention_days: self.retention.map(|r| r.num_days()),
            ..PurgeReport::default()
        };
        if let Err(error) = self.run(now, deadline, &mut report).await {
            tracing::error!(
                code = error.code(),
                detail = error.detail().unwrap_or_default(),
                "purge run failed; the next one resumes from its checkpoint"
            );
            report.stopped = "failed";
        }
        let summary = serde_json::to_string(&report).unwrap_or_default();
        tracing::info!(report = %summary, "purge run");
        crate::metrics::emit(&[
            crate::metrics::Metric::count("TicketsPurged", report.deleted),
            crate::metrics::Metric::count("PurgeRunsFailed", u64::from(report.stopped == "failed")),
        ]);
        report
    }

    /// One run, until caught up or `deadline`; counts into `report` as it goes, so a failure
    /// still reports what was done.
    pub async fn run(
        &self,
        now: DateTime<Utc>,
        deadline: Deadline,
        report: &mut PurgeReport,
    ) -> Result<(), AppError> {
        let store = self.store;
        if !self.dry_run {
            report.access_log_pruned =
                within_deadline(deadline, store.prune_access_log(to_bson(now))).await?;
            report.exports_expired = self.expire_exports(now, deadline).await?;
        }
        let Some(retention) = self.retention else {
            report.stopped = "retention off";
            return Ok(());
        };
        let cutoff = to_bson(now - retention);
        // A dry run lists from the first ticket and moves no checkpoint.
        let mut after = if self.dry_run {
            0
        } else {
            within_deadline(deadline, store.purge_checkpoint()).await?
        };
        loop {
            if Instant::now() + PAGE_RESERVE >= deadline {
                report.stopped = "time budget";
                break;
            }
            let page =
                within_deadline(deadline, store.expired_tickets(cutoff, after, PAGE)).await?;
            let Some(last) = page.last() else {
                report.stopped = "caught up";
                after = 0;
                break;
            };
            let last = last.ticket_id;
            after = self
                .purge_page(&page, to_bson(now), deadline, report)
                .await?
                .unwrap_or(last);
            if after != last {
                report.stopped = "time budget";
                break;
            }
            if !self.dry_run {
                within_deadline(deadline, store.save_purge_checkpoint(after)).await?;
            }
        }
        if !self.dry_run {
            within_deadline(deadline, store.save_purge_checkpoint(after)).await?;
        }
        Ok(())
    }

    /// Deletes the exports past their expiry: the file first, then the record, so a run cut
    /// between the two finds the record next time and deletes the (gone) file again. On S3 the
    /// bucket's lifecycle rule expires the files as well; the local folder has only this.
    async fn expire_exports(
        &self,
        now: DateTime<Utc>,
        deadline: Deadline,
    ) -> Result<u64, AppError> {
        let expired =
            within_deadline(deadline, self.store.expired_exports(to_bson(now), PAGE)).await?;
        for export in &expired {
            let key = crate::export::paths::export_key(&export.export_id);
            within(deadline, "file store", self.files.delete(&key)).await?;
            within_deadline(deadline, self.store.delete_export(&export.export_id)).await?;
        }
        Ok(expired.len() as u64)
    }

    /// One page of expired tickets: the held ones counted and left, the others' files erased
    /// one ticket at a time while there is time, then their documents in one write per
    /// collection, then their clients left without a ticket. `Some(id)`: time ran out after
    /// ticket `id` (everything up to it is done), `None`: the whole page is.
    async fn purge_page(
        &self,
        page: &[TicketDoc],
        now: mongodb::bson::DateTime,
        deadline: Deadline,
        report: &mut PurgeReport,
    ) -> Result<Option<i64>, AppError> {
        let store = self.store;
        let clients = distinct_clients(page.iter());
        let held_clients = within_deadline(deadline, store.held_clients(&clients, now)).await?;
        let mut erased: Vec<&TicketDoc> = Vec::new();
        let mut cut_after = None;
        for ticket in page {
            if Instant::now() + TICKET_RESERVE >= deadline {
                // Every ticket before this one is done, and no expired one lies between.
                cut_after = Some(ticket.ticket_id - 1);
                break;
            }
            report.seen += 1;
            if active_hold(&ticket.legal_hold, now).is_some()
                || held_clients.contains(&ticket.client_identifier)
            {
                report.held += 1;
                continue;
            }
            if self.dry_run {
                report.would_delete.push(ticket.ticket_id);
                continue;
            }
            let prefix = crate::files::ticket_prefix(ticket.ticket_id);
            report.files +=
                within(deadline, "file store", self.files.delete_prefix(&prefix)).await?;
            erased.push(ticket);
        }
        if erased.is_empty() {
            return Ok(cut_after);
        }
        let ids: Vec<i64> = erased.iter().map(|t| t.ticket_id).collect();
        report.bytes += within_deadline(deadline, store.stored_bytes(&ids)).await?;
        within_deadline(deadline, store.delete_tickets(&erased)).await?;
        report.deleted += erased.len() as u64;
        let their_clients = distinct_clients(erased.iter().copied());
        report.clients_deleted += within_deadline(
            deadline,
            store.delete_clients_without_tickets(&their_clients, now),
        )
        .await?;
        tracing::info!(tickets = erased.len(), "expired tickets purged");
        self.record(&erased, deadline).await;
        Ok(cut_after)
    }

    /// The deletions' access-log entries; entries the database does not take are logged, and
    /// the purge goes on (the tickets are gone either way).
    async fn record(&self, tickets: &[&TicketDoc], deadline: Deadline) {
        let entries: Vec<AccessEntry> = tickets
            .iter()
            .map(|ticket| {
                AccessEntry::by_job(
                    RETENTION_TOKEN,
                    PURGE_ROUTE,
                    "DELETE",
                    Concerning::ticket(ticket.ticket_id)
                        .and_client(ticket.client_identifier.clone()),
                    self.access_log_retention,
                )
            })
            .collect();
        if let Err(error) = within_deadline(deadline, self.store.append_accesses(&entries)).await {
            tracing::error!(
                tickets = entries.len(),
                detail = error.detail().unwrap_or_default(),
                "access log entries not written; the tickets were purged"
            );
            crate::metrics::emit(&[crate::metrics::Metric::count(
                crate::rest::ACCESS_LOG_FAILURES,
                entries.len() as u64,
            )]);
        }
    }
}

/// The clients of `tickets`, each once.
fn distinct_clients<'t>(tickets: impl Iterator<Item = &'t TicketDoc>) -> Vec<&'t str> {
    let mut clients: Vec<&str> = tickets.map(|t| t.client_identifier.as_str()).collect();
    clients.sort_unstable();
    clients.dedup();
    clients
}
