//! Object storage for archived Glassix attachments: one interface, [`FileStore`], over an S3
//! bucket (production, `FILES_BUCKET`) and a local folder (development default, `FILES_DIR`,
//! else `.local/files`), so the archive job never branches on where files go.
//!
//! # Why `aws-sdk-s3` and not `object_store`
//!
//! The SDK streams a file from disk in one PutObject that carries the caller's SHA-256
//! (`x-amz-checksum-sha256`, the digest computed while downloading from Glassix), where
//! `object_store` takes a single PUT in memory and computes its own checksum; and it shares
//! `shared::aws`'s credential, region and endpoint chain with SQS and Secrets Manager.
//!
//! # Integrity
//!
//! `put_file` takes the hex SHA-256 the caller computed. Both stores hash the bytes while they
//! send or copy them and refuse a mismatch before anything becomes visible under the key: S3
//! through a request body that withholds the file's last chunk when the digest differs (the
//! PutObject never completes), the local folder by hashing while copying to a temporary file.
//! On S3 the same digest also goes out as `ChecksumSHA256`, which S3 itself verifies on receipt
//! (`BadDigest`). moto 5.2 stores that header without verifying it, so the tests exercise our
//! check, not S3's. Reads through [`FileStore::open`] are verified by the SDK against the stored
//! checksum.
//!
//! # Keys
//!
//! Keys hold ids only (file names are personal data): `tickets/{ticket}/{transaction}/{attachment}`.
//! Both stores accept the same keys: `/`-separated segments of ASCII letters, digits, `-`, `_`
//! and `.`, none empty and none starting with `.`, at most 1024 bytes, not ending in
//! `.meta.json` (the local store's sidecar). Errors therefore never quote keys, file names or
//! service messages: they name the operation and an error code or kind.

mod local;
mod s3;

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

pub(crate) use local::LocalFiles;
pub(crate) use s3::S3Files;

/// Where files go when neither `FILES_BUCKET` nor `FILES_DIR` is set: relative to the current
/// directory, git-ignored.
pub const DEFAULT_DIR: &str = ".local/files";

/// S3 refuses keys longer than 1024 bytes.
const MAX_KEY_LEN: usize = 1024;

/// The local store keeps `<file>.meta.json` next to each file; no key may end like that.
const META_SUFFIX: &str = ".meta.json";

/// Presigned S3 URLs live at most 7 days (SigV4's limit).
const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// What is known of a stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub size: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    pub content_type: String,
}

/// Attachment files in an S3 bucket or a local folder. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FileStore(Backend);

#[derive(Debug, Clone)]
enum Backend {
    S3(S3Files),
    Local(LocalFiles),
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// An S3 call failed; `reason` is the error kind or the service's error code, never its
    /// message (which may quote the request).
    #[error("S3 {operation} failed: {reason}")]
    S3 {
        operation: &'static str,
        reason: String,
        transient: bool,
    },
    /// A file system call of the local store failed.
    #[error("local file store: {operation} failed: {kind}")]
    Local {
        operation: &'static str,
        kind: std::io::ErrorKind,
    },
    /// The file handed to `put_file` could not be read.
    #[error("the file to store could not be read: {0}")]
    Source(std::io::ErrorKind),
    /// The bytes do not have the SHA-256 the caller gave; nothing was stored under the key
    /// (an object stored there before is left as it was).
    #[error("the file's SHA-256 is not the digest given; it was not stored")]
    ChecksumMismatch,
    #[error("invalid object key: {0}")]
    InvalidKey(&'static str),
    #[error("invalid SHA-256: expected 64 hexadecimal digits")]
    InvalidDigest,
    #[error("invalid content type: expected printable ASCII")]
    InvalidContentType,
    #[error("a download link lives between 1 second and 7 days")]
    InvalidTtl,
    /// The object exists but what it says of itself (size, digest, type) is missing or
    /// unreadable.
    #[error("the stored object's metadata is missing or unreadable: {0}")]
    BadMetadata(&'static str),
}

impl FileError {
    /// Whether trying again later may succeed (a timeout, a dropped connection, S3 throttling or
    /// a 5xx), as opposed to a fault that repeats (bad input, missing permission or bucket).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::S3 { transient, .. } => *transient,
            Self::Local { kind, .. } | Self::Source(kind) => matches!(
                kind,
                std::io::ErrorKind::Interrupted
                    | std::io::ErrorKind::TimedOut
                    | std::io::ErrorKind::WouldBlock
            ),
            _ => false,
        }
    }
}

impl FileStore {
    /// From configuration: the bucket when `FILES_BUCKET` is set, else the folder `FILES_DIR`
    /// (default: [`DEFAULT_DIR`] under the current directory).
    ///
    /// The S3 client comes from the AWS environment (`crate::aws::sdk_config`); with an
    /// endpoint override (`AWS_ENDPOINT_URL`, i.e. moto) it addresses buckets by path instead
    /// of by host name.
    pub async fn from_config(config: &crate::config::Config) -> Self {
        match &config.files_bucket {
            Some(bucket) => Self(Backend::S3(S3Files::from_env(bucket.clone()).await)),
            None => Self::local(config.files_dir.as_deref().unwrap_or(DEFAULT_DIR)),
        }
    }

    /// A bucket through this client (which must address buckets by path for moto:
    /// `force_path_style(true)`).
    pub fn s3(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self(Backend::S3(S3Files::new(client, bucket.into())))
    }

    /// A folder, created on first store.
    pub fn local(root: impl Into<PathBuf>) -> Self {
        Self(Backend::Local(LocalFiles::new(root.into())))
    }

    /// Where files go, for a startup log line: `S3 bucket <name>` or `local folder <path>`.
    pub fn describe(&self) -> String {
        match &self.0 {
            Backend::S3(s3) => format!("S3 bucket {}", s3.bucket()),
            Backend::Local(local) => format!("local folder {}", local.root().display()),
        }
    }

    /// Stores the file at `path` under `key`, streamed from disk (never read whole into
    /// memory). `sha256` is the hex digest the caller computed while downloading; the bytes are
    /// hashed again on the way and a mismatch is refused with [`FileError::ChecksumMismatch`]
    /// before anything is visible under the key. Idempotent: storing the same key again
    /// replaces the object.
    pub async fn put_file(
        &self,
        key: &str,
        path: &Path,
        content_type: &str,
        sha256: &str,
    ) -> Result<StoredObject, FileError> {
        check_key(key)?;
        check_content_type(content_type)?;
        let digest = parse_sha256(sha256)?;
        match &self.0 {
            Backend::S3(s3) => s3.put_file(key, path, content_type, &digest).await,
            Backend::Local(local) => local.put_file(key, path, content_type, &digest).await,
        }
    }

    /// `None` when no object is stored under `key`.
    pub async fn head(&self, key: &str) -> Result<Option<StoredObject>, FileError> {
        check_key(key)?;
        match &self.0 {
            Backend::S3(s3) => s3.head(key).await,
            Backend::Local(local) => local.head(key).await,
        }
    }

    /// A URL valid for `ttl` (1 s to 7 days) that downloads the object with
    /// `Content-Disposition: `[`attachment_disposition`]`(file_name)` and `content_type`;
    /// `None` where the store cannot sign (local: serve [`FileStore::open`] instead). The URL is
    /// signed offline: it does not check that the object exists. On Lambda it also stops working
    /// when the function's session credentials expire, whichever comes first.
    pub async fn presigned_download(
        &self,
        key: &str,
        file_name: &str,
        content_type: &str,
        ttl: Duration,
    ) -> Result<Option<String>, FileError> {
        check_key(key)?;
        check_content_type(content_type)?;
        if ttl < Duration::from_secs(1) || ttl > MAX_TTL {
            return Err(FileError::InvalidTtl);
        }
        match &self.0 {
            Backend::S3(s3) => s3
                .presigned_download(key, &attachment_disposition(file_name), content_type, ttl)
                .await
                .map(Some),
            Backend::Local(_) => Ok(None),
        }
    }

    /// The object and its bytes as a stream of chunks; `None` when missing.
    pub async fn open(&self, key: &str) -> Result<Option<(StoredObject, FileBody)>, FileError> {
        check_key(key)?;
        match &self.0 {
            Backend::S3(s3) => s3.open(key).await,
            Backend::Local(local) => local.open(key).await,
        }
    }

    /// Deletes the object `key` (nothing when there is none). Idempotent.
    pub async fn delete(&self, key: &str) -> Result<(), FileError> {
        check_key(key)?;
        match &self.0 {
            Backend::S3(s3) => s3.delete(key).await,
            Backend::Local(local) => local.delete(key).await,
        }
    }

    /// Deletes every object whose key starts with `prefix`, which must end with `/`
    /// (`tickets/48213977/`: a whole folder, never a partial id such as `tickets/4821`) and may
    /// not be empty. Returns how many objects were deleted. Idempotent.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<u64, FileError> {
        check_prefix(prefix)?;
        match &self.0 {
            Backend::S3(s3) => s3.delete_prefix(prefix).await,
            Backend::Local(local) => local.delete_prefix(prefix).await,
        }
    }

    #[cfg(feature = "testing")]
    pub(crate) fn backend_s3(&self) -> Option<&S3Files> {
        match &self.0 {
            Backend::S3(s3) => Some(s3),
            Backend::Local(_) => None,
        }
    }

    #[cfg(feature = "testing")]
    pub(crate) fn backend_local(&self) -> Option<&LocalFiles> {
        match &self.0 {
            Backend::Local(local) => Some(local),
            Backend::S3(_) => None,
        }
    }
}

/// The bytes of a stored object, chunk by chunk (S3: as they arrive, checked against the stored
/// SHA-256 at the end; local: 64 KiB reads of the file).
pub struct FileBody(BodyInner);

enum BodyInner {
    S3(aws_sdk_s3::primitives::ByteStream),
    Local(tokio::fs::File),
}

impl std::fmt::Debug for FileBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            BodyInner::S3(_) => "FileBody(S3)",
            BodyInner::Local(_) => "FileBody(Local)",
        })
    }
}

impl FileBody {
    /// The next chunk; `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, FileError> {
        match &mut self.0 {
            BodyInner::S3(stream) => s3::next_chunk(stream).await,
            BodyInner::Local(file) => local::next_chunk(file).await,
        }
    }

    /// Every remaining byte in memory: for tests and small files only.
    pub async fn into_vec(mut self) -> Result<Vec<u8>, FileError> {
        let mut all = Vec::new();
        while let Some(chunk) = self.next_chunk().await? {
            all.extend_from_slice(&chunk);
        }
        Ok(all)
    }

    /// The chunks as a `Stream`, ending after the first error.
    pub fn into_stream(self) -> Pin<Box<dyn Stream<Item = Result<Bytes, FileError>> + Send>> {
        Box::pin(futures_util::stream::unfold(
            Some(self),
            |body| async move {
                let mut body = body?;
                match body.next_chunk().await {
                    Ok(Some(chunk)) => Some((Ok(chunk), Some(body))),
                    Ok(None) => None,
                    Err(error) => Some((Err(error), None)),
                }
            },
        ))
    }
}

/// The key of an attachment: `tickets/{ticket_id}/{transaction_id}/{attachment}`, where
/// `attachment` is the attachment id as text (`Attachment::segment`). Keys hold ids only, no
/// file names: those are personal data.
pub fn attachment_key(ticket_id: i64, transaction_id: i64, attachment: &str) -> String {
    format!("{}{transaction_id}/{attachment}", ticket_prefix(ticket_id))
}

/// The prefix of every file of a ticket: `tickets/{ticket_id}/`.
pub fn ticket_prefix(ticket_id: i64) -> String {
    format!("tickets/{ticket_id}/")
}

/// RFC 5987 `attr-char`: everything else is percent-encoded in `filename*`.
const ATTR_CHAR_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// The content type an archived file is served with: its own when it is on a short list of
/// types a browser only displays (raster images, PDF, audio, video, plain text), else
/// `application/octet-stream`. A file is whatever a stranger attached to a conversation: HTML,
/// SVG or anything a browser would run must never be served as itself from our origin.
pub fn served_content_type(stored: &str) -> &str {
    const INERT: [&str; 9] = [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/avif",
        "image/tiff",
        "application/pdf",
        "text/plain",
    ];
    let essence = stored.split(';').next().unwrap_or_default().trim();
    let inert = INERT.iter().any(|t| essence.eq_ignore_ascii_case(t))
        || ["audio/", "video/"].iter().any(|family| {
            essence.len() > family.len()
                && essence.is_char_boundary(family.len())
                && essence[..family.len()].eq_ignore_ascii_case(family)
        });
    if inert {
        stored
    } else {
        "application/octet-stream"
    }
}

/// `attachment; filename*=UTF-8''<percent-encoded name>` (RFC 6266 with RFC 5987 encoding),
/// which every current browser decodes, whatever the script of the name; plain `attachment`
/// for an empty name. Also what a local route should send when it serves [`FileStore::open`].
pub fn attachment_disposition(file_name: &str) -> String {
    if file_name.is_empty() {
        return "attachment".to_owned();
    }
    format!(
        "attachment; filename*=UTF-8''{}",
        utf8_percent_encode(file_name, ATTR_CHAR_ENCODE)
    )
}

fn check_key(key: &str) -> Result<(), FileError> {
    if key.is_empty() {
        return Err(FileError::InvalidKey("the key is empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(FileError::InvalidKey("the key is longer than 1024 bytes"));
    }
    if key.ends_with(META_SUFFIX) {
        return Err(FileError::InvalidKey("the key ends in .meta.json"));
    }
    check_segments(key)
}

fn check_prefix(prefix: &str) -> Result<(), FileError> {
    let Some(folder) = prefix.strip_suffix('/') else {
        return Err(FileError::InvalidKey("a prefix must end with /"));
    };
    if folder.is_empty() {
        return Err(FileError::InvalidKey("a prefix must name a folder"));
    }
    if prefix.len() > MAX_KEY_LEN {
        return Err(FileError::InvalidKey(
            "the prefix is longer than 1024 bytes",
        ));
    }
    check_segments(folder)
}

fn check_segments(path: &str) -> Result<(), FileError> {
    for segment in path.split('/') {
        if segment.is_empty() {
            return Err(FileError::InvalidKey(
                "a segment is empty (leading, trailing or double /)",
            ));
        }
        if segment.starts_with('.') {
            return Err(FileError::InvalidKey(
                "a segment starts with . (including . and ..)",
            ));
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(FileError::InvalidKey(
                "a segment holds characters other than ASCII letters, digits, - _ .",
            ));
        }
    }
    Ok(())
}

fn check_content_type(content_type: &str) -> Result<(), FileError> {
    if content_type.is_empty()
        || content_type.len() > 255
        || !content_type
            .bytes()
            .all(|b| b == b' ' || b.is_ascii_graphic())
    {
        return Err(FileError::InvalidContentType);
    }
    Ok(())
}

/// A SHA-256 as bytes, from hex of either case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub(crate) fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

fn parse_sha256(text: &str) -> Result<Sha256Digest, FileError> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text, &mut bytes).map_err(|_| FileError::InvalidDigest)?;
    Ok(Sha256Digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attachment_key_is_ids_under_the_tickets_prefix() {
        assert_eq!(
            attachment_key(48_213_977, 90_112_334, "7781204"),
            "tickets/48213977/90112334/7781204"
        );
        assert_eq!(attachment_key(1, 2, "n3"), "tickets/1/2/n3");
        assert!(attachment_key(48_213_977, 5, "7").starts_with(&ticket_prefix(48_213_977)));
        assert_eq!(ticket_prefix(48_213_977), "tickets/48213977/");
        check_key(&attachment_key(i64::MAX, i64::MIN, "n0")).expect("a valid key");
        check_prefix(&ticket_prefix(i64::MIN)).expect("a valid prefix");
    }

    #[test]
    fn keys_that_could_leave_the_folder_or_hide_a_name_are_refused() {
        for key in [
            "",
            "/tickets/1/2/3",
            "tickets/1/2/3/",
            "tickets//2/3",
            "tickets/../3",
            "tickets/1/..",
            "..",
            "tickets/./3",
            "tickets/1/2/.hidden",
            "tickets/1/2/3.meta.json",
            "tickets/1/2/קבלה.jpg",
            "tickets/1/2/receipt march.jpg",
            "tickets\\1",
            "tickets/1/2/a%2F..",
        ] {
            let error = check_key(key).expect_err(key);
            assert!(
                matches!(error, FileError::InvalidKey(_)),
                "{key}: {error:?}"
            );
        }
        assert!(check_key(&"a".repeat(1025)).is_err());
        check_key(&"a".repeat(1024)).expect("1024 bytes are allowed");
        check_key("tickets/1/2/v1.2_x-y").expect("dots inside a segment are fine");
    }

    #[test]
    fn a_prefix_is_a_whole_folder() {
        check_prefix("tickets/48213977/").expect("a ticket folder");
        check_prefix("tickets/").expect("every ticket, if ever needed");
        for prefix in ["", "/", "tickets/4821", "tickets//", "../", "tickets/../"] {
            assert!(check_prefix(prefix).is_err(), "{prefix}");
        }
    }

    #[test]
    fn the_disposition_encodes_any_name_per_rfc_5987() {
        assert_eq!(
            attachment_disposition("קבלה מרץ 2024.jpg"),
            "attachment; filename*=UTF-8''%D7%A7%D7%91%D7%9C%D7%94%20%D7%9E%D7%A8%D7%A5%202024.jpg"
        );
        assert_eq!(
            attachment_disposition(r#"a"b;c\d/e'f(1)%.pdf"#),
            "attachment; filename*=UTF-8''a%22b%3Bc%5Cd%2Fe%27f%281%29%25.pdf"
        );
        assert_eq!(
            attachment_disposition("ok-name_1.2~!#$&+^`|.txt"),
            "attachment; filename*=UTF-8''ok-name_1.2~!#$&+^`|.txt"
        );
        assert_eq!(
            attachment_disposition("\r\n"),
            "attachment; filename*=UTF-8''%0D%0A"
        );
        assert_eq!(attachment_disposition(""), "attachment");
    }

    #[test]
    fn a_digest_is_64_hex_digits_of_either_case() {
        let lower = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let digest = parse_sha256(lower).expect("lowercase");
        assert_eq!(digest.hex(), lower);
        assert_eq!(
            parse_sha256(&lower.to_uppercase()).expect("uppercase"),
            digest
        );
        for bad in ["", "e3b0", &format!("{lower}00"), &lower.replace('e', "g")] {
            assert!(
                matches!(parse_sha256(bad), Err(FileError::InvalidDigest)),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_content_type_is_printable_ascii() {
        check_content_type("image/jpeg").expect("plain");
        check_content_type("text/plain; charset=utf-8").expect("with a parameter");
        for bad in [
            "",
            "image/jpeg\r\nX-Evil: 1",
            "תמונה/jpeg",
            &"a".repeat(256),
        ] {
            assert!(check_content_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_timeouts_and_service_hiccups_are_transient() {
        let s3 = |transient| FileError::S3 {
            operation: "PutObject",
            reason: "service error SlowDown".into(),
            transient,
        };
        assert!(s3(true).is_transient());
        assert!(!s3(false).is_transient());
        assert!(
            FileError::Local {
                operation: "write",
                kind: std::io::ErrorKind::TimedOut
            }
            .is_transient()
        );
        assert!(!FileError::Source(std::io::ErrorKind::NotFound).is_transient());
        assert!(!FileError::ChecksumMismatch.is_transient());
    }
}
