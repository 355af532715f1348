//! `GET /tickets/{ticketId}/transactions/{transactionId}/attachments/{attachmentId}`: an
//! archived attachment's file. 302 to a short-lived pre-signed URL where the store can sign
//! (S3); otherwise (the local folder) the bytes from the API's own origin, made inert: a
//! download (`Content-Disposition: attachment` with the original file name), never sniffed, in
//! a sandbox, and served as itself only when its type is one a browser merely displays
//! (`shared::files::served_content_type`). 404 for an unknown ticket, transaction or
//! attachment, and for an attachment whose file is not archived.

use std::time::Duration;

use lambda_http::http::StatusCode;
use lambda_http::http::header::{
    CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, X_CONTENT_TYPE_OPTIONS,
};
use lambda_http::{Body, Request};
use shared::access::Concerning;
use shared::api::parse_ticket_id;
use shared::db::Attachment;
use shared::error::AppError;
use shared::files::FileStore;
use shared::files::{attachment_disposition, served_content_type};
use shared::request::path_param;
use shared::response::private_file;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

/// Long enough to start a download, short enough that a leaked link is soon worthless.
const LINK_LIFETIME: Duration = Duration::from_secs(300);

pub const HANDLER: RestHandler<FileStore> =
    |state, request| Box::pin(get_attachment(state, request));

async fn get_attachment(state: &ApiState<FileStore>, request: &Request) -> RestResult {
    let ticket_id = parse_ticket_id(&path_param(request, "ticketId")?)?;
    let transaction_id: i64 = path_param(request, "transactionId")?
        .parse()
        .map_err(|_| AppError::BadRequest("transactionId must be an integer".into()))?;
    let wanted = path_param(request, "attachmentId")?;
    let ticket = state
        .store
        .get_ticket(ticket_id)
        .await?
        .ok_or_else(|| AppError::not_found("ticket"))?;
    let concerning = Concerning::client(ticket.client_identifier);
    let transaction = state
        .store
        .get_transaction(ticket_id, transaction_id)
        .await?
        .ok_or_else(|| AppError::not_found("transaction"))?;
    let attachment =
        find(&transaction.attachments, &wanted).ok_or_else(|| AppError::not_found("attachment"))?;
    let stored = attachment
        .stored
        .as_ref()
        .ok_or_else(|| AppError::not_found("archived file of this attachment"))?;
    let file_name = attachment.original_file_name.as_deref().unwrap_or_default();
    if let Some(url) = state
        .files
        .presigned_download(
            &stored.key,
            file_name,
            served_content_type(&stored.content_type),
            LINK_LIFETIME,
        )
        .await?
    {
        tracing::info!(ticket_id, transaction_id, "attachment link signed");
        let response = private_file(StatusCode::FOUND, Body::Empty, &[(LOCATION, url)])?;
        return Ok(concerning.attach(response));
    }
    let (object, body) =
        state.files.open(&stored.key).await?.ok_or_else(|| {
            AppError::Internal("an archived file is missing from the store".into())
        })?;
    let bytes = body.into_vec().await?;
    let response = private_file(
        StatusCode::OK,
        Body::Binary(bytes),
        &[
            (
                CONTENT_TYPE,
                served_content_type(&object.content_type).to_owned(),
            ),
            (CONTENT_DISPOSITION, attachment_disposition(file_name)),
            (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (
                CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'".to_owned(),
            ),
        ],
    )?;
    Ok(concerning.attach(response))
}

/// The attachment an API path names: its id, or `n<position>` for one without an id.
fn find<'a>(attachments: &'a [Attachment], wanted: &str) -> Option<&'a Attachment> {
    attachments
        .iter()
        .enumerate()
        .find(|(index, attachment)| attachment.segment(*index) == wanted)
        .map(|(_, attachment)| attachment)
}
