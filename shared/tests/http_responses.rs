//! What API Gateway receives from an HTTP function (`shared::runtime::http_service`): a body
//! reaches it as the handler made it. Files keep every byte whatever their declared charset;
//! JSON stays text.

use base64::Engine;
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Context, LambdaEvent, Request, Response, Service};
use serde_json::Value;

/// "Receipt" in Hebrew, encoded in windows-1255 (as Israeli Windows machines write text
/// files): not valid UTF-8.
const WINDOWS_1255_TEXT: &[u8] = &[0xF7, 0xE1, 0xEC, 0xE4, b'\n'];

/// The API Gateway event of `events/get-attachment.json`.
fn attachment_event() -> LambdaEvent<LambdaRequest> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/get-attachment.json");
    let event = std::fs::read_to_string(path).expect("the event file");
    let payload: LambdaRequest = serde_json::from_str(&event).expect("an API Gateway event");
    LambdaEvent::new(payload, Context::default())
}

/// The API Gateway response the function returns for `response`, as JSON.
async fn answer_to(response: fn() -> Response<Body>) -> Value {
    static STATE: () = ();
    let mut service = shared::runtime::http_service(&STATE, move |_: &(), _: Request| {
        std::future::ready(response())
    });
    let answer = service
        .call(attachment_event())
        .await
        .expect("the service cannot fail");
    serde_json::to_value(answer).expect("an API Gateway response")
}

fn text_file() -> Response<Body> {
    Response::builder()
        .header(CONTENT_TYPE, "text/plain; charset=windows-1255")
        .body(Body::Binary(WINDOWS_1255_TEXT.to_vec()))
        .expect("a response")
}

fn undeclared_text_file() -> Response<Body> {
    Response::builder()
        .header(CONTENT_TYPE, "text/csv")
        .body(Body::Binary(WINDOWS_1255_TEXT.to_vec()))
        .expect("a response")
}

fn bytes_of(answer: &Value) -> Vec<u8> {
    assert_eq!(answer["isBase64Encoded"], true, "{answer}");
    base64::engine::general_purpose::STANDARD
        .decode(answer["body"].as_str().expect("a body"))
        .expect("base64")
}

#[tokio::test]
async fn a_text_file_in_another_charset_reaches_api_gateway_byte_for_byte() {
    let answer = answer_to(text_file).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(
        answer["headers"]["content-type"],
        "text/plain; charset=windows-1255"
    );
    assert_eq!(bytes_of(&answer), WINDOWS_1255_TEXT);
}

#[tokio::test]
async fn a_text_file_that_is_not_utf8_and_names_no_charset_keeps_its_bytes() {
    let answer = answer_to(undeclared_text_file).await;
    assert_eq!(bytes_of(&answer), WINDOWS_1255_TEXT);
}

#[tokio::test]
async fn a_json_answer_reaches_api_gateway_as_text() {
    let answer = answer_to(|| {
        shared::response::json(
            lambda_http::http::StatusCode::OK,
            &serde_json::json!({"name": "דנה"}),
        )
    })
    .await;
    assert_eq!(answer["isBase64Encoded"], false, "{answer}");
    assert_eq!(answer["headers"]["content-type"], "application/json");
    let body: Value = serde_json::from_str(answer["body"].as_str().expect("text")).expect("JSON");
    assert_eq!(body, serde_json::json!({"name": "דנה"}));
}
