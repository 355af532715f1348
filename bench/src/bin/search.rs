//! `search`: ticket search at scale (issue 26, item 6). Seeds FerretDB with N archived tickets
//! (20,000) of M transactions each (10), a few tickets per client, written as the store writes
//! them: `tickets`, `transactions` and each ticket's search document in `ticket_search`, built
//! with `shared::search::build` from the same values (bulk `insert_many`, after
//! `Store::ensure_indexes`). Then it times `GET /tickets` as its handler runs it
//! (`Query::parse` → `Store::search_tickets`, the first page of 20 → `SearchResultView::of` of
//! each item → the JSON body) for a one-word, a two-word and a phone query and a listing by
//! channel alone, each R times (30) after one warm-up, round-robin so that other load on the
//! machine falls on every kind alike; counts what each matches (`count_documents` over the same
//! filter) and checks the count and the first page against what the seeded terms say; and
//! reports the storage of `ticket_search` next to `tickets` and `transactions` (`collStats`, the
//! SQLite file) with the BSON bytes of a search document's `terms` and `texts` measured client
//! side. It prints the figures and one markdown table row, never the seeded text. It builds
//! nothing: `scripts/bench-search.sh` builds, starts FerretDB and runs it.
//!
//! The text: sentences of Hebrew or English words drawn with Zipf's law (exponent 1) from a
//! vocabulary of common support-chat words followed by a long tail of made-up words (names,
//! products, typos), with order numbers, amounts and emoji now and then; clients' phone numbers
//! in six writings and e-mail addresses in some messages; e-mail tickets' client messages as
//! HTML only. The same every run (seeded per ticket). The query words are picked after seeding:
//! the vocabulary word found in the share of tickets nearest `ONE_WORD_SHARE`, and a Hebrew and
//! an English word each nearest `TWO_WORD_SHARE`; the phone is a client's second number (not
//! its identifier) written in a way the seeded text never uses.
//!
//! Environment (set by `scripts/bench-search.sh`):
//! - `BENCH_FERRETDB_URI` (`mongodb://127.0.0.1:<port>/`): the server.
//! - `SEARCH_TICKETS` (20000), `SEARCH_TRANSACTIONS_PER_TICKET` (10),
//!   `SEARCH_TICKETS_PER_CLIENT` (5), `SEARCH_REPEATS` (30): the sizes and timed runs per query.
//! - `SEARCH_FERRETDB_PID` (optional): FerretDB's process, whose CPU time during the queries
//!   and peak RSS are reported.
//! - `SEARCH_DATA_DIR` (optional): FerretDB's SQLite directory, whose database file's size is
//!   reported.
//!
//! MB are MiB (1,048,576 bytes), kB are KiB.

// The S3 client and the answer excerpt are the other benchmarks'.
#[allow(dead_code)]
#[path = "../bench_util.rs"]
mod bench_util;
#[path = "../host.rs"]
mod host;
// `median` is the runner's.
#[allow(dead_code)]
#[path = "../stats.rs"]
mod stats;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use fastrand::Rng;
use mongodb::bson::{self, Bson, DateTime, Document, doc};
use shared::api::{PageView, SearchResultView};
use shared::db::{
    SearchFilter, Store, TICKET_SEARCH, TicketDoc, TransactionDoc, TransactionRecord,
};
use shared::pagination::{PageRequest, SearchKey};
use shared::search::{Query, build, terms::tokens};
use tokio::time::Instant;

use crate::bench_util::{
    cpu_seconds, error_text, insert, mongo_client, peak_kb, seconds, thousands,
};
use crate::host::{Env, load_average, machine};
use crate::stats::percentile;

const DATABASE: &str = "ctm_bench_search";
/// Ticket ids start above this; transaction ids are derived from them.
const TICKET_BASE: i64 = 70_000_000;
/// Tickets generated and inserted per step (each collection's documents in bulk).
const CHUNK: usize = 200;
/// The page a search answers when no `limit` is given.
const PAGE_LIMIT: &str = "20";
/// The one-word query: the vocabulary word in the share of tickets nearest this.
const ONE_WORD_SHARE: f64 = 0.05;
/// The two-word query: a Hebrew and an English word, each in the share nearest this.
const TWO_WORD_SHARE: f64 = 0.08;
/// The listing without `q`.
const CHANNEL: &str = "Mail";
/// Made-up words after the common ones, per language.
const TAIL_WORDS: usize = 3000;
/// A seed of its own for the vocabularies' made-up words, and a base for the tickets'.
const VOCABULARY_SEED: u64 = 0x5EA5_C4ED;
const TICKET_SEED: u64 = 0x7C4E_7000;

/// Common words of English support chats, most frequent first (Zipf rank = position).
#[rustfmt::skip]
const ENGLISH: &[&str] = &[
    "the", "to", "and", "you", "for", "is", "my", "it", "of", "on", "this", "we", "your", "in",
    "please", "order", "can", "have", "not", "be", "with", "that", "thanks", "hi", "me", "was",
    "are", "will", "at", "get", "did", "but", "from", "there", "any", "help", "still", "when",
    "know", "don't", "what", "would", "like", "just", "need", "they", "could", "our", "if", "an",
    "one", "all", "as", "so", "do", "about", "up", "no", "yes", "by", "has", "been", "sent",
    "number", "email", "check", "received", "again", "problem", "refund", "item", "back", "new",
    "hello", "team", "service", "customer", "support", "payment", "account", "card", "delivery",
    "today", "time", "week", "days", "address", "phone", "call", "update", "issue", "want",
    "charged", "price", "shipping", "package", "tracking", "status", "details", "confirm", "cancel",
    "return", "wrong", "size", "color", "credit", "link", "code", "app", "login", "password",
    "reset", "message", "reply", "tomorrow", "morning", "receipt", "invoice", "discount", "coupon",
    "warranty", "exchange", "replacement", "damaged", "missing", "late", "courier", "branch",
    "manager", "complaint", "appointment", "subscription", "renewal", "plan", "bill", "balance",
    "transfer", "bank", "installments", "approval", "signature", "contract", "document", "photo",
    "screenshot", "attached", "form", "website", "error", "broken", "screen", "battery", "charger",
    "device", "model", "serial", "technician", "visit", "schedule", "available", "closed",
    "opening", "hours", "holiday", "weekend", "urgent", "waiting", "apologize", "sorry",
    "unfortunately", "appreciate", "understand", "regards", "dear", "department", "billing",
    "shipment", "warehouse", "stock", "voucher", "gift", "points", "membership", "loyalty",
    "survey", "feedback", "review", "policy", "privacy", "verification", "identity",
];

/// Common words of Hebrew support chats, most frequent first.
#[rustfmt::skip]
const HEBREW: &[&str] = &[
    "של", "את", "על", "לא", "אני", "זה", "יש", "עם", "מה", "אם", "גם", "כי", "הוא", "היא", "אבל",
    "רק", "כבר", "עוד", "שלום", "תודה", "בבקשה", "ההזמנה", "אפשר", "צריך", "רוצה", "מתי", "איך",
    "למה", "היום", "מחר", "שלי", "לי", "אותו", "כל", "אין", "היה", "יהיה", "עדיין", "בסדר", "רבה",
    "הזמנה", "חשבון", "כרטיס", "אשראי", "תשלום", "החזר", "זיכוי", "חיוב", "משלוח", "שליח", "כתובת",
    "טלפון", "מספר", "מייל", "הודעה", "תשובה", "שאלה", "בעיה", "תקלה", "מוצר", "המוצר", "חבילה",
    "איסוף", "סניף", "חנות", "אתר", "אפליקציה", "סיסמה", "משתמש", "חשבונית", "קבלה", "הנחה",
    "קופון", "מבצע", "מחיר", "אחריות", "החלפה", "החזרה", "ביטול", "לבטל", "פגום", "שבור", "חסר",
    "איחור", "ממתין", "דחוף", "בהקדם", "שעה", "ימים", "שבוע", "חודש", "פתוח", "סגור", "שירות",
    "לקוחות", "נציג", "מנהל", "מחלקה", "תלונה", "פנייה", "טיפול", "מעקב", "סטטוס", "עדכון", "לעדכן",
    "אישור", "לאשר", "חתימה", "חוזה", "מסמך", "צילום", "מסך", "מצורף", "טופס", "שגיאה", "מכשיר",
    "סוללה", "מטען", "דגם", "טכנאי", "ביקור", "תור", "זמין", "חג", "עסקים", "מצטערים", "מתנצלים",
    "סליחה", "לצערנו", "מעריכים", "בברכה", "יקר", "לקוח", "מנוי", "חידוש", "תוכנית", "יתרה",
    "העברה", "בנקאית", "בנק", "תשלומים", "הוראת", "קבע", "נקודות", "מועדון", "חברים", "סקר", "משוב",
    "דירוג", "מדיניות", "תקנון", "פרטיות", "הסכמה", "אימות", "זהות", "תעודת", "פיצוי", "הפרש",
    "שובר", "מתנה", "מלאי", "מחסן", "דואר", "רשום", "מכתב", "הגעה", "נמסר", "התקנה", "הרכבה",
    "מידה", "צבע", "גודל", "מקרר", "מזגן", "כביסה", "תנור", "ספה", "מזרן", "ארון", "שולחן",
];

const FIRST_NAMES: &[(&str, &str)] = &[
    ("דנה", "Dana"),
    ("יוסי", "Yossi"),
    ("מיכל", "Michal"),
    ("אבי", "Avi"),
    ("נועה", "Noa"),
    ("רון", "Ron"),
    ("שירה", "Shira"),
    ("איתי", "Itai"),
    ("תמר", "Tamar"),
    ("עומר", "Omer"),
    ("יעל", "Yael"),
    ("גיא", "Guy"),
];
const LAST_NAMES: &[(&str, &str)] = &[
    ("כהן", "Cohen"),
    ("לוי", "Levi"),
    ("מזרחי", "Mizrahi"),
    ("פרץ", "Peretz"),
    ("ביטון", "Biton"),
    ("אברהם", "Avraham"),
    ("פרידמן", "Friedman"),
    ("שפירא", "Shapira"),
    ("אזולאי", "Azoulay"),
    ("דהן", "Dahan"),
];
const AGENTS: &[&str] = &["Noa Levi", "מאיה כהן", "Yonatan B.", "צוות השירות"];
const DOMAINS: &[&str] = &["example.com", "example.co.il", "mail.example.net"];
const TOPICS: &[&str] = &["Billing", "Delivery", "Technical", "Returns"];
const EMOJI: &[&str] = &["🙏", "✅", "😕", "👍"];
const PHONE_EN: &[&str] = &[
    "You can reach me at",
    "My other number is",
    "Please call me back on",
];
const PHONE_HE: &[&str] = &[
    "אפשר לחזור אליי למספר",
    "המספר השני שלי הוא",
    "תתקשרו אליי ל-",
];

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("search bench: {error}");
            ExitCode::FAILURE
        }
    }
}

struct Config {
    ferretdb_uri: String,
    tickets: usize,
    transactions_per_ticket: usize,
    tickets_per_client: usize,
    repeats: usize,
    ferretdb_pid: Option<u32>,
    data_dir: Option<PathBuf>,
}

impl Config {
    fn from_env() -> Result<Self, String> {
        let env = Env::new("scripts/bench-search.sh")?;
        Ok(Self {
            ferretdb_uri: env.required("BENCH_FERRETDB_URI")?,
            tickets: env.number("SEARCH_TICKETS", 20_000)?.max(1),
            transactions_per_ticket: env
                .number("SEARCH_TRANSACTIONS_PER_TICKET", 10)?
                .clamp(1, 999),
            tickets_per_client: env.number("SEARCH_TICKETS_PER_CLIENT", 5)?.max(1),
            repeats: env.number("SEARCH_REPEATS", 30)?.max(1),
            ferretdb_pid: env
                .var("SEARCH_FERRETDB_PID")
                .and_then(|v| v.trim().parse().ok()),
            data_dir: env
                .var("SEARCH_DATA_DIR")
                .map(|_| env.path("SEARCH_DATA_DIR", "")),
        })
    }

    fn clients(&self) -> usize {
        self.tickets.div_ceil(self.tickets_per_client)
    }
}

fn ticket_id(t: usize) -> i64 {
    TICKET_BASE + 1 + t as i64
}

fn transaction_id(t: usize, j: usize) -> i64 {
    ticket_id(t) * 1000 + j as i64
}

/// Client `c`'s identifier (its WhatsApp number): 97254 and 7 digits, one per client.
fn identifier(c: usize) -> String {
    format!("97254{:07}", (c * 7_919 + 1_234_567) % 10_000_000)
}

/// Client `c`'s second number, only ever written in its messages: 97252 and 7 digits.
fn second_number(c: usize) -> String {
    format!("97252{:07}", (c * 104_729 + 7_654_321) % 10_000_000)
}

/// How the seeded text writes an Israeli mobile number (`international`: 972 and 9 digits).
const WRITINGS: usize = 6;

fn written(international: &str, writing: usize) -> String {
    let national = &international[3..];
    let (a, b, c) = (&national[..2], &national[2..5], &national[5..]);
    match writing % WRITINGS {
        0 => format!("0{a}-{b}-{c}"),
        1 => format!("0{national}"),
        2 => format!("+972 {a} {b} {c}"),
        3 => format!("(0{a}) {b} {c}"),
        4 => format!("00972 {a} {b} {c}"),
        _ => format!("0{a}.{b}.{c}"),
    }
}

/// The phone query's writing, which is none of `written`'s.
fn queried(international: &str) -> String {
    let national = &international[3..];
    format!(
        "+972-{}-{}-{}",
        &national[..2],
        &national[2..5],
        &national[5..]
    )
}

fn at(date: chrono::DateTime<Utc>) -> DateTime {
    DateTime::from_millis(date.timestamp_millis())
}

/// Words in Zipf rank order, the common ones first, and their cumulative probabilities.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(common: &[&str], tail: Vec<String>) -> Self {
        let words: Vec<String> = common.iter().map(|w| (*w).to_owned()).chain(tail).collect();
        let mut total = 0.0;
        let mut cumulative: Vec<f64> = (1..=words.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        for c in &mut cumulative {
            *c /= total;
        }
        Self { words, cumulative }
    }

    fn draw(&self, rng: &mut Rng) -> &str {
        let u = rng.f64();
        let rank = self.cumulative.partition_point(|&c| c < u);
        &self.words[rank.min(self.words.len() - 1)]
    }
}

/// Made-up English words: two to four syllables.
fn english_tail(rng: &mut Rng) -> Vec<String> {
    const ONSETS: &[&str] = &[
        "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr",
        "sh",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou"];
    (0..TAIL_WORDS)
        .map(move |_| {
            let syllables = rng.usize(2..=4);
            let mut word = String::new();
            for _ in 0..syllables {
                word.push_str(ONSETS[rng.usize(..ONSETS.len())]);
                word.push_str(VOWELS[rng.usize(..VOWELS.len())]);
            }
            if rng.bool() {
                word.push_str(ONSETS[rng.usize(..14)]);
            }
            word
        })
        .collect()
}

/// Made-up Hebrew words: three to six letters.
fn hebrew_tail(rng: &mut Rng) -> Vec<String> {
    (0..TAIL_WORDS)
        .map(move |_| {
            (0..rng.usize(3..=6))
                .map(|_| char::from_u32(0x05D0 + rng.u32(..27)).unwrap_or('א'))
                .collect()
        })
        .collect()
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The generated archive: ticket `t` (0-based) belongs to client `t / tickets_per_client`.
struct World {
    english: Vocabulary,
    hebrew: Vocabulary,
    transactions_per_ticket: usize,
    tickets_per_client: usize,
    now: chrono::DateTime<Utc>,
}

/// A ticket as the archive holds it, and which client's second number its text writes.
struct Generated {
    ticket: TicketDoc,
    transactions: Vec<TransactionDoc>,
    second_number_written: bool,
}

/// A sentence and whether it is Hebrew (right to left).
struct Sentence {
    text: String,
    hebrew: bool,
}

impl World {
    fn new(config: &Config) -> Self {
        let mut rng = Rng::with_seed(VOCABULARY_SEED);
        let english = Vocabulary::new(ENGLISH, english_tail(&mut rng));
        let hebrew = Vocabulary::new(HEBREW, hebrew_tail(&mut rng));
        Self {
            english,
            hebrew,
            transactions_per_ticket: config.transactions_per_ticket,
            tickets_per_client: config.tickets_per_client,
            now: Utc::now(),
        }
    }

    fn client_name(c: usize) -> (String, String) {
        let (first_he, first_en) = FIRST_NAMES[(c * 7) % FIRST_NAMES.len()];
        let (last_he, last_en) = LAST_NAMES[(c * 3 + c / FIRST_NAMES.len()) % LAST_NAMES.len()];
        (
            format!("{first_he} {last_he}"),
            format!("{first_en} {last_en}"),
        )
    }

    fn email(c: usize) -> String {
        let (_, english) = Self::client_name(c);
        let local = english.to_lowercase().replace(' ', ".");
        format!("{local}{}@{}", c % 100, DOMAINS[c % DOMAINS.len()])
    }

    fn words(&self, rng: &mut Rng, hebrew: bool) -> Sentence {
        let vocabulary = if hebrew { &self.hebrew } else { &self.english };
        let mut text = String::new();
        for i in 0..rng.usize(4..=12) {
            if i > 0 {
                text.push_str(if rng.f64() < 0.08 { ", " } else { " " });
            }
            let word = vocabulary.draw(rng);
            let mut chars = word.chars();
            match chars.next() {
                Some(first) if i == 0 && !hebrew => {
                    text.extend(first.to_uppercase());
                    text.push_str(chars.as_str());
                }
                _ => text.push_str(word),
            }
        }
        if rng.f64() < 0.05 {
            text.push_str(&format!(" A-{}", rng.u32(10_000..100_000)));
        }
        if rng.f64() < 0.03 {
            text.push_str(&format!(" ₪{}.90", rng.u32(19..2_000)));
        }
        text.push(match rng.usize(..20) {
            0..=14 => '.',
            15..=18 => '?',
            _ => '!',
        });
        if rng.f64() < 0.03 {
            text.push(' ');
            text.push_str(EMOJI[rng.usize(..EMOJI.len())]);
        }
        Sentence { text, hebrew }
    }

    fn phrase(
        rng: &mut Rng,
        hebrew: bool,
        english: &[&str],
        hebrew_phrases: &[&str],
        what: &str,
    ) -> Sentence {
        let text = if hebrew {
            let lead = hebrew_phrases[rng.usize(..hebrew_phrases.len())];
            let space = if lead.ends_with('-') { "" } else { " " };
            format!("{lead}{space}{what}")
        } else {
            format!("{} {what}.", english[rng.usize(..english.len())])
        };
        Sentence { text, hebrew }
    }

    fn ticket(&self, t: usize) -> Generated {
        let mut rng = Rng::with_seed(TICKET_SEED.wrapping_add(t as u64));
        let c = t / self.tickets_per_client;
        let (name_he, name_en) = Self::client_name(c);
        let client_name = if c.is_multiple_of(3) {
            name_en
        } else {
            name_he
        };
        let channel = match rng.usize(..10) {
            0..=5 => "WhatsApp",
            6 | 7 => "Mail",
            _ => "Web",
        };
        let hebrew_share = match rng.usize(..20) {
            0..=11 => 0.85,
            12..=16 => 0.5,
            _ => 0.15,
        };
        let messages = self.transactions_per_ticket;
        let closed = self.now - chrono::Duration::minutes(rng.i64(60..730 * 24 * 60));
        let opened = closed - chrono::Duration::minutes(messages as i64 * 7 + rng.i64(30..600));
        let archived = at(closed + chrono::Duration::minutes(1));
        let mut second_number_written = false;
        let mut transactions = Vec::with_capacity(messages);
        for j in 0..messages {
            let from_client = j % 2 == 0;
            let mut sentences: Vec<Sentence> = (0..rng.usize(1..=if from_client { 3 } else { 4 }))
                .map(|_| {
                    let hebrew = rng.f64() < hebrew_share;
                    self.words(&mut rng, hebrew)
                })
                .collect();
            let hebrew = rng.f64() < hebrew_share;
            if from_client && rng.f64() < 0.08 {
                let second = rng.bool();
                let number = if second {
                    second_number(c)
                } else {
                    identifier(c)
                };
                second_number_written |= second;
                let writing = written(&number, rng.usize(..WRITINGS));
                sentences.push(Self::phrase(&mut rng, hebrew, PHONE_EN, PHONE_HE, &writing));
            }
            if from_client && rng.f64() < 0.03 {
                sentences.push(Self::phrase(
                    &mut rng,
                    hebrew,
                    &["Please write to"],
                    &["אפשר לשלוח למייל"],
                    &Self::email(c),
                ));
            }
            if !from_client && rng.f64() < 0.03 {
                let landline = format!("03-{:07}", rng.u32(..10_000_000));
                sentences.push(Self::phrase(
                    &mut rng,
                    hebrew,
                    &["Our branch number is"],
                    &["מספר הסניף"],
                    &landline,
                ));
            }
            let joined = sentences
                .iter()
                .map(|s| s.text.as_str())
                .collect::<Vec<_>>()
                .join(if rng.f64() < 0.3 { "\n" } else { " " });
            let paragraphs: String = sentences
                .iter()
                .map(|s| {
                    let dir = if s.hebrew { " dir=\"rtl\"" } else { "" };
                    format!("<p{dir}>{}</p>", escape_html(&s.text))
                })
                .collect();
            let (text, html) = if from_client && channel == "Mail" {
                // An e-mail client sends HTML only, with a style sheet and a signature.
                let html = format!(
                    "<html><head><meta charset=\"utf-8\"><style>p{{margin:0}} .sig{{color:#888}}</style></head>\
                     <body><div dir=\"{}\">{paragraphs}<p>&nbsp;</p><p class=\"sig\">{}<br>{}</p></div></body></html>",
                    if hebrew { "rtl" } else { "ltr" },
                    escape_html(&client_name),
                    Self::email(c)
                );
                (String::new(), html)
            } else if from_client {
                (joined, String::new())
            } else {
                (joined, paragraphs)
            };
            let note = !from_client && rng.f64() < 0.06;
            transactions.push(TransactionDoc {
                id: transaction_id(t, j),
                guid: Some(format!(
                    "00000000-0000-4000-8000-{:012}",
                    transaction_id(t, j)
                )),
                date_time: at(opened + chrono::Duration::minutes(j as i64 * 7)),
                kind: if note { "Note" } else { "Message" }.into(),
                text,
                html,
                from_protocol_type: Some(if from_client { channel } else { "Web" }.into()),
                sender_name: Some(if from_client {
                    client_name.clone()
                } else {
                    AGENTS[rng.usize(..AGENTS.len())].to_owned()
                }),
                sender_type: Some(if from_client { "Client" } else { "User" }.into()),
                attachments: Vec::new(),
            });
        }
        let ticket = TicketDoc {
            ticket_id: ticket_id(t),
            client_identifier: identifier(c),
            client_name: Some(client_name),
            ticket_opening_date: at(opened),
            protocol_type: channel.into(),
            transaction_count: messages as u64,
            closed_at: Some(at(closed)),
            tags: vec![
                "archived-by-ctm".into(),
                TOPICS[rng.usize(..TOPICS.len())].into(),
            ],
            archived_at: Some(archived),
            scrambled_at: Some(archived),
            legal_hold: None,
            created_at: archived,
            updated_at: archived,
        };
        Generated {
            ticket,
            transactions,
            second_number_written,
        }
    }
}

/// BSON bytes, client side.
#[derive(Default)]
struct Bytes {
    tickets: u64,
    transactions: u64,
    search: u64,
    terms: u64,
    texts: u64,
    /// The texts themselves (UTF-8), without BSON's framing.
    text: u64,
}

/// What seeding wrote, as the client knows it.
struct Seeded {
    /// The tickets (indices, ascending) whose search document holds each term.
    postings: HashMap<String, Vec<u32>>,
    /// Each ticket's `at` (milliseconds).
    at_millis: Vec<i64>,
    /// Each ticket's channel.
    channels: Vec<&'static str>,
    /// By client: the tickets whose text writes its second number.
    second_number_written: BTreeMap<usize, Vec<u32>>,
    bytes: Bytes,
    /// Terms over all search documents.
    terms: u64,
    generate: Duration,
    /// Time in `insert_many`: tickets, transactions, ticket_search.
    inserts: [Duration; 3],
    total: Duration,
}

/// The bytes `key` adds to `document` (type byte, name, value).
fn field_bytes(document: &Document, key: &str) -> Result<u64, String> {
    let Some(value) = document.get(key) else {
        return Ok(0);
    };
    Ok(bson_len(&doc! {key: value.clone()})? - 5)
}

fn bson_len(document: &Document) -> Result<u64, String> {
    let mut bytes = Vec::new();
    document.to_writer(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes.len() as u64)
}

async fn seed(database: &mongodb::Database, config: &Config) -> Result<Seeded, String> {
    let started = Instant::now();
    let world = World::new(config);
    let mut seeded = Seeded {
        postings: HashMap::new(),
        at_millis: Vec::with_capacity(config.tickets),
        channels: Vec::with_capacity(config.tickets),
        second_number_written: BTreeMap::new(),
        bytes: Bytes::default(),
        terms: 0,
        generate: Duration::ZERO,
        inserts: [Duration::ZERO; 3],
        total: Duration::ZERO,
    };
    for from in (0..config.tickets).step_by(CHUNK) {
        let generating = Instant::now();
        let mut tickets = Vec::with_capacity(CHUNK);
        let mut transactions = Vec::with_capacity(CHUNK * config.transactions_per_ticket);
        let mut searches = Vec::with_capacity(CHUNK);
        for t in from..(from + CHUNK).min(config.tickets) {
            let Generated {
                ticket,
                transactions: own,
                second_number_written,
            } = world.ticket(t);
            let search = build(&ticket, ticket.client_name.as_deref(), &own);
            let index = t as u32;
            for term in &search.terms {
                match seeded.postings.get_mut(term) {
                    Some(tickets) => tickets.push(index),
                    None => {
                        seeded.postings.insert(term.clone(), vec![index]);
                    }
                }
            }
            seeded.terms += search.terms.len() as u64;
            seeded.at_millis.push(search.at.timestamp_millis());
            seeded.channels.push(match ticket.protocol_type.as_str() {
                "Mail" => "Mail",
                "Web" => "Web",
                _ => "WhatsApp",
            });
            if second_number_written {
                seeded
                    .second_number_written
                    .entry(t / config.tickets_per_client)
                    .or_default()
                    .push(index);
            }
            // As `Store::write_search_doc` stores it.
            let mut search_doc = bson::to_document(&search).map_err(|e| e.to_string())?;
            search_doc.insert("ticketUpdatedAt", ticket.updated_at);
            seeded.bytes.search += bson_len(&search_doc)?;
            seeded.bytes.terms += field_bytes(&search_doc, "terms")?;
            seeded.bytes.texts += field_bytes(&search_doc, "texts")?;
            seeded.bytes.text += search
                .texts
                .iter()
                .map(|t| t.text.len() as u64)
                .sum::<u64>();
            let ticket_doc = bson::to_document(&ticket).map_err(|e| e.to_string())?;
            seeded.bytes.tickets += bson_len(&ticket_doc)?;
            for transaction in own {
                let record = TransactionRecord {
                    ticket_id: ticket.ticket_id,
                    transaction,
                };
                let record = bson::to_document(&record).map_err(|e| e.to_string())?;
                seeded.bytes.transactions += bson_len(&record)?;
                transactions.push(record);
            }
            tickets.push(ticket_doc);
            searches.push(search_doc);
        }
        seeded.generate += generating.elapsed();
        for (n, (collection, documents)) in [
            (shared::db::documents::TICKETS, tickets),
            (shared::db::documents::TRANSACTIONS, transactions),
            (TICKET_SEARCH, searches),
        ]
        .into_iter()
        .enumerate()
        {
            let inserting = Instant::now();
            insert(database, collection, documents.into_iter()).await?;
            seeded.inserts[n] += inserting.elapsed();
        }
        let done = (from + CHUNK).min(config.tickets);
        if done % 2_000 < CHUNK || done == config.tickets {
            eprintln!(
                "search bench:   {done} of {} tickets seeded ({:.0} s)",
                config.tickets,
                started.elapsed().as_secs_f64()
            );
        }
    }
    seeded.total = started.elapsed();
    Ok(seeded)
}

/// A query as a reader sends it, and the tickets the seeded terms say it finds.
struct Case {
    kind: &'static str,
    /// What the report says of the query: its words, never a number or an address.
    about: String,
    q: String,
    channel: Option<&'static str>,
    /// The matching tickets (indices), newest first: `at`, then ticket id, descending.
    expected: Vec<u32>,
}

impl Seeded {
    fn share(&self, term: &str) -> f64 {
        self.postings.get(term).map_or(0, Vec::len) as f64 / self.at_millis.len() as f64
    }

    /// The tickets a search of `query` (exact terms only) and `channel` finds, newest first.
    fn matching(&self, query: &Query, channel: Option<&str>) -> Vec<u32> {
        let mut found: Vec<u32> = match query.exact.first() {
            None => (0..self.at_millis.len() as u32).collect(),
            Some(first) => self.postings.get(first).cloned().unwrap_or_default(),
        };
        for term in query.exact.iter().skip(1) {
            let other = self.postings.get(term).map_or(&[][..], Vec::as_slice);
            found.retain(|t| other.binary_search(t).is_ok());
        }
        if let Some(channel) = channel {
            found.retain(|&t| self.channels[t as usize] == channel);
        }
        let key = |t: u32| (self.at_millis[t as usize], ticket_id(t as usize));
        found.sort_by_key(|&t| std::cmp::Reverse(key(t)));
        found
    }
}

/// The common word (of either language) whose share of tickets is nearest `share`: its
/// language, rank (1-based) and word; the lower rank of two as near.
fn nearest(
    seeded: &Seeded,
    languages: &[(&'static str, &'static [&'static str])],
    share: f64,
) -> Option<(&'static str, usize, &'static str)> {
    languages
        .iter()
        .flat_map(|&(language, words)| {
            words
                .iter()
                .enumerate()
                .map(move |(i, &word)| (language, i + 1, word))
        })
        .min_by(|a, b| {
            let off = |word: &str| (seeded.share(&term(word)) - share).abs();
            off(a.2).total_cmp(&off(b.2))
        })
}

/// A vocabulary word as the index holds it.
fn term(word: &str) -> String {
    tokens(word)
        .into_iter()
        .next()
        .map_or_else(String::new, |token| token.term)
}

fn cases(seeded: &Seeded, config: &Config) -> Result<Vec<Case>, String> {
    let parse = |q: &str| Query::parse(q).map_err(|e| format!("query {q:?}: {e}"));
    let describe = |(language, rank, word): (&str, usize, &str)| {
        let common = if language == "Hebrew" {
            HEBREW.len()
        } else {
            ENGLISH.len()
        };
        format!(
            "\"{word}\" ({language}, rank {rank} of {common} common words, in {:.1} % of tickets)",
            seeded.share(&term(word)) * 100.0
        )
    };
    let mut cases = Vec::new();
    let one = nearest(
        seeded,
        &[("English", ENGLISH), ("Hebrew", HEBREW)],
        ONE_WORD_SHARE,
    )
    .ok_or("no vocabulary")?;
    let hebrew = nearest(seeded, &[("Hebrew", HEBREW)], TWO_WORD_SHARE).ok_or("no vocabulary")?;
    let english =
        nearest(seeded, &[("English", ENGLISH)], TWO_WORD_SHARE).ok_or("no vocabulary")?;
    for (kind, q, about) in [
        ("one word", one.2.to_owned(), describe(one)),
        (
            "two words",
            format!("{} {}", hebrew.2, english.2),
            format!("{} and {}", describe(hebrew), describe(english)),
        ),
    ] {
        let expected = seeded.matching(&parse(&q)?, None);
        cases.push(Case {
            kind,
            about,
            q,
            channel: None,
            expected,
        });
    }
    // The phone: the second number of the client nearest the middle whose text writes it.
    let middle = config.clients() / 2;
    let written = seeded
        .second_number_written
        .range(middle..)
        .next()
        .or_else(|| seeded.second_number_written.iter().next());
    if let Some((&client, _)) = written {
        let q = queried(&second_number(client));
        let expected = seeded.matching(&parse(&q)?, None);
        cases.push(Case {
            kind: "phone",
            about: "a client's second number as +972-5X-XXX-XXXX; the text writes it as \
                    05X-XXX-XXXX, 05XXXXXXXX, +972 5X XXX XXXX, (05X) XXX XXXX, \
                    00972 5X XXX XXXX or 05X.XXX.XXXX"
                .into(),
            q,
            channel: None,
            expected,
        });
    }
    cases.push(Case {
        kind: "channel only",
        about: format!("no q, channel={CHANNEL}"),
        q: String::new(),
        channel: Some(CHANNEL),
        expected: seeded.matching(&Query::default(), Some(CHANNEL)),
    });
    Ok(cases)
}

/// What one search answered.
#[derive(PartialEq)]
struct Outcome {
    ticket_ids: Vec<i64>,
    /// Results that quote a matching transaction.
    with_snippet: usize,
    body_bytes: usize,
}

fn filter(case: &Case) -> Result<SearchFilter, String> {
    Ok(SearchFilter {
        query: Query::parse(&case.q).map_err(|e| e.to_string())?,
        channel: case.channel.map(str::to_owned),
        ..SearchFilter::default()
    })
}

/// `GET /tickets` as its handler runs it, without the HTTP around it.
async fn search_once(store: &Store, case: &Case) -> Result<Outcome, String> {
    let page =
        PageRequest::<SearchKey>::parse(Some(PAGE_LIMIT), None).map_err(|e| e.to_string())?;
    let filter = filter(case)?;
    let found = store
        .search_tickets(&filter, &page)
        .await
        .map_err(|e| format!("{} search: {}", case.kind, error_text(&e)))?;
    let view = PageView::from_page(found, |doc| SearchResultView::of(doc, &filter.query));
    let body = serde_json::to_vec(&view).map_err(|e| e.to_string())?;
    Ok(Outcome {
        ticket_ids: view.items.iter().map(|item| item.ticket_id).collect(),
        with_snippet: view
            .items
            .iter()
            .filter(|item| !item.matches.is_empty())
            .count(),
        body_bytes: body.len(),
    })
}

struct Timed {
    samples_ms: Vec<f64>,
    first: Outcome,
    /// `count_documents` over the search's filter, and how long it took.
    matched: u64,
    count_ms: f64,
}

struct Measured {
    timed: Vec<Timed>,
    wall: Duration,
    ferretdb_cpu: Option<f64>,
    own_cpu: Option<f64>,
    problems: Vec<String>,
}

async fn measure(
    store: &Store,
    database: &mongodb::Database,
    cases: &[Case],
    config: &Config,
) -> Result<Measured, String> {
    let mut problems = Vec::new();
    let mut firsts = Vec::new();
    for case in cases {
        firsts.push(search_once(store, case).await?);
    }
    let pids = [config.ferretdb_pid, Some(std::process::id())];
    let cpu_before = pids.map(|p| p.and_then(cpu_seconds));
    let started = Instant::now();
    let mut samples = vec![Vec::with_capacity(config.repeats); cases.len()];
    for round in 1..=config.repeats {
        for (i, case) in cases.iter().enumerate() {
            let asked = Instant::now();
            let outcome = search_once(store, case).await?;
            samples[i].push(asked.elapsed().as_secs_f64() * 1e3);
            if outcome != firsts[i] && problems.len() < 10 {
                problems.push(format!(
                    "the {} search answered differently in round {round}",
                    case.kind
                ));
            }
        }
        if round % 5 == 0 || round == config.repeats {
            eprintln!(
                "search bench:   round {round} of {} ({:.0} s)",
                config.repeats,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let wall = started.elapsed();
    let cpu_after = pids.map(|p| p.and_then(cpu_seconds));
    let spent = |i: usize| Some(cpu_after[i]? - cpu_before[i]?);
    let collection = database.collection::<Document>(TICKET_SEARCH);
    let mut timed = Vec::new();
    for ((case, first), samples_ms) in cases.iter().zip(firsts).zip(samples) {
        let counting = Instant::now();
        let matched = collection
            .count_documents(shared::db::search_filter(&filter(case)?, None))
            .await
            .map_err(|e| format!("count of the {} search: {}", case.kind, error_text(&e)))?;
        timed.push(Timed {
            samples_ms,
            first,
            matched,
            count_ms: counting.elapsed().as_secs_f64() * 1e3,
        });
    }
    Ok(Measured {
        timed,
        wall,
        ferretdb_cpu: spent(0),
        own_cpu: spent(1),
        problems,
    })
}

/// What the answers say against what the seeded terms say.
fn check(cases: &[Case], measured: &Measured, seeded: &Seeded, config: &Config) -> Vec<String> {
    let limit: usize = PAGE_LIMIT.parse().unwrap_or(20);
    let mut problems = measured.problems.clone();
    for (case, timed) in cases.iter().zip(&measured.timed) {
        if timed.matched != case.expected.len() as u64 {
            problems.push(format!(
                "{}: the server counts {} matches, the seeded terms {}",
                case.kind,
                timed.matched,
                case.expected.len()
            ));
        }
        let page: Vec<i64> = case
            .expected
            .iter()
            .take(limit)
            .map(|&t| ticket_id(t as usize))
            .collect();
        if timed.first.ticket_ids != page {
            problems.push(format!(
                "{}: the first page is not the newest {} matches",
                case.kind,
                page.len()
            ));
        }
        if !case.q.is_empty() && timed.first.with_snippet != timed.first.ticket_ids.len() {
            problems.push(format!(
                "{}: {} of {} results quote no transaction",
                case.kind,
                timed.first.ticket_ids.len() - timed.first.with_snippet,
                timed.first.ticket_ids.len()
            ));
        }
        if case.kind == "phone" {
            // Every writing of the number is one term: the tickets that write it are the ones found.
            let written = seeded
                .second_number_written
                .iter()
                .find(|(client, _)| case.q == queried(&second_number(**client)))
                .map(|(_, tickets)| tickets.clone())
                .unwrap_or_default();
            let mut found = case.expected.clone();
            found.sort_unstable();
            if found != written {
                problems.push(format!(
                    "phone: {} tickets write the number, the terms find it in {}",
                    written.len(),
                    found.len()
                ));
            }
        }
    }
    if !cases.iter().any(|c| c.kind == "phone") {
        problems.push(format!(
            "no client's second number is written in {} tickets",
            config.tickets
        ));
    }
    problems
}

/// A number of a `collStats` answer (FerretDB answers with Int32, Int64 or Double).
fn number(stats: &Document, key: &str) -> Option<f64> {
    match stats.get(key)? {
        Bson::Int32(n) => Some(f64::from(*n)),
        Bson::Int64(n) => Some(*n as f64),
        Bson::Double(n) => Some(*n),
        _ => None,
    }
}

fn mb(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1_048_576.0)
}

fn kb(bytes: f64) -> String {
    format!("{:.2} kB", bytes / 1024.0)
}

fn ms(value: Option<f64>) -> String {
    match value {
        None => "—".into(),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

/// `collStats` of each collection, as the server answered it.
async fn storage(database: &mongodb::Database) -> Result<Vec<(&'static str, Document)>, String> {
    let mut stats = Vec::new();
    for name in [
        TICKET_SEARCH,
        shared::db::documents::TICKETS,
        shared::db::documents::TRANSACTIONS,
    ] {
        let answer = database
            .run_command(doc! {"collStats": name})
            .await
            .map_err(|e| format!("collStats {name}: {}", error_text(&e)))?;
        stats.push((name, answer));
    }
    Ok(stats)
}

/// The bytes of the database's SQLite files (the file, its WAL and shared memory).
fn sqlite_bytes(data_dir: &std::path::Path) -> Option<u64> {
    let entries = std::fs::read_dir(data_dir).ok()?;
    Some(
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(DATABASE))
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum(),
    )
}

async fn run() -> Result<(), String> {
    let config = Config::from_env()?;
    let transactions = config.tickets * config.transactions_per_ticket;
    eprintln!(
        "search bench: {} tickets, {transactions} transactions, {} clients, {} timed runs per query",
        config.tickets,
        config.clients(),
        config.repeats
    );
    let database = mongo_client(&config.ferretdb_uri, "ctm-bench-search")
        .await?
        .database(DATABASE);
    database
        .drop()
        .await
        .map_err(|e| format!("drop {DATABASE}: {}", error_text(&e)))?;
    let store = Store::new(database.clone());
    store
        .ensure_indexes()
        .await
        .map_err(|e| format!("indexes: {}", error_text(&e)))?;

    let seeded = seed(&database, &config).await?;
    eprintln!(
        "search bench: seeded in {:.1} s",
        seeded.total.as_secs_f64()
    );
    let mut problems = Vec::new();
    for (collection, expected) in [
        (shared::db::documents::TICKETS, config.tickets),
        (shared::db::documents::TRANSACTIONS, transactions),
        (TICKET_SEARCH, config.tickets),
    ] {
        let found = database
            .collection::<Document>(collection)
            .count_documents(doc! {})
            .await
            .map_err(|e| format!("count {collection}: {}", error_text(&e)))?;
        if found != expected as u64 {
            problems.push(format!(
                "{collection} holds {found} documents, not {expected}"
            ));
        }
    }

    let cases = cases(&seeded, &config)?;
    eprintln!(
        "search bench: {} queries, {} timed runs each",
        cases.len(),
        config.repeats
    );
    let measured = measure(&store, &database, &cases, &config).await?;
    problems.extend(check(&cases, &measured, &seeded, &config));
    let stats = storage(&database).await?;
    let sqlite = config.data_dir.as_deref().and_then(sqlite_bytes);
    let ferretdb_peak_kb = config.ferretdb_pid.and_then(|pid| peak_kb(pid).ok());

    // The report.
    let n = config.tickets as f64;
    let per_channel = |channel: &str| seeded.channels.iter().filter(|&&c| c == channel).count();
    let date = Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let mut out = String::new();
    out += &format!("date                 {date}\n");
    out += &format!("machine              {}\n", machine());
    out += &format!(
        "sizes                {} tickets (WhatsApp {}, Mail {}, Web {}), {} transactions, {} clients ({} tickets each), {} terms\n",
        thousands(config.tickets),
        thousands(per_channel("WhatsApp")),
        thousands(per_channel("Mail")),
        thousands(per_channel("Web")),
        thousands(transactions),
        thousands(config.clients()),
        config.tickets_per_client,
        thousands(seeded.postings.len())
    );
    out += &format!(
        "seed                 {:.1} s: generated and built {:.1} s, insert_many into tickets {:.1} s, transactions {:.1} s, ticket_search {:.1} s\n",
        seeded.total.as_secs_f64(),
        seeded.generate.as_secs_f64(),
        seeded.inserts[0].as_secs_f64(),
        seeded.inserts[1].as_secs_f64(),
        seeded.inserts[2].as_secs_f64()
    );
    out += &format!(
        "queries              {} timed runs each after one warm-up, round-robin: Query::parse → Store::search_tickets (first page, limit {PAGE_LIMIT}) → SearchResultView::of → JSON\n",
        config.repeats
    );
    for (case, timed) in cases.iter().zip(&measured.timed) {
        let samples = &timed.samples_ms;
        let min = samples.iter().copied().reduce(f64::min);
        let max = samples.iter().copied().reduce(f64::max);
        out += &format!(
            "  {:<18} {}\n  {:<18} matched {} ({:.2} % of tickets); page of {} ({} quote a match, {} JSON); p50 {} ms, p99 {} ms, min {} ms, max {} ms; count_documents {} ms\n",
            case.kind,
            case.about,
            "",
            thousands(timed.matched as usize),
            timed.matched as f64 * 100.0 / n,
            timed.first.ticket_ids.len(),
            timed.first.with_snippet,
            kb(timed.first.body_bytes as f64),
            ms(percentile(samples, 50.0)),
            ms(percentile(samples, 99.0)),
            ms(min),
            ms(max),
            ms(Some(timed.count_ms))
        );
    }
    out += &format!(
        "CPU during the runs  FerretDB {}, this process {} (of {:.1} s wall)\n",
        seconds(measured.ferretdb_cpu),
        seconds(measured.own_cpu),
        measured.wall.as_secs_f64()
    );
    if let Some(peak) = ferretdb_peak_kb {
        out += &format!(
            "FerretDB peak RSS    {} (VmHWM since it started)\n",
            mb(peak as f64 * 1024.0)
        );
    }
    for (i, (name, answer)) in stats.iter().enumerate() {
        let size = number(answer, "size").unwrap_or(0.0);
        let count = number(answer, "count").unwrap_or(0.0);
        let indexes = answer
            .get_document("indexSizes")
            .map(|sizes| {
                sizes
                    .iter()
                    .map(|(index, _)| {
                        format!("{index} {}", mb(number(sizes, index).unwrap_or(0.0)))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        out += &format!(
            "{}{name}: count {}, size {} ({} per ticket), storageSize {}, totalIndexSize {} ({indexes})\n",
            if i == 0 {
                "collStats            "
            } else {
                "                     "
            },
            thousands(count as usize),
            mb(size),
            kb(size / n),
            mb(number(answer, "storageSize").unwrap_or(0.0)),
            mb(number(answer, "totalIndexSize").unwrap_or(0.0)),
        );
    }
    if let Some(bytes) = sqlite {
        out += &format!(
            "SQLite files         {} ({DATABASE}.sqlite and its WAL)\n",
            mb(bytes as f64)
        );
    }
    let bytes = &seeded.bytes;
    let rest = bytes.search - bytes.terms - bytes.texts;
    out += &format!(
        "BSON (client side)   ticket_search {} per ticket: terms {} ({:.0} terms), texts {}, the rest {}; in all {} (terms {}, texts {})\n",
        kb(bytes.search as f64 / n),
        kb(bytes.terms as f64 / n),
        seeded.terms as f64 / n,
        kb(bytes.texts as f64 / n),
        kb(rest as f64 / n),
        mb(bytes.search as f64),
        mb(bytes.terms as f64),
        mb(bytes.texts as f64),
    );
    out += &format!(
        "                     tickets {} per ticket, transactions {} per ticket; in all {} and {}; a transaction's text {:.0} bytes of UTF-8 on average\n",
        kb(bytes.tickets as f64 / n),
        kb(bytes.transactions as f64 / n),
        mb(bytes.tickets as f64),
        mb(bytes.transactions as f64),
        bytes.text as f64 / transactions as f64,
    );
    out += &format!("load average         {}\n", load_average());
    out += &format!(
        "check                {}\n",
        if problems.is_empty() {
            "PASS: every collection seeded whole; every count and first page as the seeded terms say; \
             every result quotes a match; every writing of the phone is one term"
                .to_owned()
        } else {
            format!("FAIL: {}", problems.join("; "))
        }
    );

    let cell = |kind: &str| {
        cases
            .iter()
            .zip(&measured.timed)
            .find(|(case, _)| case.kind == kind)
            .map_or("—".into(), |(_, timed)| {
                format!(
                    "{} / {} ({} matched)",
                    ms(percentile(&timed.samples_ms, 50.0)),
                    ms(percentile(&timed.samples_ms, 99.0)),
                    thousands(timed.matched as usize)
                )
            })
    };
    let search_size = stats
        .first()
        .and_then(|(_, answer)| number(answer, "size"))
        .unwrap_or(0.0);
    let search_indexes = stats
        .first()
        .and_then(|(_, answer)| number(answer, "totalIndexSize"))
        .unwrap_or(0.0);
    out += "\n| search, GET /tickets first page (FerretDB 1.24 SQLite) | seeded | one word p50 / p99 ms | two words p50 / p99 ms | phone p50 / p99 ms | channel only p50 / p99 ms | ticket_search per ticket / in all (collStats) | its indexes | terms / texts per ticket (BSON) |\n";
    out += "|---|---|---|---|---|---|---|---|---|\n";
    out += &format!(
        "| {} runs of each query | {} tickets, {} transactions ({:.0} s) | {} | {} | {} | {} | {} / {} | {} | {} ({:.0} terms) / {} |\n",
        config.repeats,
        thousands(config.tickets),
        thousands(transactions),
        seeded.total.as_secs_f64(),
        cell("one word"),
        cell("two words"),
        cell("phone"),
        cell("channel only"),
        kb(search_size / n),
        mb(search_size),
        mb(search_indexes),
        kb(bytes.terms as f64 / n),
        seeded.terms as f64 / n,
        kb(bytes.texts as f64 / n),
    );
    println!("{out}");
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("check failed: {}", problems.join("; ")))
    }
}
