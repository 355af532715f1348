//! A client's data export over real HTTP, a real database and the folder store: requested with
//! `export`, built by the export worker's own handler from the export queue, downloaded as one
//! ZIP that holds everything about the client and nothing about anyone else.

mod caller;
mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::io::AsyncReadExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shared::api::CreateTicketBody;
use shared::db::{Store, StoredAttachment};
use shared::export::worker::ExportState;
use shared::files::{FileStore, attachment_key};
use shared::queue::LocalQueue;
use shared::queue::poller::work_off;
use shared::testing::requests::seed_client;
use shared::testing::{self, access_log};

const ADMIN: &str = "dpo-export-token-0123456789abcdefghij";
const READER: &str = "reader-token-0123456789abcdefghijklmn";
/// The client exported, and another whose identifier starts the same, whose name is close and
/// whose tickets have the same participants.
const CLIENT: &str = "972541112233";
const CLIENT_NAME: &str = "דנה כהן";
const OTHER: &str = "972541112299";
const OTHER_NAME: &str = "דנה כהנוביץ";
const OTHER_SECRET: &str = "order 9931 for the other client";

struct Api {
    store: Store,
    files: FileStore,
    caller: caller::Caller,
    http: reqwest::Client,
    base: String,
    dir: Option<tempfile::TempDir>,
}

impl Api {
    /// On a local folder.
    async fn start() -> Self {
        let (files, dir) = testing::files::local_dir();
        Self::start_on(files, Some(dir)).await
    }

    async fn start_on(files: FileStore, dir: Option<tempfile::TempDir>) -> Self {
        let store = testing::store().await;
        let tokens = json!([
            {"name": "dpo", "scopes": ["read", "erase", "export", "audit"], "token": ADMIN},
            {"name": "reader", "scopes": ["read"], "token": READER},
        ]);
        let caller = caller::Caller::serving(&store, &tokens.to_string(), files.clone()).await;
        let base = caller.base.clone();
        Self {
            store,
            files,
            caller,
            http: testing::http_client(),
            base,
            dir,
        }
    }

    async fn send(&self, method: &str, path: &str) -> (u16, Value) {
        self.caller.send(ADMIN, method, path, None).await
    }

    /// What Lambda's event source does: the export queue's jobs to the export worker.
    async fn work_off_exports(&self) -> usize {
        let worker = ExportState {
            store: self.store.clone(),
            files: self.files.clone(),
            lifetime: chrono::Duration::days(7),
        };
        work_off(
            &LocalQueue::exports(self.store.clone()),
            &worker,
            Duration::from_secs(60),
        )
        .await
        .expect("the queue answers")
        .handled
    }

    async fn download(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("answered");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (
            status,
            headers,
            response.bytes().await.expect("body").to_vec(),
        )
    }

    /// A ticket of `client` from `body`, with `files` (transaction id, attachment index,
    /// bytes, content type) stored and recorded as the archive job does.
    async fn seed_ticket(&self, client: &str, body: Value, files: &[(i64, usize, &[u8], &str)]) {
        let body: CreateTicketBody = serde_json::from_value(body).expect("a ticket body");
        let ticket = body.validate(client.to_owned()).expect("valid");
        let ticket_id = ticket.ticket_id;
        self.store.create_ticket(ticket).await.expect("seeded");
        let dir = tempfile::tempdir().expect("dir");
        for (transaction_id, index, bytes, content_type) in files {
            let path = dir.path().join("file");
            std::fs::write(&path, bytes).expect("written");
            let sha256 = hex::encode(Sha256::digest(bytes));
            let key = attachment_key(ticket_id, *transaction_id, &index.to_string());
            let stored = self
                .files
                .put_file(&key, &path, content_type, &sha256)
                .await
                .expect("stored");
            self.store
                .record_stored_attachment(
                    ticket_id,
                    *transaction_id,
                    *index,
                    &StoredAttachment {
                        key,
                        size: stored.size,
                        sha256,
                        content_type: content_type.to_string(),
                        stored_at: shared::db::bson::DateTime::now(),
                    },
                )
                .await
                .expect("recorded");
        }
    }
}

fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..70_000u32).map(|i| (i * 7 % 251) as u8));
    bytes
}

fn pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    bytes.extend((0..20_000u32).map(|i| (i * 13 % 256) as u8));
    bytes
}

const HOSTILE_EMAIL: &str = r#"<html><head><script>alert(1)</script><style>p{}</style></head><body><p>Refund for order 4471 please</p><img src=x onerror=alert(1)><a href="javascript:alert(2)">click</a><iframe src="https://evil.example/x"></iframe><img src="https://tracker.example/p.gif"></body></html>"#;

/// Client A: a WhatsApp ticket in Hebrew and English with an image and an internal note, and
/// an e-mail ticket with hostile HTML and a PDF. Client B: a ticket with the same
/// participants and its own text.
async fn seed(api: &Api) {
    seed_client(&api.store, CLIENT, Some(CLIENT_NAME)).await;
    seed_client(&api.store, OTHER, Some(OTHER_NAME)).await;
    api.seed_ticket(
        CLIENT,
        json!({
            "ticketId": 5001, "clientName": CLIENT_NAME, "protocolType": "WhatsApp",
            "ticketOpeningDate": "2026-03-01T14:05:00Z", "closedAt": "2026-03-01T15:00:00Z",
            "tags": ["Refund"],
            "transactions": [
                {"id": 1, "dateTime": "2026-03-01T14:05:00Z", "type": "Message", "text": "שלום, חויבתי פעמיים על הזמנה 4471",
                 "senderName": "Dana Cohen", "senderType": "Client"},
                {"id": 2, "dateTime": "2026-03-01T14:07:00Z", "type": "Message", "text": "Hello Dana, here is the receipt.",
                 "senderName": "Avi (agent)", "senderType": "User",
                 "attachments": [{"id": 77, "type": "Image", "originalFileName": "קבלה 4471.png"}]},
                {"id": 3, "dateTime": "2026-03-01T14:08:00Z", "type": "Note", "text": "refund approved by finance",
                 "senderName": "Avi (agent)", "senderType": "User"}
            ]
        }),
        &[(2, 0, &png(), "image/png")],
    )
    .await;
    api.seed_ticket(
        CLIENT,
        json!({
            "ticketId": 5002, "clientName": CLIENT_NAME, "protocolType": "Mail",
            "ticketOpeningDate": "2026-03-02T09:00:00Z",
            "tags": [],
            "transactions": [
                {"id": 10, "dateTime": "2026-03-02T09:00:00Z", "type": "Message", "html": HOSTILE_EMAIL,
                 "fromProtocolType": "Mail", "senderName": "Dana Cohen", "senderType": "Client",
                 "attachments": [{"id": 88, "type": "Document", "originalFileName": "../../invoice.pdf"}]}
            ]
        }),
        &[(10, 0, &pdf(), "application/pdf")],
    )
    .await;
    api.seed_ticket(
        OTHER,
        json!({
            "ticketId": 6001, "clientName": OTHER_NAME, "protocolType": "WhatsApp",
            "ticketOpeningDate": "2026-03-01T14:05:00Z",
            "tags": ["Refund"],
            "transactions": [
                {"id": 1, "dateTime": "2026-03-01T14:05:00Z", "type": "Message", "text": OTHER_SECRET,
                 "senderName": "Dana Cohen", "senderType": "Client",
                 "attachments": [{"id": 77, "type": "Image", "originalFileName": "קבלה 4471.png"}]}
            ]
        }),
        &[(1, 0, b"the other client's photo", "image/png")],
    )
    .await;
    // The client's list naming the other client's ticket, as an interrupted change could leave
    // it: the ticket says whose it is, and only that counts.
    api.store
        .database()
        .collection::<shared::db::bson::Document>("clients")
        .update_one(
            shared::db::bson::doc! {"identifier": CLIENT},
            shared::db::bson::doc! {"$push": {"tickets": 6001_i64}},
        )
        .await
        .expect("listed");
}

/// Every entry of a ZIP by name. The in-memory reader is deprecated in favour of `read1`,
/// whose readers want a seekable buffered source; for a test's small ZIP in memory the old one
/// reads the same central directory.
#[allow(deprecated)]
async fn unzip(bytes: Vec<u8>) -> BTreeMap<String, Vec<u8>> {
    let reader = async_zip::base::read::mem::ZipFileReader::new(bytes)
        .await
        .expect("a ZIP");
    let mut entries = BTreeMap::new();
    for index in 0..reader.file().entries().len() {
        let name = reader.file().entries()[index]
            .filename()
            .as_str()
            .expect("a UTF-8 name")
            .to_owned();
        let mut content = Vec::new();
        reader
            .reader_with_entry(index)
            .await
            .expect("an entry")
            .read_to_end(&mut content)
            .await
            .expect("readable");
        entries.insert(name, content);
    }
    entries
}

/// The attributes of every tag of an HTML page (names lowercased), for checking what a
/// browser would load or run. Text between tags is escaped, so every `<` that starts a
/// tag is markup.
fn attributes(html: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for tag in html.split('<').skip(1) {
        let Some((inside, _)) = tag.split_once('>') else {
            continue;
        };
        let mut parts = inside.splitn(2, char::is_whitespace);
        let name = parts.next().unwrap_or_default().to_lowercase();
        let mut rest = parts.next().unwrap_or_default().trim();
        while let Some((attribute, after)) = rest.split_once('=') {
            let attribute = attribute.trim().rsplit(' ').next().unwrap_or_default();
            let after = after.trim_start();
            let (value, next) = match after.chars().next() {
                Some(quote @ ('"' | '\'')) => {
                    after[1..].split_once(quote).unwrap_or((&after[1..], ""))
                }
                _ => after.split_once(' ').unwrap_or((after, "")),
            };
            found.push((name.clone(), attribute.to_lowercase(), value.to_owned()));
            rest = next;
        }
    }
    found
}

fn ticket_without(mut ticket: Value, fields: &[&str]) -> Value {
    for field in fields {
        ticket.as_object_mut().expect("an object").remove(*field);
    }
    ticket
}

#[tokio::test]
async fn a_clients_export_holds_every_ticket_transcript_and_file_and_nothing_of_another_client() {
    export_holds_everything_of_the_client_only(Api::start().await).await;
}

/// The deployed shape: files and exports in S3 (moto), the download a redirect to a
/// pre-signed link that S3 serves with the same name and type.
#[tokio::test]
async fn on_s3_the_export_is_downloaded_through_a_presigned_link() {
    export_holds_everything_of_the_client_only(
        Api::start_on(testing::files::s3_bucket().await, None).await,
    )
    .await;
}

async fn export_holds_everything_of_the_client_only(api: Api) {
    seed(&api).await;

    let (status, requested) = api
        .send("POST", &format!("/clients/{CLIENT}/exports"))
        .await;
    assert_eq!(status, 202, "{requested}");
    assert_eq!(
        (
            &requested["status"],
            &requested["clientIdentifier"],
            &requested["file"]
        ),
        (&json!("pending"), &json!(CLIENT), &Value::Null)
    );
    let id = requested["exportId"].as_str().expect("an id").to_owned();
    let (status, _, _) = api.download(&format!("/exports/{id}/file")).await;
    assert_eq!(status, 409, "nothing to download while pending");

    assert_eq!(api.work_off_exports().await, 1);
    let (status, ready) = api.send("GET", &format!("/exports/{id}")).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!((&ready["tickets"], &ready["files"]), (&json!(2), &json!(2)));
    assert_eq!(ready["file"], format!("/exports/{id}/file"));

    let (status, headers, zip) = api.download(&format!("/exports/{id}/file")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/zip");
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename*=UTF-8''client-export-{id}.zip")
    );
    assert_eq!(ready["sizeBytes"], json!(zip.len()));
    assert_eq!(ready["sha256"], json!(hex::encode(Sha256::digest(&zip))));

    let entries = unzip(zip.clone()).await;
    assert_eq!(
        entries.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "README.txt",
            "files/5001/2/77-קבלה_4471.png",
            "files/5002/10/88-_.._invoice.pdf",
            "manifest.json",
            "tickets/5001.html",
            "tickets/5002.html",
        ]
    );
    assert_eq!(
        entries["files/5001/2/77-קבלה_4471.png"],
        png(),
        "byte-exact"
    );
    assert_eq!(
        entries["files/5002/10/88-_.._invoice.pdf"],
        pdf(),
        "byte-exact"
    );

    // The manifest: the client and every ticket as the API shows them, each file's place.
    let manifest: Value = serde_json::from_slice(&entries["manifest.json"]).expect("JSON");
    let (_, client) = api.send("GET", &format!("/clients/{CLIENT}")).await;
    assert_eq!(manifest["client"], client);
    assert_eq!(manifest["exportId"], json!(id));
    let tickets = manifest["tickets"].as_array().expect("tickets");
    assert_eq!(tickets.len(), 2);
    for exported in tickets {
        let ticket_id = exported["ticketId"].as_i64().expect("an id");
        let (_, shown) = api.send("GET", &format!("/tickets/{ticket_id}")).await;
        assert_eq!(
            ticket_without(exported.clone(), &["transactions", "transcript"]),
            ticket_without(shown, &["transactions", "transactionsNext"]),
        );
        assert_eq!(exported["transcript"], format!("tickets/{ticket_id}.html"));
        let (_, page) = api
            .send(
                "GET",
                &format!("/tickets/{ticket_id}/transactions?limit=100"),
            )
            .await;
        let mut transactions = exported["transactions"].clone();
        for transaction in transactions.as_array_mut().expect("a list") {
            for attachment in transaction["attachments"].as_array_mut().expect("a list") {
                let file = attachment["file"].as_object_mut().expect("archived");
                let place = file.remove("zipPath").expect("its place in the ZIP");
                let place = place.as_str().expect("a path");
                assert_eq!(
                    hex::encode(Sha256::digest(&entries[place])),
                    file["sha256"].as_str().expect("a digest"),
                    "{place}"
                );
            }
        }
        assert_eq!(
            transactions, page["items"],
            "transactions as the API shows them"
        );
    }

    // The transcripts: readable, right-to-left where the text is, notes marked, inert.
    let whatsapp = String::from_utf8(entries["tickets/5001.html"].clone()).expect("UTF-8");
    assert!(
        whatsapp.contains("שלום, חויבתי פעמיים על הזמנה 4471"),
        "{whatsapp}"
    );
    assert!(whatsapp.contains("Hello Dana, here is the receipt."));
    assert!(whatsapp.contains("Internal note"));
    assert!(whatsapp.contains(r#"dir="auto""#));
    let email = String::from_utf8(entries["tickets/5002.html"].clone()).expect("UTF-8");
    assert!(email.contains("Refund for order 4471 please"), "{email}");
    for (name, html) in [("5001", &whatsapp), ("5002", &email)] {
        assert!(!html.to_lowercase().contains("<script"), "{name}: a script");
        for (tag, attribute, value) in attributes(html) {
            assert!(
                ![
                    "script", "iframe", "img", "object", "embed", "link", "base", "form"
                ]
                .contains(&tag.as_str()),
                "{name}: <{tag}>"
            );
            assert!(
                !attribute.starts_with("on"),
                "{name}: {attribute}= on <{tag}>"
            );
            let value = value.to_lowercase();
            for remote in ["http:", "https:", "//", "javascript:", "data:"] {
                assert!(
                    !value.starts_with(remote),
                    "{name}: <{tag} {attribute}={value}>"
                );
            }
        }
    }

    // Nothing of the other client, anywhere in the ZIP.
    let everything = String::from_utf8_lossy(&zip);
    for theirs in [OTHER, "כהנוביץ", OTHER_SECRET, "the other client's photo"] {
        assert!(!everything.contains(theirs), "the ZIP holds {theirs}");
    }
    let readme = String::from_utf8(entries["README.txt"].clone()).expect("text");
    assert!(
        readme.contains(CLIENT) && readme.contains("sha256sum"),
        "{readme}"
    );

    // The request and the download are in the access log, concerning the client.
    let logged: Vec<(String, u16, Option<String>)> = access_log(&api.store)
        .await
        .into_iter()
        .filter(|e| e.record.route.contains("export"))
        .map(|e| {
            (
                e.record.route,
                e.record.status as u16,
                e.record.client_identifier,
            )
        })
        .collect();
    let expected = |route: &str, status: u16| (route.to_owned(), status, Some(CLIENT.to_owned()));
    // The folder store serves the bytes; S3 is redirected to.
    let served = if api.dir.is_some() { 200 } else { 302 };
    assert_eq!(
        logged,
        [
            expected("GET /exports/{exportId}/file", served),
            expected("GET /exports/{exportId}", 200),
            expected("GET /exports/{exportId}/file", 409),
            expected("POST /clients/{identifier}/exports", 202),
        ],
        "newest first"
    );
}

#[tokio::test]
async fn exports_need_the_export_scope_and_an_existing_client() {
    let api = Api::start().await;
    seed(&api).await;

    let (status, refused) = api
        .caller
        .send(READER, "POST", &format!("/clients/{CLIENT}/exports"), None)
        .await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (403, &json!("forbidden"))
    );
    let (status, missing) = api.send("POST", "/clients/972500000000/exports").await;
    assert_eq!(
        (status, &missing["error"]["code"]),
        (404, &json!("not_found"))
    );
    for path in [
        "/exports/65f0c0ffee42a1b2c3d4e5f6",
        "/exports/..%2F..%2Fx",
        "/exports/65f0c0ffee42a1b2c3d4e5f6/file",
    ] {
        let (status, _) = api.send("GET", path).await;
        assert_eq!(status, 404, "{path}");
    }
    assert_eq!(api.work_off_exports().await, 0, "nothing was queued");
}

#[tokio::test]
async fn a_build_that_cannot_read_a_file_marks_the_export_failed_and_stores_nothing() {
    let api = Api::start().await;
    seed(&api).await;
    // An archived file lost from the store: the export must not silently leave it out.
    api.files
        .delete(&attachment_key(5002, 10, "0"))
        .await
        .expect("deleted");

    let (_, requested) = api
        .send("POST", &format!("/clients/{CLIENT}/exports"))
        .await;
    let id = requested["exportId"].as_str().expect("an id").to_owned();
    assert_eq!(api.work_off_exports().await, 1);

    let (_, failed) = api.send("GET", &format!("/exports/{id}")).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(
        failed["failure"],
        "an archived file is missing from the store"
    );
    let (status, body) = api.send("GET", &format!("/exports/{id}/file")).await;
    assert_eq!((status, &body["error"]["code"]), (409, &json!("not_ready")));
    assert!(
        testing::files::stored_keys(&api.files, "exports/")
            .await
            .is_empty(),
        "no partial ZIP"
    );
    assert_eq!(api.work_off_exports().await, 0, "not tried again");
}

#[tokio::test]
async fn an_expired_export_is_gone_and_the_purge_deletes_its_file_and_record() {
    let api = Api::start().await;
    seed(&api).await;
    let (_, requested) = api
        .send("POST", &format!("/clients/{CLIENT}/exports"))
        .await;
    let id = requested["exportId"].as_str().expect("an id").to_owned();
    api.work_off_exports().await;
    let key = format!("exports/{id}.zip");
    assert!(api.files.head(&key).await.expect("head").is_some());

    // Eight days later.
    let later = chrono::Utc::now() + chrono::Duration::days(8);
    api.store
        .database()
        .collection::<shared::db::bson::Document>(shared::db::EXPORTS)
        .update_one(
            shared::db::bson::doc! {"_id": &id},
            shared::db::bson::doc! {"$set": {"expiresAt": shared::dates::to_bson(chrono::Utc::now())}},
        )
        .await
        .expect("aged");
    let (status, body) = api.send("GET", &format!("/exports/{id}/file")).await;
    assert_eq!((status, &body["error"]["code"]), (410, &json!("gone")));

    let purge = shared::state::PurgeState {
        store: api.store.clone(),
        files: api.files.clone(),
        retention: None,
        dry_run: false,
        access_log_retention: chrono::Duration::days(730),
    };
    let report = purge
        .purger()
        .run_and_report(later, tokio::time::Instant::now() + Duration::from_secs(60))
        .await;
    assert_eq!(report.exports_expired, 1);
    assert!(
        api.files.head(&key).await.expect("head").is_none(),
        "file gone"
    );
    let (status, _) = api.send("GET", &format!("/exports/{id}")).await;
    assert_eq!(status, 404, "record gone");
}

#[tokio::test]
async fn deleting_a_client_erases_its_exports_and_nothing_of_the_client_whose_ticket_it_still_lists()
 {
    let api = Api::start().await;
    seed(&api).await;
    let mut exports = Vec::new();
    for client in [CLIENT, OTHER] {
        let (status, requested) = api
            .send("POST", &format!("/clients/{client}/exports"))
            .await;
        assert_eq!(status, 202, "{requested}");
        exports.push(requested["exportId"].as_str().expect("an id").to_owned());
    }
    assert_eq!(api.work_off_exports().await, 2);
    let [ours, theirs] = [&exports[0], &exports[1]].map(|id| format!("exports/{id}.zip"));

    assert_eq!(
        api.send("DELETE", &format!("/clients/{CLIENT}")).await.0,
        204
    );

    let (status, _) = api.send("GET", &format!("/exports/{}", exports[0])).await;
    assert_eq!(status, 404, "the deleted client's export record is gone");
    assert!(
        api.files.head(&ours).await.expect("head").is_none(),
        "and its ZIP"
    );
    // The other client keeps its export, and the ticket the deleted client still listed
    // (6001 names the other client) keeps its transaction and its file.
    let (status, theirs_record) = api.send("GET", &format!("/exports/{}", exports[1])).await;
    assert_eq!((status, &theirs_record["status"]), (200, &json!("ready")));
    assert!(api.files.head(&theirs).await.expect("head").is_some());
    let (status, page) = api.send("GET", "/tickets/6001/transactions").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"][0]["text"], json!(OTHER_SECRET));
    let file = attachment_key(6001, 1, "0");
    assert!(
        api.files.head(&file).await.expect("head").is_some(),
        "{file}"
    );
}
