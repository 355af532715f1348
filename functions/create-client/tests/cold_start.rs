//! A cold start while Secrets Manager cannot be reached: the real bootstrap under an emulated
//! Lambda Runtime API stops with an error that names what failed (never a secret value), and
//! serves nothing with a half-read configuration. Lambda then retries the init on the next
//! invocation.

use std::process::{Command, Stdio};
use std::time::Duration;

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn secrets_manager_down_at_cold_start_stops_the_init_and_serves_nothing() {
    let runtime_api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&runtime_api)
        .await;

    let mut bootstrap = Command::new(env!("CARGO_BIN_EXE_create-client"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api.address().to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "create-client")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        // Nothing listens on port 9: Secrets Manager is down.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env(
            "APP_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:client-ticket-manager",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the bootstrap starts");

    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = bootstrap.try_wait().expect("wait") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the bootstrap kept running without its configuration"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let output = bootstrap.wait_with_output().expect("output");
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    assert!(!status.success(), "{logs}");
    assert!(logs.contains("configuration is incomplete"), "{logs}");
    assert!(
        logs.contains("client-ticket-manager"),
        "names the secret: {logs}"
    );
    assert!(
        runtime_api
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "no invocation was asked for"
    );
}
