//! Secrets in a real Secrets Manager API (moto_server), for configuration tests.

use super::servers::moto_endpoint;

/// A Secrets Manager client on moto.
pub async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    secrets_client_at(moto_endpoint()).await
}

/// A Secrets Manager client on `endpoint` (a closed port: "Secrets Manager is down").
pub async fn secrets_client_at(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let sdk = super::moto_sdk_config(endpoint);
    aws_sdk_secretsmanager::Client::new(&sdk)
}

/// Creates a secret of a unique name holding `value`; returns its ARN.
pub async fn create_secret(name: &str, value: &str) -> String {
    let created = secrets_client()
        .await
        .create_secret()
        .name(format!("{name}-{}", super::unique_database_name()))
        .secret_string(value)
        .send()
        .await
        .expect("moto creates the secret");
    created.arn().expect("an ARN").to_owned()
}

/// Replaces the value of the secret `arn`, as an operator rotating it would.
pub async fn put_secret(arn: &str, value: &str) {
    secrets_client()
        .await
        .put_secret_value()
        .secret_id(arn)
        .secret_string(value)
        .send()
        .await
        .expect("moto stores the new value");
}
