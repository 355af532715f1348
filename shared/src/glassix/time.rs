//! Glassix datetimes come in several shapes, even within one response: 0 to 7 fractional
//! digits, with `Z`, with an offset, or with no offset at all (which means UTC). The .NET
//! minimum date `0001-01-01T00:00:00` stands for "none".

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer};

/// Parses one Glassix datetime; `Ok(None)` for the sentinel.
pub fn parse(raw: &str) -> Result<Option<DateTime<Utc>>, chrono::ParseError> {
    let raw = raw.trim();
    let instant = match DateTime::parse_from_rfc3339(raw) {
        Ok(with_offset) => with_offset.with_timezone(&Utc),
        Err(_) => NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")?.and_utc(),
    };
    Ok(is_real(instant).then_some(instant))
}

fn is_real(instant: DateTime<Utc>) -> bool {
    use chrono::Datelike;
    instant.year() > 1
}

/// The `dd/MM/yyyy HH:mm:ss:ff` of `tickets/list` (UTC, hundredths of a second after a colon).
pub fn list_format(instant: DateTime<Utc>) -> String {
    let hundredths = instant.timestamp_subsec_millis() / 10;
    format!("{}:{hundredths:02}", instant.format("%d/%m/%Y %H:%M:%S"))
}

/// Serde helper for an optional Glassix datetime: absent, `null`, empty and the sentinel are
/// all `None`.
pub fn lenient<'de, D>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(raw) if raw.trim().is_empty() => Ok(None),
        Some(raw) => parse(&raw).map_err(|_| serde::de::Error::custom("not a Glassix datetime")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .expect("valid date")
            + chrono::TimeDelta::nanoseconds(nanos)
    }

    #[test]
    fn every_documented_variant_parses_to_the_right_instant() {
        let cases = [
            ("2023-05-08T06:46:05Z", utc(2023, 5, 8, 6, 46, 5, 0)),
            (
                "2023-06-15T07:04:02.558Z",
                utc(2023, 6, 15, 7, 4, 2, 558_000_000),
            ),
            (
                "2021-03-16T14:17:31.3567578Z",
                utc(2021, 3, 16, 14, 17, 31, 356_757_800),
            ),
            (
                "2018-11-26T19:42:53.15",
                utc(2018, 11, 26, 19, 42, 53, 150_000_000),
            ),
            ("2018-11-26T19:42:53", utc(2018, 11, 26, 19, 42, 53, 0)),
            (
                "2024-03-10T10:15:42.3+02:00",
                utc(2024, 3, 10, 8, 15, 42, 300_000_000),
            ),
            (
                "2024-03-10T08:15:42.1234567",
                utc(2024, 3, 10, 8, 15, 42, 123_456_700),
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse(raw).expect(raw), Some(expected), "{raw}");
        }
    }

    #[test]
    fn the_list_format_is_day_first_with_hundredths_after_a_colon() {
        assert_eq!(
            list_format(utc(2023, 7, 1, 0, 0, 0, 0)),
            "01/07/2023 00:00:00:00"
        );
        assert_eq!(
            list_format(utc(2024, 3, 10, 9, 2, 11, 903_456_000)),
            "10/03/2024 09:02:11:90"
        );
    }

    #[test]
    fn the_dotnet_minimum_date_is_none() {
        assert_eq!(parse("0001-01-01T00:00:00").expect("sentinel"), None);
        assert_eq!(parse("0001-01-01T00:00:00Z").expect("sentinel"), None);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse("yesterday").is_err());
        assert!(parse("2024-13-40T00:00:00").is_err());
    }
}
