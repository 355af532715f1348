//! The REST half of the mix: every route a client of the API calls, each answer checked
//! against what this worker knows it wrote.

use std::sync::atomic::Ordering;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use shared::testing::requests::{TEST_API_TOKEN, ticket_body};

use super::{ClientModel, Worker};
use crate::run::Contested;
use crate::{CONTESTED_TICKETS, REST_TICKETS, REST_TRANSACTIONS, TICKETS_PER_CLIENT};

impl Worker {
    /// A request with the API token.
    fn rest(&self, verb: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.run
            .http
            .request(verb, self.run.url(path))
            .bearer_auth(TEST_API_TOKEN)
    }

    /// A fresh client: an e-mail or phone digits, with a name or without, Hebrew or Latin.
    pub(super) async fn create_client(&mut self) -> bool {
        self.serial += 1;
        let identifier = if self.rng.chance(50) {
            format!("load.w{}+c{}@example.com", self.id, self.serial)
        } else {
            format!("9725{:03}{:06}", self.id, self.serial)
        };
        let name = match self.rng.below(3) {
            0 => None,
            1 => Some(format!("דנה כהן {}", self.serial)),
            _ => Some(format!("Dana Cohen {}", self.serial)),
        };
        let mut body = json!({"identifier": identifier});
        if let Some(name) = &name {
            body["name"] = name.clone().into();
        }
        let request = self.rest(reqwest::Method::POST, "/clients").json(&body);
        let Some((201, answer)) = self.send("create client", request, &[201]).await else {
            self.log.uncertain.push(ClientModel {
                identifier,
                name,
                tickets: Vec::new(),
            });
            return false;
        };
        if answer["identifier"] != identifier.as_str() {
            self.fail(format!("create client answered {answer}"));
        }
        self.log.clients.push(ClientModel {
            identifier,
            name,
            tickets: Vec::new(),
        });
        true
    }

    pub(super) async fn duplicate_client(&mut self) {
        let index = self.any_client();
        let client = self.log.clients[index].clone();
        let request = self
            .rest(reqwest::Method::POST, "/clients")
            .json(&json!({"identifier": client.identifier, "name": "Someone Else"}));
        self.send("create client (duplicate)", request, &[409])
            .await;
    }

    pub(super) async fn contested_client(&mut self) {
        let key = self.run.contested_clients.fetch_add(1, Ordering::Relaxed) / 2;
        let identifier = format!("contested-{key}@example.com");
        let request = self
            .rest(reqwest::Method::POST, "/clients")
            .json(&json!({"identifier": identifier, "name": format!("Contested {key}")}));
        let status = self
            .send("create client (contested)", request, &[201, 409])
            .await
            .map(|(status, _)| status);
        self.contest(Contested::Client(identifier), status, String::new());
    }

    fn contest(&self, key: Contested, status: Option<u16>, winner: String) {
        let mut contests = self.run.contests.lock().expect("contests");
        let contest = contests.entry(key).or_default();
        contest.attempts += 1;
        match status {
            Some(201) => contest.winners.push(winner),
            Some(409) => contest.conflicts += 1,
            _ => contest.unknown += 1,
        }
    }

    /// `GET /clients/{identifier}{suffix}` of one of this worker's clients: the client as this
    /// worker knows it, with the body of a 200.
    async fn read_any_client(
        &mut self,
        op: &'static str,
        suffix: &str,
    ) -> Option<(ClientModel, Value)> {
        let index = self.any_client();
        let client = self.log.clients[index].clone();
        let request = self.rest(
            reqwest::Method::GET,
            &format!("/clients/{}{suffix}", encode(&client.identifier)),
        );
        let Some((200, body)) = self.send(op, request, &[200]).await else {
            return None;
        };
        Some((client, body))
    }

    /// `POST /clients/{identifier}/tickets` with ticket `ticket_id`.
    fn create_ticket_request(&self, identifier: &str, ticket_id: i64) -> reqwest::RequestBuilder {
        self.rest(
            reqwest::Method::POST,
            &format!("/clients/{}/tickets", encode(identifier)),
        )
        .json(&ticket_body(ticket_id))
    }

    pub(super) async fn get_client(&mut self) {
        let Some((client, body)) = self.read_any_client("get client", "").await else {
            return;
        };
        let name = body["name"].as_str().map(str::to_owned);
        let mut tickets: Vec<i64> = read_each(&body["tickets"], Value::as_i64);
        tickets.sort_unstable();
        let mut expected = client.tickets.clone();
        expected.sort_unstable();
        if body["identifier"] != client.identifier.as_str()
            || name != client.name
            || tickets != expected
        {
            self.fail(format!(
                "get client {}: read {body}, expected name {:?} and tickets {expected:?}",
                client.identifier, client.name
            ));
        }
    }

    pub(super) async fn list_clients(&mut self) {
        let mut path = "/clients?limit=50".to_owned();
        if let Some(cursor) = self.list_cursor.take()
            && self.rng.chance(50)
        {
            path.push_str(&format!("&cursor={}", encode(&cursor)));
        }
        let request = self.rest(reqwest::Method::GET, &path);
        let Some((200, body)) = self.send("list clients", request, &[200]).await else {
            return;
        };
        let identifiers: Vec<&str> = read_each(&body["items"], |c| c["identifier"].as_str());
        let ordered = identifiers.windows(2).all(|pair| pair[0] < pair[1]);
        if identifiers.len() > 50 || !ordered {
            self.fail(format!(
                "list clients: {} items, strictly ordered: {ordered}",
                identifiers.len()
            ));
        }
        self.list_cursor = body["next"].as_str().map(str::to_owned);
    }

    pub(super) async fn update_client(&mut self) {
        let index = self.any_client();
        self.serial += 1;
        let name = (!self.rng.chance(20)).then(|| format!("Renamed {}", self.serial));
        let request = self
            .rest(
                reqwest::Method::PATCH,
                &format!("/clients/{}", encode(&self.log.clients[index].identifier)),
            )
            .json(&json!({ "name": name }));
        let Some((200, body)) = self.send("update client", request, &[200]).await else {
            self.abandon(index, None);
            return;
        };
        if body["name"].as_str().map(str::to_owned) != name {
            self.fail(format!("update client answered {body}, expected {name:?}"));
        }
        self.log.clients[index].name = name;
    }

    pub(super) async fn delete_client(&mut self) {
        // Never the anchor (index 0).
        let index = 1 + self.rng.below(self.log.clients.len() - 1);
        let identifier = self.log.clients[index].identifier.clone();
        let path = format!("/clients/{}", encode(&identifier));
        let request = self.rest(reqwest::Method::DELETE, &path);
        let deleted = self.send("delete client", request, &[204]).await;
        let acknowledged = matches!(deleted, Some((204, _)));
        if acknowledged {
            let client = self.log.clients.remove(index);
            for ticket in client.tickets {
                self.log.tags.remove(&ticket);
                self.log.deleted_tickets.push(ticket);
            }
            self.log.deleted_clients.push(identifier);
        } else {
            self.abandon(index, None);
        }
        self.read_deleted("get client (deleted)", &path, acknowledged)
            .await;
    }

    pub(super) async fn create_ticket(&mut self) {
        let candidates: Vec<usize> = (0..self.log.clients.len())
            .filter(|&i| self.log.clients[i].tickets.len() < TICKETS_PER_CLIENT)
            .collect();
        let index = candidates[self.rng.below(candidates.len())];
        self.serial += 1;
        let ticket_id = REST_TICKETS + self.id as i64 * 1_000_000 + self.serial as i64;
        let request = self.create_ticket_request(&self.log.clients[index].identifier, ticket_id);
        let Some((201, body)) = self.send("create ticket", request, &[201]).await else {
            self.abandon(index, Some(ticket_id));
            return;
        };
        if body["ticketId"] != ticket_id {
            self.fail(format!("create ticket {ticket_id} answered {body}"));
        }
        self.log.clients[index].tickets.push(ticket_id);
        self.log.tags.insert(ticket_id, vec!["Refund".into()]);
    }

    pub(super) async fn duplicate_ticket(&mut self) {
        let ticket_id = self.any_ticket();
        // Under any of this worker's clients: the ticket id is unique across clients.
        let index = self.any_client();
        let request = self.create_ticket_request(&self.log.clients[index].identifier, ticket_id);
        self.send("create ticket (duplicate)", request, &[409])
            .await;
    }

    pub(super) async fn contested_ticket(&mut self) {
        let key = self.run.contested_tickets.fetch_add(1, Ordering::Relaxed) / 2;
        let ticket_id = CONTESTED_TICKETS + key as i64;
        let anchor = self.log.clients[0].identifier.clone();
        let request = self.create_ticket_request(&anchor, ticket_id);
        let status = self
            .send("create ticket (contested)", request, &[201, 409])
            .await
            .map(|(status, _)| status);
        match status {
            Some(201) => {
                self.log.clients[0].tickets.push(ticket_id);
                self.log.tags.insert(ticket_id, vec!["Refund".into()]);
                self.contested.insert(ticket_id);
            }
            Some(409) => {}
            _ => self.abandon(0, Some(ticket_id)),
        }
        self.contest(Contested::Ticket(ticket_id), status, anchor);
    }

    pub(super) async fn get_ticket(&mut self) {
        let ticket_id = self.any_ticket();
        let client = self.log.clients[self.client_of(ticket_id)]
            .identifier
            .clone();
        let tags = self.log.tags[&ticket_id].clone();
        let request = self.rest(reqwest::Method::GET, &format!("/tickets/{ticket_id}"));
        let Some((200, body)) = self.send("get ticket", request, &[200]).await else {
            return;
        };
        let read_tags: Vec<&str> = read_each(&body["tags"], Value::as_str);
        if body["ticketId"] != ticket_id
            || body["clientIdentifier"] != client.as_str()
            || body["transactionCount"] != REST_TRANSACTIONS
            || read_tags != tags
        {
            self.fail(format!(
                "get ticket {ticket_id}: read {body}, expected client {client} and tags {tags:?}"
            ));
        }
    }

    pub(super) async fn update_ticket(&mut self) {
        let ticket_id = self.any_ticket();
        self.serial += 1;
        let tags = vec!["Refund".to_owned(), format!("load-{}", self.serial)];
        let request = self
            .rest(reqwest::Method::PATCH, &format!("/tickets/{ticket_id}"))
            .json(&json!({ "tags": tags }));
        let Some((200, body)) = self.send("update ticket", request, &[200]).await else {
            let index = self.client_of(ticket_id);
            self.abandon(index, None);
            return;
        };
        if body["tags"] != json!(tags) {
            self.fail(format!("update ticket {ticket_id} answered {body}"));
        }
        self.log.tags.insert(ticket_id, tags);
    }

    pub(super) async fn list_client_tickets(&mut self) {
        let Some((client, body)) = self
            .read_any_client("list client tickets", "/tickets?limit=100")
            .await
        else {
            return;
        };
        let read: Vec<i64> = read_each(&body["items"], |t| t["ticketId"].as_i64());
        let mut expected = client.tickets.clone();
        expected.sort_unstable();
        if read != expected {
            self.fail(format!(
                "list client tickets of {}: read {read:?}, expected {expected:?}",
                client.identifier
            ));
        }
    }

    pub(super) async fn delete_ticket(&mut self) {
        let candidates = self.deletable_tickets();
        let ticket_id = candidates[self.rng.below(candidates.len())];
        let path = format!("/tickets/{ticket_id}");
        let request = self.rest(reqwest::Method::DELETE, &path);
        let index = self.client_of(ticket_id);
        let deleted = self.send("delete ticket", request, &[204]).await;
        let acknowledged = matches!(deleted, Some((204, _)));
        if acknowledged {
            self.log.clients[index].tickets.retain(|t| *t != ticket_id);
            self.log.tags.remove(&ticket_id);
            self.log.deleted_tickets.push(ticket_id);
        } else {
            self.abandon(index, None);
        }
        self.read_deleted("get ticket (deleted)", &path, acknowledged)
            .await;
    }

    /// Reads `path` back after its delete: gone once the delete was acknowledged; after no
    /// answer or an unexpected one, it may be either way.
    async fn read_deleted(&mut self, op: &'static str, path: &str, acknowledged: bool) {
        let expected: &[u16] = if acknowledged { &[404] } else { &[200, 404] };
        let request = self.rest(reqwest::Method::GET, path);
        self.send(op, request, expected).await;
    }

    pub(super) async fn no_token(&mut self) {
        let request = self.run.http.get(self.run.url("/clients"));
        self.send("list clients (no token)", request, &[401]).await;
    }
}

fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, NON_ALPHANUMERIC).to_string()
}

/// The items of a JSON array that `item` reads (none when `list` is not an array).
fn read_each<'a, T>(list: &'a Value, item: impl FnMut(&'a Value) -> Option<T>) -> Vec<T> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(item)
        .collect()
}
