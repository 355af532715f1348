//! A delivery's freshness. Glassix also signs the date it sends a delivery
//! (`X-Glassix-Auth-Date`, HMAC-SHA1 of the header's text in `X-Glassix-Auth-Signature`, which
//! Glassix's C# SDK reads as `X-Glassix-Auth`). The body's signature never expires, so a
//! captured delivery could be replayed once the webhook ledger has forgotten it; a signed date
//! bounds that to Glassix's own retry window.

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::SecretString;

use super::inbound::verify_signature;
use crate::error::AppError;

pub const DATE_HEADER: &str = "x-glassix-auth-date";
/// The documented name first, then the one Glassix's C# SDK reads.
pub const DATE_SIGNATURE_HEADERS: [&str; 2] = ["x-glassix-auth-signature", "x-glassix-auth"];

/// Glassix retries a failed delivery for 3 days; an hour more for its scheduling.
const OLDEST: TimeDelta = TimeDelta::hours(73);
/// Clocks disagree a little; a date further ahead was not set by Glassix's clock.
const NEWEST: TimeDelta = TimeDelta::minutes(5);

/// What a delivery says of its date.
pub enum Dated<'a> {
    /// Neither header: the check cannot be made (deliveries keep working as before).
    Undated,
    /// The date and its signature, as received.
    Signed {
        date: &'a str,
        signature: Option<&'a str>,
    },
}

/// Refuses (401) a date whose signature `secret` does not confirm, that cannot be read, or that
/// lies outside Glassix's retry window around `now`. The reason is logged, never the values.
pub fn check(secret: &SecretString, dated: Dated<'_>, now: DateTime<Utc>) -> Result<(), AppError> {
    let Dated::Signed { date, signature } = dated else {
        return Ok(());
    };
    let refuse = |reason: &'static str| {
        tracing::warn!(reason, "webhook delivery refused: its date");
        Err(AppError::Unauthorized)
    };
    if verify_signature(secret, date.as_bytes(), signature).is_err() {
        return refuse("the date's signature is missing or wrong");
    }
    let Some(sent) = parse(date) else {
        return refuse("the signed date cannot be read");
    };
    if sent < now - OLDEST {
        return refuse("dated before Glassix's retry window");
    }
    if sent > now + NEWEST {
        return refuse("dated in the future");
    }
    Ok(())
}

/// RFC 3339 (and Glassix's own datetimes), else RFC 2822 / RFC 1123 (an HTTP date).
fn parse(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    super::time::parse(raw).ok().flatten().or_else(|| {
        DateTime::parse_from_rfc2822(raw)
            .ok()
            .map(|date| date.with_timezone(&Utc))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glassix::inbound::sign;

    const SECRET: &str = "test-api-secret";

    fn now() -> DateTime<Utc> {
        "2026-12-04T12:00:00Z".parse().expect("date")
    }

    fn signed(date: &str) -> Result<(), AppError> {
        let signature = sign(SECRET, date.as_bytes());
        check(
            &SECRET.into(),
            Dated::Signed {
                date,
                signature: Some(&signature),
            },
            now(),
        )
    }

    #[test]
    fn a_date_within_glassix_retry_window_passes_in_any_format_it_may_come_in() {
        for date in [
            "2026-12-04T11:59:58Z",
            "2026-12-04T11:59:58.1234567",
            "2026-12-01T11:30:00+00:00",
            "Fri, 04 Dec 2026 12:04:00 GMT",
        ] {
            assert!(signed(date).is_ok(), "{date}");
        }
    }

    #[test]
    fn a_date_outside_the_window_or_unreadable_is_refused() {
        for date in [
            "2026-12-01T10:59:00Z",
            "2026-12-04T12:05:30Z",
            "yesterday",
            "0001-01-01T00:00:00",
        ] {
            assert!(
                matches!(signed(date), Err(AppError::Unauthorized)),
                "{date}"
            );
        }
    }

    #[test]
    fn a_date_signed_with_another_secret_or_not_signed_is_refused() {
        let date = "2026-12-04T11:59:58Z";
        let forged = sign("somebody-else", date.as_bytes());
        for signature in [Some(forged.as_str()), None] {
            let dated = Dated::Signed { date, signature };
            assert!(matches!(
                check(&SECRET.into(), dated, now()),
                Err(AppError::Unauthorized)
            ));
        }
    }

    #[test]
    fn an_undated_delivery_is_not_checked() {
        assert!(check(&SECRET.into(), Dated::Undated, now()).is_ok());
    }
}
