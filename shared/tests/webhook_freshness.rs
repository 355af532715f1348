//! A delivery's signed date, through `webhook::receive` as both webhooks call it: a delivery
//! replayed after Glassix's retry window is refused, a fresh one accepted, whichever header
//! name carries the date's signature; an undated one is accepted and noted once.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use shared::credentials::{Credentials, LiveCredentials};
use shared::error::AppError;
use shared::glassix::inbound::sign;
use shared::testing::glassix::{GlassixStub, TEST_API_SECRET};
use shared::testing::requests::{dated_webhook, signed_webhook};
use shared::testing::{CapturedLogs, fixture};

const BUDGET: Duration = Duration::from_secs(5);

async fn credentials() -> LiveCredentials {
    let stub = GlassixStub::bare().await;
    LiveCredentials::fixed(Credentials::new(
        Err(shared::config::ConfigError::Missing(
            shared::keys::API_TOKENS,
        )),
        Ok(stub.settings()),
    ))
}

fn rfc3339(age: TimeDelta) -> String {
    (Utc::now() - age).to_rfc3339()
}

#[tokio::test]
async fn a_delivery_dated_within_glassix_retry_window_is_received() {
    let live = credentials().await;
    let body = fixture("glassix/new-ticket-event.json");
    let three_days = TimeDelta::days(3);
    let http_date = (Utc::now() - TimeDelta::minutes(1)).to_rfc2822();

    for (date, header) in [
        (rfc3339(TimeDelta::seconds(2)), "x-glassix-auth-signature"),
        (rfc3339(three_days), "x-glassix-auth"),
        (http_date, "x-glassix-auth-signature"),
    ] {
        let request = dated_webhook(&body, &date, header);
        assert!(
            shared::webhook::receive(&request, &live, BUDGET)
                .await
                .is_ok(),
            "{date} under {header}"
        );
    }
}

#[tokio::test]
async fn a_delivery_replayed_after_the_retry_window_or_dated_ahead_or_with_a_forged_date_is_refused()
 {
    let live = credentials().await;
    let body = fixture("glassix/new-ticket-event.json");
    let mut forged = dated_webhook(&body, &rfc3339(TimeDelta::seconds(2)), "x-glassix-auth");
    forged.headers_mut().insert(
        "x-glassix-auth",
        sign("somebody-else", b"x").parse().expect("a header value"),
    );
    let cases = [
        (
            "73 hours and a minute old",
            dated_webhook(
                &body,
                &rfc3339(TimeDelta::minutes(73 * 60 + 1)),
                "x-glassix-auth",
            ),
        ),
        (
            "6 minutes ahead",
            dated_webhook(&body, &rfc3339(TimeDelta::minutes(-6)), "x-glassix-auth"),
        ),
        (
            "an unreadable date",
            dated_webhook(&body, "soon", "x-glassix-auth"),
        ),
        ("a forged date signature", forged),
    ];

    for (name, request) in cases {
        let refused = shared::webhook::receive(&request, &live, BUDGET).await;
        assert!(matches!(refused, Err(AppError::Unauthorized)), "{name}");
    }
}

#[tokio::test]
async fn an_undated_delivery_is_received_and_noted_once_per_cold_start() {
    let live = credentials().await;
    let body = fixture("glassix/new-ticket-event.json");
    let (logs, _guard) = CapturedLogs::start();

    for _ in 0..3 {
        let received = shared::webhook::receive(&signed_webhook(&body), &live, BUDGET).await;
        assert!(received.is_ok());
    }

    let text = logs.text();
    assert_eq!(text.matches("carry no signed date").count(), 1, "{text}");
    assert!(!text.contains(TEST_API_SECRET), "{text}");
}
