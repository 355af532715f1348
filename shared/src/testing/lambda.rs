//! The Lambda Runtime API, emulated on loopback: it hands a real bootstrap its events one at a
//! time and records how each invocation was answered.

use std::process::Command;
use std::time::Duration;

use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub struct RuntimeApi {
    pub server: MockServer,
}

/// How the bootstrap answered one invocation.
#[derive(Debug, Clone)]
pub struct Answer {
    /// `req-1`, `req-2`, … in the order the events were served.
    pub request_id: String,
    /// `response`, or `error` when the function failed (a panic, an error returned).
    pub outcome: String,
    pub body: serde_json::Value,
}

impl RuntimeApi {
    /// Serves `events` in order as `req-1`, `req-2`, …, then a long poll that never answers
    /// while the test runs.
    pub async fn serving(events: &[String], function_arn: &str) -> Self {
        let server = MockServer::start().await;
        for (index, event) in events.iter().enumerate() {
            Mock::given(method("GET"))
                .and(path("/2018-06-01/runtime/invocation/next"))
                .respond_with(
                    ResponseTemplate::new(200)
                        .insert_header(
                            "lambda-runtime-aws-request-id",
                            format!("req-{}", index + 1),
                        )
                        .insert_header("lambda-runtime-deadline-ms", "9999999999999")
                        .insert_header("lambda-runtime-invoked-function-arn", function_arn)
                        .set_body_raw(event.clone(), "application/json"),
                )
                .up_to_n_times(1)
                .with_priority(u8::try_from(index + 1).expect("fewer than 255 events"))
                .mount(&server)
                .await;
        }
        Mock::given(method("GET"))
            .and(path("/2018-06-01/runtime/invocation/next"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
            .with_priority(u8::MAX)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(
                "^/2018-06-01/runtime/invocation/req-\\d+/(response|error)$",
            ))
            .respond_with(ResponseTemplate::new(202))
            .mount(&server)
            .await;
        Self { server }
    }

    /// The bootstrap at `binary` with the environment Lambda gives every function; add the
    /// function's own variables before spawning it.
    pub fn bootstrap(&self, binary: &str, function_name: &str) -> Command {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", self.server.address().to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", function_name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "group");
        command
    }

    /// The first `count` answers, in the order they came; panics if they take longer than
    /// `timeout`.
    pub async fn answers(&self, count: usize, timeout: Duration) -> Vec<Answer> {
        let answered = async {
            loop {
                let answers: Vec<Answer> = self
                    .server
                    .received_requests()
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|r| r.method.as_str() == "POST")
                    .filter_map(|r| {
                        let mut segments = r.url.path().rsplit('/');
                        let outcome = segments.next()?.to_owned();
                        let request_id = segments.next()?.to_owned();
                        let body = serde_json::from_slice(&r.body).unwrap_or_default();
                        Some(Answer {
                            request_id,
                            outcome,
                            body,
                        })
                    })
                    .collect();
                if answers.len() >= count {
                    return answers;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(timeout, answered)
            .await
            .unwrap_or_else(|_| panic!("{count} invocations were not answered within {timeout:?}"))
    }
}
