//! The deploy-time migration as CloudFormation runs it: a custom resource event in, the
//! indexes in a real database, the outcome PUT to the pre-signed response URL (a wiremock).

use std::time::Duration;

use migrate::{MigrateState, handle};
use shared::db::Store;
use shared::testing::{self, servers};
use tokio::time::Instant;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn event(
    request_type: &str,
    response_url: &str,
) -> aws_lambda_events::cloudformation::CloudFormationCustomResourceRequest {
    serde_json::from_value(serde_json::json!({
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:migrate",
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/client-ticket-manager/1",
        "RequestId": "req-1",
        "ResourceType": "Custom::DatabaseIndexes",
        "LogicalResourceId": "DatabaseIndexes",
        "PhysicalResourceId": "client-ticket-manager-indexes",
        "ResourceProperties": {"IndexesVersion": "1"},
        "OldResourceProperties": {"IndexesVersion": "0"}
    }))
    .expect("a custom resource event")
}

async fn cloudformation() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

async fn told(server: &MockServer) -> Vec<serde_json::Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            assert!(
                r.headers.get("content-type").is_none(),
                "pre-signed without a type"
            );
            serde_json::from_slice(&r.body).expect("json")
        })
        .collect()
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

async fn fresh_store() -> Store {
    Store::connect(servers::mongodb_uri(), &testing::unique_database_name())
        .await
        .expect("connect")
}

async fn client_indexes(store: &Store) -> Vec<String> {
    let mut names = store
        .database()
        .collection::<shared::db::bson::Document>("clients")
        .list_index_names()
        .await
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_create_or_update_creates_the_indexes_and_reports_success() {
    for request_type in ["Create", "Update"] {
        let cfn = cloudformation().await;
        let store = fresh_store().await;
        let state = MigrateState {
            store: store.clone(),
            http: shared::testing::http_client(),
        };

        let outcome = handle(
            &state,
            event(request_type, &format!("{}/response", cfn.uri())),
            deadline(),
        )
        .await;

        assert_eq!(outcome, Ok("indexes created; every ticket searchable"));
        assert_eq!(client_indexes(&store).await, vec!["_id_", "identifier_1"]);
        let told = told(&cfn).await;
        assert_eq!(told.len(), 1);
        assert_eq!(told[0]["Status"], "SUCCESS");
        assert_eq!(told[0]["RequestId"], "req-1");
        assert_eq!(told[0]["LogicalResourceId"], "DatabaseIndexes");
        assert_eq!(
            told[0]["PhysicalResourceId"],
            "client-ticket-manager-indexes"
        );
    }
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_is_reported_as_failed() {
    let cfn = cloudformation().await;
    let state = MigrateState {
        store: testing::unreachable_store().await,
        http: shared::testing::http_client(),
    };

    let outcome = handle(
        &state,
        event("Create", &format!("{}/response", cfn.uri())),
        deadline(),
    )
    .await;

    assert_eq!(outcome, Ok("migration failed"));
    let told = told(&cfn).await;
    assert_eq!(told[0]["Status"], "FAILED");
    let reason = told[0]["Reason"].as_str().expect("a reason");
    assert!(reason.starts_with("migration failed: "), "{reason}");
    assert!(
        !reason.contains("127.0.0.1:9"),
        "no address in the reason: {reason}"
    );
}

#[tokio::test]
async fn a_delete_keeps_the_indexes_and_reports_success() {
    let cfn = cloudformation().await;
    let store = testing::store().await;
    let state = MigrateState {
        store: store.clone(),
        http: shared::testing::http_client(),
    };

    let outcome = handle(
        &state,
        event("Delete", &format!("{}/response", cfn.uri())),
        deadline(),
    )
    .await;

    assert_eq!(outcome, Ok("indexes kept"));
    assert_eq!(told(&cfn).await[0]["Status"], "SUCCESS");
    assert_eq!(client_indexes(&store).await, vec!["_id_", "identifier_1"]);
}

#[tokio::test]
async fn an_outcome_cloudformation_did_not_receive_fails_the_invocation() {
    let state = MigrateState {
        store: testing::store().await,
        http: shared::testing::http_client(),
    };

    let outcome = handle(
        &state,
        event("Create", "http://127.0.0.1:9/response"),
        deadline(),
    )
    .await;

    assert!(outcome.is_err(), "{outcome:?}");
}
