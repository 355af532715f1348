//! Conversions between API dates (`chrono`, RFC 3339) and stored dates (BSON datetimes,
//! millisecond precision).

use chrono::{DateTime, Utc};

pub fn to_bson(date: DateTime<Utc>) -> mongodb::bson::DateTime {
    mongodb::bson::DateTime::from_millis(date.timestamp_millis())
}

pub fn to_chrono(date: mongodb::bson::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(date.timestamp_millis()).unwrap_or_default()
}
