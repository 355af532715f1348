//! Archive everything: attachment files are in object storage before the ticket is scrambled,
//! on the local folder and on S3 (moto, through the real client); the route serves them; a
//! file that cannot be fetched keeps the ticket unscrambled; erasure reaches the files; and a
//! ticket of any size is archived whole and read back in pages under Lambda's 6 MB.

use std::time::Duration;

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use shared::files::{FileStore, ticket_prefix};
use shared::job::Outcome;
use shared::queue::{ArchiveJob, JobQueue};
use shared::rest::{RestHandler, serve};
use shared::state::{ApiState, NoFiles, WorkerState};
use shared::testing::faults::silent_server;
use shared::testing::files::{local_dir, s3_bucket, s3_store_at, stored_keys};
use shared::testing::glassix::{
    CutBody, GlassixStub, LiveTicket, cut_body_server, endless_body_server, file_path, sample_bytes,
};
use shared::testing::pipeline::ClosingPipeline;
use shared::testing::requests::{ApiRequest, api_state, json_body};
use shared::testing::{self, fixture};
use tokio::time::Instant;
use wiremock::ResponseTemplate;

const TICKET: i64 = 48213977;
const IMAGE_TRANSACTION: i64 = 905113201;
const IMAGE: i64 = 7781204;
const VIDEO_TRANSACTION: i64 = 905114020;
const VIDEO: i64 = 7781300;

/// The fixture ticket, its image renamed and a 9 MB video added to a later transaction.
fn ticket_with_files() -> serde_json::Value {
    let mut ticket: serde_json::Value =
        serde_json::from_slice(&fixture("glassix/ticket.json")).expect("fixture");
    ticket["transactions"][0]["attachments"][0]["originalFileName"] = "קבלה מרץ 2024.jpg".into();
    let video = serde_json::json!({
        "id": VIDEO, "type": "Video", "originalFileName": "סרטון של המוצר.mp4",
        "fileIdentifier": "x9k2", "isEmbedded": false, "thumbnails": [], "uri": "set by the stub"
    });
    let transactions = ticket["transactions"].as_array_mut().expect("transactions");
    let later = transactions
        .iter_mut()
        .find(|t| t["id"] == VIDEO_TRANSACTION)
        .expect("transaction");
    later["attachments"] = serde_json::json!([video]);
    ticket
}

fn image_bytes() -> Vec<u8> {
    sample_bytes("image", 350 * 1024)
}

fn video_bytes() -> Vec<u8> {
    sample_bytes("video", 9 * 1024 * 1024)
}

async fn serve_files(live: &LiveTicket, stub: &GlassixStub) {
    live.serve_file(
        stub,
        IMAGE_TRANSACTION,
        IMAGE,
        ResponseTemplate::new(200).set_body_raw(image_bytes(), "image/jpeg"),
    )
    .await;
    live.serve_file(
        stub,
        VIDEO_TRANSACTION,
        VIDEO,
        ResponseTemplate::new(200).set_body_raw(video_bytes(), "video/mp4"),
    )
    .await;
}

/// Answers the video's download with `response`, ahead of the working answer (`times`
/// times, or always).
async fn fail_video(stub: &GlassixStub, response: ResponseTemplate, times: Option<u64>) {
    let mock = wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(file_path(
            TICKET,
            VIDEO_TRANSACTION,
            VIDEO,
        )))
        .respond_with(response)
        .with_priority(1);
    match times {
        Some(times) => mock.up_to_n_times(times),
        None => mock,
    }
    .mount(&stub.server)
    .await;
}

/// Runs the archive job as Lambda's SQS event source would; returns the failed message ids.
async fn run_job(worker: &WorkerState) -> Vec<String> {
    let mut message = SqsMessage::default();
    message.message_id = Some("m-1".into());
    message.body = Some(format!(r#"{{"ticketId":{TICKET}}}"#));
    let mut event = SqsEvent::default();
    event.records = vec![message];
    let response =
        archive_worker::handle(worker, event, Instant::now() + Duration::from_secs(900)).await;
    response
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect()
}

async fn states(stub: &GlassixStub, files: FileStore) -> (WorkerState, ApiState<FileStore>) {
    let store = testing::store().await;
    let worker = WorkerState {
        store: store.clone(),
        glassix: stub.client(),
        files: files.clone(),
    };
    let api = api_state(store).with_files(files);
    (worker, api)
}

async fn call<F>(
    api: &ApiState<F>,
    handler: RestHandler<F>,
    request: ApiRequest,
) -> lambda_http::Response<lambda_http::Body> {
    serve(api, request.build(), handler).await
}

/// The archived ticket as `GET /tickets/{id}` shows it.
async fn read_ticket(api: &ApiState<FileStore>) -> serde_json::Value {
    json_body(
        &call(
            &api.with_files(NoFiles),
            get_ticket::HANDLER,
            ApiRequest::new("GET", "/tickets/x").path("ticketId", &TICKET.to_string()),
        )
        .await,
    )
}

fn attachment_request(transaction: i64, attachment: i64) -> ApiRequest {
    ApiRequest::new("GET", "/tickets/x/transactions/y/attachments/z")
        .path("ticketId", &TICKET.to_string())
        .path("transactionId", &transaction.to_string())
        .path("attachmentId", &attachment.to_string())
}

/// The file as a reader gets it through the route: the bytes and their Content-Disposition.
async fn download(
    api: &ApiState<FileStore>,
    transaction: i64,
    attachment: i64,
) -> (Vec<u8>, String) {
    let response = call(
        api,
        get_attachment::HANDLER,
        attachment_request(transaction, attachment),
    )
    .await;
    let header = |r: &lambda_http::Response<lambda_http::Body>, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    match response.status().as_u16() {
        200 => (
            response.body().to_vec(),
            header(&response, "content-disposition"),
        ),
        302 => {
            let link = shared::testing::http_client()
                .get(header(&response, "location"))
                .send()
                .await
                .expect("the link");
            assert_eq!(link.status(), 200);
            let disposition = link
                .headers()
                .get("content-disposition")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            (link.bytes().await.expect("bytes").to_vec(), disposition)
        }
        other => panic!(
            "attachment route answered {other}: {}",
            json_body(&response)
        ),
    }
}

async fn files_are_stored_byte_exact_before_the_scramble_and_served(files: FileStore) {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_with_files()).await;
    serve_files(&live, &stub).await;
    let (worker, api) = states(&stub, files.clone()).await;

    assert_eq!(run_job(&worker).await, Vec::<String>::new());

    assert_eq!(live.ticket()["isScrambled"], true);
    let (image, image_name) = download(&api, IMAGE_TRANSACTION, IMAGE).await;
    let (video, video_name) = download(&api, VIDEO_TRANSACTION, VIDEO).await;
    assert!(image == image_bytes(), "the image is byte-exact");
    assert!(video == video_bytes(), "the video is byte-exact");
    assert_eq!(
        image_name,
        "attachment; filename*=UTF-8''%D7%A7%D7%91%D7%9C%D7%94%20%D7%9E%D7%A8%D7%A5%202024.jpg"
    );
    assert!(video_name.ends_with(".mp4"), "{video_name}");
    // The archived ticket names each file's route, size and digest.
    let ticket = read_ticket(&api).await;
    let file = &ticket["transactions"][0]["attachments"][0]["file"];
    assert_eq!(
        file["path"],
        format!("/tickets/{TICKET}/transactions/{IMAGE_TRANSACTION}/attachments/{IMAGE}")
    );
    assert_eq!(file["size"], 350 * 1024);
    assert_eq!(stored_keys(&files, &ticket_prefix(TICKET)).await.len(), 2);
}

#[tokio::test]
async fn files_are_stored_byte_exact_before_the_scramble_and_served_from_a_local_folder() {
    let (files, _dir) = local_dir();
    files_are_stored_byte_exact_before_the_scramble_and_served(files).await;
}

#[tokio::test]
async fn files_are_stored_byte_exact_before_the_scramble_and_served_from_s3() {
    files_are_stored_byte_exact_before_the_scramble_and_served(s3_bucket().await).await;
}

#[tokio::test]
async fn files_are_served_inert_and_as_themselves_only_when_a_browser_merely_shows_them() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_with_files()).await;
    // What a stranger may attach: a page and a drawing that carry script.
    let page = b"<html><script>fetch('/clients')</script></html>".to_vec();
    let drawing = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec();
    live.serve_file(
        &stub,
        IMAGE_TRANSACTION,
        IMAGE,
        ResponseTemplate::new(200).set_body_raw(drawing, "image/svg+xml"),
    )
    .await;
    live.serve_file(
        &stub,
        VIDEO_TRANSACTION,
        VIDEO,
        ResponseTemplate::new(200).set_body_raw(page, "text/html; charset=utf-8"),
    )
    .await;
    let (files, _dir) = local_dir();
    let (worker, api) = states(&stub, files).await;
    assert_eq!(run_job(&worker).await, Vec::<String>::new());

    for (transaction, attachment) in [(IMAGE_TRANSACTION, IMAGE), (VIDEO_TRANSACTION, VIDEO)] {
        let response = call(
            &api,
            get_attachment::HANDLER,
            attachment_request(transaction, attachment),
        )
        .await;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(response.status(), 200);
        assert_eq!(header("content-type"), "application/octet-stream");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(
            header("content-security-policy"),
            "sandbox; default-src 'none'"
        );
        assert!(header("content-disposition").starts_with("attachment"));
    }
    for (stored, served) in [
        ("image/jpeg", "image/jpeg"),
        ("video/mp4", "video/mp4"),
        (
            "text/plain; charset=windows-1255",
            "text/plain; charset=windows-1255",
        ),
        ("application/pdf", "application/pdf"),
        ("IMAGE/SVG+XML", "application/octet-stream"),
        ("text/html", "application/octet-stream"),
        ("application/xhtml+xml", "application/octet-stream"),
        ("video/", "application/octet-stream"),
    ] {
        assert_eq!(
            shared::files::served_content_type(stored),
            served,
            "{stored}"
        );
    }
}

#[tokio::test]
async fn a_download_that_fails_leaves_the_ticket_unscrambled_and_the_job_failed() {
    let cases = [
        ("404", None, Some(ResponseTemplate::new(404))),
        ("500", None, Some(ResponseTemplate::new(500))),
        ("cut mid-body", Some(CutBody::MidChunk { sent: 4000 }), None),
        (
            "fewer bytes than Content-Length",
            Some(CutBody::ShortOfContentLength {
                announced: 9000,
                sent: 4000,
            }),
            None,
        ),
    ];
    for (name, cut, response) in cases {
        let stub = GlassixStub::start().await;
        let live = LiveTicket::mount(&stub, ticket_with_files()).await;
        serve_files(&live, &stub).await;
        if let Some(response) = response {
            fail_video(&stub, response, None).await;
        }
        let (files, _dir) = local_dir();
        let (mut worker, _) = states(&stub, files.clone()).await;
        if let Some(cut) = cut {
            let server = cut_body_server(cut).await;
            live.link_attachment(VIDEO_TRANSACTION, VIDEO, &server);
            worker.glassix = stub
                .client()
                .allowing_downloads_from(&server.parse().expect("a URL"));
        }

        let failed = run_job(&worker).await;

        assert_eq!(failed, vec!["m-1".to_owned()], "{name}: the job is retried");
        assert_eq!(live.ticket()["isScrambled"], false, "{name}");
        assert!(
            stub.received("DELETE", &format!("tickets/scramble/{TICKET}"))
                .await
                .is_empty(),
            "{name}: never scrambled with a file missing"
        );
        let keys = stored_keys(&files, &ticket_prefix(TICKET)).await;
        assert_eq!(keys.len(), 1, "{name}: only the image is stored: {keys:?}");
    }
}

#[tokio::test]
async fn a_file_store_that_never_answers_fails_the_job_in_time_frees_the_ticket_and_is_retried() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_with_files()).await;
    serve_files(&live, &stub).await;
    let store = testing::store().await;
    let mut pipeline = ClosingPipeline::new(&stub, store.clone());
    pipeline.worker.files = s3_store_at(&silent_server().await);
    pipeline.job_time = Duration::from_secs(2);
    pipeline
        .queue()
        .enqueue(&ArchiveJob { ticket_id: TICKET }, b"a closing")
        .await
        .expect("queued");

    let started = Instant::now();
    // Bounded here too: without the job's own deadline this would wait forever.
    let worked = tokio::time::timeout(Duration::from_secs(30), pipeline.work_off())
        .await
        .expect("the job ended on its own");

    assert_eq!((worked.handled, worked.failed), (1, 1));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "ended at its deadline, not at the function's timeout: {:?}",
        started.elapsed()
    );
    let lock = store
        .lock_ticket(TICKET, Duration::from_secs(5))
        .await
        .expect("the lock collection answers")
        .expect("the job gave the ticket's lock back");
    store.unlock_ticket(lock).await.expect("unlocked");
    assert_eq!(live.ticket()["isScrambled"], false);

    // The store answers again: the job comes back from the queue and finishes.
    pipeline.worker.files = testing::local_files();
    let retried = pipeline.retry_now().await;

    assert_eq!(
        retried.outcomes,
        vec![Outcome::Processed("archived and scrambled")]
    );
    assert_eq!(live.ticket()["isScrambled"], true);
}

#[tokio::test]
async fn links_into_our_own_network_and_endless_bodies_are_refused_and_the_ticket_kept() {
    let elsewhere = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_raw(video_bytes(), "video/mp4"))
        .mount(&elsewhere)
        .await;
    let endless = endless_body_server().await;
    let cases = [
        ("another loopback port", "a link to a private address"),
        (
            "a redirect to another loopback port",
            "a link to a private address",
        ),
        ("the metadata service", "a link to a private address"),
        (
            "a host name of this machine",
            "a host name that resolves to a private address",
        ),
        ("an endless body", "larger than the limit of 1 MB"),
    ];
    for (name, rule) in cases {
        let stub = GlassixStub::start().await;
        let live = LiveTicket::mount(&stub, ticket_with_files()).await;
        serve_files(&live, &stub).await;
        let (files, _dir) = local_dir();
        let (mut worker, _) = states(&stub, files.clone()).await;
        let other_port = format!("{}/file", elsewhere.uri()).replace("http://", "https://");
        match name {
            "another loopback port" => live.link_attachment(VIDEO_TRANSACTION, VIDEO, &other_port),
            "a redirect to another loopback port" => {
                fail_video(
                    &stub,
                    ResponseTemplate::new(302).insert_header("location", other_port.as_str()),
                    None,
                )
                .await;
            }
            "a host name of this machine" => live.link_attachment(
                VIDEO_TRANSACTION,
                VIDEO,
                &other_port.replace("127.0.0.1", "localhost"),
            ),
            "the metadata service" => live.link_attachment(
                VIDEO_TRANSACTION,
                VIDEO,
                "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
            ),
            _ => {
                live.link_attachment(VIDEO_TRANSACTION, VIDEO, &endless);
                worker.glassix = stub
                    .client()
                    .allowing_downloads_from(&endless.parse().expect("a URL"))
                    .with_download_limit(1024 * 1024);
            }
        }
        let (logs, guard) = shared::testing::CapturedLogs::start();

        let failed = tokio::time::timeout(Duration::from_secs(60), run_job(&worker))
            .await
            .unwrap_or_else(|_| panic!("{name}: the job ended on its own"));

        drop(guard);
        assert_eq!(failed, vec!["m-1".to_owned()], "{name}: the job is retried");
        assert_eq!(live.ticket()["isScrambled"], false, "{name}");
        assert!(logs.text().contains(rule), "{name}: the log names the rule");
        let keys = stored_keys(&files, &ticket_prefix(TICKET)).await;
        assert_eq!(keys.len(), 1, "{name}: only the image is stored: {keys:?}");
    }
    assert!(
        elsewhere
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "nothing was requested from another port"
    );
}

#[tokio::test]
async fn a_file_with_an_unusable_content_type_is_archived_as_octet_stream() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_with_files()).await;
    live.serve_file(
        &stub,
        VIDEO_TRANSACTION,
        VIDEO,
        ResponseTemplate::new(200).set_body_raw(video_bytes(), "video/mp4"),
    )
    .await;
    let three_hundred = format!("image/{}", "x".repeat(294));
    live.serve_file(
        &stub,
        IMAGE_TRANSACTION,
        IMAGE,
        ResponseTemplate::new(200)
            .set_body_bytes(image_bytes())
            .insert_header("content-type", three_hundred.as_str()),
    )
    .await;
    let (files, _dir) = local_dir();
    let (worker, api) = states(&stub, files).await;

    assert_eq!(run_job(&worker).await, Vec::<String>::new());

    assert_eq!(live.ticket()["isScrambled"], true);
    let ticket = read_ticket(&api).await;
    let file = &ticket["transactions"][0]["attachments"][0]["file"];
    assert_eq!(file["contentType"], "application/octet-stream");
    let (image, _) = download(&api, IMAGE_TRANSACTION, IMAGE).await;
    assert!(image == image_bytes(), "byte-exact");
}

#[tokio::test]
async fn a_rewrite_that_drops_an_attachment_erases_its_file_and_keeps_the_others() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_with_files()).await;
    serve_files(&live, &stub).await;
    let (files, _dir) = local_dir();
    let (worker, api) = states(&stub, files.clone()).await;
    assert_eq!(run_job(&worker).await, Vec::<String>::new());
    // The transactions as the API shows them, the video dropped (a file's record is read-only).
    let mut transactions = read_ticket(&api).await["transactions"].clone();
    for transaction in transactions.as_array_mut().expect("transactions") {
        if transaction["id"] == VIDEO_TRANSACTION {
            transaction["attachments"] = serde_json::json!([]);
        }
        for attachment in transaction["attachments"]
            .as_array_mut()
            .expect("attachments")
        {
            attachment
                .as_object_mut()
                .expect("an object")
                .remove("file");
        }
    }

    let patched = call(
        &api,
        update_ticket::HANDLER,
        ApiRequest::new("PATCH", "/tickets/x")
            .path("ticketId", &TICKET.to_string())
            .json(serde_json::json!({ "transactions": transactions })),
    )
    .await;

    assert_eq!(patched.status(), 200, "{}", json_body(&patched));
    let keys = stored_keys(&files, &ticket_prefix(TICKET)).await;
    assert_eq!(keys.len(), 1, "the video's file is erased: {keys:?}");
    let ticket = read_ticket(&api).await;
    assert_eq!(
        ticket["transactions"][0]["attachments"][0]["file"]["size"],
        350 * 1024,
        "the image keeps its file"
    );
    let (image, _) = download(&api, IMAGE_TRANSACTION, IMAGE).await;
    assert!(image == image_bytes(), "and is still served");
}

#[tokio::test]
async fn an_attachment_without_a_download_link_keeps_the_ticket_unscrambled() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_with_files()).await;
    serve_files(&live, &stub).await;
    live.link_attachment(VIDEO_TRANSACTION, VIDEO, "");
    let (files, _dir) = local_dir();
    let (worker, _) = states(&stub, files).await;

    assert_eq!(run_job(&worker).await, vec!["m-1".to_owned()]);

    assert_eq!(live.ticket()["isScrambled"], false);
    assert!(
        stub.received("DELETE", &format!("tickets/scramble/{TICKET}"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn an_expired_link_is_refreshed_by_getting_the_ticket_again() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_with_files()).await;
    serve_files(&live, &stub).await;
    // The first request of the video finds its link expired, as S3 answers it.
    fail_video(&stub, ResponseTemplate::new(403), Some(1)).await;
    let (files, _dir) = local_dir();
    let (worker, api) = states(&stub, files).await;

    assert_eq!(run_job(&worker).await, Vec::<String>::new());

    assert_eq!(live.file_requests(&stub, VIDEO_TRANSACTION, VIDEO).await, 2);
    assert!(download(&api, VIDEO_TRANSACTION, VIDEO).await.0 == video_bytes());
    assert_eq!(live.ticket()["isScrambled"], true);
}

#[tokio::test]
async fn stored_files_are_not_downloaded_again_when_the_job_is_retried() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_with_files()).await;
    serve_files(&live, &stub).await;
    fail_video(&stub, ResponseTemplate::new(500), Some(1)).await;
    let (files, _dir) = local_dir();
    let (worker, _) = states(&stub, files).await;

    // The first attempt fails on the video; SQS delivers the job again.
    assert_eq!(run_job(&worker).await, vec!["m-1".to_owned()]);
    assert_eq!(run_job(&worker).await, Vec::<String>::new());

    assert_eq!(live.file_requests(&stub, IMAGE_TRANSACTION, IMAGE).await, 1);
    assert_eq!(live.file_requests(&stub, VIDEO_TRANSACTION, VIDEO).await, 2);
    assert_eq!(live.ticket()["isScrambled"], true);
}

async fn erasure_reaches_the_files(files: FileStore) {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_with_files()).await;
    serve_files(&live, &stub).await;
    let mut other_ticket = ticket_with_files();
    other_ticket["id"] = 48213978.into();
    LiveTicket::mount(&stub, other_ticket).await;
    let (worker, api) = states(&stub, files.clone()).await;
    assert_eq!(run_job(&worker).await, Vec::<String>::new());
    worker
        .archiver()
        .run(48213978, Instant::now() + Duration::from_secs(300))
        .await
        .expect("second ticket");
    assert_eq!(stored_keys(&files, "tickets/").await.len(), 4);

    let deleted = call(
        &api,
        delete_ticket::HANDLER,
        ApiRequest::new("DELETE", "/tickets/x").path("ticketId", &TICKET.to_string()),
    )
    .await;
    assert_eq!(deleted.status(), 204);
    assert!(
        stored_keys(&files, &ticket_prefix(TICKET)).await.is_empty(),
        "the ticket's files are gone"
    );
    assert_eq!(
        stored_keys(&files, "tickets/").await.len(),
        2,
        "another ticket's files stay"
    );

    let deleted = call(
        &api,
        delete_client::HANDLER,
        ApiRequest::new("DELETE", "/clients/x").path("identifier", "972521234567"),
    )
    .await;
    assert_eq!(deleted.status(), 204);
    assert!(
        stored_keys(&files, "tickets/").await.is_empty(),
        "no object is left"
    );
}

#[tokio::test]
async fn deleting_a_ticket_or_its_client_erases_the_files_in_a_local_folder() {
    let (files, _dir) = local_dir();
    erasure_reaches_the_files(files).await;
}

#[tokio::test]
async fn deleting_a_ticket_or_its_client_erases_the_files_in_s3() {
    erasure_reaches_the_files(s3_bucket().await).await;
}

async fn a_40_mb_ticket_is_archived_whole_and_read_back_in_pages(files: FileStore) {
    let stub = GlassixStub::start().await;
    let mut ticket: serde_json::Value =
        serde_json::from_slice(&fixture("glassix/ticket.json")).expect("fixture");
    let template = ticket["transactions"][1].clone();
    // 3,000 e-mails of about 14 KB of HTML: 40 MB in all.
    let html = format!(
        "<div dir=\"rtl\">{}</div>",
        "שלום, מצורפת הקבלה. ".repeat(390)
    );
    ticket["transactions"] = (0..3000_i64)
        .map(|i| {
            let mut t = template.clone();
            t["id"] = (910_000_000 + i).into();
            t["dateTime"] = format!(
                "2024-03-10T{:02}:{:02}:{:02}.000Z",
                8 + i / 3600,
                (i / 60) % 60,
                i % 60
            )
            .into();
            t["html"] = html.clone().into();
            t["attachments"] = serde_json::json!([]);
            t
        })
        .collect();
    ticket["transactionsCount"] = 3000.into();
    LiveTicket::mount(&stub, ticket).await;
    let (worker, api) = states(&stub, files).await;

    assert_eq!(run_job(&worker).await, Vec::<String>::new());

    let first = call(
        &api.with_files(NoFiles),
        get_ticket::HANDLER,
        ApiRequest::new("GET", "/tickets/x").path("ticketId", &TICKET.to_string()),
    )
    .await;
    assert_eq!(first.status(), 200);
    let mut largest = first.body().len();
    let first = json_body(&first);
    assert_eq!(first["transactionCount"], 3000);
    let mut ids: Vec<i64> = first["transactions"]
        .as_array()
        .expect("page")
        .iter()
        .map(|t| t["id"].as_i64().expect("id"))
        .collect();
    let mut cursor = first["transactionsNext"].as_str().map(str::to_owned);
    while let Some(next) = cursor {
        let response = call(
            &api.with_files(NoFiles),
            list_ticket_transactions::HANDLER,
            ApiRequest::new("GET", "/tickets/x/transactions")
                .path("ticketId", &TICKET.to_string())
                .query("limit", "100")
                .query("cursor", &next),
        )
        .await;
        assert_eq!(response.status(), 200);
        largest = largest.max(response.body().len());
        let page = json_body(&response);
        ids.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|t| t["id"].as_i64().expect("id")),
        );
        cursor = page["next"].as_str().map(str::to_owned);
    }
    assert_eq!(ids, (0..3000).map(|i| 910_000_000 + i).collect::<Vec<_>>());
    assert!(
        largest < 6 * 1024 * 1024,
        "largest response: {largest} bytes"
    );
}

#[tokio::test]
async fn a_40_mb_ticket_is_archived_whole_and_read_back_in_pages_with_a_local_folder() {
    let (files, _dir) = local_dir();
    a_40_mb_ticket_is_archived_whole_and_read_back_in_pages(files).await;
}

#[tokio::test]
async fn a_40_mb_ticket_is_archived_whole_and_read_back_in_pages_with_s3() {
    a_40_mb_ticket_is_archived_whole_and_read_back_in_pages(s3_bucket().await).await;
}
