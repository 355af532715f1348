//! The MongoDB store against a real wire-protocol server (FerretDB, or `MONGODB_URI`).

use mongodb::bson::{Bson, DateTime, Document, doc};
use shared::db::{
    ArchiveWrite, ClientDoc, NewClient, Store, StoreError, TicketContent, TicketPatch,
    TransactionDoc,
};
use shared::pagination::{ClientKey, PageRequest};
use shared::testing;

fn new_client(identifier: &str) -> NewClient {
    NewClient {
        identifier: identifier.into(),
        name: Some("Dana Cohen".into()),
    }
}

fn transaction(id: i64, text: &str) -> TransactionDoc {
    TransactionDoc {
        id,
        guid: None,
        date_time: DateTime::from_millis(1_710_058_542_487),
        kind: "Message".into(),
        text: text.into(),
        html: String::new(),
        from_protocol_type: Some("WhatsApp".into()),
        sender_name: Some("Dana Cohen".into()),
        sender_type: Some("Client".into()),
        attachments: Vec::new(),
    }
}

fn ticket(ticket_id: i64, client: &str) -> TicketContent {
    TicketContent {
        ticket_id,
        client_identifier: client.into(),
        client_name: Some("Dana Cohen".into()),
        ticket_opening_date: DateTime::from_millis(1_710_058_542_370),
        protocol_type: "WhatsApp".into(),
        transactions: vec![transaction(1, "hello")],
        closed_at: None,
        tags: vec![],
    }
}

fn archived(ticket_id: i64, client: &str) -> TicketContent {
    TicketContent {
        ticket_id,
        client_identifier: client.into(),
        client_name: Some("Dana Cohen".into()),
        ticket_opening_date: DateTime::from_millis(1_710_058_542_370),
        protocol_type: "WhatsApp".into(),
        closed_at: Some(DateTime::from_millis(1_710_061_331_903)),
        tags: vec!["Refund".into()],
        transactions: (0..5).map(|i| transaction(i, "message")).collect(),
    }
}

async fn raw_tickets(store: &Store, ticket_id: i64) -> Vec<Document> {
    use futures_util::TryStreamExt;
    store
        .database()
        .collection::<Document>("tickets")
        .find(doc! {"ticketId": ticket_id})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("collect")
}

#[tokio::test]
async fn a_taken_identifier_is_refused_as_already_exists() {
    let store = testing::store().await;
    store
        .create_client(new_client("972521234567"))
        .await
        .expect("first insert");

    let second = store.create_client(new_client("972521234567")).await;

    assert!(
        matches!(second, Err(StoreError::AlreadyExists(_))),
        "{second:?}"
    );
}

#[tokio::test]
async fn a_taken_ticket_id_is_refused_as_already_exists() {
    let store = testing::store().await;
    store
        .create_client(new_client("a@example.com"))
        .await
        .expect("client");
    store
        .create_ticket(ticket(7, "a@example.com"))
        .await
        .expect("first ticket");

    let second = store.create_ticket(ticket(7, "a@example.com")).await;

    assert!(
        matches!(second, Err(StoreError::AlreadyExists(_))),
        "{second:?}"
    );
}

#[tokio::test]
async fn a_ticket_for_an_unknown_client_is_refused_and_not_written() {
    let store = testing::store().await;

    let result = store.create_ticket(ticket(8, "nobody@example.com")).await;

    assert!(
        matches!(result, Err(StoreError::ClientNotFound)),
        "{result:?}"
    );
    assert_eq!(store.get_ticket(8).await.expect("get"), None);
}

#[tokio::test]
async fn pages_cover_every_client_once_in_order() {
    let store = testing::store().await;
    let mut expected: Vec<String> = (0..23)
        .map(|i| format!("client-{i:03}@example.com"))
        .collect();
    for identifier in expected.iter().rev() {
        store
            .create_client(new_client(identifier))
            .await
            .expect("insert");
    }
    expected.sort();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let request =
            PageRequest::<ClientKey>::parse(Some("5"), cursor.as_deref()).expect("valid cursor");
        let page = store.list_clients(&request).await.expect("page");
        pages += 1;
        seen.extend(page.items.iter().map(|c| c.identifier.clone()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }

    assert_eq!(seen, expected);
    assert_eq!(pages, 5);
}

#[tokio::test]
async fn a_full_last_page_has_no_next_cursor() {
    let store = testing::store().await;
    for i in 0..4 {
        store
            .create_client(new_client(&format!("c{i}")))
            .await
            .expect("insert");
    }

    let page = store
        .list_clients(&PageRequest::<ClientKey>::parse(Some("4"), None).expect("valid"))
        .await
        .expect("page");

    assert_eq!(page.items.len(), 4);
    assert_eq!(page.next, None);
}

#[tokio::test]
async fn archiving_twice_leaves_one_ticket_and_one_id_on_the_client() {
    let store = testing::store().await;

    store
        .archive_ticket(&archived(48213977, "972521234567"))
        .await
        .expect("first");
    store
        .archive_ticket(&archived(48213977, "972521234567"))
        .await
        .expect("second");

    assert_eq!(raw_tickets(&store, 48213977).await.len(), 1);
    let client = store
        .get_client("972521234567")
        .await
        .expect("get")
        .expect("client upserted");
    assert_eq!(client.tickets, vec![48213977]);
    assert_eq!(client.name.as_deref(), Some("Dana Cohen"));
    let ticket = store
        .get_ticket(48213977)
        .await
        .expect("get")
        .expect("archived");
    assert_eq!(
        testing::transactions_of(&store, ticket.ticket_id)
            .await
            .len(),
        5
    );
    assert!(ticket.archived_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn archiving_concurrently_leaves_one_ticket_and_one_id_on_the_client() {
    let store = testing::store().await;
    store.ensure_indexes().await.expect("indexes");

    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .archive_ticket(&archived(555, "race@example.com"))
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("archive succeeds");
    }

    assert_eq!(raw_tickets(&store, 555).await.len(), 1);
    let clients: Vec<ClientDoc> = {
        use futures_util::TryStreamExt;
        store
            .database()
            .collection::<ClientDoc>("clients")
            .find(doc! {"identifier": "race@example.com"})
            .await
            .expect("find")
            .try_collect()
            .await
            .expect("collect")
    };
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].tickets, vec![555]);
}

#[tokio::test]
async fn deleting_a_client_deletes_its_tickets() {
    let store = testing::store().await;
    store
        .archive_ticket(&archived(1, "gone@example.com"))
        .await
        .expect("archive");
    store
        .archive_ticket(&archived(2, "gone@example.com"))
        .await
        .expect("archive");
    store
        .archive_ticket(&archived(3, "stays@example.com"))
        .await
        .expect("archive");

    assert!(
        store
            .delete_client("gone@example.com")
            .await
            .expect("delete")
    );

    assert_eq!(
        store.get_client("gone@example.com").await.expect("get"),
        None
    );
    assert_eq!(store.get_ticket(1).await.expect("get"), None);
    assert_eq!(store.get_ticket(2).await.expect("get"), None);
    assert!(store.get_ticket(3).await.expect("get").is_some());
    assert!(
        !store
            .delete_client("gone@example.com")
            .await
            .expect("second delete")
    );
}

#[tokio::test]
async fn deleting_a_ticket_removes_it_from_its_client() {
    let store = testing::store().await;
    store
        .archive_ticket(&archived(11, "two@example.com"))
        .await
        .expect("archive");
    store
        .archive_ticket(&archived(12, "two@example.com"))
        .await
        .expect("archive");

    assert!(store.delete_ticket(11).await.expect("delete"));

    let client = store
        .get_client("two@example.com")
        .await
        .expect("get")
        .expect("client");
    assert_eq!(client.tickets, vec![12]);
    assert!(!store.delete_ticket(11).await.expect("second delete"));
}

#[tokio::test]
async fn dates_are_stored_as_bson_datetimes_and_round_trip() {
    let store = testing::store().await;
    store
        .archive_ticket(&archived(21, "dates@example.com"))
        .await
        .expect("archive");

    let raw = raw_tickets(&store, 21).await.remove(0);
    for key in [
        "ticketOpeningDate",
        "closedAt",
        "archivedAt",
        "createdAt",
        "updatedAt",
    ] {
        assert!(
            matches!(raw.get(key), Some(Bson::DateTime(_))),
            "{key}: {:?}",
            raw.get(key)
        );
    }
    let first = store
        .database()
        .collection::<Document>("transactions")
        .find_one(doc! {"ticketId": 21_i64})
        .await
        .expect("find")
        .expect("a transaction document");
    assert!(matches!(first.get("dateTime"), Some(Bson::DateTime(_))));
    let ticket = store.get_ticket(21).await.expect("get").expect("ticket");
    assert_eq!(
        ticket.ticket_opening_date,
        DateTime::from_millis(1_710_058_542_370)
    );
    assert_eq!(
        ticket.closed_at,
        Some(DateTime::from_millis(1_710_061_331_903))
    );

    let opened_before_2025 = store
        .database()
        .collection::<Document>("tickets")
        .count_documents(
            doc! {"ticketOpeningDate": {"$lt": DateTime::from_millis(1_735_689_600_000)}},
        )
        .await
        .expect("count");
    assert_eq!(opened_before_2025, 1, "dates are queryable as dates");
}

#[tokio::test]
async fn hebrew_and_emoji_round_trip_byte_exact() {
    let store = testing::store().await;
    let name = "דנה כהן 🙏";
    let text = "שלום, I was charged twice 😕 אפשר לקבל החזר? ₪149.90 ✅";
    store
        .create_client(NewClient {
            identifier: "utf8@example.com".into(),
            name: Some(name.into()),
        })
        .await
        .expect("client");
    let mut t = ticket(31, "utf8@example.com");
    t.transactions = vec![transaction(1, text)];
    store.create_ticket(t).await.expect("ticket");

    let client = store
        .get_client("utf8@example.com")
        .await
        .expect("get")
        .expect("client");
    let ticket = store.get_ticket(31).await.expect("get").expect("ticket");

    assert_eq!(
        client.name.as_deref().map(str::as_bytes),
        Some(name.as_bytes())
    );
    assert_eq!(
        testing::transactions_of(&store, ticket.ticket_id).await[0]
            .text
            .as_bytes(),
        text.as_bytes()
    );
}

#[tokio::test]
async fn a_patch_changes_only_the_fields_it_names() {
    let store = testing::store().await;
    store
        .create_client(new_client("p@example.com"))
        .await
        .expect("client");
    store
        .create_ticket(ticket(41, "p@example.com"))
        .await
        .expect("ticket");

    let patched = store
        .update_ticket(
            41,
            TicketPatch {
                tags: Some(vec!["vip".into()]),
                client_name: Some(None),
                ..Default::default()
            },
        )
        .await
        .expect("update")
        .expect("found");

    assert_eq!(patched.tags, vec!["vip".to_owned()]);
    assert_eq!(patched.client_name, None);
    assert_eq!(patched.protocol_type, "WhatsApp");
    assert_eq!(testing::transactions_of(&store, 41).await.len(), 1);
    assert_eq!(
        store
            .update_ticket(999, TicketPatch::default())
            .await
            .expect("update"),
        None
    );
}

#[tokio::test]
async fn a_client_history_counts_archived_tickets_and_finds_the_latest() {
    let store = testing::store().await;
    let mut older = archived(51, "h@example.com");
    older.ticket_opening_date = DateTime::from_millis(1_700_000_000_000);
    older.protocol_type = "Mail".into();
    store.archive_ticket(&older).await.expect("archive");
    store
        .archive_ticket(&archived(52, "h@example.com"))
        .await
        .expect("archive");

    let history = store
        .client_history("h@example.com")
        .await
        .expect("history");
    let none = store
        .client_history("new@example.com")
        .await
        .expect("history");

    assert_eq!(history.archived_tickets, 2);
    assert_eq!(
        history.latest,
        Some((
            DateTime::from_millis(1_710_058_542_370),
            "WhatsApp".to_owned()
        ))
    );
    assert_eq!(none.archived_tickets, 0);
    assert_eq!(none.latest, None);
}

#[tokio::test]
async fn archiving_for_a_client_created_through_the_api_lists_the_ticket_on_it() {
    let store = testing::store().await;
    store
        .create_client(new_client("972521234567"))
        .await
        .expect("client without tickets");

    store
        .archive_ticket(&archived(48213977, "972521234567"))
        .await
        .expect("archive");

    let client = store
        .get_client("972521234567")
        .await
        .expect("get")
        .expect("client");
    assert_eq!(client.tickets, vec![48213977]);
    assert!(store.get_ticket(48213977).await.expect("get").is_some());
}

#[tokio::test]
async fn indexes_are_created_again_by_every_migration_without_error() {
    let first = testing::store().await;
    first.ensure_indexes().await.expect("first cold start");
    let name = first.database().name().to_owned();

    let second = Store::connect(testing::servers::mongodb_uri(), &name)
        .await
        .expect("connect");
    second.ensure_indexes().await.expect("second cold start");

    first
        .create_client(new_client("a@example.com"))
        .await
        .expect("insert");
    let duplicate = second.create_client(new_client("a@example.com")).await;
    assert!(
        matches!(duplicate, Err(StoreError::AlreadyExists(_))),
        "{duplicate:?}"
    );
}

#[tokio::test]
async fn an_archive_never_replaces_a_stored_transaction_and_adds_new_ones() {
    let store = testing::store().await;
    store
        .archive_ticket(&archived(60, "m@example.com"))
        .await
        .expect("first");
    let mut later = archived(60, "m@example.com");
    for t in &mut later.transactions {
        t.text = "*****".into();
    }
    later.transactions.push(transaction(5, "a late message"));

    let write = store.archive_ticket(&later).await.expect("second");

    assert_eq!(write, ArchiveWrite::Written { added: 1 });
    let stored = testing::transactions_of(&store, 60).await;
    let texts: Vec<&str> = stored.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(
        texts,
        vec![
            "message",
            "message",
            "message",
            "message",
            "message",
            "a late message"
        ]
    );
}

#[tokio::test]
async fn a_ticket_marked_scrambled_is_never_rewritten() {
    let store = testing::store().await;
    store
        .archive_ticket(&archived(61, "s@example.com"))
        .await
        .expect("archive");
    store.mark_scrambled(61).await.expect("mark");
    let before = raw_tickets(&store, 61).await;
    let transactions_before = testing::transactions_of(&store, 61).await;
    let mut changed = archived(61, "s@example.com");
    changed.tags = vec!["changed".into()];
    changed.transactions.push(transaction(9, "new"));

    let write = store
        .archive_ticket(&changed)
        .await
        .expect("refused quietly");

    assert_eq!(write, ArchiveWrite::AlreadyScrambled);
    assert_eq!(raw_tickets(&store, 61).await, before);
    assert_eq!(
        testing::transactions_of(&store, 61).await,
        transactions_before,
        "no transaction added to a scrambled ticket"
    );
}

#[tokio::test]
async fn a_ticket_lock_is_held_by_one_job_until_given_back_or_expired() {
    use std::time::Duration;
    let store = testing::store().await;
    let lease = Duration::from_secs(30);

    let first = store.lock_ticket(70, lease).await.expect("lock");
    assert!(first.is_some());
    assert_eq!(
        store.lock_ticket(70, lease).await.expect("lock"),
        None,
        "held"
    );
    assert!(
        store.lock_ticket(71, lease).await.expect("lock").is_some(),
        "per ticket"
    );

    store
        .unlock_ticket(first.expect("held"))
        .await
        .expect("unlock");
    let expiring = store.lock_ticket(70, Duration::ZERO).await.expect("lock");
    assert!(expiring.is_some(), "free again once given back");
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(
        store.lock_ticket(70, lease).await.expect("lock").is_some(),
        "an expired lock is taken over"
    );
}

#[tokio::test]
async fn a_ticket_archived_under_another_client_leaves_the_first_clients_list() {
    let store = testing::store().await;
    store
        .archive_ticket(&archived(80, "first@example.com"))
        .await
        .expect("archive");

    store
        .archive_ticket(&archived(80, "second@example.com"))
        .await
        .expect("archive again");

    let first = store
        .get_client("first@example.com")
        .await
        .expect("read")
        .expect("kept");
    let second = store
        .get_client("second@example.com")
        .await
        .expect("read")
        .expect("created");
    assert_eq!(first.tickets, Vec::<i64>::new());
    assert_eq!(second.tickets, vec![80]);
    let ticket = store.get_ticket(80).await.expect("read").expect("ticket");
    assert_eq!(ticket.client_identifier, "second@example.com");
}

#[tokio::test]
async fn webhook_ledger_entries_expire_after_a_week_where_the_server_can_expire() {
    let store = testing::store().await;

    store
        .ensure_indexes()
        .await
        .expect("a server without expiry is no error");
    store
        .claim_action(1, "note", std::time::Duration::from_secs(30))
        .await
        .expect("claim");

    let indexes: Vec<Document> = {
        use futures_util::TryStreamExt;
        store
            .database()
            .collection::<Document>(shared::db::documents::WEBHOOK_ACTIONS)
            .list_indexes()
            .await
            .expect("list")
            .map_ok(|index| mongodb::bson::to_document(&index).expect("bson"))
            .try_collect()
            .await
            .expect("collect")
    };
    let expiry = indexes.iter().find_map(|index| {
        index
            .get_document("options")
            .ok()
            .and_then(|o| o.get("expireAfterSeconds").cloned())
            .or_else(|| index.get("expireAfterSeconds").cloned())
    });
    let build_info = store
        .database()
        .run_command(doc! {"buildInfo": 1})
        .await
        .expect("buildInfo");
    if build_info.contains_key("ferretdbVersion") {
        // FerretDB 1.24 refuses TTL indexes; the entries stay there (README, "Webhook ledger").
        assert_eq!(expiry, None);
    } else {
        let seconds = expiry.and_then(|s| s.as_i64().or(s.as_i32().map(i64::from)));
        assert_eq!(seconds, Some(7 * 24 * 3600), "{indexes:?}");
    }
}

/// After an archive and a deletion of the same client ran at the same time: the client is
/// either gone, or back with every ticket on its list stored whole. Never a list entry whose
/// ticket or transactions the deletion took.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_deleted_while_its_ticket_is_archived_never_comes_back_with_a_dangling_ticket() {
    let store = testing::store().await;
    store.ensure_indexes().await.expect("indexes");
    for round in 0..40_i64 {
        let client = format!("race-{round}@example.com");
        let ticket_id = 9000 + round;
        store
            .archive_ticket(&archived(ticket_id + 1000, &client))
            .await
            .expect("an earlier ticket");
        // Vary the head start so the deletion lands at different points of the archive.
        let head_start = std::time::Duration::from_micros(fastrand_like(round) % 4000);

        let content = archived(ticket_id, &client);
        let (archive, delete) = tokio::join!(store.archive_ticket(&content), async {
            tokio::time::sleep(head_start).await;
            store.delete_client(&client).await
        });
        delete.expect("delete");
        if let Err(interrupted) = archive {
            // What the archive job does with a failed write: it is run again later.
            assert!(
                matches!(interrupted, StoreError::Interrupted),
                "{interrupted:?}"
            );
            store
                .archive_ticket(&content)
                .await
                .expect("the retried archive");
        }

        let survivor = store.get_client(&client).await.expect("read");
        if survivor.is_none() {
            assert!(
                store.get_ticket(ticket_id).await.expect("read").is_none(),
                "round {round}: the client is gone but its ticket stayed"
            );
        }
        if let Some(survivor) = survivor {
            for listed in &survivor.tickets {
                let stored = store.get_ticket(*listed).await.expect("read");
                assert!(
                    stored.is_some(),
                    "round {round}: ticket {listed} is listed but gone"
                );
                assert_eq!(
                    testing::transactions_of(&store, *listed).await.len(),
                    5,
                    "round {round}: ticket {listed} lost transactions"
                );
            }
        }
    }
}

fn fastrand_like(seed: i64) -> u64 {
    (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40
}

#[tokio::test]
async fn writes_never_create_indexes_the_migration_does() {
    // A database nobody migrated, as a function's cold start finds it.
    let store = Store::connect(
        testing::servers::mongodb_uri(),
        &testing::unique_database_name(),
    )
    .await
    .expect("connect");
    let index_names = |collection: &'static str| {
        let store = store.clone();
        async move {
            store
                .database()
                .collection::<Document>(collection)
                .list_index_names()
                .await
                .unwrap_or_default()
        }
    };

    store
        .create_client(new_client("fresh@example.com"))
        .await
        .expect("insert");
    store
        .archive_ticket(&archived(70, "fresh@example.com"))
        .await
        .expect("archive");

    assert_eq!(index_names("clients").await, vec!["_id_"]);
    assert_eq!(index_names("tickets").await, vec!["_id_"]);
    store.ensure_indexes().await.expect("the migration");
    let mut names = index_names("clients").await;
    names.sort();
    assert_eq!(names, vec!["_id_", "identifier_1"]);
}

#[tokio::test]
async fn a_create_cut_off_after_its_insert_is_relisted_by_its_retry() {
    let store = testing::store().await;
    store
        .create_client(new_client("cut@example.com"))
        .await
        .expect("client");
    store
        .create_ticket(ticket(51, "cut@example.com"))
        .await
        .expect("ticket");
    // What a create cut off between its insert and the client's list leaves behind.
    store
        .database()
        .collection::<Document>("clients")
        .update_one(
            doc! {"identifier": "cut@example.com"},
            doc! {"$pull": {"tickets": 51_i64}},
        )
        .await
        .expect("pull");

    let retried = store.create_ticket(ticket(51, "cut@example.com")).await;

    assert!(
        matches!(retried, Err(StoreError::AlreadyExists(_))),
        "{retried:?}"
    );
    let client = store
        .get_client("cut@example.com")
        .await
        .expect("read")
        .expect("client");
    assert_eq!(client.tickets, vec![51]);
    // A duplicate id sent for another client is refused and lists nothing there.
    store
        .create_client(new_client("other@example.com"))
        .await
        .expect("client");
    let elsewhere = store.create_ticket(ticket(51, "other@example.com")).await;
    assert!(matches!(elsewhere, Err(StoreError::AlreadyExists(_))));
    let other = store
        .get_client("other@example.com")
        .await
        .expect("read")
        .expect("client");
    assert!(other.tickets.is_empty());
}

/// Set in the child run of the test below: start a FerretDB, print its data folder, exit.
const DATA_FOLDER_PROBE: &str = "CTM_DATA_FOLDER_PROBE";

#[test]
fn a_test_binary_leaves_no_database_folder_behind_when_it_exits() {
    if std::env::var_os(DATA_FOLDER_PROBE).is_some() {
        // The read-only server is always a FerretDB of this binary's own, even with MONGODB_URI.
        let _ = testing::servers::read_only_mongodb_uri();
        for dir in testing::servers::folders_removed_at_exit() {
            println!("data folder: {}", dir.display());
        }
        return;
    }
    let this_test = "a_test_binary_leaves_no_database_folder_behind_when_it_exits";
    let child = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", this_test, "--nocapture", "--test-threads=1"])
        .env(DATA_FOLDER_PROBE, "1")
        .output()
        .expect("the test binary runs");
    assert!(child.status.success(), "child run: {child:?}");
    let stdout = String::from_utf8_lossy(&child.stdout);
    let folders: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split_once("data folder: ").map(|(_, folder)| folder))
        .collect();
    assert_eq!(folders.len(), 1, "child printed: {stdout}");
    let folder = std::path::Path::new(folders[0]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while folder.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        !folder.exists(),
        "{} is still there 10 s after its test binary exited",
        folder.display()
    );
}
