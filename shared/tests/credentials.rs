//! Credentials changed in the secret reach warm functions: REST tokens, the webhook signing
//! secret and the Glassix credentials, against a real Secrets Manager API (moto_server).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use shared::config::{Config, keys};
use shared::credentials::LiveCredentials;
use shared::error::AppError;
use shared::glassix::inbound::sign;
use shared::testing::glassix::{GlassixStub, TEST_API_SECRET};
use shared::testing::requests::{ApiRequest, WEBHOOK_BUDGET, api_state, signed_webhook, webhook};
use shared::testing::secrets::{create_secret, put_secret, secrets_client, secrets_client_at};
use shared::testing::{self, fixture};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, ResponseTemplate};

const FIRST_TOKEN: &str = "first-token-aaaaaaaaaaaaaaaaaaaaaaaaa";
const SECOND_TOKEN: &str = "second-token-bbbbbbbbbbbbbbbbbbbbbbbb";
const ROTATED_SECRET: &str = "rotated-api-secret";

fn secret_json(tokens: &str, api_secret: &str, base_url: &str) -> String {
    serde_json::to_string(&HashMap::from([
        (keys::MONGODB_URI, "mongodb://127.0.0.1:27017"),
        (keys::GLASSIX_BASE_URL, base_url),
        (
            keys::GLASSIX_API_KEY,
            "0f9c7c1e-1111-2222-3333-444455556666",
        ),
        (keys::GLASSIX_API_SECRET, api_secret),
        (keys::GLASSIX_USER_NAME, "api-bot@example.com"),
        (keys::API_TOKENS, tokens),
    ]))
    .expect("json")
}

/// Live credentials over a new secret holding `value`, as a cold start reads them.
async fn live_from(value: &str) -> (Arc<LiveCredentials>, String) {
    let arn = create_secret("ctm-live", value).await;
    let secret = shared::config::fetch_secret(&secrets_client().await, &arn)
        .await
        .expect("read");
    let config = Config::from_sources(&HashMap::new(), &secret).expect("valid");
    let live = LiveCredentials::from_secret(
        config.credentials.clone(),
        secrets_client().await,
        arn.clone(),
    );
    (Arc::new(live), arn)
}

fn bearer(token: &str) -> lambda_http::Request {
    ApiRequest::anonymous("GET", "/clients")
        .header("authorization", &format!("Bearer {token}"))
        .build()
}

async fn authorized(live: &Arc<LiveCredentials>, token: &str) -> Result<(), AppError> {
    let mut state = api_state(testing::unreachable_store().await);
    state.credentials = live.clone();
    state.authenticate(&bearer(token)).await.map(|_| ())
}

#[tokio::test]
async fn a_token_removed_from_the_secret_stops_working_within_the_reload_period() {
    let (live, arn) = live_from(&secret_json(
        &format!("{FIRST_TOKEN},{SECOND_TOKEN}"),
        TEST_API_SECRET,
        "http://127.0.0.1:9/api/v1.2",
    ))
    .await;
    let live = Arc::new(
        Arc::into_inner(live)
            .expect("one owner")
            .reloading_every(Duration::from_millis(800)),
    );
    authorized(&live, FIRST_TOKEN).await.expect("accepted");

    put_secret(
        &arn,
        &secret_json(SECOND_TOKEN, TEST_API_SECRET, "http://127.0.0.1:9/api/v1.2"),
    )
    .await;

    // Until the period ends the warm instance still holds the old list.
    authorized(&live, FIRST_TOKEN)
        .await
        .expect("still accepted");
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(matches!(
        authorized(&live, FIRST_TOKEN).await,
        Err(AppError::Unauthorized)
    ));
    authorized(&live, SECOND_TOKEN).await.expect("kept");
    // The scheduled reread, then one more for the refused token (it might have been new).
    assert_eq!(live.reloads(), 2);
}

#[tokio::test]
async fn a_token_added_to_the_secret_works_at_once_and_refusals_reread_at_most_once_a_minute() {
    let (live, arn) = live_from(&secret_json(
        FIRST_TOKEN,
        TEST_API_SECRET,
        "http://127.0.0.1:9/api/v1.2",
    ))
    .await;
    put_secret(
        &arn,
        &secret_json(
            &format!("{FIRST_TOKEN},{SECOND_TOKEN}"),
            TEST_API_SECRET,
            "http://127.0.0.1:9/api/v1.2",
        ),
    )
    .await;

    authorized(&live, SECOND_TOKEN)
        .await
        .expect("the refusal rereads the secret");
    assert_eq!(live.reloads(), 1);

    for _ in 0..20 {
        let wrong = authorized(&live, "an-attacker-guessing-tokens-000000000").await;
        assert!(matches!(wrong, Err(AppError::Unauthorized)));
    }
    assert_eq!(live.reloads(), 1, "at most one reread a minute");
}

#[tokio::test]
async fn a_malformed_key_that_is_no_credential_never_blocks_a_rotation() {
    let (live, arn) = live_from(&secret_json(
        FIRST_TOKEN,
        TEST_API_SECRET,
        "http://127.0.0.1:9/api/v1.2",
    ))
    .await;
    let mut edited: HashMap<String, serde_json::Value> = serde_json::from_str(&secret_json(
        &format!("{FIRST_TOKEN},{SECOND_TOKEN}"),
        TEST_API_SECRET,
        "http://127.0.0.1:9/api/v1.2",
    ))
    .expect("json");
    // Keys only a cold start reads, malformed: the next cold start's concern, not a reread's.
    edited.insert(keys::WEBHOOK_BUDGET_MS.into(), "soon".into());
    edited.insert(keys::MONGODB_URI.into(), "not a connection string".into());
    edited.insert(
        keys::RECONCILE_SINCE.into(),
        serde_json::json!({"not": "a date"}),
    );
    put_secret(&arn, &serde_json::to_string(&edited).expect("json")).await;

    authorized(&live, SECOND_TOKEN)
        .await
        .expect("the new token is read despite the malformed keys");
    assert_eq!(live.reloads(), 1);
}

#[tokio::test]
async fn when_secrets_manager_is_down_the_current_credentials_are_kept() {
    let arn = create_secret(
        "ctm-down",
        &secret_json(FIRST_TOKEN, TEST_API_SECRET, "http://127.0.0.1:9/api/v1.2"),
    )
    .await;
    let secret = shared::config::fetch_secret(&secrets_client().await, &arn)
        .await
        .expect("read");
    let config = Config::from_sources(&HashMap::new(), &secret).expect("valid");
    let unreachable = secrets_client_at("http://127.0.0.1:9").await;
    let live = Arc::new(
        LiveCredentials::from_secret(config.credentials.clone(), unreachable, arn)
            .reloading_every(Duration::from_millis(10)),
    );
    tokio::time::sleep(Duration::from_millis(20)).await;

    authorized(&live, FIRST_TOKEN)
        .await
        .expect("kept after a failed reread");
    assert_eq!(live.reloads(), 1);
}

#[tokio::test]
async fn a_delivery_signed_with_a_rotated_api_secret_is_accepted_at_once() {
    let (live, arn) = live_from(&secret_json(
        FIRST_TOKEN,
        TEST_API_SECRET,
        "http://127.0.0.1:9/api/v1.2",
    ))
    .await;
    let body = fixture("glassix/new-ticket-event.json");
    shared::webhook::receive(&signed_webhook(&body), &live, WEBHOOK_BUDGET)
        .await
        .expect("signed with the current secret");

    put_secret(
        &arn,
        &secret_json(FIRST_TOKEN, ROTATED_SECRET, "http://127.0.0.1:9/api/v1.2"),
    )
    .await;
    let rotated = webhook(body.clone(), Some(sign(ROTATED_SECRET, &body)));

    shared::webhook::receive(&rotated, &live, WEBHOOK_BUDGET)
        .await
        .expect("the refused signature rereads the secret");
    assert_eq!(live.reloads(), 1);

    let forged = webhook(body.clone(), Some(sign("somebody-else", &body)));
    assert!(matches!(
        shared::webhook::receive(&forged, &live, WEBHOOK_BUDGET).await,
        Err(AppError::Unauthorized)
    ));
    assert_eq!(live.reloads(), 1, "no second reread within the minute");
}

#[tokio::test]
async fn glassix_tokens_are_fetched_with_the_rotated_api_secret_once_the_old_one_is_refused() {
    let stub = GlassixStub::bare().await;
    let token_path = format!("{}/token/get", shared::testing::glassix::BASE_PATH);
    Mock::given(method("POST"))
        .and(path(token_path.clone()))
        .and(body_partial_json(
            serde_json::json!({"apiSecret": ROTATED_SECRET}),
        ))
        .respond_with(shared::testing::glassix::json_fixture(
            "glassix/token-response.json",
        ))
        .mount(&stub.server)
        .await;
    Mock::given(method("POST"))
        .and(path(token_path))
        .respond_with(ResponseTemplate::new(401))
        .mount(&stub.server)
        .await;
    stub.answer(
        "GET",
        "tickets/get/48213977",
        shared::testing::glassix::json_fixture("glassix/ticket.json"),
    )
    .await;
    let (live, arn) = live_from(&secret_json(FIRST_TOKEN, TEST_API_SECRET, &stub.base_url())).await;
    put_secret(
        &arn,
        &secret_json(FIRST_TOKEN, ROTATED_SECRET, &stub.base_url()),
    )
    .await;
    let client = stub.client().with_live_credentials(live.clone());

    let ticket = client
        .get_ticket(
            48213977,
            tokio::time::Instant::now() + Duration::from_secs(5),
        )
        .await
        .expect("fetched with the rotated secret");

    assert_eq!(ticket.id, 48213977);
    assert_eq!(stub.received("POST", "token/get").await.len(), 2);
    assert_eq!(live.reloads(), 1);
}
