//! Downloading an attachment from its pre-signed link (an S3 URL Glassix hands out, valid for
//! a few hours): streamed to a file on disk while its SHA-256 is computed, so memory stays
//! bounded whatever the file's size, and cut off past the size limit (`MAX_ATTACHMENT_MB`).
//! Only links the download rules allow are followed (`links`). No Glassix token is sent: the
//! link carries its own signature.

use std::path::Path;

use http::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::links::{self, Refused};
use super::{Deadline, GlassixClient};

/// The longest content type kept as sent; a longer one is no type a browser or S3 knows.
const MAX_CONTENT_TYPE_CHARS: usize = 127;

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
    /// The link, a redirect or the address it leads to is one the worker never downloads.
    #[error("{0}")]
    Refused(Refused),
    /// The body went on past the size limit.
    #[error("the file is larger than the limit of {limit_mb} MB (MAX_ATTACHMENT_MB)")]
    TooLarge { limit_mb: u64 },
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
        let link = url::Url::parse(uri)
            .map_err(|_| DownloadError::Refused(Refused("a link that is no URL")))?;
        self.downloads
            .check(&link)
            .map_err(DownloadError::Refused)?;
        let mut response = self
            .downloader()
            .map_err(|e| failed("HTTP client", &e))?
            .get(link)
            .send()
            .await
            .map_err(|e| match links::refusal(&e) {
                Some(refused) => DownloadError::Refused(refused),
                None => failed("request", &without_url(e)),
            })?;
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
        let content_type = usable_content_type(
            response
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
        );
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
            if size > self.download_limit {
                return Err(DownloadError::TooLarge {
                    limit_mb: self.download_limit / (1024 * 1024),
                });
            }
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

/// The content type as sent when it is one (`type/subtype`, parameters after `;`, printable
/// ASCII, at most 127 characters), else `application/octet-stream`: a file is never refused for
/// its label, which the archive keeps and the API serves (made inert there).
fn usable_content_type(sent: Option<&str>) -> String {
    let token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    let sent = sent.unwrap_or_default().trim();
    let essence = sent.split(';').next().unwrap_or_default().trim();
    let is_type = essence
        .split_once('/')
        .is_some_and(|(kind, subtype)| token(kind) && token(subtype));
    let printable = sent.bytes().all(|b| (b' '..=b'~').contains(&b));
    if is_type && printable && sent.len() <= MAX_CONTENT_TYPE_CHARS {
        sent.to_owned()
    } else {
        "application/octet-stream".to_owned()
    }
}

/// A reqwest error without the URL it carries (a pre-signed link is a credential).
fn without_url(error: reqwest::Error) -> reqwest::Error {
    error.without_url()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unusable_content_type_is_stored_as_octet_stream() {
        let long = format!("image/{}", "x".repeat(300));
        for (sent, kept) in [
            (Some("image/jpeg"), "image/jpeg"),
            (
                Some("text/plain; charset=windows-1255"),
                "text/plain; charset=windows-1255",
            ),
            (None, "application/octet-stream"),
            (Some(""), "application/octet-stream"),
            (Some(long.as_str()), "application/octet-stream"),
            (Some("jpeg"), "application/octet-stream"),
            (Some("image/"), "application/octet-stream"),
            (Some("image/jpeg\u{7f}"), "application/octet-stream"),
        ] {
            assert_eq!(usable_content_type(sent), kept, "{sent:?}");
        }
    }
}
