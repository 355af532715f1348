//! Cold starts that must not serve: Secrets Manager unreachable, or a secret that would make a
//! deployed function accept the development token. The real bootstrap under the emulated
//! Lambda Runtime API stops with an error that names what failed (never a secret value), and
//! serves nothing with a half-read configuration. Lambda then retries the init on the next
//! invocation.

use std::process::Stdio;
use std::time::{Duration, Instant};

use shared::testing::lambda::RuntimeApi;
use shared::testing::secrets::create_secret;
use shared::testing::servers::moto_endpoint;

/// Runs the bootstrap with the Secrets Manager at `endpoint` and `APP_SECRET_ARN` = `arn` until
/// it exits; its exit status, its logs, and the emulated Runtime API.
async fn cold_start(endpoint: &str, arn: &str) -> (std::process::ExitStatus, String, RuntimeApi) {
    cold_start_with(endpoint, arn, Some("write")).await
}

/// [`cold_start`] with the route's `ROUTE_SCOPE` (none: as if the template forgot it).
async fn cold_start_with(
    endpoint: &str,
    arn: &str,
    route_scope: Option<&str>,
) -> (std::process::ExitStatus, String, RuntimeApi) {
    // No event is queued: a poll would wait for as long as the test runs.
    let runtime_api = RuntimeApi::serving(
        &[],
        "arn:aws:lambda:us-east-1:123456789012:function:create-client",
    )
    .await;
    let mut bootstrap = runtime_api.bootstrap(env!("CARGO_BIN_EXE_create-client"), "create-client");
    bootstrap
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("APP_SECRET_ARN", arn);
    if let Some(scope) = route_scope {
        bootstrap.env("ROUTE_SCOPE", scope);
    }
    let mut bootstrap = bootstrap
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
    (status, logs, runtime_api)
}

#[tokio::test]
async fn secrets_manager_down_at_cold_start_stops_the_init_and_serves_nothing() {
    // Nothing listens on port 9: Secrets Manager is down.
    let (status, logs, runtime_api) = cold_start(
        "http://127.0.0.1:9",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:client-ticket-manager",
    )
    .await;

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

#[tokio::test]
async fn a_deployed_function_refuses_the_development_token_at_cold_start() {
    let secret = serde_json::json!({
        "MONGODB_URI": "mongodb://127.0.0.1:9",
        "API_TOKENS": "a-real-token-0123456789abcdefghijkl,local-dev-token-0123456789abcdef",
    });
    let arn = create_secret("ctm-dev-token", &secret.to_string()).await;

    let (status, logs, runtime_api) = cold_start(moto_endpoint(), &arn).await;

    assert!(!status.success(), "{logs}");
    assert!(logs.contains("API_TOKENS"), "names the key: {logs}");
    assert!(logs.contains("development token"), "{logs}");
    assert!(!logs.contains("a-real-token"), "no token is logged: {logs}");
    assert!(runtime_api.first_poll().is_none(), "nothing was served");
}

#[tokio::test]
async fn a_malformed_token_entry_stops_the_cold_start_naming_its_position_not_its_token() {
    let tokens = serde_json::json!([
        {"name": "support-viewer", "scopes": ["read"], "token": "a-real-token-0123456789abcdefghijkl"},
        {"name": "crm-sync", "scopes": ["read", "wirte"], "token": "another-real-token-0123456789abcdef"},
    ]);
    let secret = serde_json::json!({
        "MONGODB_URI": "mongodb://127.0.0.1:9",
        "API_TOKENS": tokens.to_string(),
    });
    let arn = create_secret("ctm-bad-entry", &secret.to_string()).await;

    let (status, logs, runtime_api) = cold_start(moto_endpoint(), &arn).await;

    assert!(!status.success(), "{logs}");
    assert!(logs.contains("API_TOKENS"), "names the key: {logs}");
    assert!(
        logs.contains("entry 2: scopes must list"),
        "names the entry: {logs}"
    );
    assert!(!logs.contains("real-token"), "no token is logged: {logs}");
    assert!(runtime_api.first_poll().is_none(), "nothing was served");
}

#[tokio::test]
async fn a_route_whose_template_declares_no_scope_does_not_start() {
    let secret = serde_json::json!({
        "MONGODB_URI": "mongodb://127.0.0.1:9",
        "API_TOKENS": "a-real-token-0123456789abcdefghijkl",
    });
    let arn = create_secret("ctm-no-scope", &secret.to_string()).await;

    let (status, logs, runtime_api) = cold_start_with(moto_endpoint(), &arn, None).await;

    assert!(!status.success(), "{logs}");
    assert!(logs.contains("ROUTE_SCOPE"), "names the key: {logs}");
    assert!(runtime_api.first_poll().is_none(), "nothing was served");
}
