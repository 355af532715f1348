//! Attachment files: Glassix's scramble overwrites them and their links expire within hours,
//! so every attachment of every archived transaction is downloaded and kept in object storage
//! before the ticket may be scrambled. A file that cannot be fetched fails the job: the ticket
//! stays unscrambled and the job is retried (and, in the end, waits in the dead-letter queue).

use mongodb::bson::DateTime;

use super::Archiver;
use crate::db::{Attachment, StoredAttachment};
use crate::error::AppError;
use crate::files::attachment_key;
use crate::glassix::{Deadline, DownloadError, Ticket};
use crate::job::{within, within_deadline};

impl Archiver<'_> {
    /// Stores the file of every archived attachment that has none yet; returns how many were
    /// stored now. A file stored by an attempt that died before recording it is found in the
    /// store and recorded, not downloaded again.
    pub(super) async fn archive_attachments(
        &self,
        ticket: &Ticket,
        deadline: Deadline,
    ) -> Result<usize, AppError> {
        let ticket_id = ticket.id;
        let archived = within_deadline(deadline, self.store.attachments_of(ticket_id)).await?;
        let mut fresh: Option<Ticket> = None;
        let mut stored_now = 0;
        for (transaction_id, attachments) in archived {
            for (index, attachment) in attachments.iter().enumerate() {
                if attachment.stored.is_some() {
                    continue;
                }
                let key = attachment_key(ticket_id, transaction_id, &attachment.segment(index));
                let object = match within(deadline, "file store", self.files.head(&key)).await? {
                    Some(object) => object,
                    None => {
                        let file = File {
                            transaction_id,
                            index,
                            attachment,
                            key: &key,
                        };
                        self.fetch_and_store(ticket, &mut fresh, &file, deadline)
                            .await?
                    }
                };
                let stored = StoredAttachment {
                    key: key.clone(),
                    size: object.size,
                    sha256: object.sha256,
                    content_type: object.content_type,
                    stored_at: DateTime::now(),
                };
                within_deadline(
                    deadline,
                    self.store
                        .record_stored_attachment(ticket_id, transaction_id, index, &stored),
                )
                .await?;
                stored_now += 1;
                self.tally.file_stored(stored.size);
            }
        }
        if stored_now > 0 {
            tracing::info!(ticket_id, files = stored_now, "attachment files archived");
        }
        Ok(stored_now)
    }

    /// Downloads the file to a temporary file and stores it. A refused link (expired) is
    /// refreshed once by GETting the ticket again.
    async fn fetch_and_store(
        &self,
        ticket: &Ticket,
        fresh: &mut Option<Ticket>,
        file: &File<'_>,
        deadline: Deadline,
    ) -> Result<crate::files::StoredObject, AppError> {
        let ticket_id = ticket.id;
        let temporary = tempfile::NamedTempFile::new()
            .map_err(|e| AppError::Unavailable(format!("temporary file: {e}")))?;
        let mut source = fresh.as_ref().unwrap_or(ticket);
        let mut refreshed = fresh.is_some();
        let downloaded = loop {
            let uri = download_link(source, file)
                .ok_or_else(|| self.refused(ticket_id, "an attachment has no download link"))?;
            match self.glassix.download(uri, temporary.path(), deadline).await {
                Ok(downloaded) => break downloaded,
                Err(DownloadError::LinkRefused(status)) if !refreshed => {
                    tracing::info!(
                        ticket_id,
                        status,
                        "attachment link refused; fetching fresh links"
                    );
                    let again = self
                        .glassix
                        .get_ticket(ticket_id, deadline)
                        .await
                        .map_err(|e| AppError::glassix("get ticket", &e))?;
                    source = fresh.insert(again);
                    refreshed = true;
                }
                Err(error) => {
                    tracing::warn!(ticket_id, transaction_id = file.transaction_id, error = %error, "attachment download failed");
                    return Err(AppError::Unavailable(format!(
                        "attachment download: {error}"
                    )));
                }
            }
        };
        let stored = self.files.put_file(
            file.key,
            temporary.path(),
            &downloaded.content_type,
            &downloaded.sha256,
        );
        within(deadline, "file store", stored).await
    }
}

/// One archived attachment whose file is wanted.
struct File<'a> {
    transaction_id: i64,
    index: usize,
    attachment: &'a Attachment,
    key: &'a str,
}

/// The attachment's current link in Glassix's answer: by id, or by position when it has none.
fn download_link<'t>(ticket: &'t Ticket, file: &File<'_>) -> Option<&'t str> {
    let transaction = ticket
        .transactions()
        .iter()
        .find(|t| t.id == file.transaction_id)?;
    let attachment = match file.attachment.id {
        Some(id) => transaction.attachments.iter().find(|a| a.id == Some(id)),
        None => transaction.attachments.get(file.index),
    }?;
    attachment.uri.as_deref().filter(|uri| !uri.is_empty())
}
