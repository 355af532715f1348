//! The S3 side of [`super::FileStore`].

use std::collections::HashMap;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::{ByteStream, Length, SdkBody};
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, Delete, ObjectIdentifier};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use sha2::{Digest, Sha256};

use super::{BodyInner, FileBody, FileError, Sha256Digest, StoredObject};

/// The user metadata (`x-amz-meta-sha256`) that keeps the hex digest, so `head` can return it.
const SHA256_METADATA: &str = "sha256";

/// A request for the object `key` of this store's bucket, asking S3 for its SHA-256 (checked
/// against the bytes on a GET).
macro_rules! checked_object {
    ($store:ident, $operation:ident, $key:expr) => {
        $store
            .client
            .$operation()
            .bucket(&$store.bucket)
            .key($key)
            .checksum_mode(ChecksumMode::Enabled)
    };
}

/// SHA-256 of no bytes.
const EMPTY_SHA256: [u8; 32] = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

#[derive(Debug, Clone)]
pub(crate) struct S3Files {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Files {
    pub(crate) fn new(client: aws_sdk_s3::Client, bucket: String) -> Self {
        Self { client, bucket }
    }

    /// The client of the AWS environment. An endpoint override (`AWS_ENDPOINT_URL`: moto)
    /// gets path-style addressing, since `<bucket>.127.0.0.1` resolves nowhere.
    pub(crate) async fn from_env(bucket: String) -> Self {
        let sdk = crate::aws::sdk_config().await;
        let overridden = sdk.endpoint_url().is_some();
        let config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(overridden)
            .build();
        Self::new(aws_sdk_s3::Client::from_conf(config), bucket)
    }

    pub(crate) fn bucket(&self) -> &str {
        &self.bucket
    }

    #[cfg(feature = "testing")]
    pub(crate) fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    pub(crate) async fn put_file(
        &self,
        key: &str,
        path: &Path,
        content_type: &str,
        digest: &Sha256Digest,
    ) -> Result<StoredObject, FileError> {
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| FileError::Source(e.kind()))?
            .len();
        // An empty body has no last chunk to withhold: compare before sending.
        if size == 0 && digest.bytes() != &EMPTY_SHA256 {
            return Err(FileError::ChecksumMismatch);
        }
        let file = ByteStream::read_from()
            .path(path)
            .length(Length::Exact(size))
            .build()
            .await
            .map_err(|e| FileError::Source(byte_stream_error_kind(&e)))?;
        let mismatch = Arc::new(AtomicBool::new(false));
        let expected = *digest.bytes();
        let flag = Arc::clone(&mismatch);
        // `map` keeps the body retryable: each attempt reopens the file and hashes afresh.
        let body = file.into_inner().map(move |inner| {
            SdkBody::from_body_1_x(VerifyingBody {
                inner,
                hasher: Sha256::new(),
                remaining: size,
                expected,
                mismatch: Arc::clone(&flag),
            })
        });
        let sent = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::new(body))
            .content_length(i64::try_from(size).unwrap_or(i64::MAX))
            .content_type(content_type)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(BASE64.encode(expected))
            .metadata(SHA256_METADATA, digest.hex())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(StoredObject {
                size,
                sha256: digest.hex(),
                content_type: content_type.to_owned(),
            }),
            Err(_) if mismatch.load(Ordering::Acquire) => Err(FileError::ChecksumMismatch),
            Err(e) => Err(s3_error("PutObject", &e)),
        }
    }

    pub(crate) async fn head(&self, key: &str) -> Result<Option<StoredObject>, FileError> {
        let output = checked_object!(self, head_object, key).send().await;
        match output {
            Ok(head) => describe(&head).map(Some),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(e) => Err(s3_error("HeadObject", &e)),
        }
    }

    pub(crate) async fn presigned_download(
        &self,
        key: &str,
        disposition: &str,
        content_type: &str,
        ttl: Duration,
    ) -> Result<String, FileError> {
        let config = PresigningConfig::expires_in(ttl).map_err(|_| FileError::InvalidTtl)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(disposition)
            .response_content_type(content_type)
            .presigned(config)
            .await
            .map_err(|e| s3_error("GetObject (presign)", &e))?;
        Ok(request.uri().to_owned())
    }

    pub(crate) async fn open(
        &self,
        key: &str,
    ) -> Result<Option<(StoredObject, FileBody)>, FileError> {
        // The SDK checks the streamed bytes against the stored SHA-256.
        let output = checked_object!(self, get_object, key).send().await;
        match output {
            Ok(mut object) => {
                let stored = describe(&object)?;
                let body = std::mem::take(&mut object.body);
                Ok(Some((stored, FileBody(BodyInner::S3(body)))))
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(e) => Err(s3_error("GetObject", &e)),
        }
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), FileError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| s3_error("DeleteObject", &e))?;
        Ok(())
    }

    /// One ListObjectsV2 page (up to 1000 keys) at a time, each deleted with one DeleteObjects
    /// (whose limit is also 1000). Continuation tokens name the last key listed, so deleting
    /// what was listed does not disturb the listing.
    pub(crate) async fn delete_prefix(&self, prefix: &str) -> Result<u64, FileError> {
        let mut deleted = 0u64;
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| s3_error("ListObjectsV2", &e))?;
            let objects = page
                .contents()
                .iter()
                .filter_map(|object| object.key())
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| FileError::S3 {
                    operation: "DeleteObjects",
                    reason: "an object identifier could not be built".into(),
                    transient: false,
                })?;
            for batch in objects.chunks(1000) {
                let delete = Delete::builder()
                    .set_objects(Some(batch.to_vec()))
                    .quiet(true)
                    .build()
                    .map_err(|_| FileError::S3 {
                        operation: "DeleteObjects",
                        reason: "the request could not be built".into(),
                        transient: false,
                    })?;
                let output = self
                    .client
                    .delete_objects()
                    .bucket(&self.bucket)
                    .delete(delete)
                    .send()
                    .await
                    .map_err(|e| s3_error("DeleteObjects", &e))?;
                // Quiet mode lists only the failures; each has its own code (AccessDenied, ...).
                if let Some(first) = output.errors().first() {
                    return Err(FileError::S3 {
                        operation: "DeleteObjects",
                        reason: format!(
                            "{} of {} objects not deleted, first: {}",
                            output.errors().len(),
                            batch.len(),
                            first.code().unwrap_or("without an error code")
                        ),
                        transient: first
                            .code()
                            .is_some_and(|code| matches!(code, "InternalError" | "SlowDown")),
                    });
                }
                deleted += batch.len() as u64;
            }
        }
        Ok(deleted)
    }
}

pub(super) async fn next_chunk(stream: &mut ByteStream) -> Result<Option<Bytes>, FileError> {
    match stream.next().await {
        None => Ok(None),
        Some(Ok(chunk)) => Ok(Some(chunk)),
        Some(Err(e)) => Err(FileError::S3 {
            operation: "GetObject",
            reason: format!("the body could not be read: {}", error_chain(&e)),
            transient: true,
        }),
    }
}

/// A stored object as HeadObject / GetObject describe it. The digest is the `sha256` metadata
/// `put_file` writes, else the object's full SHA-256 checksum (an object uploaded by other
/// means with `--checksum-algorithm SHA256`).
/// What S3 says of an object, in the answer of a HEAD or a GET.
trait ObjectHead {
    fn content_length(&self) -> Option<i64>;
    fn content_type(&self) -> Option<&str>;
    fn metadata(&self) -> Option<&HashMap<String, String>>;
    fn checksum_sha256(&self) -> Option<&str>;
}

macro_rules! object_head {
    ($($output:ty),*) => {$(
        impl ObjectHead for $output {
            fn content_length(&self) -> Option<i64> {
                self.content_length()
            }
            fn content_type(&self) -> Option<&str> {
                self.content_type()
            }
            fn metadata(&self) -> Option<&HashMap<String, String>> {
                self.metadata()
            }
            fn checksum_sha256(&self) -> Option<&str> {
                self.checksum_sha256()
            }
        }
    )*};
}

object_head!(
    aws_sdk_s3::operation::head_object::HeadObjectOutput,
    aws_sdk_s3::operation::get_object::GetObjectOutput
);

fn describe(object: &impl ObjectHead) -> Result<StoredObject, FileError> {
    let (size, content_type, metadata, checksum_sha256) = (
        object.content_length(),
        object.content_type(),
        object.metadata(),
        object.checksum_sha256(),
    );
    let size = size
        .and_then(|size| u64::try_from(size).ok())
        .ok_or(FileError::BadMetadata("no content length"))?;
    let from_metadata = metadata
        .and_then(|metadata| metadata.get(SHA256_METADATA))
        .map(|hex| hex.to_ascii_lowercase())
        .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    let from_checksum = || {
        checksum_sha256
            .and_then(|b64| BASE64.decode(b64).ok())
            .filter(|bytes| bytes.len() == 32)
            .map(hex::encode)
    };
    let sha256 = from_metadata
        .or_else(from_checksum)
        .ok_or(FileError::BadMetadata("no SHA-256"))?;
    Ok(StoredObject {
        size,
        sha256,
        content_type: content_type
            .unwrap_or("application/octet-stream")
            .to_owned(),
    })
}

/// The file's bytes, hashed on their way to S3. The chunk that completes the file is released
/// only if the digest matches; otherwise the body fails, the request is cut short of its
/// `Content-Length`, and S3 (or moto) stores nothing.
struct VerifyingBody {
    inner: SdkBody,
    hasher: Sha256,
    remaining: u64,
    expected: [u8; 32],
    mismatch: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
#[error("the file's SHA-256 is not the digest given")]
struct DigestMismatch;

impl VerifyingBody {
    fn refuse(&self) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.mismatch.store(true, Ordering::Release);
        Poll::Ready(Some(Err(Box::new(DigestMismatch))))
    }
}

/// The error type of [`SdkBody`] (`aws_smithy_types::body::Error`).
type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Body for VerifyingBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    let len = data.len() as u64;
                    if len > this.remaining {
                        // The file grew since its size was taken.
                        return this.refuse();
                    }
                    this.hasher.update(data);
                    this.remaining -= len;
                    if this.remaining == 0 && len > 0 {
                        let digest = std::mem::take(&mut this.hasher).finalize();
                        if digest.as_slice() != this.expected {
                            return this.refuse();
                        }
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(e)) => Poll::Ready(Some(Err(e))),
            // The file shrank since its size was taken.
            None if this.remaining > 0 => this.refuse(),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn byte_stream_error_kind(error: &aws_sdk_s3::primitives::ByteStreamError) -> std::io::ErrorKind {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .map_or(std::io::ErrorKind::Other, std::io::Error::kind)
}

/// Describes an SDK failure by the service's error code or the failure's kind: never the
/// service's message, which can quote the request (keys, metadata).
fn s3_error<E>(operation: &'static str, error: &SdkError<E, HttpResponse>) -> FileError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (reason, transient) = match error {
        SdkError::ServiceError(context) => {
            let code = context.err().code();
            let status = context.raw().status().as_u16();
            if code == Some("BadDigest") {
                // S3's own check of ChecksumSHA256 (the bytes changed between disk and S3).
                return FileError::ChecksumMismatch;
            }
            let transient = status >= 500
                || status == 429
                || code.is_some_and(|code| {
                    matches!(
                        code,
                        "SlowDown" | "RequestTimeout" | "InternalError" | "ServiceUnavailable"
                    )
                });
            let reason = match code {
                Some(code) => format!("service error {code}"),
                None => format!("service error without a code, HTTP {status}"),
            };
            (reason, transient)
        }
        SdkError::ResponseError(_) => ("the response could not be read".to_owned(), true),
        SdkError::TimeoutError(_) => (error_chain(error), true),
        SdkError::DispatchFailure(failure) => (
            error_chain(error),
            failure.is_io() || failure.is_timeout() || failure.is_other(),
        ),
        // Construction failures and future variants: configuration, not luck.
        _ => (error_chain(error), false),
    };
    FileError::S3 {
        operation,
        reason,
        transient,
    }
}

/// `error: cause: cause ...`: timeouts, connection and configuration failures carry no request
/// data, and their causes ("connection refused", "no region") are what an operator needs.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
