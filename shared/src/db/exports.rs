//! The data-subject exports: one record per requested export, from `pending` to `ready` (its
//! file stored) or `failed`. The record is the export's only state; the worker moves it on
//! with updates conditional on `pending`, so a job delivered twice changes nothing the second
//! time.

use futures_util::TryStreamExt;
use mongodb::bson::{DateTime, doc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

pub const EXPORTS: &str = "exports";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportStatus {
    Pending,
    Ready,
    Failed,
}

/// One export as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportDoc {
    #[serde(rename = "_id")]
    pub export_id: String,
    pub client_identifier: String,
    pub status: ExportStatus,
    pub created_at: DateTime,
    #[serde(default)]
    pub ready_at: Option<DateTime>,
    /// From then on the file is gone (410): counted from the request while pending, from
    /// `ready_at` once the file is stored (as the bucket's lifecycle rule counts).
    pub expires_at: DateTime,
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// Hex SHA-256 of the ZIP.
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub tickets: Option<u64>,
    #[serde(default)]
    pub files: Option<u64>,
    /// The name of the token that asked for it.
    pub requested_by: String,
    /// Why a failed export failed: a fixed phrase, never data.
    #[serde(default)]
    pub failure: Option<String>,
}

/// What a finished build stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    pub size_bytes: u64,
    pub sha256: String,
    pub tickets: u64,
    pub files: u64,
}

impl Store {
    fn exports(&self) -> mongodb::Collection<ExportDoc> {
        self.database().collection(EXPORTS)
    }

    pub async fn create_export(&self, export: &ExportDoc) -> Result<(), StoreError> {
        self.exports().insert_one(export).await?;
        Ok(())
    }

    pub async fn get_export(&self, export_id: &str) -> Result<Option<ExportDoc>, StoreError> {
        Ok(self.exports().find_one(doc! {"_id": export_id}).await?)
    }

    /// `pending` → `ready`; false when the export was not pending (another delivery of the
    /// job finished it first).
    pub async fn mark_export_ready(
        &self,
        export_id: &str,
        file: &ExportFile,
        ready_at: DateTime,
        expires_at: DateTime,
    ) -> Result<bool, StoreError> {
        let updated = self
            .exports()
            .update_one(
                doc! {"_id": export_id, "status": "pending"},
                doc! {"$set": {
                    "status": "ready",
                    "readyAt": ready_at,
                    "expiresAt": expires_at,
                    "sizeBytes": file.size_bytes as i64,
                    "sha256": &file.sha256,
                    "tickets": file.tickets as i64,
                    "files": file.files as i64,
                }},
            )
            .await?;
        Ok(updated.modified_count == 1)
    }

    /// `pending` → `failed`, with why.
    pub async fn mark_export_failed(
        &self,
        export_id: &str,
        failure: &str,
    ) -> Result<bool, StoreError> {
        let updated = self
            .exports()
            .update_one(
                doc! {"_id": export_id, "status": "pending"},
                doc! {"$set": {"status": "failed", "failure": failure}},
            )
            .await?;
        Ok(updated.modified_count == 1)
    }

    /// Exports whose time has passed, oldest first, at most `limit`.
    pub async fn expired_exports(
        &self,
        now: DateTime,
        limit: i64,
    ) -> Result<Vec<ExportDoc>, StoreError> {
        Ok(self
            .exports()
            .find(doc! {"expiresAt": {"$lte": now}})
            .sort(doc! {"expiresAt": 1})
            .limit(limit)
            .await?
            .try_collect()
            .await?)
    }

    /// Every export of a client, whatever its status.
    pub async fn client_exports(&self, identifier: &str) -> Result<Vec<ExportDoc>, StoreError> {
        Ok(self
            .exports()
            .find(doc! {"clientIdentifier": identifier})
            .await?
            .try_collect()
            .await?)
    }

    pub async fn delete_export(&self, export_id: &str) -> Result<(), StoreError> {
        self.exports().delete_one(doc! {"_id": export_id}).await?;
        Ok(())
    }

    pub(super) async fn ensure_export_indexes(&self) -> Result<(), StoreError> {
        for keys in [doc! {"expiresAt": 1}, doc! {"clientIdentifier": 1}] {
            self.exports()
                .create_index(super::index(keys, false))
                .await?;
        }
        Ok(())
    }
}
