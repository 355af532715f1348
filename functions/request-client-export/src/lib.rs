//! `POST /clients/{identifier}/exports` → 202 with the new export (`pending`) and its
//! `Location`; the export worker builds it. 404 for an unknown client.
//!
//! The record is written before the job is queued: a job never names an export that does not
//! exist. If the queue refuses the job, the export is marked failed (the caller sees 503 and
//! can ask again) rather than left pending with nobody to build it.

use chrono::Utc;
use lambda_http::Request;
use lambda_http::http::header::LOCATION;
use lambda_http::http::{HeaderValue, StatusCode};
use shared::access::Concerning;
use shared::dates::to_bson;
use shared::db::{ExportDoc, ExportStatus};
use shared::error::AppError;
use shared::export::{ExportJob, ExportView, new_export_id};
use shared::queue::JobQueue;
use shared::request::path_param;
use shared::response::json;
use shared::rest::{RestHandler, RestResult, caller};
use shared::state::{ApiState, ExportRequests};

pub const HANDLER: RestHandler<ExportRequests> =
    |state, request| Box::pin(request_export(state, request));

async fn request_export(state: &ApiState<ExportRequests>, request: &Request) -> RestResult {
    let identifier = path_param(request, "identifier")?;
    let client = state
        .store
        .get_client(&identifier)
        .await?
        .ok_or_else(|| AppError::not_found("client"))?;
    let now = Utc::now();
    let export = ExportDoc {
        export_id: new_export_id(),
        client_identifier: client.identifier,
        status: ExportStatus::Pending,
        created_at: to_bson(now),
        ready_at: None,
        expires_at: to_bson(now + state.files.lifetime),
        size_bytes: None,
        sha256: None,
        tickets: None,
        files: None,
        requested_by: caller(request)?.name().to_owned(),
        failure: None,
    };
    state.store.create_export(&export).await?;
    let job = ExportJob {
        export_id: export.export_id.clone(),
    };
    if let Err(error) = state.files.queue.enqueue(&job, &[]).await {
        tracing::error!(export_id = job.export_id, error = %error, "export job not queued");
        state
            .store
            .mark_export_failed(&job.export_id, "the export could not be queued; ask again")
            .await?;
        return Err(AppError::Unavailable("export queue".into()));
    }
    tracing::info!(export_id = job.export_id, "export requested");
    let concerning = Concerning::client(export.client_identifier.clone());
    let location = format!("/exports/{}", export.export_id);
    let mut response = json(StatusCode::ACCEPTED, &ExportView::from(export));
    response.headers_mut().insert(
        LOCATION,
        HeaderValue::from_str(&location).expect("an export id is ASCII hex"),
    );
    Ok(concerning.attach(response))
}
