//! Where reconciliation stands: the end of the last window that is fully done, and the window
//! in progress with the page to fetch next. One document per reconciliation.

use mongodb::bson::{DateTime, doc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// The reconciliation of closed tickets (the only one so far).
pub const CLOSED_TICKETS: &str = "closed-tickets";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    #[serde(rename = "_id")]
    pub name: String,
    /// Every window up to here was listed to its last page and every ticket in it handled.
    pub done_until: DateTime,
    #[serde(default)]
    pub window: Option<OpenWindow>,
}

/// A window being listed, and where listing it resumes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenWindow {
    pub since: DateTime,
    pub until: DateTime,
    /// The `paging.next` URL of the last page handled; `None`: start at the first page.
    #[serde(default)]
    pub next: Option<String>,
    /// When `next` was handed out: Glassix honours it for 24 hours.
    #[serde(default)]
    pub next_issued_at: Option<DateTime>,
}

impl Store {
    pub async fn load_checkpoint(&self, name: &str) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self.checkpoints.find_one(doc! {"_id": name}).await?)
    }

    pub async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        self.checkpoints
            .replace_one(doc! {"_id": &checkpoint.name}, checkpoint)
            .upsert(true)
            .await?;
        Ok(())
    }
}
