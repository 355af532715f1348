//! Lists in pages: `?limit=&cursor=` read into a typed [`PageRequest`], and the opaque cursor of
//! the next page. A cursor is the sort key of the last item of a page, tagged with the list it
//! belongs to, so that a cursor of one list is refused by another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::AppError;

const DEFAULT_PAGE_SIZE: u32 = 20;
const MAX_PAGE_SIZE: u32 = 100;

/// The sort key of a list, written into its cursors.
pub trait CursorKey: Sized {
    /// Tells the lists apart; changing it invalidates every cursor handed out.
    const TAG: &'static str;
    fn to_text(&self) -> String;
    fn from_text(text: &str) -> Option<Self>;
}

/// Clients are listed in identifier order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey(pub String);

impl CursorKey for ClientKey {
    const TAG: &'static str = "c1";
    fn to_text(&self) -> String {
        self.0.clone()
    }
    fn from_text(text: &str) -> Option<Self> {
        (!text.is_empty()).then(|| Self(text.to_owned()))
    }
}

/// A client's tickets are listed in ticket id order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketKey(pub i64);

impl CursorKey for TicketKey {
    const TAG: &'static str = "t1";
    fn to_text(&self) -> String {
        self.0.to_string()
    }
    fn from_text(text: &str) -> Option<Self> {
        text.parse().ok().map(Self)
    }
}

/// A ticket's transactions are listed in time order, then by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionKey {
    pub at_millis: i64,
    pub id: i64,
}

impl CursorKey for TransactionKey {
    const TAG: &'static str = "x1";
    fn to_text(&self) -> String {
        format!("{}:{}", self.at_millis, self.id)
    }
    fn from_text(text: &str) -> Option<Self> {
        let (at, id) = text.split_once(':')?;
        Some(Self {
            at_millis: at.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

/// The access log is listed newest first: by time, then by the entry's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessKey {
    pub at_millis: i64,
    pub id: mongodb::bson::oid::ObjectId,
}

impl CursorKey for AccessKey {
    const TAG: &'static str = "a1";
    fn to_text(&self) -> String {
        format!("{}:{}", self.at_millis, self.id.to_hex())
    }
    fn from_text(text: &str) -> Option<Self> {
        let (at, id) = text.split_once(':')?;
        Some(Self {
            at_millis: at.parse().ok()?,
            id: mongodb::bson::oid::ObjectId::parse_str(id).ok()?,
        })
    }
}

/// Search results are listed newest first: by closing (or opening) time, then by ticket id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchKey {
    pub at_millis: i64,
    pub ticket_id: i64,
}

impl CursorKey for SearchKey {
    const TAG: &'static str = "s1";
    fn to_text(&self) -> String {
        format!("{}:{}", self.at_millis, self.ticket_id)
    }
    fn from_text(text: &str) -> Option<Self> {
        let (at, id) = text.split_once(':')?;
        Some(Self {
            at_millis: at.parse().ok()?,
            ticket_id: id.parse().ok()?,
        })
    }
}

/// One page asked for: how many items, and the key to continue after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<K> {
    pub limit: u32,
    pub after: Option<K>,
}

impl<K: CursorKey> PageRequest<K> {
    /// From the raw `limit` and `cursor` query values (400 when either is not valid here).
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, AppError> {
        let limit = match limit {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|limit| (1..=MAX_PAGE_SIZE).contains(limit))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "limit must be an integer from 1 to {MAX_PAGE_SIZE}"
                    ))
                })?,
        };
        let after = cursor
            .map(|raw| {
                decode(raw)
                    .ok_or_else(|| AppError::BadRequest("cursor is not valid for this list".into()))
            })
            .transpose()?;
        Ok(Self { limit, after })
    }

    /// The first page at its largest (a single ticket's first transactions).
    pub fn first() -> Self {
        Self {
            limit: MAX_PAGE_SIZE,
            after: None,
        }
    }

    /// How many items to fetch: one more than the page, to learn whether another page exists.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// A page of a list in stable order, with the opaque cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Builds the page from `request.fetch_limit()` items: the look-ahead item is dropped and
    /// the last kept item's key becomes the next cursor.
    pub fn from_fetched<K: CursorKey>(
        mut items: Vec<T>,
        request: &PageRequest<K>,
        key_of: impl Fn(&T) -> K,
    ) -> Self {
        let limit = request.limit as usize;
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|item| encode(&key_of(item)))
        } else {
            None
        };
        Self { items, next }
    }
}

pub fn encode<K: CursorKey>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", K::TAG, key.to_text()))
}

fn decode<K: CursorKey>(cursor: &str) -> Option<K> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (tag, key) = text.split_once(':')?;
    (tag == K::TAG).then(|| K::from_text(key)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<K: CursorKey>(
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<PageRequest<K>, String> {
        PageRequest::parse(limit, cursor).map_err(|e| e.to_string())
    }

    #[test]
    fn a_cursor_round_trips_and_is_refused_by_another_list() {
        let cursor = encode(&ClientKey("dana+vip@example.com".into()));
        assert_eq!(
            request::<ClientKey>(None, Some(&cursor)).map(|r| r.after),
            Ok(Some(ClientKey("dana+vip@example.com".into())))
        );
        assert_eq!(
            request::<TicketKey>(None, Some(&cursor)),
            Err("cursor is not valid for this list".into())
        );
        let transaction = TransactionKey {
            at_millis: 1_710_058_542_487,
            id: 905113201,
        };
        assert_eq!(
            request::<TransactionKey>(None, Some(&encode(&transaction))).map(|r| r.after),
            Ok(Some(transaction))
        );
        assert!(request::<TransactionKey>(None, Some(&encode(&TicketKey(4)))).is_err());
        let entry = AccessKey {
            at_millis: 1_796_000_000_123,
            id: mongodb::bson::oid::ObjectId::new(),
        };
        assert_eq!(
            request::<AccessKey>(None, Some(&encode(&entry))).map(|r| r.after),
            Ok(Some(entry))
        );
        assert!(request::<AccessKey>(None, Some(&encode(&transaction))).is_err());
        let ticket_cursor = encode(&TicketKey(42));
        assert_eq!(
            request::<TicketKey>(None, Some(&ticket_cursor)).map(|r| r.after),
            Ok(Some(TicketKey(42)))
        );
    }

    #[test]
    fn malformed_cursors_are_refused() {
        let not_a_number = URL_SAFE_NO_PAD.encode("t1:x");
        let empty_key = URL_SAFE_NO_PAD.encode("c1:");
        for cursor in ["not base64 !", "", &not_a_number, &empty_key] {
            assert!(
                request::<TicketKey>(None, Some(cursor)).is_err(),
                "{cursor}"
            );
            assert!(
                request::<ClientKey>(None, Some(cursor)).is_err(),
                "{cursor}"
            );
        }
    }

    #[test]
    fn the_limit_defaults_and_is_bounded() {
        assert_eq!(
            request::<ClientKey>(None, None).map(|r| r.limit),
            Ok(DEFAULT_PAGE_SIZE)
        );
        assert_eq!(
            request::<ClientKey>(Some("100"), None).map(|r| r.limit),
            Ok(100)
        );
        for bad in ["0", "101", "-1", "ten", ""] {
            assert_eq!(
                request::<ClientKey>(Some(bad), None),
                Err("limit must be an integer from 1 to 100".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_full_fetch_drops_the_look_ahead_and_points_at_the_last_item() {
        let request = PageRequest::<TicketKey> {
            limit: 2,
            after: None,
        };
        let page = Page::from_fetched(vec![1, 2, 3], &request, |n| TicketKey(*n));
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next, Some(encode(&TicketKey(2))));
        let last = Page::from_fetched(vec![1, 2], &request, |n| TicketKey(*n));
        assert_eq!((last.items, last.next), (vec![1, 2], None));
    }
}
