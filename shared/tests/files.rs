//! The attachment file store against a real S3 API (moto_server, through the real SDK client)
//! and against a temporary folder: every behaviour is written once and run for both.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use shared::files::{
    FileError, FileStore, StoredObject, attachment_disposition, attachment_key, ticket_prefix,
};
use shared::testing::files::{
    local_dir, s3_bucket, s3_checksum, s3_client, sample_file, stored_keys,
};

const TICKET: i64 = 48_213_977;
const OTHER_TICKET: i64 = 48_213_978;
const TRANSACTION: i64 = 90_112_334;
const NINE_MB: usize = 9 * 1024 * 1024 + 123;

/// Runs an `async fn(&FileStore, &Path)` (the path: a scratch folder for sample files) once on a
/// moto bucket and once on a temporary folder.
macro_rules! for_both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn s3() {
                let scratch = tempfile::tempdir().expect("a scratch folder");
                super::$name(&shared::testing::files::s3_bucket().await, scratch.path()).await;
            }

            #[tokio::test]
            async fn local() {
                let scratch = tempfile::tempdir().expect("a scratch folder");
                let (store, _dir) = shared::testing::files::local_dir();
                super::$name(&store, scratch.path()).await;
            }
        }
    )*};
}

for_both_stores!(
    a_9_mb_file_round_trips_byte_exact_and_head_describes_it,
    an_empty_file_round_trips,
    a_wrong_sha256_is_refused_and_nothing_is_stored,
    a_wrong_sha256_leaves_the_object_stored_before_as_it_was,
    storing_a_key_twice_keeps_one_object_with_the_second_content,
    delete_prefix_removes_one_tickets_objects_only_and_can_run_again,
    a_missing_key_has_no_head_and_does_not_open,
    keys_that_could_escape_or_carry_names_are_refused,
    a_missing_source_file_is_reported_without_its_path,
    digests_of_either_case_are_accepted_and_stored_lowercase,
);

fn key(attachment: &str) -> String {
    attachment_key(TICKET, TRANSACTION, attachment)
}

async fn read_all(store: &FileStore, key: &str) -> (StoredObject, Vec<u8>) {
    let (stored, body) = store
        .open(key)
        .await
        .expect("open answers")
        .expect("the object exists");
    (stored, body.into_vec().await.expect("the body is read"))
}

async fn a_9_mb_file_round_trips_byte_exact_and_head_describes_it(store: &FileStore, dir: &Path) {
    let (path, sha256) = sample_file(dir, "photo.jpg", NINE_MB, 1);
    let key = key("7781204");

    let stored = store
        .put_file(&key, &path, "image/jpeg", &sha256)
        .await
        .expect("stored");

    let expected = StoredObject {
        size: NINE_MB as u64,
        sha256: sha256.clone(),
        content_type: "image/jpeg".into(),
    };
    assert_eq!(stored, expected);
    assert_eq!(
        store.head(&key).await.expect("head"),
        Some(expected.clone())
    );
    let (opened, bytes) = read_all(store, &key).await;
    assert_eq!(opened, expected);
    assert!(
        bytes == std::fs::read(&path).expect("the original"),
        "the bytes differ"
    );

    // The same bytes again, as a stream of several chunks.
    let (_, body) = store.open(&key).await.expect("open").expect("exists");
    let chunks: Vec<_> = body.into_stream().collect().await;
    assert!(chunks.len() > 1, "{} chunk(s)", chunks.len());
    let streamed: usize = chunks
        .iter()
        .map(|c| c.as_ref().expect("a chunk").len())
        .sum();
    assert_eq!(streamed, NINE_MB);
}

async fn an_empty_file_round_trips(store: &FileStore, dir: &Path) {
    let (path, sha256) = sample_file(dir, "empty.txt", 0, 0);
    let key = key("n0");

    store
        .put_file(&key, &path, "text/plain", &sha256)
        .await
        .expect("stored");

    let (stored, bytes) = read_all(store, &key).await;
    assert_eq!(stored.size, 0);
    assert_eq!(stored.sha256, sha256);
    assert!(bytes.is_empty());
}

async fn a_wrong_sha256_is_refused_and_nothing_is_stored(store: &FileStore, dir: &Path) {
    for (size, attachment) in [(NINE_MB, "7781204"), (10, "7781205"), (0, "7781206")] {
        let (path, _) = sample_file(dir, &format!("{attachment}.bin"), size, 2);
        let (_, other_digest) = sample_file(dir, "other.bin", 10, 3);
        let key = key(attachment);
        let started = Instant::now();

        let error = store
            .put_file(&key, &path, "application/pdf", &other_digest)
            .await
            .expect_err("the digest is wrong");

        assert!(matches!(error, FileError::ChecksumMismatch), "{error:?}");
        assert!(!error.is_transient());
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "refused without retrying: {:?}",
            started.elapsed()
        );
        assert_eq!(store.head(&key).await.expect("head"), None, "{size} bytes");
        assert!(store.open(&key).await.expect("open").is_none());
    }
    assert_eq!(
        stored_keys(store, &ticket_prefix(TICKET)).await,
        Vec::<String>::new()
    );
}

async fn a_wrong_sha256_leaves_the_object_stored_before_as_it_was(store: &FileStore, dir: &Path) {
    let (first, first_sha) = sample_file(dir, "first.bin", 300_000, 4);
    let (second, _) = sample_file(dir, "second.bin", 300_000, 5);
    let key = key("7781204");
    store
        .put_file(&key, &first, "image/png", &first_sha)
        .await
        .expect("stored");

    let error = store
        .put_file(&key, &second, "image/png", &first_sha)
        .await
        .expect_err("the second file does not have the first one's digest");

    assert!(matches!(error, FileError::ChecksumMismatch), "{error:?}");
    let (stored, bytes) = read_all(store, &key).await;
    assert_eq!(stored.sha256, first_sha);
    assert!(bytes == std::fs::read(&first).expect("the first file"));
    assert_eq!(stored_keys(store, &ticket_prefix(TICKET)).await, vec![key]);
}

async fn storing_a_key_twice_keeps_one_object_with_the_second_content(
    store: &FileStore,
    dir: &Path,
) {
    let (first, first_sha) = sample_file(dir, "first.ogg", 200_000, 6);
    let (second, second_sha) = sample_file(dir, "second.ogg", 150_000, 7);
    let key = key("7781204");

    store
        .put_file(&key, &first, "audio/ogg", &first_sha)
        .await
        .expect("stored");
    store
        .put_file(&key, &first, "audio/ogg", &first_sha)
        .await
        .expect("stored again: a retried job");
    assert_eq!(
        stored_keys(store, &ticket_prefix(TICKET)).await,
        vec![key.clone()]
    );

    store
        .put_file(&key, &second, "audio/mpeg", &second_sha)
        .await
        .expect("replaced");

    assert_eq!(
        stored_keys(store, &ticket_prefix(TICKET)).await,
        vec![key.clone()]
    );
    let (stored, bytes) = read_all(store, &key).await;
    assert_eq!(
        stored,
        StoredObject {
            size: 150_000,
            sha256: second_sha,
            content_type: "audio/mpeg".into()
        }
    );
    assert!(bytes == std::fs::read(&second).expect("the second file"));
}

async fn delete_prefix_removes_one_tickets_objects_only_and_can_run_again(
    store: &FileStore,
    dir: &Path,
) {
    let (path, sha256) = sample_file(dir, "doc.pdf", 1000, 8);
    let doomed = [
        attachment_key(TICKET, TRANSACTION, "1"),
        attachment_key(TICKET, TRANSACTION, "n2"),
        attachment_key(TICKET, TRANSACTION + 1, "3"),
    ];
    let kept = [
        attachment_key(OTHER_TICKET, TRANSACTION, "1"),
        // Shares the doomed ticket's id as a prefix of its own: not a folder of it.
        attachment_key(TICKET * 10 + 1, TRANSACTION, "1"),
    ];
    for key in doomed.iter().chain(&kept) {
        store
            .put_file(key, &path, "application/pdf", &sha256)
            .await
            .expect("stored");
    }

    assert_eq!(
        store
            .delete_prefix(&ticket_prefix(TICKET))
            .await
            .expect("deleted"),
        3
    );

    for key in &doomed {
        assert_eq!(store.head(key).await.expect("head"), None, "{key}");
    }
    let mut expected = kept.to_vec();
    expected.sort();
    assert_eq!(stored_keys(store, "tickets/").await, expected);
    assert_eq!(
        store
            .delete_prefix(&ticket_prefix(TICKET))
            .await
            .expect("idempotent"),
        0
    );
    assert_eq!(
        store
            .delete_prefix(&ticket_prefix(123))
            .await
            .expect("a ticket without files"),
        0
    );
}

async fn a_missing_key_has_no_head_and_does_not_open(store: &FileStore, _dir: &Path) {
    let key = key("404");
    assert_eq!(store.head(&key).await.expect("head answers"), None);
    assert!(store.open(&key).await.expect("open answers").is_none());
}

async fn keys_that_could_escape_or_carry_names_are_refused(store: &FileStore, dir: &Path) {
    let (path, sha256) = sample_file(dir, "x.bin", 10, 9);
    for key in [
        "tickets/../../etc/passwd",
        "..",
        "/tmp/x",
        "tickets//1",
        "tickets/1/",
        "",
        "tickets/1/2/קבלה מרץ.jpg",
        "tickets/1/2/x.meta.json",
    ] {
        let error = store
            .put_file(key, &path, "image/jpeg", &sha256)
            .await
            .expect_err(key);
        assert!(
            matches!(error, FileError::InvalidKey(_)),
            "{key}: {error:?}"
        );
        assert!(!error.to_string().contains("passwd"), "{error}");
        assert!(!error.to_string().contains("קבלה"), "{error}");
        assert!(
            matches!(store.head(key).await, Err(FileError::InvalidKey(_))),
            "{key}"
        );
        assert!(
            matches!(store.open(key).await, Err(FileError::InvalidKey(_))),
            "{key}"
        );
    }
    for prefix in ["", "tickets/4821", "../", "/"] {
        assert!(
            matches!(
                store.delete_prefix(prefix).await,
                Err(FileError::InvalidKey(_))
            ),
            "{prefix}"
        );
    }
    assert_eq!(stored_keys(store, "").await, Vec::<String>::new());
}

async fn a_missing_source_file_is_reported_without_its_path(store: &FileStore, dir: &Path) {
    let missing = dir.join("קבלה מרץ 2024.jpg");
    let sha256 = "00".repeat(32);

    let error = store
        .put_file(&key("1"), &missing, "image/jpeg", &sha256)
        .await
        .expect_err("no such file");

    assert!(
        matches!(error, FileError::Source(std::io::ErrorKind::NotFound)),
        "{error:?}"
    );
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains("קבלה"), "{text}");
        assert!(!text.contains(&dir.display().to_string()), "{text}");
    }
}

async fn digests_of_either_case_are_accepted_and_stored_lowercase(store: &FileStore, dir: &Path) {
    let (path, sha256) = sample_file(dir, "a.bin", 5000, 10);
    let key = key("1");

    let stored = store
        .put_file(
            &key,
            &path,
            "application/octet-stream",
            &sha256.to_uppercase(),
        )
        .await
        .expect("stored");

    assert_eq!(stored.sha256, sha256);
    assert_eq!(
        store
            .head(&key)
            .await
            .expect("head")
            .expect("exists")
            .sha256,
        sha256
    );
    for bad in ["", "abc", &format!("{sha256}00")] {
        assert!(matches!(
            store.put_file(&key, &path, "image/jpeg", bad).await,
            Err(FileError::InvalidDigest)
        ));
    }
    assert!(matches!(
        store
            .put_file(&key, &path, "image/jpeg\r\nX-Evil: 1", &sha256)
            .await,
        Err(FileError::InvalidContentType)
    ));
}

// --- S3 only ---

#[tokio::test]
async fn s3_receives_the_digest_as_checksum_sha256_and_metadata() {
    let store = s3_bucket().await;
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let (path, sha256) = sample_file(scratch.path(), "photo.jpg", 100_000, 11);
    let key = key("7781204");

    store
        .put_file(&key, &path, "image/jpeg", &sha256)
        .await
        .expect("stored");

    let expected = base64_of_hex(&sha256);
    assert_eq!(s3_checksum(&store, &key).await, Some(expected));
    let head = s3_client()
        .await
        .head_object()
        .bucket(bucket_of(&store))
        .key(&key)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.metadata().and_then(|m| m.get("sha256")),
        Some(&sha256),
        "x-amz-meta-sha256"
    );
}

#[tokio::test]
async fn a_presigned_link_downloads_the_bytes_with_the_utf8_file_name() {
    let store = s3_bucket().await;
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let (path, sha256) = sample_file(scratch.path(), "upload.bin", 250_000, 12);
    let key = key("7781204");
    store
        .put_file(&key, &path, "image/jpeg", &sha256)
        .await
        .expect("stored");

    let url = store
        .presigned_download(
            &key,
            "קבלה מרץ 2024.jpg",
            "image/jpeg",
            Duration::from_secs(300),
        )
        .await
        .expect("signed")
        .expect("S3 signs");

    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert!(url.contains("X-Amz-Expires=300"), "{url}");
    assert!(
        !url.contains("קבלה"),
        "the name is percent-encoded in the URL"
    );
    let response = shared::testing::http_client()
        .get(&url)
        .send()
        .await
        .expect("moto answers");
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().expect("ASCII").to_owned())
    };
    let disposition = header("content-disposition");
    assert_eq!(
        disposition.as_deref(),
        Some(
            "attachment; filename*=UTF-8''%D7%A7%D7%91%D7%9C%D7%94%20%D7%9E%D7%A8%D7%A5%202024.jpg"
        ),
        "moto honours response-content-disposition from 5.2.2 on (5.2.1 ignores it): \
         install moto[server]>=5.2.2"
    );
    assert_eq!(
        disposition,
        Some(attachment_disposition("קבלה מרץ 2024.jpg"))
    );
    assert_eq!(header("content-type").as_deref(), Some("image/jpeg"));
    let bytes = response.bytes().await.expect("the body");
    assert!(bytes == std::fs::read(&path).expect("the original"));
}

#[tokio::test]
async fn a_presigned_link_needs_a_ttl_s3_accepts() {
    let store = s3_bucket().await;
    for ttl in [Duration::ZERO, Duration::from_secs(8 * 24 * 3600)] {
        assert!(matches!(
            store
                .presigned_download(&key("1"), "a.jpg", "image/jpeg", ttl)
                .await,
            Err(FileError::InvalidTtl)
        ));
    }
}

#[tokio::test]
async fn an_s3_failure_names_the_operation_and_error_code_only() {
    let missing = FileStore::s3(s3_client().await, "no-such-bucket-hunter2");
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let (path, sha256) = sample_file(scratch.path(), "a.bin", 1000, 13);

    let error = missing
        .put_file(&key("1"), &path, "image/jpeg", &sha256)
        .await
        .expect_err("no such bucket");

    let FileError::S3 {
        operation, reason, ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(*operation, "PutObject");
    assert_eq!(reason, "service error NoSuchBucket");
    assert!(!error.is_transient());
    assert!(
        !format!("{error} {error:?}").contains("hunter2"),
        "{error:?}"
    );

    let error = missing
        .delete_prefix(&ticket_prefix(TICKET))
        .await
        .expect_err("no such bucket");
    assert_eq!(
        error.to_string(),
        "S3 ListObjectsV2 failed: service error NoSuchBucket"
    );
}

#[tokio::test]
async fn an_unreachable_s3_is_a_transient_dispatch_failure() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{closed_port}"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let store = FileStore::s3(client, "files");

    let error = store.head(&key("1")).await.expect_err("nothing listens");

    assert!(error.is_transient(), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("S3 HeadObject failed: dispatch failure"),
        "{error}"
    );
}

// --- local only ---

#[tokio::test]
async fn the_local_store_cannot_sign_links() {
    let (store, _dir) = local_dir();
    assert_eq!(
        store
            .presigned_download(&key("1"), "קבלה.jpg", "image/jpeg", Duration::from_secs(60))
            .await
            .expect("answers"),
        None
    );
}

#[tokio::test]
async fn the_local_store_keeps_files_under_its_root_with_a_sidecar() {
    let (store, dir) = local_dir();
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let (path, sha256) = sample_file(scratch.path(), "a.bin", 1000, 14);
    let key = key("7781204");

    store
        .put_file(&key, &path, "image/jpeg", &sha256)
        .await
        .expect("stored");

    let file = dir.path().join("tickets/48213977/90112334/7781204");
    assert_eq!(
        std::fs::read(&file).expect("the file"),
        std::fs::read(&path).expect("original")
    );
    let sidecar: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            dir.path()
                .join("tickets/48213977/90112334/7781204.meta.json"),
        )
        .expect("the sidecar"),
    )
    .expect("JSON");
    assert_eq!(
        sidecar,
        serde_json::json!({"sha256": sha256, "contentType": "image/jpeg"})
    );
    assert!(
        store.describe().starts_with("local folder "),
        "{}",
        store.describe()
    );
}

#[tokio::test]
async fn from_config_picks_the_bucket_when_set_else_the_folder() {
    use std::collections::HashMap;
    let base = HashMap::from([(
        "MONGODB_URI".to_owned(),
        "mongodb://127.0.0.1:9/".to_owned(),
    )]);
    let with = |pairs: &[(&str, &str)]| {
        let mut env = base.clone();
        env.extend(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        shared::config::Config::from_sources(&env, &HashMap::new()).expect("a configuration")
    };

    let default = FileStore::from_config(&with(&[])).await;
    assert_eq!(default.describe(), "local folder .local/files");
    let folder = FileStore::from_config(&with(&[("FILES_DIR", "/srv/files")])).await;
    assert_eq!(folder.describe(), "local folder /srv/files");
    let bucket = FileStore::from_config(&with(&[
        ("FILES_BUCKET", "ctm-archive-files"),
        ("FILES_DIR", "/srv/files"),
    ]))
    .await;
    assert_eq!(bucket.describe(), "S3 bucket ctm-archive-files");
}

fn base64_of_hex(hex: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(hex::decode(hex).expect("hex"))
}

fn bucket_of(store: &FileStore) -> String {
    store
        .describe()
        .strip_prefix("S3 bucket ")
        .expect("an S3 store")
        .to_owned()
}
