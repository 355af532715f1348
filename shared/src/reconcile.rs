//! Reconciliation: a second path to the archive that does not depend on webhooks. Glassix stops
//! retrying a delivery after 3 days, and a webhook that was never configured, points at the
//! wrong stage or is refused never arrives at all; those closed tickets would never be
//! archived nor scrambled. Each run lists closed tickets window by window (`GET /tickets/list`,
//! at most one calendar month per request, 100 per page, following `paging.next`) and hands
//! every one that is closed, not scrambled and not archived-and-scrambled here to the archive
//! queue, the same queue the webhook feeds.
//!
//! A checkpoint in MongoDB holds the end of the last window fully done and the page where the
//! open window resumes; it moves only after a page is fully handled, so a run cut anywhere
//! (its time budget, a crash, a failed page) loses nothing and resumes there. Windows overlap
//! the previous one by an hour (clock skew, a late `lastActivity`). The per-ticket lock and the
//! FIFO group keep a job from running twice at once.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Months, Utc};
use serde::Serialize;
use tokio::time::Instant;

use crate::dates::{to_bson, to_chrono};
use crate::db::Store;
use crate::db::checkpoints::{CLOSED_TICKETS, Checkpoint, OpenWindow};
use crate::error::AppError;
use crate::glassix::models::ListedTicket;
use crate::glassix::{Deadline, GlassixClient, ListPage, TicketState};
use crate::job::{within, within_deadline};
use crate::queue::{ArchiveJob, JobQueue};

/// How far back the first run starts unless `RECONCILE_SINCE` says otherwise.
const FIRST_RUN_LOOKBACK: chrono::TimeDelta = chrono::TimeDelta::days(7);
/// Each window starts this much before the end of the last one.
const OVERLAP: chrono::TimeDelta = chrono::TimeDelta::hours(1);
/// A `paging.next` URL is honoured for 24 hours; an older one is not tried.
const NEXT_PAGE_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(23);
/// A page is not started with less time than this left: listing it and queueing its tickets.
const PAGE_RESERVE: Duration = Duration::from_secs(10);

pub struct Reconciler<'a, Q> {
    pub store: &'a Store,
    pub glassix: &'a GlassixClient,
    /// Where each ticket to archive goes.
    pub queue: &'a Q,
    /// First run's start.
    pub since: Option<DateTime<Utc>>,
    /// List what would be archived; change nothing (no job, no checkpoint).
    pub dry_run: bool,
}

/// One run, as logged (one JSON line, no personal data: ticket ids and counts only).
#[derive(Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub dry_run: bool,
    pub seen: u64,
    pub already_done: u64,
    /// Queued for the archive job.
    pub handed_to_archive: u64,
    pub skipped: BTreeMap<&'static str, u64>,
    pub pages: u64,
    /// Every window this run listed, `[since, until]`.
    pub windows: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Ids a dry run would hand to the archive.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_archive: Vec<i64>,
    /// Why the run ended: `caught up`, `time budget`, or `failed` (resumes next run).
    pub stopped: &'static str,
}

impl<Q: JobQueue> Reconciler<'_, Q> {
    /// One run, reported in one JSON log line (ids and counts only). A run that fails is
    /// reported as `failed`: the next one resumes from the checkpoint.
    pub async fn run_and_report(&self, now: DateTime<Utc>, deadline: Deadline) -> Report {
        let report = self.run(now, deadline).await.unwrap_or_else(|error| {
            tracing::error!(
                code = error.code(),
                detail = error.detail().unwrap_or_default(),
                "reconciliation run failed; the next one resumes from its checkpoint"
            );
            Report {
                dry_run: self.dry_run,
                stopped: "failed",
                ..Report::default()
            }
        });
        let summary = serde_json::to_string(&report).unwrap_or_default();
        tracing::info!(report = %summary, "reconciliation run");
        crate::metrics::emit(&[
            crate::metrics::Metric::count("TicketsFound", report.handed_to_archive),
            crate::metrics::Metric::count(
                "ReconcileRunsFailed",
                u64::from(report.stopped == "failed"),
            ),
        ]);
        report
    }

    /// One run, until caught up or `deadline`.
    pub async fn run(&self, now: DateTime<Utc>, deadline: Deadline) -> Result<Report, AppError> {
        // At the checkpoint's precision (milliseconds): a window ending at `now` must compare
        // equal to `now` once stored, or the run would never be caught up.
        let now = to_chrono(to_bson(now));
        let store = self.store;
        let mut report = Report {
            dry_run: self.dry_run,
            ..Report::default()
        };
        let mut checkpoint =
            match within_deadline(deadline, store.load_checkpoint(CLOSED_TICKETS)).await? {
                Some(checkpoint) => checkpoint,
                None => Checkpoint {
                    name: CLOSED_TICKETS.into(),
                    done_until: to_bson(self.since.unwrap_or(now - FIRST_RUN_LOOKBACK) + OVERLAP),
                    window: None,
                },
            };
        loop {
            if Instant::now() + PAGE_RESERVE >= deadline {
                report.stopped = "time budget";
                break;
            }
            let mut window = match checkpoint.window.take() {
                Some(window) => window,
                None => match next_window(to_chrono(checkpoint.done_until), now) {
                    Some((since, until)) => OpenWindow {
                        since: to_bson(since),
                        until: to_bson(until),
                        next: None,
                        next_issued_at: None,
                    },
                    None => {
                        report.stopped = "caught up";
                        break;
                    }
                },
            };
            let span = (to_chrono(window.since), to_chrono(window.until));
            if report.windows.last() != Some(&span) {
                report.windows.push(span);
            }
            let page = page_to_fetch(&window, now);
            let list = match self.glassix.list_closed_tickets(&page, deadline).await {
                Ok(list) => list,
                Err(error) => {
                    // The next run lists this page again.
                    self.keep(&checkpoint, Some(window), deadline).await?;
                    let error = AppError::glassix("list tickets", &error);
                    tracing::warn!(
                        detail = error.detail().unwrap_or_default(),
                        "reconciliation could not list a page; the next run resumes there"
                    );
                    report.stopped = "failed";
                    break;
                }
            };
            report.pages += 1;
            let handled = self
                .handle_page(&list.tickets, &window, deadline, &mut report)
                .await;
            if !handled {
                // Not one ticket of this page is lost: the next run lists the page again.
                self.keep(&checkpoint, Some(window), deadline).await?;
                report.stopped = "failed";
                break;
            }
            match list.next() {
                Some(next) => {
                    window.next = Some(next.to_owned());
                    window.next_issued_at = Some(to_bson(now));
                    checkpoint.window = Some(window);
                }
                None => {
                    checkpoint.done_until = window.until;
                    checkpoint.window = None;
                }
            }
            self.keep(&checkpoint, None, deadline).await?;
        }
        Ok(report)
    }

    /// Handles every ticket of a page; `false` when one could not be handed to the archive.
    async fn handle_page(
        &self,
        tickets: &[ListedTicket],
        window: &OpenWindow,
        deadline: Deadline,
        report: &mut Report,
    ) -> bool {
        let mut all_handled = true;
        for ticket in tickets {
            report.seen += 1;
            match self.handle_ticket(ticket, window, deadline).await {
                Ok(Decision::Skipped(reason)) => *report.skipped.entry(reason).or_default() += 1,
                Ok(Decision::AlreadyDone) => report.already_done += 1,
                Ok(Decision::WouldArchive) => report.would_archive.push(ticket.id),
                Ok(Decision::HandedToArchive) => report.handed_to_archive += 1,
                Err(error) => {
                    tracing::warn!(
                        ticket_id = ticket.id,
                        code = error.code(),
                        detail = error.detail().unwrap_or_default(),
                        "reconciliation could not hand a ticket to the archive"
                    );
                    all_handled = false;
                }
            }
        }
        all_handled
    }

    async fn handle_ticket(
        &self,
        ticket: &ListedTicket,
        window: &OpenWindow,
        deadline: Deadline,
    ) -> Result<Decision, AppError> {
        if ticket.state.as_ref() != Some(&TicketState::Closed) {
            return Ok(Decision::Skipped("not closed"));
        }
        if ticket.is_scrambled {
            return Ok(Decision::Skipped("scrambled in Glassix"));
        }
        let archived = within_deadline(deadline, self.store.get_ticket(ticket.id)).await?;
        if archived.is_some_and(|t| t.scrambled_at.is_some()) {
            return Ok(Decision::AlreadyDone);
        }
        if self.dry_run {
            tracing::info!(ticket_id = ticket.id, "dry run: would archive");
            return Ok(Decision::WouldArchive);
        }
        // One job per ticket and window: a page listed again after a failure is deduplicated
        // by the queue within its 5 minutes.
        let delivery = format!("reconcile:{}:{}", window.since, window.until);
        let job = ArchiveJob {
            ticket_id: ticket.id,
        };
        let queued = self.queue.enqueue(&job, delivery.as_bytes());
        within(deadline, "archive queue", queued).await?;
        Ok(Decision::HandedToArchive)
    }

    /// Saves the checkpoint (with `window` as the open one, when given); a dry run saves
    /// nothing.
    async fn keep(
        &self,
        checkpoint: &Checkpoint,
        window: Option<OpenWindow>,
        deadline: Deadline,
    ) -> Result<(), AppError> {
        if self.dry_run {
            return Ok(());
        }
        let mut saved = checkpoint.clone();
        if window.is_some() {
            saved.window = window;
        }
        // Saving gets time of its own: a run cut at its deadline must still record progress.
        let save_by = deadline.max(Instant::now() + Duration::from_secs(2));
        within_deadline(save_by, self.store.save_checkpoint(&saved)).await
    }
}

/// What became of one listed ticket.
pub enum Decision {
    Skipped(&'static str),
    AlreadyDone,
    WouldArchive,
    HandedToArchive,
}

/// The next window after `done_until`: it overlaps the last one and spans at most one
/// calendar month (Glassix's rule), up to `now`; `None` when there is nothing new to list.
pub fn next_window(
    done_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if done_until >= now {
        return None;
    }
    let since = done_until - OVERLAP;
    let month_later = since.checked_add_months(Months::new(1)).unwrap_or(now);
    Some((since, month_later.min(now)))
}

/// The open window's next page, or its first one (also when a `next` URL is too old).
fn page_to_fetch(window: &OpenWindow, now: DateTime<Utc>) -> ListPage {
    let fresh = window
        .next_issued_at
        .is_some_and(|issued| now - to_chrono(issued) < NEXT_PAGE_LIFETIME);
    match &window.next {
        Some(next) if fresh => ListPage::Next(next.clone()),
        _ => ListPage::First {
            since: to_chrono(window.since),
            until: to_chrono(window.until),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
            .single()
            .expect("date")
    }

    #[test]
    fn a_window_overlaps_the_last_and_spans_at_most_one_calendar_month() {
        let now = at(2024, 3, 20);
        let (since, until) = next_window(at(2024, 1, 31), now).expect("a window");
        assert_eq!(since, at(2024, 1, 31) - OVERLAP);
        // 30 January 23:00 plus one calendar month: 29 February (a leap year) 23:00.
        assert_eq!(until, at(2024, 3, 1) - OVERLAP, "one calendar month");
        let (_, last) = next_window(at(2024, 3, 10), now).expect("a window");
        assert_eq!(last, now);
        assert_eq!(next_window(now, now), None);
    }

    #[test]
    fn a_window_ending_now_is_caught_up_once_stored() {
        let now = Utc::now();
        let now = to_chrono(to_bson(now));
        let (_, until) = next_window(now - chrono::TimeDelta::minutes(5), now).expect("window");
        assert_eq!(next_window(to_chrono(to_bson(until)), now), None);
    }

    #[test]
    fn forty_days_of_catch_up_take_two_windows() {
        let now = at(2024, 3, 20);
        let mut done = now - chrono::TimeDelta::days(40) + OVERLAP;
        let mut windows = 0;
        while let Some((since, until)) = next_window(done, now) {
            assert!(until <= since.checked_add_months(Months::new(1)).expect("month"));
            windows += 1;
            done = until;
        }
        assert_eq!(windows, 2);
    }
}
