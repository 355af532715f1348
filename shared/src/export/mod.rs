//! A client's data export (GDPR Art. 15 and 20): everything the archive holds about one client,
//! in one ZIP a person can open. `request-client-export` records it and queues a job on the
//! export queue; `export-worker` builds the ZIP ([`build`]) and stores it; `get-export` and
//! `download-export` show and hand it out until it expires.

pub mod build;
pub mod paths;
pub mod transcript;
pub mod worker;

use chrono::{DateTime, Utc};
use mongodb::bson::oid::ObjectId;
use serde::{Deserialize, Serialize};

use crate::dates::to_chrono;
use crate::db::{ExportDoc, ExportStatus};
use crate::queue::QueueJob;

/// The message body of one export job: `{"exportId": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportJob {
    pub export_id: String,
}

impl QueueJob for ExportJob {
    /// Each export is its own group: exports never wait for each other.
    fn group(&self) -> String {
        format!("export-{}", self.export_id)
    }

    /// An export is queued once, when it is requested: its id is its deduplication id.
    fn deduplication_id(&self, _delivery: &[u8]) -> String {
        self.group()
    }

    fn body(&self) -> String {
        serde_json::to_string(self).expect("a struct of one string always serialises")
    }
}

/// A new export id: an ObjectId's 24 hexadecimal digits (not guessable from another's, and a
/// valid segment of a store key).
pub fn new_export_id() -> String {
    ObjectId::new().to_hex()
}

/// Whether `raw` can be an export id; anything else is a 404 without a database read.
pub fn is_export_id(raw: &str) -> bool {
    raw.len() == 24
        && raw
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The export the request's `exportId` names: 404 for an unknown one, and without a database
/// read for anything that cannot be an export id.
pub async fn requested_export(
    store: &crate::db::Store,
    request: &lambda_http::Request,
) -> Result<ExportDoc, crate::error::AppError> {
    let export_id = crate::request::path_param(request, "exportId")?;
    let not_found = || crate::error::AppError::not_found("export");
    if !is_export_id(&export_id) {
        return Err(not_found());
    }
    store.get_export(&export_id).await?.ok_or_else(not_found)
}

/// An export as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportView {
    pub export_id: String,
    pub client_identifier: String,
    pub status: ExportStatus,
    pub created_at: DateTime<Utc>,
    pub ready_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub size_bytes: Option<u64>,
    pub sha256: Option<String>,
    pub tickets: Option<u64>,
    pub files: Option<u64>,
    /// Why a failed export failed.
    pub failure: Option<String>,
    /// Where the ZIP is downloaded from, once ready.
    pub file: Option<String>,
}

impl From<ExportDoc> for ExportView {
    fn from(export: ExportDoc) -> Self {
        let file = (export.status == ExportStatus::Ready)
            .then(|| format!("/exports/{}/file", export.export_id));
        Self {
            export_id: export.export_id,
            client_identifier: export.client_identifier,
            status: export.status,
            created_at: to_chrono(export.created_at),
            ready_at: export.ready_at.map(to_chrono),
            expires_at: to_chrono(export.expires_at),
            size_bytes: export.size_bytes,
            sha256: export.sha256,
            tickets: export.tickets,
            files: export.files,
            failure: export.failure,
            file,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_job_is_its_own_group_and_deduplicated_by_its_id() {
        let job = ExportJob {
            export_id: new_export_id(),
        };
        assert!(is_export_id(&job.export_id), "{}", job.export_id);
        assert_eq!(job.group(), format!("export-{}", job.export_id));
        assert_eq!(job.deduplication_id(b"one"), job.deduplication_id(b"two"));
        assert_eq!(
            crate::queue::parse_job::<ExportJob>(&job.body()).expect("round trip"),
            job
        );
    }

    #[test]
    fn only_24_lowercase_hex_digits_are_an_export_id() {
        assert!(!is_export_id("65F0C0FFEE0000000000ABCD"));
        assert!(!is_export_id("../../tickets/1"));
        assert!(!is_export_id(""));
        assert!(is_export_id("65f0c0ffee0000000000abcd"));
    }
}
