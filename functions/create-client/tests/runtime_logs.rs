//! The real bootstrap under the Lambda Runtime API (emulated on loopback), at the most verbose
//! level the template allows (`LogLevel: TRACE`): no token, name, phone number or e-mail of the
//! request reaches the log, although the request is served.

use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use shared::testing::lambda::RuntimeApi;
use shared::testing::{self, servers};

#[tokio::test]
async fn nothing_personal_or_secret_is_logged_at_trace() {
    let event = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/create-client.json"),
    )
    .expect("events/create-client.json");
    let database = testing::unique_database_name();
    let runtime_api = RuntimeApi::serving(
        &[event],
        "arn:aws:lambda:eu-west-1:123456789012:function:create-client",
    )
    .await;

    let mut bootstrap = runtime_api
        .bootstrap(env!("CARGO_BIN_EXE_create-client"), "create-client")
        .env("AWS_LAMBDA_LOG_LEVEL", "TRACE")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("MONGODB_URI", servers::mongodb_uri())
        .env("MONGODB_DATABASE", &database)
        .env("API_TOKENS", "local-dev-token-0123456789abcdef")
        .env("ROUTE_SCOPE", testing::route_scope("create-client"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the bootstrap starts");

    let answer = runtime_api
        .answers(1, Duration::from_secs(30))
        .await
        .remove(0);
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

    assert_eq!(
        (answer.request_id.as_str(), answer.outcome.as_str()),
        ("req-1", "response"),
        "{answer:?}"
    );
    assert_eq!(answer.body["statusCode"], 201, "{answer:?}");
    assert!(
        logs.contains("client created"),
        "logs are written:\n{logs}\n{answer:?}"
    );
    // The access log is a database record: the request is in it, and none of it in the logs.
    let store = shared::db::Store::connect(servers::mongodb_uri(), &database)
        .await
        .expect("store");
    let entries = testing::access_log(&store).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(
        (
            entry.record.token.as_str(),
            entry.record.route.as_str(),
            entry.record.status
        ),
        ("token-1", "POST /clients", 201)
    );
    assert_eq!(
        entry.record.client_identifier.as_deref(),
        Some("dana+vip@example.com")
    );
    assert_eq!(entry.record.source_ip.as_deref(), Some("192.0.2.10"));
    for forbidden in [
        "local-dev-token-0123456789abcdef",
        "dana+vip@example.com",
        "דנה כהן",
        "authorization",
        "192.0.2.10",
        "curl/8.5.0",
    ] {
        assert!(
            !logs.to_lowercase().contains(&forbidden.to_lowercase()),
            "{forbidden} leaked into the logs:\n{logs}"
        );
    }
}
