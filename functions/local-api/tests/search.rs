//! Search (`GET /tickets`) over real HTTP and a real database: each matching rule finds the
//! ticket it should and not the others, the terms follow a ticket through re-archive, patch
//! and delete, paging holds still while tickets arrive, and every search is in the access log
//! without its terms.

mod caller;
mod common;

use serde_json::{Value, json};
use shared::db::bson::{DateTime, doc};
use shared::db::{Store, TicketContent, TransactionDoc};
use shared::testing::{self, access_log, searchable_ticket_ids, stored_documents};

const ADMIN: &str = "admin-token-0123456789abcdefghijklm";
const AUDITOR: &str = "audit-only-token-0123456789abcdefgh";
const DANA: &str = "972541112233";
const YOSSI: &str = "yossi.levi@example.org";

struct Api {
    store: Store,
    caller: caller::Caller,
}

impl Api {
    async fn start() -> Self {
        let store = testing::store().await;
        let tokens = json!([
            {"name": "admin", "scopes": ["read", "write", "erase"], "token": ADMIN},
            {"name": "auditor", "scopes": ["audit"], "token": AUDITOR},
        ]);
        let caller =
            caller::Caller::serving(&store, &tokens.to_string(), testing::local_files()).await;
        Self { store, caller }
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.caller.send(ADMIN, method, path, body).await
    }

    /// The ids `GET /tickets?{query}` finds, in the order given.
    async fn found(&self, query: &[(&str, &str)]) -> Vec<i64> {
        let (status, page) = self.search(query).await;
        assert_eq!(status, 200, "{query:?}: {page}");
        ids(&page)
    }

    async fn search(&self, query: &[(&str, &str)]) -> (u16, Value) {
        let encoded: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect();
        self.send("GET", &format!("/tickets?{}", encoded.join("&")), None)
            .await
    }

    async fn archive(&self, ticket: &TicketContent) {
        self.store.archive_ticket(ticket).await.expect("archived");
    }
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["ticketId"].as_i64().expect("ticketId"))
        .collect()
}

fn at(day: u32, hour: u32) -> DateTime {
    DateTime::builder()
        .year(2026)
        .month(3)
        .day(day as u8)
        .hour(hour as u8)
        .build()
        .expect("a valid date")
}

fn message(id: i64, day: u32, text: &str) -> TransactionDoc {
    TransactionDoc {
        id,
        guid: None,
        date_time: at(day, 9),
        kind: "Message".into(),
        text: text.into(),
        html: String::new(),
        from_protocol_type: None,
        sender_name: Some("Agent".into()),
        sender_type: Some("User".into()),
        attachments: Vec::new(),
    }
}

fn email(id: i64, day: u32, html: &str) -> TransactionDoc {
    TransactionDoc {
        text: String::new(),
        html: html.into(),
        ..message(id, day, "")
    }
}

fn ticket(
    ticket_id: i64,
    client: &str,
    name: &str,
    closed_day: u32,
    transactions: Vec<TransactionDoc>,
) -> TicketContent {
    TicketContent {
        ticket_id,
        client_identifier: client.into(),
        client_name: Some(name.into()),
        ticket_opening_date: at(closed_day, 8),
        protocol_type: if client.contains('@') {
            "Mail"
        } else {
            "WhatsApp"
        }
        .into(),
        closed_at: Some(at(closed_day, 18)),
        tags: vec![format!("day-{closed_day}")],
        transactions,
    }
}

/// Dana's ticket 101 and Yossi's ticket 202: close in what they say, each rule telling them
/// apart.
async fn two_tickets(api: &Api) {
    api.archive(&ticket(
        101,
        DANA,
        "דנה כהן",
        10,
        vec![
            message(1, 10, "שָׁלוֹם, I need the refund for order 4471 please"),
            email(
                2,
                10,
                "<p>Reply to <b>Dana.Levi@Example.com</b> &amp; thanks</p><script>x()</script>",
            ),
            message(3, 10, "The crème brûlée arrived cold"),
        ],
    ))
    .await;
    api.archive(&ticket(
        202,
        YOSSI,
        "Yossi Levi",
        12,
        vec![
            message(1, 12, "שלומית asked: is order 4470 refundable?"),
            message(
                2,
                12,
                "Call the office at 03-1234567, or write to dana.levi@example.net",
            ),
        ],
    ))
    .await;
}

#[tokio::test]
async fn each_matching_rule_finds_its_ticket_and_not_the_other() {
    let api = Api::start().await;
    two_tickets(&api).await;
    let cases: &[(&str, &[i64])] = &[
        // Hebrew without niqqud, the final letter typed either way; a longer word is another.
        ("שלום", &[101]),
        ("שלומ", &[101]),
        ("שלומית", &[202]),
        // Case and diacritics; every term must match.
        ("CREME Brulee", &[101]),
        ("refund 4471", &[101]),
        ("refund 4470", &[]),
        ("refundable", &[202]),
        // A prefix of three letters or more.
        ("refu*", &[202, 101]),
        ("refu* cold", &[101]),
        // Phone numbers in any writing: Dana's is her identifier, Yossi's office is in text.
        ("+972-54-111-2233", &[101]),
        ("(054) 111 2233", &[101]),
        ("0541112233", &[101]),
        ("+972 3 123 4567", &[202]),
        ("031234567", &[202]),
        ("+972 3 123 4568", &[]),
        // E-mail addresses whole, in any case; from HTML read as text.
        ("DANA.LEVI@EXAMPLE.COM", &[101]),
        ("dana.levi@example.net", &[202]),
        ("dana.levi@example.org", &[]),
        ("Yossi.Levi@Example.org", &[202]),
        // The ticket id, the client's name.
        ("202", &[202]),
        ("כהן", &[101]),
        ("yossi", &[202]),
        // What an HTML e-mail hides is not text; operator-looking input is text.
        ("script", &[]),
        ("$where", &[]),
        (".*", &[]),
        ("{", &[]),
        ("{\"$ne\": null}", &[]),
        ("$regex", &[]),
    ];
    for (q, expected) in cases {
        assert_eq!(api.found(&[("q", q)]).await, *expected, "q={q}");
    }
}

#[tokio::test]
async fn a_result_quotes_its_matching_transactions_with_the_matches_marked() {
    let api = Api::start().await;
    two_tickets(&api).await;

    let (_, page) = api.search(&[("q", "refund*")]).await;
    let dana = &page["items"][1];
    assert_eq!(
        (
            &dana["ticketId"],
            &dana["clientIdentifier"],
            &dana["clientName"],
            &dana["protocolType"],
            &dana["closedAt"],
            &dana["tags"],
        ),
        (
            &json!(101),
            &json!(DANA),
            &json!("דנה כהן"),
            &json!("WhatsApp"),
            &json!("2026-03-10T18:00:00Z"),
            &json!(["day-10"]),
        )
    );
    assert_eq!(
        dana["matches"],
        json!([{
            "transactionId": 1,
            "snippet": "שָׁלוֹם, I need the refund for order 4471 please",
            "highlights": [{"start": 20, "length": 6}],
        }])
    );

    // Up to three transactions, in time order; a ticket found by its client quotes none.
    let (_, page) = api.search(&[("q", "dana")]).await;
    assert_eq!(ids(&page), [202, 101]);
    assert_eq!(page["items"][0]["matches"][0]["transactionId"], 2);
    assert_eq!(
        page["items"][1]["matches"][0]["snippet"],
        "Reply to Dana.Levi@Example.com & thanks"
    );
    let (_, page) = api.search(&[("q", "yossi")]).await;
    assert_eq!(page["items"][0]["matches"], json!([]));
}

#[tokio::test]
async fn filters_narrow_a_search_and_list_alone_without_q() {
    let api = Api::start().await;
    two_tickets(&api).await;
    api.archive(&ticket(
        303,
        DANA,
        "דנה כהן",
        20,
        vec![message(1, 20, "order 4471 again")],
    ))
    .await;

    assert_eq!(
        api.found(&[]).await,
        [303, 202, 101],
        "newest closing first"
    );
    assert_eq!(api.found(&[("q", "4471")]).await, [303, 101]);
    assert_eq!(
        api.found(&[("q", "4471"), ("clientIdentifier", YOSSI)])
            .await,
        Vec::<i64>::new()
    );
    assert_eq!(api.found(&[("clientIdentifier", DANA)]).await, [303, 101]);
    assert_eq!(api.found(&[("channel", "Mail")]).await, [202]);
    assert_eq!(api.found(&[("tag", "day-20")]).await, [303]);
    assert_eq!(
        api.found(&[
            ("closedFrom", "2026-03-10T18:00:00Z"),
            ("closedTo", "2026-03-12T18:00:00Z")
        ])
        .await,
        [202, 101],
        "both ends included"
    );
    assert_eq!(
        api.found(&[("closedFrom", "2026-03-11T00:00:00Z"), ("q", "order")])
            .await,
        [303, 202]
    );
}

#[tokio::test]
async fn the_terms_follow_the_ticket_through_rearchive_patch_rename_and_delete() {
    let api = Api::start().await;
    let first = ticket(
        404,
        DANA,
        "דנה כהן",
        10,
        vec![message(1, 10, "parcel lost")],
    );
    api.archive(&first).await;
    assert_eq!(api.found(&[("q", "parcel")]).await, [404]);

    // Glassix now holds one more transaction: the re-archive adds its words, keeps the first.
    let mut again = first.clone();
    again
        .transactions
        .push(message(2, 10, "parcel found in Haifa"));
    api.archive(&again).await;
    assert_eq!(api.found(&[("q", "haifa lost")]).await, [404]);

    let rewrite = json!({
        "transactions": [{"id": 7, "dateTime": "2026-03-10T10:00:00Z", "type": "Message", "text": "voucher issued"}],
        "tags": ["resolved"],
        "protocolType": "Mail",
    });
    let (status, patched) = api.send("PATCH", "/tickets/404", Some(rewrite)).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        api.found(&[("q", "parcel")]).await,
        Vec::<i64>::new(),
        "replaced words are gone"
    );
    assert_eq!(
        api.found(&[("q", "voucher"), ("tag", "resolved"), ("channel", "Mail")])
            .await,
        [404]
    );

    assert_eq!(api.send("DELETE", "/tickets/404", None).await.0, 204);
    assert_eq!(api.found(&[("q", "voucher")]).await, Vec::<i64>::new());
    assert!(searchable_ticket_ids(&api.store).await.is_empty());

    // A client renamed is found by its name now, not by the one it had before; the name its
    // ticket was archived with stays.
    two_tickets(&api).await;
    for name in ["Dana Mizrahi", "Dana Peretz"] {
        let (status, client) = api
            .send(
                "PATCH",
                &format!("/clients/{DANA}"),
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, 200, "{client}");
    }
    assert_eq!(api.found(&[("q", "peretz")]).await, [101]);
    assert_eq!(api.found(&[("q", "mizrahi")]).await, Vec::<i64>::new());
    assert_eq!(api.found(&[("q", "כהן refund")]).await, [101]);

    // A client's deletion takes its tickets out of search too.
    assert_eq!(
        api.send("DELETE", &format!("/clients/{YOSSI}"), None)
            .await
            .0,
        204
    );
    assert_eq!(searchable_ticket_ids(&api.store).await, [101]);
    assert_eq!(api.found(&[("q", "order")]).await, [101]);
}

#[tokio::test]
async fn paging_holds_still_while_new_tickets_arrive() {
    let api = Api::start().await;
    for (i, day) in (1..=5).zip([3, 5, 5, 7, 9]) {
        api.archive(&ticket(
            500 + i,
            DANA,
            "Dana",
            day,
            vec![message(1, day, "weekly report")],
        ))
        .await;
    }
    let mut seen = Vec::new();
    let (status, mut page) = api.search(&[("q", "report"), ("limit", "2")]).await;
    assert_eq!(status, 200, "{page}");
    let mut arrivals = 600;
    loop {
        seen.extend(ids(&page));
        let Some(next) = page["next"].as_str().map(str::to_owned) else {
            break;
        };
        // A ticket closing later than every one listed arrives meanwhile: it is not listed.
        arrivals += 1;
        api.archive(&ticket(
            arrivals,
            DANA,
            "Dana",
            25,
            vec![message(1, 25, "weekly report")],
        ))
        .await;
        (_, page) = api
            .search(&[("q", "report"), ("limit", "2"), ("cursor", &next)])
            .await;
    }
    assert_eq!(
        seen,
        [505, 504, 503, 502, 501],
        "each once, newest first, none skipped"
    );
}

#[tokio::test]
async fn a_search_needs_read_and_is_in_the_access_log_without_its_terms() {
    let api = Api::start().await;
    two_tickets(&api).await;

    let (status, refused) = api
        .caller
        .send(AUDITOR, "GET", "/tickets?q=refund", None)
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"]["code"], "forbidden");

    let secret_words = "dana.levi@example.com";
    assert_eq!(
        api.found(&[("q", secret_words), ("clientIdentifier", DANA)])
            .await,
        [101]
    );
    let entries = access_log(&api.store).await;
    let logged: Vec<(&str, i32, Option<i64>, Option<&str>)> = entries
        .iter()
        .map(|e| {
            (
                e.record.route.as_str(),
                e.record.status,
                e.record.items,
                e.record.client_identifier.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        logged,
        [
            ("GET /tickets", 200, Some(1), Some(DANA)),
            ("GET /tickets", 403, None, None),
        ]
    );
    let stored = format!("{entries:?}").to_lowercase();
    assert!(
        !stored.contains("dana.levi") && !stored.contains("refund"),
        "{stored}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let api = Api::start().await;
    two_tickets(&api).await;
    let before = stored_documents(&api.store).await;
    let long = "word ".repeat(41);
    for (query, status) in [
        (vec![("q", "re*")], 400),
        (vec![("q", long.as_str())], 400),
        (
            vec![(
                "q",
                "a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc dd ee ff gg hh ii",
            )],
            400,
        ),
        (vec![("closedFrom", "yesterday")], 400),
        (
            vec![
                ("closedFrom", "2026-03-12T00:00:00Z"),
                ("closedTo", "2026-03-11T00:00:00Z"),
            ],
            422,
        ),
        (vec![("cursor", "not-a-cursor")], 400),
        (vec![("limit", "101")], 400),
        (vec![("tag", "")], 400),
    ] {
        let (got, answer) = api.search(&query).await;
        assert_eq!(got, status, "{query:?}: {answer}");
        assert!(answer["error"]["message"].is_string(), "{answer}");
    }
    assert_eq!(stored_documents(&api.store).await, before);
}

#[tokio::test]
async fn migrate_builds_the_terms_of_tickets_archived_before_search_and_resumes() {
    let api = Api::start().await;
    two_tickets(&api).await;
    api.store
        .database()
        .collection::<shared::db::bson::Document>(shared::db::TICKET_SEARCH)
        .delete_many(doc! {})
        .await
        .expect("emptied");
    api.store
        .database()
        .collection::<shared::db::bson::Document>("checkpoints")
        .delete_many(doc! {})
        .await
        .expect("no checkpoint");
    assert_eq!(api.found(&[("q", "order")]).await, Vec::<i64>::new());

    // Out of time before the first page: nothing written, not done; the next run completes.
    let spent = tokio::time::Instant::now();
    let cut = api
        .store
        .backfill_search(Some(spent))
        .await
        .expect("backfill");
    assert_eq!((cut.written, cut.done), (0, false));
    let done = api.store.migrate(None).await.expect("migrate");
    assert_eq!((done.written, done.done), (2, true));
    assert_eq!(api.found(&[("q", "order")]).await, [202, 101]);
    assert_eq!(api.found(&[("q", "0541112233")]).await, [101]);

    let again = api.store.migrate(None).await.expect("migrate again");
    assert_eq!(
        (again.written, again.done),
        (0, true),
        "nothing to do twice"
    );
}
