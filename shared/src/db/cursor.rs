//! Opaque pagination cursors: the sort key of the last item of a page, tagged with what it
//! points into so that a cursor of one list is refused by another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    Clients,
    Tickets,
}

impl CursorKind {
    fn tag(self) -> &'static str {
        match self {
            Self::Clients => "c1",
            Self::Tickets => "t1",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cursor is not valid for this list")]
pub struct InvalidCursor;

pub fn encode(kind: CursorKind, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{key}", kind.tag()))
}

pub fn decode(kind: CursorKind, cursor: &str) -> Result<String, InvalidCursor> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| InvalidCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| InvalidCursor)?;
    let (tag, key) = text.split_once(':').ok_or(InvalidCursor)?;
    if tag != kind.tag() || key.is_empty() {
        return Err(InvalidCursor);
    }
    Ok(key.to_owned())
}

pub fn decode_ticket_id(cursor: &str) -> Result<i64, InvalidCursor> {
    decode(CursorKind::Tickets, cursor)?
        .parse()
        .map_err(|_| InvalidCursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_is_refused_by_another_list() {
        let cursor = encode(CursorKind::Clients, "dana+vip@example.com");
        assert_eq!(
            decode(CursorKind::Clients, &cursor).as_deref(),
            Ok("dana+vip@example.com")
        );
        assert_eq!(decode(CursorKind::Tickets, &cursor), Err(InvalidCursor));
        assert_eq!(
            decode(CursorKind::Clients, "not base64 !"),
            Err(InvalidCursor)
        );
        assert_eq!(decode_ticket_id(&encode(CursorKind::Tickets, "42")), Ok(42));
        assert_eq!(
            decode_ticket_id(&encode(CursorKind::Tickets, "x")),
            Err(InvalidCursor)
        );
    }
}
