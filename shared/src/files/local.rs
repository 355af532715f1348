//! The local-folder side of [`super::FileStore`], for development: a key is a path under the
//! root, and `<file>.meta.json` next to each file keeps its digest and content type.
//!
//! Writes go to a hidden temporary file in the target's folder, then `rename` over the target
//! (atomic on one file system), so a reader sees the old file or the new one, never half of
//! one. The data file is renamed before its sidecar; a reader racing a *replacement* may pair
//! the new bytes with the old sidecar for an instant, which a development store can live with.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{BodyInner, FileBody, FileError, META_SUFFIX, Sha256Digest, StoredObject};

const CHUNK: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct LocalFiles {
    root: PathBuf,
}

/// The sidecar `<file>.meta.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sidecar {
    sha256: String,
    content_type: String,
}

impl LocalFiles {
    pub(crate) fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The path of a key already checked by `check_key` (relative segments, no `.`/`..`).
    pub(crate) fn path_of(&self, key: &str) -> PathBuf {
        let mut path = self.root.clone();
        path.extend(key.split('/'));
        path
    }

    pub(crate) async fn put_file(
        &self,
        key: &str,
        source: &Path,
        content_type: &str,
        digest: &Sha256Digest,
    ) -> Result<StoredObject, FileError> {
        let target = self.path_of(key);
        let folder = target.parent().unwrap_or(&self.root);
        tokio::fs::create_dir_all(folder)
            .await
            .map_err(local("create folder"))?;
        let mut input = tokio::fs::File::open(source)
            .await
            .map_err(|e| FileError::Source(e.kind()))?;

        let data_tmp = temporary_path(&target);
        let copied = copy_hashing(&mut input, &data_tmp).await;
        let (size, actual) = match copied {
            Ok(copied) => copied,
            Err(error) => {
                let _ = tokio::fs::remove_file(&data_tmp).await;
                return Err(error);
            }
        };
        if actual != *digest.bytes() {
            // The temporary copy goes; whatever was stored under the key before stays, as on S3.
            let _ = tokio::fs::remove_file(&data_tmp).await;
            return Err(FileError::ChecksumMismatch);
        }

        let sidecar = Sidecar {
            sha256: digest.hex(),
            content_type: content_type.to_owned(),
        };
        let meta_tmp = temporary_path(&meta_path(&target));
        let written = async {
            let json = serde_json::to_vec(&sidecar).map_err(|_| FileError::Local {
                operation: "encode metadata",
                kind: ErrorKind::InvalidData,
            })?;
            tokio::fs::write(&meta_tmp, json)
                .await
                .map_err(local("write metadata"))?;
            tokio::fs::rename(&data_tmp, &target)
                .await
                .map_err(local("rename"))?;
            tokio::fs::rename(&meta_tmp, meta_path(&target))
                .await
                .map_err(local("rename metadata"))
        }
        .await;
        if let Err(error) = written {
            let _ = tokio::fs::remove_file(&data_tmp).await;
            let _ = tokio::fs::remove_file(&meta_tmp).await;
            return Err(error);
        }
        Ok(StoredObject {
            size,
            sha256: sidecar.sha256,
            content_type: sidecar.content_type,
        })
    }

    pub(crate) async fn head(&self, key: &str) -> Result<Option<StoredObject>, FileError> {
        let target = self.path_of(key);
        let sidecar = match tokio::fs::read(meta_path(&target)).await {
            Ok(bytes) => serde_json::from_slice::<Sidecar>(&bytes)
                .map_err(|_| FileError::BadMetadata("the .meta.json sidecar is not valid"))?,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(local("read metadata")(e)),
        };
        let size = match tokio::fs::metadata(&target).await {
            Ok(metadata) if metadata.is_file() => metadata.len(),
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(local("stat")(e)),
        };
        Ok(Some(StoredObject {
            size,
            sha256: sidecar.sha256,
            content_type: sidecar.content_type,
        }))
    }

    /// Streams the file in 64 KiB chunks (reading it whole would be acceptable for the small
    /// files of development, but is not needed).
    pub(crate) async fn open(
        &self,
        key: &str,
    ) -> Result<Option<(StoredObject, FileBody)>, FileError> {
        let Some(stored) = self.head(key).await? else {
            return Ok(None);
        };
        match tokio::fs::File::open(self.path_of(key)).await {
            Ok(file) => Ok(Some((stored, FileBody(BodyInner::Local(file))))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(local("open")(e)),
        }
    }

    /// Counts the stored files (sidecars and temporary files aside), then removes the folder.
    /// The file first, then its sidecar: what a failure half-way leaves is a sidecar of no
    /// file, which no reader opens.
    pub(crate) async fn delete(&self, key: &str) -> Result<(), FileError> {
        let target = self.path_of(key);
        for path in [target.clone(), meta_path(&target)] {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(local("delete")(e)),
            }
        }
        Ok(())
    }

    pub(crate) async fn delete_prefix(&self, prefix: &str) -> Result<u64, FileError> {
        let folder = self.path_of(prefix.trim_end_matches('/'));
        let count = match count_files(&folder).await {
            Ok(count) => count,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(local("list")(e)),
        };
        match tokio::fs::remove_dir_all(&folder).await {
            Ok(()) => Ok(count),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(0),
            Err(e) => Err(local("delete")(e)),
        }
    }
}

pub(super) async fn next_chunk(file: &mut tokio::fs::File) -> Result<Option<Bytes>, FileError> {
    let mut buffer = BytesMut::with_capacity(CHUNK);
    let read = file.read_buf(&mut buffer).await.map_err(local("read"))?;
    Ok((read > 0).then(|| buffer.freeze()))
}

/// Copies `input` to a new file at `to`, synced to disk; returns its size and SHA-256.
async fn copy_hashing(
    input: &mut tokio::fs::File,
    to: &Path,
) -> Result<(u64, [u8; 32]), FileError> {
    let mut output = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .await
        .map_err(local("create"))?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let read = input
            .read(&mut buffer)
            .await
            .map_err(|e| FileError::Source(e.kind()))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        output
            .write_all(&buffer[..read])
            .await
            .map_err(local("write"))?;
        size += read as u64;
    }
    output.sync_all().await.map_err(local("sync"))?;
    Ok((size, hasher.finalize().into()))
}

/// Files under `folder`, not counting sidecars and temporary (hidden) files.
async fn count_files(folder: &Path) -> std::io::Result<u64> {
    let mut count = 0;
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut entries = tokio::fs::read_dir(&dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if entry.file_type().await?.is_dir() {
                pending.push(entry.path());
            } else if !name.starts_with('.') && !name.ends_with(META_SUFFIX) {
                count += 1;
            }
        }
    }
    Ok(count)
}

pub(crate) fn meta_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_owned();
    name.push(META_SUFFIX);
    target.with_file_name(name)
}

/// `.<name>.<random>.tmp` in the same folder: hidden, so no key (whose segments never start
/// with `.`) can name it, and on the same file system, so `rename` is atomic.
fn temporary_path(target: &Path) -> PathBuf {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    target.with_file_name(format!(".{name}.{:016x}.tmp", fastrand::u64(..)))
}

fn local(operation: &'static str) -> impl Fn(std::io::Error) -> FileError {
    move |e| FileError::Local {
        operation,
        kind: e.kind(),
    }
}
