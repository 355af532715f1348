//! Configuration from the environment and from a real Secrets Manager API (moto_server).

use std::collections::HashMap;

use secrecy::ExposeSecret;
use shared::config::{Config, ConfigError, fetch_secret, keys};
use shared::testing::secrets::{create_secret, secrets_client};

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn complete_env() -> HashMap<String, String> {
    vars(&[
        (keys::MONGODB_URI, "mongodb://127.0.0.1:27017"),
        (keys::GLASSIX_WORKSPACE, "acme-support"),
        (
            keys::GLASSIX_API_KEY,
            "0f9c7c1e-1111-2222-3333-444455556666",
        ),
        (keys::GLASSIX_API_SECRET, "s3cr3t-value"),
        (keys::GLASSIX_USER_NAME, "api-bot@example.com"),
        (
            keys::API_TOKENS,
            "token-one-aaaaaaaaaaaaaaaaaaaaaaa, token-two-bbbbbbbbbbbbbbbbbbbbbbb",
        ),
        (keys::NEW_TICKET_TAGS, "archived-by-ctm, vip"),
    ])
}

#[test]
fn environment_alone_gives_a_complete_configuration() {
    let config = Config::from_sources(&complete_env(), &HashMap::new()).expect("valid");

    assert_eq!(config.mongodb_database, "client_ticket_manager");
    assert_eq!(config.new_ticket_tags, vec!["archived-by-ctm", "vip"]);
    let glassix = config.glassix().expect("glassix settings");
    assert_eq!(
        glassix.base_url.as_str(),
        "https://acme-support.glassix.com/api/v1.2/"
    );
    assert_eq!(glassix.api_secret.expose_secret(), "s3cr3t-value");
    let tokens = config.api_tokens().expect("tokens");
    let named = |token: &str| tokens.identify(token).map(|t| t.name().to_owned());
    assert_eq!(
        named("token-one-aaaaaaaaaaaaaaaaaaaaaaa").as_deref(),
        Some("token-1")
    );
    assert_eq!(
        named("token-two-bbbbbbbbbbbbbbbbbbbbbbb").as_deref(),
        Some("token-2")
    );
    assert_eq!(tokens.iter().count(), 2);
}

#[test]
fn a_missing_key_is_named_in_the_error() {
    let mut env = complete_env();
    env.remove(keys::MONGODB_URI);
    let error = Config::from_sources(&env, &HashMap::new()).expect_err("missing uri");
    assert_eq!(error, ConfigError::Missing(keys::MONGODB_URI));
    assert_eq!(
        error.to_string(),
        "configuration key MONGODB_URI is missing"
    );

    let mut env = complete_env();
    env.remove(keys::GLASSIX_API_SECRET);
    let config =
        Config::from_sources(&env, &HashMap::new()).expect("REST functions need no Glassix");
    let error = config.glassix().expect_err("webhooks do");
    assert_eq!(error, ConfigError::Missing(keys::GLASSIX_API_SECRET));
}

#[test]
fn a_malformed_value_is_named_without_echoing_it() {
    let mut env = complete_env();
    env.insert(
        keys::MONGODB_URI.into(),
        "postgres://user:hunter2@db".into(),
    );
    let error = Config::from_sources(&env, &HashMap::new()).expect_err("malformed");
    assert!(matches!(
        error,
        ConfigError::Malformed {
            key: keys::MONGODB_URI,
            ..
        }
    ));
    assert!(!error.to_string().contains("hunter2"));
}

#[test]
fn the_base_url_override_wins_over_the_workspace() {
    let mut env = complete_env();
    env.insert(
        keys::GLASSIX_BASE_URL.into(),
        "http://127.0.0.1:9999/api/v1.2".into(),
    );
    let config = Config::from_sources(&env, &HashMap::new()).expect("valid");
    assert_eq!(
        config.glassix().expect("glassix").base_url.as_str(),
        "http://127.0.0.1:9999/api/v1.2/"
    );
}

#[test]
fn debug_output_never_shows_secret_values() {
    let config = Config::from_sources(&complete_env(), &HashMap::new()).expect("valid");
    let debug = format!("{config:?}");
    for secret in [
        "s3cr3t-value",
        "token-one-aaaaaaaaaaaaaaaaaaaaaaa",
        "mongodb://127.0.0.1",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked into {debug}");
    }
}

#[tokio::test]
async fn a_secret_alone_gives_a_complete_configuration() {
    let secret_json = serde_json::to_string(&complete_env()).expect("json");
    let arn = create_secret("ctm-complete", &secret_json).await;

    let secret = fetch_secret(&secrets_client().await, &arn)
        .await
        .expect("readable");
    let config = Config::from_sources(&HashMap::new(), &secret).expect("valid");

    assert_eq!(
        config.glassix().expect("glassix").user_name,
        "api-bot@example.com"
    );
    assert_eq!(
        config.mongodb_uri.expose_secret(),
        "mongodb://127.0.0.1:27017"
    );
}

#[tokio::test]
async fn the_environment_overrides_the_secret() {
    let arn = create_secret(
        "ctm-override",
        &serde_json::to_string(&complete_env()).expect("json"),
    )
    .await;
    let secret = fetch_secret(&secrets_client().await, &arn)
        .await
        .expect("readable");

    let env = vars(&[(keys::MONGODB_DATABASE, "from_env")]);
    let config = Config::from_sources(&env, &secret).expect("valid");

    assert_eq!(config.mongodb_database, "from_env");
}

#[tokio::test]
async fn a_secret_that_is_not_a_json_object_is_a_clear_error() {
    let arn = create_secret("ctm-malformed", "MONGODB_URI=mongodb://x").await;

    let error = fetch_secret(&secrets_client().await, &arn)
        .await
        .expect_err("malformed");

    assert!(
        matches!(&error, ConfigError::Secret { reason, .. } if reason == "the secret is not a JSON object"),
        "{error}"
    );
    assert!(!error.to_string().contains("mongodb://x"));
}

#[tokio::test]
async fn an_unknown_secret_is_a_clear_error() {
    let error = fetch_secret(
        &secrets_client().await,
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope",
    )
    .await
    .expect_err("unknown");
    assert!(matches!(error, ConfigError::Secret { .. }), "{error}");
}

#[test]
fn tokens_shorter_than_32_characters_are_refused() {
    let with_tokens = |tokens: &str| {
        let mut env = complete_env();
        env.insert(keys::API_TOKENS.into(), tokens.into());
        Config::from_sources(&env, &HashMap::new()).expect("config")
    };
    let short = with_tokens(&format!("{}, {}", "a".repeat(32), "b".repeat(31)));
    assert_eq!(
        short.api_tokens().map(|t| t.iter().count()),
        Err(ConfigError::Malformed {
            key: keys::API_TOKENS,
            reason: "every token must be at least 32 characters".into()
        })
    );
    assert_eq!(
        with_tokens(&"a".repeat(32))
            .api_tokens()
            .map(|t| t.iter().count()),
        Ok(1)
    );
}

#[test]
fn a_database_host_reached_in_clear_is_refused_without_echoing_the_uri() {
    let mut env = complete_env();
    env.insert(
        keys::MONGODB_URI.into(),
        "mongodb://ctm:pa55word@db.example.com:27017/?authSource=admin".into(),
    );

    let error = Config::from_sources(&env, &HashMap::new()).expect_err("in clear");

    assert!(
        matches!(&error, ConfigError::Malformed { key, .. } if *key == keys::MONGODB_URI),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        !text.contains("pa55word") && !text.contains("db.example.com"),
        "{text}"
    );
    env.insert(
        keys::MONGODB_URI.into(),
        "mongodb://ctm:pa55word@db.example.com:27017/?authSource=admin&tls=true".into(),
    );
    assert!(Config::from_sources(&env, &HashMap::new()).is_ok());
}
