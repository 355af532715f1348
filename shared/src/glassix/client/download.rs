//! Downloading an attachment from its pre-signed link (an S3 URL Glassix hands out, valid for
//! a few hours): streamed to a file on disk while its SHA-256 is computed, so memory stays
//! bounded whatever the file's size. No Glassix token is sent: the link carries its own
//! signature.

use std::path::Path;

use http::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{Deadline, GlassixClient};

/// A file on disk, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
    pub content_type: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The link was refused (403, 401 or 400 from S3): most likely expired. A fresh GET of the
    /// ticket gives a new one.
    #[error("the download link was refused ({0}); it has probably expired")]
    LinkRefused(u16),
    #[error("the file is gone ({0})")]
    Gone(u16),
    /// 5xx, a connection cut mid-body, fewer bytes than announced, a timeout: try again later.
    #[error("the download failed: {0}")]
    Failed(String),
}

impl GlassixClient {
    /// Downloads `uri` into `to` (created or truncated) before `deadline`.
    pub async fn download(
        &self,
        uri: &str,
        to: &Path,
        deadline: Deadline,
    ) -> Result<Downloaded, DownloadError> {
        match tokio::time::timeout_at(deadline, self.download_unbounded(uri, to)).await {
            Ok(result) => result,
            Err(_) => Err(DownloadError::Failed("the deadline passed".into())),
        }
    }

    async fn download_unbounded(&self, uri: &str, to: &Path) -> Result<Downloaded, DownloadError> {
        let failed = |what: &str, error: &dyn std::fmt::Display| {
            DownloadError::Failed(format!("{what}: {error}"))
        };
        let mut response = self
            .http
            .get(uri)
            .send()
            .await
            .map_err(|e| failed("request", &without_url(e)))?;
        match response.status() {
            s if s.is_success() => {}
            s @ (StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST) => {
                return Err(DownloadError::LinkRefused(s.as_u16()));
            }
            s @ (StatusCode::NOT_FOUND | StatusCode::GONE) => {
                return Err(DownloadError::Gone(s.as_u16()));
            }
            s => return Err(DownloadError::Failed(format!("status {}", s.as_u16()))),
        }
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let mut file = tokio::fs::File::create(to)
            .await
            .map_err(|e| failed("temporary file", &e))?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| failed("body", &without_url(e)))?
        {
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk)
                .await
                .map_err(|e| failed("temporary file", &e))?;
        }
        // A body cut short of its Content-Length (or mid-chunk) is an error from `chunk()`:
        // hyper enforces the framing, so a truncated file never gets this far.
        file.flush()
            .await
            .map_err(|e| failed("temporary file", &e))?;
        Ok(Downloaded {
            size,
            sha256: hex::encode(hasher.finalize()),
            content_type,
        })
    }
}

/// A reqwest error without the URL it carries (a pre-signed link is a credential).
fn without_url(error: reqwest::Error) -> reqwest::Error {
    error.without_url()
}
