//! What the bench asks of each function: the event of each invocation (built from the API
//! Gateway events in `events/` and the Glassix fixtures), the answer it must give, the data it
//! needs (seeded straight into the database before each run) and, for each REST route, the
//! same database commands sent directly with the driver: the baseline of the route's overhead.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use hyper::body::Bytes;
use mongodb::bson::{Bson, DateTime, Document, doc};
use mongodb::options::{InsertManyOptions, ReturnDocument};
use mongodb::{Collection, Cursor, Database};
use serde_json::{Value, json};
use shared::db::documents::{CLIENTS, TICKETS, TRANSACTIONS, WEBHOOK_ACTIONS};

use crate::aws::Aws;

/// Path, path parameters, query and body of a REST request.
type RequestLine = (
    String,
    Vec<(&'static str, String)>,
    &'static [(&'static str, &'static str)],
    Option<Value>,
);

/// How the bench drives a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rest(Route),
    Viewer,
    NewTicket,
    StateChange,
    /// Invoked once per cold start (an empty page of closed tickets); a schedule has no warm path.
    Reconcile,
    /// Cold-started only; the reason is printed under the table.
    InitOnly(&'static str),
    /// A function the bench does not know yet: cold-started only.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    CreateClient,
    ListClients,
    GetClient,
    UpdateClient,
    DeleteClient,
    CreateTicket,
    ListClientTickets,
    GetTicket,
    ListTicketTransactions,
    GetAttachment,
    UpdateTicket,
    DeleteTicket,
}

pub fn kind_of(binary: &str) -> Kind {
    match binary {
        "create-client" => Kind::Rest(Route::CreateClient),
        "list-clients" => Kind::Rest(Route::ListClients),
        "get-client" => Kind::Rest(Route::GetClient),
        "update-client" => Kind::Rest(Route::UpdateClient),
        "delete-client" => Kind::Rest(Route::DeleteClient),
        "create-ticket" => Kind::Rest(Route::CreateTicket),
        "list-client-tickets" => Kind::Rest(Route::ListClientTickets),
        "get-ticket" => Kind::Rest(Route::GetTicket),
        "list-ticket-transactions" => Kind::Rest(Route::ListTicketTransactions),
        "get-attachment" => Kind::Rest(Route::GetAttachment),
        "update-ticket" => Kind::Rest(Route::UpdateTicket),
        "delete-ticket" => Kind::Rest(Route::DeleteTicket),
        "viewer" => Kind::Viewer,
        "webhook-new-ticket" => Kind::NewTicket,
        "webhook-ticket-state-change" => Kind::StateChange,
        "reconcile-closed-tickets" => Kind::Reconcile,
        "archive-worker" => Kind::InitOnly(
            "archive-worker: init only (a job needs a whole Glassix ticket with its files)",
        ),
        "migrate" => Kind::InitOnly("migrate: init only (its invocation is the index migration)"),
        _ => Kind::Unknown,
    }
}

impl Kind {
    /// Invoked once after each cold start.
    pub fn invoked(self) -> bool {
        !matches!(self, Self::InitOnly(_) | Self::Unknown)
    }

    /// Kept warm and invoked `BENCH_INVOCATIONS` times.
    pub fn warm(self) -> bool {
        self.invoked() && self != Self::Reconcile
    }

    /// `GetSecretValue` calls a cold start should make: the viewer reads no configuration.
    pub fn secrets_per_cold_start(self) -> u64 {
        match self {
            Self::Viewer => 0,
            _ => 1,
        }
    }
}

// The seeded data. Identifiers are digits, like the phone numbers Glassix gives.
const LISTED_CLIENTS: usize = 50;
const MAIN_TICKETS: i64 = 20;
/// A ticket of `MAIN_CLIENT` with `READ_TRANSACTIONS` transactions, the first with an
/// archived attachment.
const READ_TICKET: i64 = 100_000;
const READ_TRANSACTIONS: i64 = 10;
const UPDATE_TICKET: i64 = 100_001;
const ATTACHMENT_TRANSACTION: i64 = 1;
const ATTACHMENT_ID: i64 = 7_781_204;
/// Fresh ids per invocation, a million apart: the function's (`i`) and the baseline's (`j`).
const fn id_block(n: i64) -> i64 {
    n * 1_000_000
}
const CREATED_TICKETS: i64 = id_block(2);
const BASELINE_CREATED_TICKETS: i64 = id_block(3);
const DELETED_TICKETS: i64 = id_block(4);
const BASELINE_DELETED_TICKETS: i64 = id_block(5);
const NEW_TICKETS: i64 = id_block(6);
const CLOSED_TICKETS: i64 = id_block(7);

fn listed_client(n: usize) -> String {
    format!("9725000000{n:02}")
}
fn main_client() -> String {
    listed_client(0)
}
fn updated_client() -> String {
    listed_client(1)
}
fn ticket_client() -> String {
    listed_client(2)
}
fn baseline_ticket_client() -> String {
    listed_client(3)
}
fn deleted_tickets_client() -> String {
    listed_client(4)
}
fn created_client(i: usize) -> String {
    format!("97260{i:07}")
}
fn baseline_created_client(j: usize) -> String {
    format!("97261{j:07}")
}
fn deleted_client(i: usize) -> String {
    format!("97270{i:07}")
}
fn baseline_deleted_client(j: usize) -> String {
    format!("97271{j:07}")
}
fn id(base: i64, n: usize) -> i64 {
    base + n as i64
}

/// Where the bench reaches the servers.
pub struct Backends {
    /// Through the command-counting proxy, as the functions reach it.
    pub database: Database,
    /// Straight to FerretDB: setup and seeding, which no count may include.
    pub direct: Database,
    /// The SDK's S3 client as the functions configure it (`shared::aws::config`, path-style
    /// addressing), through the AWS counting proxy as they reach it: the S3 side of a
    /// baseline is the same operation done directly with the SDK, as its database side is
    /// done directly with the driver.
    pub s3: aws_sdk_s3::Client,
    /// Straight to moto_server.
    pub moto: Aws,
    pub bucket: String,
    pub queue_url: String,
}

pub struct Scenario {
    pub token: String,
    pub glassix_api_secret: String,
    /// `events/<binary>.json`, by binary.
    events: HashMap<String, Value>,
    new_ticket_event: Value,
    closed_event: Value,
    pub backends: Backends,
}

impl Scenario {
    pub fn new(
        root: &Path,
        token: String,
        glassix_api_secret: String,
        backends: Backends,
    ) -> Result<Self, String> {
        let read = |path: &Path| -> Result<Value, String> {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
        };
        let mut events = HashMap::new();
        let dir = root.join("events");
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if let Some(binary) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            {
                events.insert(binary.to_owned(), read(&path)?);
            }
        }
        let fixtures = root.join("shared/fixtures/glassix");
        Ok(Self {
            token,
            glassix_api_secret,
            events,
            new_ticket_event: read(&fixtures.join("new-ticket-event.json"))?,
            closed_event: read(&fixtures.join("ticket-state-change-closed-event.json"))?,
            backends,
        })
    }

    /// The event of the `i`-th invocation (cold starts' first invocations included) of
    /// `binary` in run `run`.
    pub fn payload(&self, kind: Kind, binary: &str, run: usize, i: usize) -> Result<Bytes, String> {
        match kind {
            Kind::Rest(route) => self.rest_event(route, binary, i),
            Kind::Viewer | Kind::Reconcile => self.event_as_is(binary),
            Kind::NewTicket => {
                self.webhook(binary, &self.new_ticket_event, id(NEW_TICKETS, i), run, i)
            }
            Kind::StateChange => {
                self.webhook(binary, &self.closed_event, id(CLOSED_TICKETS, i), run, i)
            }
            Kind::InitOnly(_) | Kind::Unknown => Err(format!("{binary} is not invoked")),
        }
    }

    /// Any HTTP API event: the hello-world function answers them all alike.
    pub fn hello_payload(&self) -> Result<Bytes, String> {
        self.event_as_is("viewer")
    }

    fn event_as_is(&self, binary: &str) -> Result<Bytes, String> {
        let event = self.template(binary)?;
        serde_json::to_vec(event)
            .map(Bytes::from)
            .map_err(|e| e.to_string())
    }

    fn template(&self, binary: &str) -> Result<&Value, String> {
        self.events
            .get(binary)
            .ok_or_else(|| format!("no events/{binary}.json to build its events from"))
    }

    fn rest_event(&self, route: Route, binary: &str, i: usize) -> Result<Bytes, String> {
        let main = main_client();
        let ticket = |n: i64| ("ticketId", n.to_string());
        let (path, params, query, body): RequestLine = match route {
            Route::CreateClient => (
                "/clients".into(),
                vec![],
                &[],
                Some(json!({"identifier": created_client(i), "name": "Bench Client"})),
            ),
            Route::ListClients => ("/clients".into(), vec![], &[("limit", "10")], None),
            Route::GetClient => (
                format!("/clients/{main}"),
                vec![("identifier", main.clone())],
                &[],
                None,
            ),
            Route::UpdateClient => (
                format!("/clients/{}", updated_client()),
                vec![("identifier", updated_client())],
                &[],
                Some(json!({"name": format!("Bench Client {}", i % 2)})),
            ),
            Route::DeleteClient => (
                format!("/clients/{}", deleted_client(i)),
                vec![("identifier", deleted_client(i))],
                &[],
                None,
            ),
            Route::CreateTicket => {
                let mut body = self.body_of(binary)?;
                body["ticketId"] = json!(id(CREATED_TICKETS, i));
                (
                    format!("/clients/{}/tickets", ticket_client()),
                    vec![("identifier", ticket_client())],
                    &[],
                    Some(body),
                )
            }
            Route::ListClientTickets => (
                format!("/clients/{main}/tickets"),
                vec![("identifier", main.clone())],
                &[("limit", "10")],
                None,
            ),
            Route::GetTicket => (
                format!("/tickets/{READ_TICKET}"),
                vec![ticket(READ_TICKET)],
                &[],
                None,
            ),
            Route::ListTicketTransactions => (
                format!("/tickets/{READ_TICKET}/transactions"),
                vec![ticket(READ_TICKET)],
                &[("limit", "50")],
                None,
            ),
            Route::GetAttachment => (
                format!(
                    "/tickets/{READ_TICKET}/transactions/{ATTACHMENT_TRANSACTION}/attachments/{ATTACHMENT_ID}"
                ),
                vec![
                    ticket(READ_TICKET),
                    ("transactionId", ATTACHMENT_TRANSACTION.to_string()),
                    ("attachmentId", ATTACHMENT_ID.to_string()),
                ],
                &[],
                None,
            ),
            Route::UpdateTicket => (
                format!("/tickets/{UPDATE_TICKET}"),
                vec![ticket(UPDATE_TICKET)],
                &[],
                Some(json!({"tags": ["Refund", format!("bench-{}", i % 2)]})),
            ),
            Route::DeleteTicket => {
                let deleted = id(DELETED_TICKETS, i);
                (
                    format!("/tickets/{deleted}"),
                    vec![ticket(deleted)],
                    &[],
                    None,
                )
            }
        };
        let mut event = self.template(binary)?.clone();
        set_request(
            &mut event,
            &path,
            &params,
            query,
            body.map(|b| b.to_string()),
        )?;
        let headers = object(&mut event, "headers")?;
        headers.insert(
            "authorization".into(),
            Value::String(format!("Bearer {}", self.token)),
        );
        serde_json::to_vec(&event)
            .map(Bytes::from)
            .map_err(|e| e.to_string())
    }

    /// The JSON body of `events/<binary>.json`.
    fn body_of(&self, binary: &str) -> Result<Value, String> {
        let body = self.template(binary)?["body"]
            .as_str()
            .ok_or_else(|| format!("events/{binary}.json has no body"))?;
        serde_json::from_str(body).map_err(|e| format!("events/{binary}.json body: {e}"))
    }

    /// A signed delivery of `fixture` for `ticket_id`, unique to this run and invocation.
    fn webhook(
        &self,
        binary: &str,
        fixture: &Value,
        ticket_id: i64,
        run: usize,
        i: usize,
    ) -> Result<Bytes, String> {
        let mut delivery = fixture.clone();
        delivery["key"] = json!(format!("bench-{run}-{i}"));
        let change = delivery["changes"]
            .get_mut(0)
            .ok_or("a Glassix fixture without changes")?;
        change["ticketId"] = json!(ticket_id);
        change["ticket"]["id"] = json!(ticket_id);
        let body = delivery.to_string();
        let signature = shared::glassix::inbound::sign(&self.glassix_api_secret, body.as_bytes());
        let mut event = self.template(binary)?.clone();
        let path = event["rawPath"].as_str().unwrap_or_default().to_owned();
        set_request(&mut event, &path, &[], &[], Some(body))?;
        object(&mut event, "headers")?.insert("x-hub-signature".into(), Value::String(signature));
        serde_json::to_vec(&event)
            .map(Bytes::from)
            .map_err(|e| e.to_string())
    }

    /// Checks the answer to an invocation: the route's status, and for a webhook that the
    /// change was processed (not found a duplicate, not failed).
    pub fn check(&self, kind: Kind, files_bucket: bool, answer: &[u8]) -> Result<(), String> {
        let expected = match kind {
            Kind::Rest(route) => route.expected_status(files_bucket),
            Kind::Viewer | Kind::NewTicket | Kind::StateChange => 200,
            Kind::Reconcile | Kind::InitOnly(_) | Kind::Unknown => return Ok(()),
        };
        let response: Value = serde_json::from_slice(answer).map_err(|_| {
            format!(
                "the answer is not an API Gateway response: {}",
                shared::testing::lambda::excerpt(answer)
            )
        })?;
        let status = response["statusCode"].as_u64().unwrap_or(0);
        let body = response["body"].as_str().unwrap_or_default();
        if status != expected {
            return Err(format!(
                "answered {status} (expected {expected}): {}",
                shared::testing::lambda::excerpt(body.as_bytes())
            ));
        }
        if matches!(kind, Kind::NewTicket | Kind::StateChange) {
            let summary: Value = serde_json::from_str(body).unwrap_or_default();
            if summary["processed"] != json!(1) {
                return Err(format!("the delivery was not processed: {body}"));
            }
        }
        Ok(())
    }
}

impl Route {
    fn expected_status(self, files_bucket: bool) -> u64 {
        match self {
            Self::CreateClient | Self::CreateTicket => 201,
            Self::DeleteClient | Self::DeleteTicket => 204,
            // A pre-signed link to the bucket, or the bytes from the local folder.
            Self::GetAttachment if files_bucket => 302,
            _ => 200,
        }
    }

    /// What the route does to the database, done directly with the driver (the `j`-th time):
    /// the same commands, in the same order, as `shared::db::Store` sends them for this
    /// request (checked by the bench against what the proxy saw). delete-ticket also lists the
    /// ticket's files in the bucket with the SDK, as its file erasure does.
    pub async fn baseline(
        self,
        scenario: &Scenario,
        j: usize,
        files_bucket: bool,
    ) -> Result<(), String> {
        let db = &scenario.backends.database;
        let clients = db.collection::<Document>(CLIENTS);
        let tickets = db.collection::<Document>(TICKETS);
        let transactions = db.collection::<Document>(TRANSACTIONS);
        let now = DateTime::now();
        match self {
            Self::CreateClient => {
                clients
                    .insert_one(client_doc(&baseline_created_client(j), &[]))
                    .await
                    .map_err(db_error)?;
            }
            Self::ListClients => {
                let page = clients
                    .find(doc! {})
                    .sort(doc! {"identifier": 1})
                    .limit(11)
                    .await
                    .map_err(db_error)?;
                expect_count(collect(page).await?, 11)?;
            }
            Self::GetClient => {
                found(clients.find_one(doc! {"identifier": main_client()}).await)?;
            }
            Self::UpdateClient => {
                found(
                    clients
                        .find_one_and_update(
                            doc! {"identifier": updated_client()},
                            doc! {"$set": {"name": format!("Baseline {}", j % 2), "updatedAt": now}},
                        )
                        .return_document(ReturnDocument::After)
                        .await,
                )?;
            }
            Self::DeleteClient => {
                let identifier = baseline_deleted_client(j);
                let by_identifier = doc! {"identifier": &identifier};
                found(clients.find_one(by_identifier.clone()).await)?;
                client_ticket_ids(&clients, &tickets, &identifier).await?;
                clients
                    .update_one(by_identifier.clone(), doc! {"$set": {"deleting": true}})
                    .await
                    .map_err(db_error)?;
                client_ticket_ids(&clients, &tickets, &identifier).await?;
                tickets
                    .delete_many(doc! {"clientIdentifier": &identifier})
                    .await
                    .map_err(db_error)?;
                let deleted = clients.delete_one(by_identifier).await.map_err(db_error)?;
                expect_count(deleted.deleted_count, 1)?;
            }
            Self::CreateTicket => {
                let client = baseline_ticket_client();
                let ticket_id = id(BASELINE_CREATED_TICKETS, j);
                found(clients.find_one(doc! {"identifier": &client}).await)?;
                tickets
                    .insert_one(ticket_doc(ticket_id, &client, 1))
                    .await
                    .map_err(db_error)?;
                transactions
                    .delete_many(doc! {"ticketId": ticket_id})
                    .await
                    .map_err(db_error)?;
                transactions
                    .distinct("id", doc! {"ticketId": ticket_id})
                    .await
                    .map_err(db_error)?;
                transactions
                    .insert_many([transaction_doc(ticket_id, 905_113_201, now, vec![])])
                    .with_options(InsertManyOptions::builder().ordered(false).build())
                    .await
                    .map_err(db_error)?;
                clients
                    .update_one(
                        doc! {"identifier": &client},
                        doc! {"$addToSet": {"tickets": ticket_id}, "$set": {"updatedAt": now}},
                    )
                    .await
                    .map_err(db_error)?;
                expect_count(transactions_page(&transactions, ticket_id, 101).await?, 1)?;
            }
            Self::ListClientTickets => {
                found(clients.find_one(doc! {"identifier": main_client()}).await)?;
                let page = tickets
                    .find(doc! {"clientIdentifier": main_client()})
                    .projection(doc! {"transactions": 0})
                    .sort(doc! {"ticketId": 1})
                    .limit(11)
                    .await
                    .map_err(db_error)?;
                expect_count(collect(page).await?, 11)?;
            }
            Self::GetTicket => {
                found(tickets.find_one(doc! {"ticketId": READ_TICKET}).await)?;
                let page = transactions_page(&transactions, READ_TICKET, 101).await?;
                expect_count(page, READ_TRANSACTIONS as usize)?;
            }
            Self::ListTicketTransactions => {
                found(tickets.find_one(doc! {"ticketId": READ_TICKET}).await)?;
                let page = transactions_page(&transactions, READ_TICKET, 51).await?;
                expect_count(page, READ_TRANSACTIONS as usize)?;
            }
            Self::GetAttachment => {
                found(tickets.find_one(doc! {"ticketId": READ_TICKET}).await)?;
                found(
                    transactions
                        .find_one(doc! {"ticketId": READ_TICKET, "id": ATTACHMENT_TRANSACTION})
                        .await,
                )?;
            }
            Self::UpdateTicket => {
                found(
                    tickets
                        .find_one_and_update(
                            doc! {"ticketId": UPDATE_TICKET},
                            doc! {"$set": {"updatedAt": now, "tags": ["Refund", format!("baseline-{}", j % 2)]}},
                        )
                        .return_document(ReturnDocument::After)
                        .await,
                )?;
                expect_count(
                    transactions_page(&transactions, UPDATE_TICKET, 101).await?,
                    1,
                )?;
            }
            Self::DeleteTicket => {
                let ticket_id = id(BASELINE_DELETED_TICKETS, j);
                let by_id = doc! {"ticketId": ticket_id};
                found(tickets.find_one(by_id.clone()).await)?;
                if files_bucket {
                    scenario
                        .backends
                        .s3
                        .list_objects_v2()
                        .bucket(&scenario.backends.bucket)
                        .prefix(shared::files::ticket_prefix(ticket_id))
                        .max_keys(1000)
                        .send()
                        .await
                        .map_err(|e| format!("S3 ListObjectsV2: {e}"))?;
                }
                found(tickets.find_one(by_id.clone()).await)?;
                clients
                    .update_one(
                        doc! {"identifier": deleted_tickets_client()},
                        doc! {"$pull": {"tickets": ticket_id}, "$set": {"updatedAt": now}},
                    )
                    .await
                    .map_err(db_error)?;
                transactions
                    .delete_many(by_id.clone())
                    .await
                    .map_err(db_error)?;
                let deleted = tickets.delete_one(by_id).await.map_err(db_error)?;
                expect_count(deleted.deleted_count, 1)?;
            }
        }
        Ok(())
    }
}

/// What `Store::client_ticket_ids` sends: the distinct ticket ids naming the client, the
/// client itself, then which of its listed tickets name another client.
async fn client_ticket_ids(
    clients: &Collection<Document>,
    tickets: &Collection<Document>,
    identifier: &str,
) -> Result<(), String> {
    tickets
        .distinct("ticketId", doc! {"clientIdentifier": identifier})
        .await
        .map_err(db_error)?;
    let client = clients
        .find_one(doc! {"identifier": identifier})
        .await
        .map_err(db_error)?;
    if let Some(client) = client {
        let listed = client.get_array("tickets").cloned().unwrap_or_default();
        tickets
            .distinct(
                "ticketId",
                doc! {"ticketId": {"$in": listed}, "clientIdentifier": {"$ne": identifier}},
            )
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

async fn transactions_page(
    transactions: &Collection<Document>,
    ticket_id: i64,
    fetch: i64,
) -> Result<usize, String> {
    let page = transactions
        .find(doc! {"ticketId": ticket_id})
        .sort(doc! {"dateTime": 1, "id": 1})
        .limit(fetch)
        .await
        .map_err(db_error)?;
    collect(page).await
}

/// Reads every document of the cursor (deserialized, as the store does); returns how many.
async fn collect(mut cursor: Cursor<Document>) -> Result<usize, String> {
    let mut count = 0;
    while cursor.advance().await.map_err(db_error)? {
        cursor.deserialize_current().map_err(db_error)?;
        count += 1;
    }
    Ok(count)
}

fn found(result: mongodb::error::Result<Option<Document>>) -> Result<(), String> {
    match result.map_err(db_error)? {
        Some(_) => Ok(()),
        None => Err("the baseline found no document where the route finds one".into()),
    }
}

fn expect_count<N: PartialEq + std::fmt::Display>(got: N, expected: N) -> Result<(), String> {
    if got == expected {
        Ok(())
    } else {
        Err(format!("the baseline got {got} documents, not {expected}"))
    }
}

fn db_error(error: mongodb::error::Error) -> String {
    format!("database: {error}")
}

/// Deletion targets are seeded this many at a time, just before they are needed: FerretDB
/// (SQLite) scans and sorts in Go, so a thousand idle documents would slow every command.
pub const DELETION_BATCH: usize = 50;

/// A deletion target: the one of the function's `i`-th invocation, or of the `j`-th baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deletion {
    Function(usize),
    Baseline(usize),
}

impl Scenario {
    /// Empties the database, creates the indexes (what the deploy-time `migrate` function
    /// does; functions never do) and seeds what the routes read and update: 50 clients, the
    /// first with 20 tickets, one of them with 10 transactions and an archived attachment.
    /// Straight to FerretDB, not through the counting proxy.
    pub async fn reset(&self, ferretdb_uri: &str) -> Result<(), String> {
        self.backends
            .direct
            .drop()
            .await
            .map_err(|e| format!("dropping the database: {e}"))?;
        shared::db::Store::connect(ferretdb_uri, self.backends.direct.name())
            .await
            .map_err(|e| e.to_string())?
            .ensure_indexes()
            .await
            .map_err(|e| format!("indexes: {e}"))?;
        let now = DateTime::now().timestamp_millis();
        let at = |n: i64| DateTime::from_millis(now - 3_600_000 + n * 1000);
        let main_tickets: Vec<i64> = (0..MAIN_TICKETS).map(|n| READ_TICKET + n).collect();
        let clients: Vec<Document> = (0..LISTED_CLIENTS)
            .map(|n| {
                let identifier = listed_client(n);
                let listed: &[i64] = if identifier == main_client() {
                    &main_tickets
                } else {
                    &[]
                };
                client_doc(&identifier, listed)
            })
            .collect();
        let mut tickets = Vec::new();
        let mut transactions = Vec::new();
        for &ticket_id in &main_tickets {
            let count = if ticket_id == READ_TICKET {
                READ_TRANSACTIONS
            } else {
                1
            };
            tickets.push(ticket_doc(ticket_id, &main_client(), count));
            for transaction in 1..=count {
                let attachments =
                    if ticket_id == READ_TICKET && transaction == ATTACHMENT_TRANSACTION {
                        vec![archived_attachment(ticket_id, transaction)]
                    } else {
                        vec![]
                    };
                transactions.push(transaction_doc(
                    ticket_id,
                    transaction,
                    at(transaction),
                    attachments,
                ));
            }
        }
        self.insert(CLIENTS, clients).await?;
        self.insert(TICKETS, tickets).await?;
        self.insert(TRANSACTIONS, transactions).await
    }

    /// Seeds deletion targets (delete-client: clients without tickets; delete-ticket:
    /// tickets with one transaction, listed on their client) in the order given, which must be
    /// the order they are deleted in. FerretDB's SQLite backend looks a document up by scanning
    /// its collection in insertion order, so where a target lies decides how long each command
    /// on it takes: seeded in deletion order, the function's target and the baseline's are
    /// each the first left of their batch when deleted, and compare like with like.
    pub async fn prepare_deletions(&self, kind: Kind, order: &[Deletion]) -> Result<(), String> {
        match kind {
            Kind::Rest(Route::DeleteClient) => {
                let clients = order
                    .iter()
                    .map(|deletion| match *deletion {
                        Deletion::Function(i) => deleted_client(i),
                        Deletion::Baseline(j) => baseline_deleted_client(j),
                    })
                    .map(|identifier| client_doc(&identifier, &[]))
                    .collect();
                self.insert(CLIENTS, clients).await
            }
            Kind::Rest(Route::DeleteTicket) => {
                let ids: Vec<i64> = order
                    .iter()
                    .map(|deletion| match *deletion {
                        Deletion::Function(i) => id(DELETED_TICKETS, i),
                        Deletion::Baseline(j) => id(BASELINE_DELETED_TICKETS, j),
                    })
                    .collect();
                if ids.is_empty() {
                    return Ok(());
                }
                let client = deleted_tickets_client();
                let opened = DateTime::now();
                self.insert(
                    TICKETS,
                    ids.iter().map(|&t| ticket_doc(t, &client, 1)).collect(),
                )
                .await?;
                self.insert(
                    TRANSACTIONS,
                    ids.iter()
                        .map(|&t| transaction_doc(t, 1, opened, vec![]))
                        .collect(),
                )
                .await?;
                self.backends
                    .direct
                    .collection::<Document>(CLIENTS)
                    .update_one(
                        doc! {"identifier": &client},
                        doc! {"$addToSet": {"tickets": {"$each": &ids}}},
                    )
                    .await
                    .map_err(db_error)?;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Brings back the seeded state between batches of invocations: removes what the
    /// function and its baseline created (tickets and their transactions, clients, webhook
    /// ledger entries) and drains the archive queue. FerretDB (SQLite) scans a collection for
    /// any filter but `_id`, and moto scans a FIFO queue for duplicates on every send: left to
    /// grow, both would make each invocation slower than the last, whatever the function does.
    pub async fn tidy(&self, kind: Kind) -> Result<(), String> {
        let collection = |name: &str| self.backends.direct.collection::<Document>(name);
        match kind {
            Kind::Rest(Route::CreateClient) => {
                collection(CLIENTS)
                    .delete_many(
                        doc! {"identifier": {"$gte": created_client(0), "$lt": deleted_client(0)}},
                    )
                    .await
                    .map_err(db_error)?;
            }
            Kind::Rest(Route::CreateTicket) => {
                let created = doc! {"ticketId": {"$gte": CREATED_TICKETS, "$lt": DELETED_TICKETS}};
                collection(TICKETS)
                    .delete_many(created.clone())
                    .await
                    .map_err(db_error)?;
                collection(TRANSACTIONS)
                    .delete_many(created)
                    .await
                    .map_err(db_error)?;
                collection(CLIENTS)
                    .update_many(
                        doc! {"identifier": {"$in": [ticket_client(), baseline_ticket_client()]}},
                        doc! {"$set": {"tickets": []}},
                    )
                    .await
                    .map_err(db_error)?;
            }
            Kind::NewTicket => {
                collection(WEBHOOK_ACTIONS)
                    .delete_many(doc! {})
                    .await
                    .map_err(db_error)?;
            }
            Kind::StateChange => {
                self.backends
                    .moto
                    .drain_queue(&self.backends.queue_url)
                    .await?
            }
            _ => {}
        }
        Ok(())
    }

    async fn insert(&self, collection: &str, documents: Vec<Document>) -> Result<(), String> {
        if documents.is_empty() {
            return Ok(());
        }
        self.backends
            .direct
            .collection::<Document>(collection)
            .insert_many(documents)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}

fn client_doc(identifier: &str, tickets: &[i64]) -> Document {
    let now = DateTime::now();
    doc! {
        "identifier": identifier,
        "name": "Bench Client",
        "tickets": tickets,
        "createdAt": now,
        "updatedAt": now,
    }
}

fn ticket_doc(ticket_id: i64, client: &str, transactions: i64) -> Document {
    let now = DateTime::now();
    doc! {
        "ticketId": ticket_id,
        "clientIdentifier": client,
        "clientName": "Bench Client",
        "ticketOpeningDate": now,
        "protocolType": "WhatsApp",
        "transactionCount": transactions,
        "closedAt": Bson::Null,
        "tags": ["Refund"],
        "archivedAt": Bson::Null,
        "scrambledAt": Bson::Null,
        "createdAt": now,
        "updatedAt": now,
    }
}

fn transaction_doc(ticket_id: i64, id: i64, at: DateTime, attachments: Vec<Document>) -> Document {
    doc! {
        "ticketId": ticket_id,
        "id": id,
        "guid": Bson::Null,
        "dateTime": at,
        "type": "Message",
        "text": "שלום, I was charged twice for order A-1042",
        "html": "",
        "fromProtocolType": "WhatsApp",
        "senderName": "Dana Cohen",
        "senderType": "Client",
        "attachments": attachments,
    }
}

/// An attachment whose file is in the bucket (the route signs a link; it does not read it).
fn archived_attachment(ticket_id: i64, transaction: i64) -> Document {
    let attachment = ATTACHMENT_ID.to_string();
    doc! {
        "id": ATTACHMENT_ID,
        "type": "Image",
        "originalFileName": "receipt.jpg",
        "fileIdentifier": format!("file-{attachment}"),
        "isEmbedded": false,
        "stored": {
            "key": shared::files::attachment_key(ticket_id, transaction, &attachment),
            "size": 4096_i64,
            "sha256": "0".repeat(64),
            "contentType": "image/jpeg",
            "storedAt": DateTime::now(),
        },
    }
}

/// Replaces what API Gateway derives from the request line: path, path parameters, query and
/// body.
fn set_request(
    event: &mut Value,
    path: &str,
    params: &[(&str, String)],
    query: &[(&str, &str)],
    body: Option<String>,
) -> Result<(), String> {
    let raw_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let map = |pairs: Vec<(String, Value)>| Value::Object(pairs.into_iter().collect());
    object(event, "requestContext")
        .and_then(|context| {
            context
                .get_mut("http")
                .and_then(Value::as_object_mut)
                .ok_or_else(|| "an event without requestContext.http".to_owned())
        })?
        .insert("path".into(), Value::String(path.into()));
    let event = event.as_object_mut().ok_or("an event is not an object")?;
    event.insert("rawPath".into(), Value::String(path.into()));
    event.insert("rawQueryString".into(), Value::String(raw_query));
    event.insert("isBase64Encoded".into(), Value::Bool(false));
    let mut optional = |key: &str, value: Option<Value>| match value {
        Some(value) => {
            event.insert(key.into(), value);
        }
        None => {
            event.remove(key);
        }
    };
    optional(
        "pathParameters",
        (!params.is_empty()).then(|| {
            map(params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
                .collect())
        }),
    );
    optional(
        "queryStringParameters",
        (!query.is_empty()).then(|| {
            map(query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
                .collect())
        }),
    );
    optional("body", body.map(Value::String));
    Ok(())
}

fn object<'a>(
    event: &'a mut Value,
    key: &str,
) -> Result<&'a mut serde_json::Map<String, Value>, String> {
    event
        .get_mut(key)
        .and_then(Value::as_object_mut)
        .ok_or_else(|| format!("an event without {key}"))
}

/// Compares the commands a route sent with its baseline's (as multisets: a route may run two
/// at once).
pub fn same_commands(mut route: Vec<String>, mut baseline: Vec<String>) -> Result<(), String> {
    if route.is_empty() {
        return Err("the proxy saw no command from the route".into());
    }
    route.sort();
    baseline.sort();
    if route == baseline {
        Ok(())
    } else {
        Err(format!(
            "the route sent [{}], the baseline [{}]",
            route.join(", "),
            baseline.join(", ")
        ))
    }
}

/// Counts per operation divided by `n`, for the notes: `name ×1.00`.
pub fn per_invocation(calls: &BTreeMap<String, u64>, n: usize) -> String {
    calls
        .iter()
        .map(|(name, count)| format!("{name} ×{:.2}", *count as f64 / n.max(1) as f64))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_compare_as_multisets() {
        let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(
            same_commands(
                names(&["find", "update", "find"]),
                names(&["find", "find", "update"])
            )
            .is_ok()
        );
        let different = same_commands(names(&["find", "find"]), names(&["find"]))
            .expect_err("a missing command");
        assert!(different.contains("[find, find]"), "{different}");
        same_commands(vec![], vec![]).expect_err("nothing seen is no match");
    }

    #[test]
    fn every_binary_of_the_template_has_a_known_kind() {
        for binary in [
            "create-client",
            "delete-ticket",
            "viewer",
            "webhook-new-ticket",
            "webhook-ticket-state-change",
            "reconcile-closed-tickets",
            "archive-worker",
            "migrate",
        ] {
            assert_ne!(kind_of(binary), Kind::Unknown, "{binary}");
        }
        assert!(Kind::Rest(Route::GetClient).warm());
        assert!(Kind::Reconcile.invoked() && !Kind::Reconcile.warm());
        assert_eq!(Kind::Viewer.secrets_per_cold_start(), 0);
    }
}
