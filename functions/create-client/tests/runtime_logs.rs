//! The real bootstrap under the Lambda Runtime API (emulated by a stub on loopback), at the most
//! verbose level the template allows (`LogLevel: TRACE`): no token, name, phone number or
//! e-mail of the request reaches the log, although the request is served.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use shared::testing::{self, servers};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn nothing_personal_or_secret_is_logged_at_trace() {
    let runtime_api = MockServer::start().await;
    let event = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/create-client.json"),
    )
    .expect("events/create-client.json");
    Mock::given(method("GET"))
        .and(path("/2018-06-01/runtime/invocation/next"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("lambda-runtime-aws-request-id", "req-1")
                .insert_header("lambda-runtime-deadline-ms", "9999999999999")
                .insert_header(
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:eu-west-1:123456789012:function:create-client",
                )
                .set_body_raw(event, "application/json"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&runtime_api)
        .await;
    // Afterwards: no more events (a long poll that never answers while the test runs).
    Mock::given(method("GET"))
        .and(path("/2018-06-01/runtime/invocation/next"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&runtime_api)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(
            "^/2018-06-01/runtime/invocation/req-1/(response|error)$",
        ))
        .respond_with(ResponseTemplate::new(202))
        .mount(&runtime_api)
        .await;

    let mut bootstrap = Command::new(env!("CARGO_BIN_EXE_create-client"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_LOG_LEVEL", "TRACE")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api.address().to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "create-client")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "group")
        .env("MONGODB_URI", servers::mongodb_uri())
        .env("MONGODB_DATABASE", testing::unique_database_name())
        .env("API_TOKENS", "local-dev-token-0123456789abcdef")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the bootstrap starts");

    let answered = async {
        loop {
            let received = runtime_api.received_requests().await.unwrap_or_default();
            if let Some(answer) = received.iter().find(|r| r.method.as_str() == "POST") {
                return answer.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let answer = tokio::time::timeout(Duration::from_secs(30), answered)
        .await
        .expect("the invocation is answered");
    // Let the log lines of the invocation reach the pipe before the process is stopped.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = bootstrap.kill();
    let _ = bootstrap.wait();
    let mut logs = String::new();
    for mut stream in [
        bootstrap
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read>),
        bootstrap
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read>),
    ]
    .into_iter()
    .flatten()
    {
        stream.read_to_string(&mut logs).expect("logs");
    }

    assert!(answer.url.path().ends_with("/response"), "{}", answer.url);
    let response: serde_json::Value = serde_json::from_slice(&answer.body).expect("a response");
    assert_eq!(response["statusCode"], 201, "{response}");
    assert!(
        logs.contains("client created"),
        "logs are written:\n{logs}\n{answer:?}"
    );
    for forbidden in [
        "local-dev-token-0123456789abcdef",
        "dana+vip@example.com",
        "דנה כהן",
        "authorization",
    ] {
        assert!(
            !logs.to_lowercase().contains(&forbidden.to_lowercase()),
            "{forbidden} leaked into the logs:\n{logs}"
        );
    }
}
