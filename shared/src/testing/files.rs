//! File stores for tests: a bucket of its own in this test binary's `moto_server`, or a
//! temporary folder; plus sample files and a listing of what a store really holds.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::servers::moto_endpoint;
use crate::files::FileStore;

/// A moto S3 client with dummy credentials, addressing buckets by path (`<bucket>.127.0.0.1`
/// resolves nowhere), as `FileStore::from_config` builds it with `AWS_ENDPOINT_URL` set.
pub async fn s3_client() -> aws_sdk_s3::Client {
    s3_client_at(moto_endpoint())
}

/// A store on S3 at `endpoint` (e.g. a server that never answers).
pub fn s3_store_at(endpoint: &str) -> FileStore {
    s3_store_in(endpoint, "files")
}

/// A store on `bucket` of S3 at `endpoint` (e.g. a relay to moto that slows every answer).
pub fn s3_store_in(endpoint: &str, bucket: &str) -> FileStore {
    FileStore::s3(s3_client_at(endpoint), bucket)
}

fn s3_client_at(endpoint: &str) -> aws_sdk_s3::Client {
    let sdk = super::moto_sdk_config(endpoint);
    let config = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// A store on a new, empty bucket, so tests run in parallel without seeing each other.
pub async fn s3_bucket() -> FileStore {
    let (client, bucket) = new_s3_bucket().await;
    FileStore::s3(client, bucket)
}

/// A new, empty bucket in moto, with a client for it.
pub async fn new_s3_bucket() -> (aws_sdk_s3::Client, String) {
    let client = s3_client().await;
    let bucket = format!("files-{}", super::unique_database_name().replace('_', "-"));
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("moto creates the bucket");
    (client, bucket)
}

/// A store on a new temporary folder, removed when the `TempDir` drops.
pub fn local_dir() -> (FileStore, tempfile::TempDir) {
    let dir = tempfile::Builder::new()
        .prefix("ctm-files-")
        .tempdir()
        .expect("a temporary folder");
    (FileStore::local(dir.path()), dir)
}

/// A file of `size` bytes that are not all the same (a pseudo-random sequence from `seed`) in
/// `dir`; returns its path and lowercase hex SHA-256. Written in 64 KiB pieces.
pub fn sample_file(dir: &Path, name: &str, size: usize, seed: u64) -> (PathBuf, String) {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).expect("a sample file");
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut hasher = Sha256::new();
    let mut left = size;
    let mut piece = vec![0u8; 64 * 1024];
    while left > 0 {
        let n = left.min(piece.len());
        rng.fill(&mut piece[..n]);
        hasher.update(&piece[..n]);
        file.write_all(&piece[..n]).expect("written");
        left -= n;
    }
    file.sync_all().expect("synced");
    (path, hex::encode(hasher.finalize()))
}

/// Every object key under `prefix`, sorted, as the store really holds them: ListObjectsV2 on S3;
/// on a folder, the files under it, panicking on a leftover temporary file or a file without
/// its `.meta.json` sidecar (or the reverse).
pub async fn stored_keys(store: &FileStore, prefix: &str) -> Vec<String> {
    if let Some(s3) = store.backend_s3() {
        let mut keys = Vec::new();
        let mut pages = s3
            .client()
            .list_objects_v2()
            .bucket(s3.bucket())
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.expect("moto answers ListObjectsV2");
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        keys.sort();
        return keys;
    }
    let local = store.backend_local().expect("an S3 or a local store");
    let mut data = Vec::new();
    let mut sidecars = Vec::new();
    let mut pending = vec![local.root().to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(local.root())
                .expect("under the root")
                .to_string_lossy()
                .into_owned();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            assert!(
                !name.starts_with('.'),
                "a temporary file is left: {relative}"
            );
            match relative.strip_suffix(".meta.json") {
                Some(key) => sidecars.push(key.to_owned()),
                None => data.push(relative),
            }
        }
    }
    data.sort();
    sidecars.sort();
    assert_eq!(data, sidecars, "every file has its sidecar and no more");
    data.retain(|key| key.starts_with(prefix));
    data
}

/// The SHA-256 checksum S3 holds for an object (`ChecksumMode=ENABLED`), base64 as S3 gives it:
/// shows that `put_file` sent `ChecksumSHA256`.
pub async fn s3_checksum(store: &FileStore, key: &str) -> Option<String> {
    let s3 = store.backend_s3().expect("an S3 store");
    s3.client()
        .head_object()
        .bucket(s3.bucket())
        .key(key)
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .expect("moto answers HeadObject")
        .checksum_sha256()
        .map(str::to_owned)
}
