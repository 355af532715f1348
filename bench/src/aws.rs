//! Plain HTTP to moto_server on loopback: the counting proxy's forwarding, and the few AWS
//! calls the bench makes itself to set up (the secret, the queue and the bucket) and tidy up.
//! moto does not check signatures, so requests carry only the credential scope it routes by
//! (service and region).

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

pub const REGION: &str = "us-east-1";

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub fn http_client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new()).build(connector)
}

/// Sends `request` and reads the whole answer.
pub async fn call(
    client: &HttpClient,
    request: Request<Full<Bytes>>,
) -> Result<Response<Bytes>, String> {
    let response = client.request(request).await.map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Response::from_parts(parts, body))
}

/// An AWS endpoint: moto_server, or the counting proxy in front of it.
pub struct Aws {
    client: HttpClient,
    endpoint: String,
}

impl Aws {
    pub fn new(endpoint: &str) -> Self {
        Self {
            client: http_client(),
            endpoint: endpoint.trim_end_matches('/').to_owned(),
        }
    }

    /// Creates a secret holding `value`; returns its ARN.
    pub async fn create_secret(&self, name: &str, value: &str) -> Result<String, String> {
        let created = self
            .json(
                "secretsmanager",
                "secretsmanager.CreateSecret",
                "1.1",
                json!({"Name": name, "SecretString": value}),
            )
            .await?;
        text(&created, "ARN")
    }

    /// Creates a FIFO queue configured like the deployed archive queue; returns its URL.
    pub async fn create_fifo_queue(&self, name: &str) -> Result<String, String> {
        let created = self
            .json(
                "sqs",
                "AmazonSQS.CreateQueue",
                "1.0",
                json!({"QueueName": name, "Attributes": {
                    "FifoQueue": "true",
                    "ContentBasedDeduplication": "false",
                    "VisibilityTimeout": "720",
                }}),
            )
            .await?;
        text(&created, "QueueUrl")
    }

    /// Receives and deletes every message of a queue, as the archive worker drains it in
    /// production (PurgeQueue is allowed once a minute).
    pub async fn drain_queue(&self, queue_url: &str) -> Result<(), String> {
        // Bounded: a queue that refills as fast as it drains is a bug of the bench.
        for _ in 0..1000 {
            let received = self
                .json(
                    "sqs",
                    "AmazonSQS.ReceiveMessage",
                    "1.0",
                    json!({"QueueUrl": queue_url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0}),
                )
                .await?;
            let entries: Vec<Value> = received["Messages"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(n, message)| json!({"Id": n.to_string(), "ReceiptHandle": message["ReceiptHandle"]}))
                .collect();
            if entries.is_empty() {
                return Ok(());
            }
            self.json(
                "sqs",
                "AmazonSQS.DeleteMessageBatch",
                "1.0",
                json!({"QueueUrl": queue_url, "Entries": entries}),
            )
            .await?;
        }
        Err(format!("{queue_url} did not drain"))
    }

    pub async fn create_bucket(&self, bucket: &str) -> Result<(), String> {
        self.s3(Method::PUT, &format!("/{bucket}")).await
    }

    async fn s3(&self, method: Method, path: &str) -> Result<(), String> {
        let request = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.endpoint))
            .header(AUTHORIZATION, scope("s3"))
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let response = call(&self.client, request).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("S3 {method} {path}: {}", response.status()))
        }
    }

    async fn json(
        &self,
        service: &str,
        target: &str,
        version: &str,
        body: Value,
    ) -> Result<Value, String> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/", self.endpoint))
            .header(AUTHORIZATION, scope(service))
            .header("x-amz-target", target)
            .header(CONTENT_TYPE, format!("application/x-amz-json-{version}"))
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| e.to_string())?;
        let response = call(&self.client, request).await?;
        if !response.status().is_success() {
            return Err(format!(
                "{target}: {} {}",
                response.status(),
                String::from_utf8_lossy(response.body())
            ));
        }
        serde_json::from_slice(response.body()).map_err(|e| format!("{target}: {e}"))
    }
}

/// An `Authorization` header moto routes by; the signature is not checked.
fn scope(service: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=00"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("AWS4-HMAC-SHA256"))
}

fn text(answer: &Value, key: &str) -> Result<String, String> {
    answer[key]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("moto answered without {key}: {answer}"))
}
