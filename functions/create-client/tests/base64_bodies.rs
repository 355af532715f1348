//! The real bootstrap under the Lambda Runtime API (emulated on loopback) with bodies API
//! Gateway marks `isBase64Encoded`. lambda_http decodes such a body with `expect`: one that is
//! not base64 would panic the invocation, which Lambda reports as an error and API Gateway
//! answers with a bare 500. The function answers it 400 in the error shape instead, and goes on
//! serving.

use std::process::Stdio;
use std::time::Duration;

use shared::testing::lambda::RuntimeApi;
use shared::testing::{self, servers};

/// `{"identifier": "b64@example.com", "name": "Dana"}`, base64-encoded.
const ENCODED_CLIENT: &str = "eyJpZGVudGlmaWVyIjogImI2NEBleGFtcGxlLmNvbSIsICJuYW1lIjogIkRhbmEifQ==";

/// `events/create-client.json` with `body` marked base64-encoded.
fn event(body: &str) -> String {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/create-client.json");
    let mut event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the event file"))
            .expect("the event is JSON");
    event["isBase64Encoded"] = true.into();
    event["body"] = body.into();
    event.to_string()
}

#[tokio::test]
async fn a_body_that_is_not_base64_is_answered_400_and_the_next_event_is_served() {
    let events = [event("not base64!"), event(ENCODED_CLIENT)];
    let runtime_api = RuntimeApi::serving(
        &events,
        "arn:aws:lambda:eu-west-1:123456789012:function:create-client",
    )
    .await;
    let mut bootstrap = runtime_api
        .bootstrap(env!("CARGO_BIN_EXE_create-client"), "create-client")
        .env("MONGODB_URI", servers::mongodb_uri())
        .env("MONGODB_DATABASE", testing::unique_database_name())
        .env("API_TOKENS", "local-dev-token-0123456789abcdef")
        .env("ROUTE_SCOPE", testing::route_scope("create-client"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the bootstrap starts");

    let answers = runtime_api.answers(2, Duration::from_secs(30)).await;
    let _ = bootstrap.kill();
    let _ = bootstrap.wait();

    let refused = &answers[0];
    assert_eq!(
        (refused.request_id.as_str(), refused.outcome.as_str()),
        ("req-1", "response"),
        "a response, not a failed invocation: {refused:?}"
    );
    assert_eq!(refused.body["statusCode"], 400, "{refused:?}");
    assert_eq!(
        refused.body["headers"]["content-type"], "application/json",
        "{refused:?}"
    );
    let error: serde_json::Value = serde_json::from_str(
        refused.body["body"]
            .as_str()
            .expect("the error shape, as text"),
    )
    .expect("JSON");
    assert_eq!(
        error,
        serde_json::json!({"error": {
            "code": "bad_request",
            "message": "the body is marked base64-encoded but is not base64"
        }})
    );

    let served = &answers[1];
    assert_eq!(
        (served.request_id.as_str(), served.outcome.as_str()),
        ("req-2", "response"),
        "{served:?}"
    );
    assert_eq!(served.body["statusCode"], 201, "{served:?}");
}
