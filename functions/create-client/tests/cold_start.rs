//! A cold start while Secrets Manager cannot be reached: the real bootstrap under the emulated
//! Lambda Runtime API stops with an error that names what failed (never a secret value), and
//! serves nothing with a half-read configuration. Lambda then retries the init on the next
//! invocation.

use std::process::Stdio;
use std::time::{Duration, Instant};

use shared::testing::lambda::RuntimeApi;

#[tokio::test]
async fn secrets_manager_down_at_cold_start_stops_the_init_and_serves_nothing() {
    // No event is queued: a poll would wait for as long as the test runs.
    let runtime_api = RuntimeApi::serving(
        &[],
        "arn:aws:lambda:us-east-1:123456789012:function:create-client",
    )
    .await;

    let mut bootstrap = runtime_api
        .bootstrap(env!("CARGO_BIN_EXE_create-client"), "create-client")
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

    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = bootstrap.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
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
    // The bootstrap never reached the Runtime API: no poll, and no init error posted either.
    assert!(
        runtime_api.first_poll().is_none(),
        "no invocation was asked for"
    );
    assert_eq!(runtime_api.init_error(), None, "nothing was reported");
}
