//! The transcript of one ticket in a client's export: `tickets/{ticketId}.html`, opened offline
//! from the unzipped folder. It is a static page: no script, no remote resource, no archived
//! markup kept live (an archived e-mail could carry tracking pixels or script), and a
//! Content-Security-Policy that would block anything that slipped through.

use chrono::{DateTime, SecondsFormat, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::api::{AttachmentBody, TicketView, TransactionBody};
use crate::html_text::html_to_text;

/// Everything but RFC 3986's unreserved characters is encoded in a path segment, so `#`, `?`,
/// `%`, spaces and quotes in a file name stay part of the name.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Inline, like everything else: the page is read offline and its policy forbids other sources.
const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;max-width:52rem;margin:2rem auto;padding:0 1rem}\
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}\
.muted{color:#555}.tags{display:inline;padding:0}.tags li{display:inline-block;border:1px solid #aaa;border-radius:1rem;padding:0 .5rem;margin:0 .25rem .25rem 0}\
ol.transcript{list-style:none;padding:0}\
.tx{border:1px solid #ccc;border-inline-start:.4rem solid #888;border-radius:.3rem;margin:1rem 0;padding:.5rem 1rem;break-inside:avoid-page}\
.tx.client{border-inline-start-color:#2b6cb0}.tx.agent{border-inline-start-color:#2f855a}.tx.bot{border-inline-start-color:#6b46c1}\
.tx.note{background:#fff8db;border:2px dashed #b7791f}.tx.event{background:#f4f4f4;font-size:.9em}\
.meta{margin:0;color:#444;font-size:.9em}.role{font-weight:700;text-transform:uppercase;font-size:.8em;letter-spacing:.03em}\
.notice{font-weight:700;color:#8a4b00;margin:.25rem 0}.direction{margin:.25rem 0;color:#555;font-size:.9em}\
.text{white-space:pre-wrap;overflow-wrap:anywhere;margin:.5rem 0}.sha{font-family:monospace;font-size:.8em;overflow-wrap:anywhere}";

/// Nothing may load or run but the inline style, should any archived markup ever reach the page.
const POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// `file_path(transaction, attachment_index)` gives the ZIP path (from the ZIP's root, e.g.
/// `files/48213977/1001/5-scan.pdf`) of an archived attachment's file, or None when the file is
/// not in the archive.
pub fn render(
    ticket: &TicketView,
    transactions: &[TransactionBody],
    file_path: &dyn Fn(&TransactionBody, usize) -> Option<String>,
) -> String {
    let id = ticket.ticket_id;
    let name =
        non_blank(&ticket.client_name).map_or(String::new(), |n| auto("span", "name", n) + " ");
    let closed = ticket
        .closed_at
        .map_or_else(|| "not closed".to_owned(), time);
    let tags: String = ticket
        .tags
        .iter()
        .map(|tag| auto("li", "tag", tag))
        .collect();
    let tags = if tags.is_empty() {
        "none".to_owned()
    } else {
        format!("<ul class=\"tags\">{tags}</ul>")
    };
    let items: String = transactions
        .iter()
        .map(|t| transaction_item(t, file_path))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>Ticket {id}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
<h1>Ticket <span dir=\"ltr\">{id}</span></h1>\n<dl class=\"facts\">\n\
<dt>Client</dt><dd>{name}<span class=\"muted\" dir=\"ltr\">{identifier}</span></dd>\n\
<dt>Channel</dt><dd>{channel}</dd>\n<dt>Opened</dt><dd>{opened}</dd>\n\
<dt>Closed</dt><dd>{closed}</dd>\n<dt>Tags</dt><dd>{tags}</dd>\n\
<dt>Transactions</dt><dd>{count}</dd>\n</dl>\n<p class=\"muted\">Times are in UTC.</p>\n\
<ol class=\"transcript\">\n{items}</ol>\n\
<p class=\"muted\">Exported from the ticket archive.</p>\n</body>\n</html>\n",
        identifier = escape(&ticket.client_identifier),
        channel = auto("span", "channel", &ticket.protocol_type),
        opened = time(ticket.ticket_opening_date),
        count = transactions.len(),
    )
}

/// CSS class, label and direction of a transaction, decided as the web viewer decides them
/// (`roleOf` in `functions/viewer/assets/app.js`), so both show the same conversation.
fn role(transaction: &TransactionBody) -> [&'static str; 3] {
    let sender = transaction
        .sender_type
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match (transaction.kind.as_str(), sender.as_str()) {
        ("Note", _) => [
            "note",
            "Internal note",
            "Internal note — not seen by the client",
        ],
        ("Message", "client" | "customer" | "contact") => {
            ["client", "Client", "Incoming — from the client"]
        }
        ("Message", s) if s.contains("bot") => {
            ["bot", "Bot", "Outgoing — from a bot to the client"]
        }
        ("Message", _) => ["agent", "Agent", "Outgoing — from an agent to the client"],
        _ => ["event", "Event", "Recorded by the system"],
    }
}

fn transaction_item(
    transaction: &TransactionBody,
    file_path: &dyn Fn(&TransactionBody, usize) -> Option<String>,
) -> String {
    let [class, label, direction] = role(transaction);
    let sender = non_blank(&transaction.sender_name)
        .map_or(String::new(), |n| auto("strong", "sender", n) + " · ");
    let channel = non_blank(&transaction.from_protocol_type).map_or(String::new(), |c| {
        " · ".to_owned() + &auto("span", "channel", c)
    });
    let notice = if class == "note" {
        "notice"
    } else {
        "direction"
    };
    let mut body = if class == "event" {
        auto("p", "event-name", &event_name(&transaction.kind))
    } else {
        String::new()
    };
    if !transaction.text.trim().is_empty() {
        body += &auto("div", "text", &transaction.text);
    } else if !transaction.html.trim().is_empty() {
        body += &auto("div", "text", &html_to_text(&transaction.html));
        body +=
            "<p class=\"muted\">(Text of the formatted e-mail; its formatting is not kept.)</p>";
    } else if class != "event" {
        body += "<p class=\"muted\">(no text)</p>";
    }
    let files: String = transaction
        .attachments
        .iter()
        .enumerate()
        .map(|(index, attachment)| {
            attachment_item(attachment, file_path(transaction, index).as_deref())
        })
        .collect();
    if !files.is_empty() {
        body += &format!("\n<ul class=\"files\" aria-label=\"Attachments\">\n{files}</ul>");
    }
    format!(
        "<li class=\"tx {class}\" id=\"tx-{id}\">\n<p class=\"meta\">{sender}<span class=\"role\">{label}</span> · {when}{channel}</p>\n<p class=\"{notice}\">{direction}</p>\n{body}\n</li>\n",
        id = transaction.id,
        when = time(transaction.date_time),
    )
}

fn attachment_item(attachment: &AttachmentBody, zip_path: Option<&str>) -> String {
    let name = non_blank(&attachment.original_file_name)
        .or(non_blank(&attachment.file_identifier))
        .unwrap_or("attachment");
    // `href` is percent-encoded: nothing in it needs escaping.
    let mut item = match zip_path.and_then(href) {
        Some(href) => format!("<li><a href=\"{href}\" dir=\"auto\">{}</a>", escape(name)),
        None => format!(
            "<li>{} — not in the archive",
            auto("span", "file-name", name)
        ),
    };
    if attachment.is_embedded {
        item += " (embedded in the original message)";
    }
    if let Some(file) = &attachment.file {
        item += &format!(
            "<br><span class=\"muted\">{} · <span dir=\"ltr\">{}</span> · SHA-256 <span class=\"sha\" dir=\"ltr\">{}</span></span>",
            size(file.size),
            escape(&file.content_type),
            escape(&file.sha256)
        );
    }
    item + "</li>\n"
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

/// An element holding archived text: escaped, and laid out right-to-left or left-to-right by
/// its first strong character (Hebrew and English mix in these conversations).
fn auto(tag: &str, class: &str, text: &str) -> String {
    format!(
        "<{tag} class=\"{class}\" dir=\"auto\">{}</{tag}>",
        escape(text)
    )
}

/// The link from `tickets/` to `zip_path`: relative, each segment percent-encoded. Empty, `.`
/// and `..` segments are dropped so the link stays inside the export (and never starts `//`);
/// None when nothing is left.
fn href(zip_path: &str) -> Option<String> {
    let segments: Vec<String> = zip_path
        .split(['/', '\\'])
        .filter(|s| !matches!(*s, "" | "." | ".."))
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect();
    (!segments.is_empty()).then(|| format!("../{}", segments.join("/")))
}

/// `TicketClosed` → `Ticket Closed`, as the viewer shows event types.
fn event_name(kind: &str) -> String {
    let mut name = String::with_capacity(kind.len() + 8);
    let mut previous_lower = false;
    for c in kind.chars() {
        if previous_lower && c.is_ascii_uppercase() {
            name.push(' ');
        }
        previous_lower = c.is_ascii_lowercase();
        name.push(c);
    }
    name
}

fn time(at: DateTime<Utc>) -> String {
    format!(
        "<time dir=\"ltr\" datetime=\"{}\">{}</time>",
        at.to_rfc3339_opts(SecondsFormat::Secs, true),
        at.format("%Y-%m-%d %H:%M UTC")
    )
}

fn size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let value = bytes as f64;
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KB", value / KB),
        _ => format!("{:.1} MB", value / KB / KB),
    }
}

/// Text made safe to place in an element or a quoted attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::api::FileView;
    use crate::html_text::decode_entities;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, hour, minute, 0)
            .single()
            .expect("a valid date")
    }

    fn ticket() -> TicketView {
        TicketView {
            ticket_id: 48213977,
            client_identifier: "dana@example.com".into(),
            client_name: Some("דנה כהן".into()),
            ticket_opening_date: at(14, 5),
            protocol_type: "Mail".into(),
            transaction_count: 1,
            transactions: None,
            transactions_next: None,
            closed_at: Some(at(16, 30)),
            tags: vec!["חשבונית".into()],
            archived_at: None,
            scrambled_at: None,
            legal_hold: None,
            created_at: at(14, 5),
            updated_at: at(14, 5),
        }
    }

    fn message(id: i64, kind: &str, sender_type: &str, text: &str, html: &str) -> TransactionBody {
        let json = serde_json::json!({"id": id, "dateTime": "2026-03-01T14:06:00Z", "type": kind,
            "text": text, "html": html, "fromProtocolType": "Mail", "senderType": sender_type});
        serde_json::from_value(json).expect("a transaction")
    }

    fn attachment(name: Option<&str>, archived: bool) -> AttachmentBody {
        let json = serde_json::json!({"id": 5, "originalFileName": name});
        let mut attachment: AttachmentBody = serde_json::from_value(json).expect("an attachment");
        attachment.file = archived.then(|| FileView {
            path: "/tickets/48213977/transactions/1001/attachments/5".into(),
            size: 1536,
            sha256: "ab".repeat(32),
            content_type: "application/pdf".into(),
            stored_at: at(14, 6),
        });
        attachment
    }

    fn no_files(_: &TransactionBody, _: usize) -> Option<String> {
        None
    }

    /// Every tag of `page`, with its attributes (values decoded, lowercase). Archived text is
    /// escaped, so each `<` of the page opens a tag the module wrote.
    fn tags(page: &str) -> Vec<(String, Vec<(String, String)>)> {
        let mut found = Vec::new();
        for chunk in page.split('<').skip(1) {
            let inner = chunk
                .split('>')
                .next()
                .unwrap_or_default()
                .trim_end_matches('/');
            let (name, mut rest) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
            let mut attributes = Vec::new();
            while !rest.trim_start().is_empty() {
                rest = rest.trim_start();
                let end = rest
                    .find(|c: char| c == '=' || c.is_whitespace())
                    .unwrap_or(rest.len());
                let (attribute, mut value) = (rest[..end].to_ascii_lowercase(), "");
                rest = rest[end..].trim_start();
                if let Some(after) = rest.strip_prefix('=').map(str::trim_start) {
                    let quote = after.chars().next().filter(|q| matches!(q, '"' | '\''));
                    let body = &after[quote.map_or(0, char::len_utf8)..];
                    let close = match quote {
                        Some(q) => body.find(q),
                        None => body.find(char::is_whitespace),
                    };
                    let close = close.unwrap_or(body.len());
                    value = &body[..close];
                    rest = body
                        .get(close + usize::from(quote.is_some())..)
                        .unwrap_or_default();
                }
                attributes.push((attribute, decode_entities(value).to_ascii_lowercase()));
            }
            found.push((name.to_ascii_lowercase(), attributes));
        }
        found
    }

    fn assert_inert(page: &str) {
        assert!(!page.to_ascii_lowercase().contains("<script"));
        let banned = [
            "script", "iframe", "object", "embed", "form", "img", "link", "base",
        ];
        for (tag, attributes) in tags(page) {
            assert!(!banned.contains(&tag.as_str()), "<{tag}> in the transcript");
            for (name, value) in &attributes {
                assert!(!name.starts_with("on"), "handler {name}={value} on <{tag}>");
                for remote in ["http", "javascript:", "data:", "//"] {
                    assert!(!value.contains(remote), "{name}={value} on <{tag}>");
                }
                if name == "http-equiv" {
                    assert_eq!(value, "content-security-policy");
                }
            }
        }
        assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<meta charset=\"utf-8\">"));
        assert!(page.contains(&format!(
            "http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\""
        )));
    }

    #[test]
    fn a_hostile_email_is_shown_as_inert_text() {
        let hostile = "<html><head><style>body{background:url(https://evil/x)}</style></head>\
            <body><script>alert(1)</script><p>Hi <img src=x onerror=alert(1)>there</p>\
            <a href=\"javascript:alert(1)\">click me</a><iframe src=\"https://evil\"></iframe>\
            <p>&lt;script&gt;steal()&lt;/script&gt;</p><div title=\"a>b\" onclick='x'>quoted</div>\
            <img src=\"https://evil/pixel";
        let mut mail = message(1001, "Message", "Client", "", hostile);
        mail.sender_name = Some("\"><script>alert(2)</script>".into());
        mail.attachments = vec![attachment(Some("x\" onmouseover=\"alert(3).pdf"), true)];
        let page = render(&ticket(), &[mail], &|_, _| Some("files/1/2/5-x.pdf".into()));
        assert_inert(&page);
        assert!(!page.contains("alert(1)") && !page.contains("evil") && !page.contains("onclick"));
        assert!(
            page.contains(
                "Hi there\n\nclick me\n\n&lt;script&gt;steal()&lt;/script&gt;\n\nquoted<"
            )
        );
        assert!(page.contains(">&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;</strong>"));
        assert!(page.contains(">x&quot; onmouseover=&quot;alert(3).pdf</a>"));
    }

    #[test]
    fn reduced_html_keeps_line_breaks_and_decodes_entities_then_escapes_them() {
        let html = "<div>Hello&nbsp;Dana,</div>\n  <p>Line one<br>Line   two</p>\
            <p>Tom &amp; Jerry &quot;quoted&quot; &#39;single&#39; &#x5E9;&#1500;&#1493;&#1501; a &lt; b</p>\
            <table><tr><td>cell 1</td><td>cell 2</td></tr></table>&bogus; &#xD800; I <3 it";
        let text = "Hello\u{a0}Dana,\n\nLine one\nLine two\n\n\
            Tom & Jerry \"quoted\" 'single' שלום a < b\n\ncell 1 cell 2\n&bogus; \u{fffd} I <3 it";
        assert_eq!(html_to_text(html), text);
        let page = render(
            &ticket(),
            &[message(1, "Message", "Agent", " ", html)],
            &no_files,
        );
        assert!(page.contains("Tom &amp; Jerry &quot;quoted&quot; &#39;single&#39; שלום a &lt; b"));
        assert!(page.contains("Line one\nLine two") && page.contains(".text{white-space:pre-wrap"));
    }

    #[test]
    fn hebrew_text_sits_in_elements_that_pick_their_own_direction() {
        let mut reply = message(
            1002,
            "Message",
            "Agent",
            "שלום דנה, ההזמנה (מס׳ 12) מוכנה.",
            "",
        );
        reply.sender_name = Some("יוסי".into());
        let page = render(&ticket(), &[reply], &no_files);
        for hebrew in ["שלום דנה", "יוסי", "דנה כהן", "חשבונית"] {
            let at = page.find(hebrew).expect(hebrew);
            let open = page[..at].rfind('<').expect("an enclosing tag");
            assert!(
                page[open..at].contains("dir=\"auto\""),
                "{hebrew} in {}",
                &page[open..at]
            );
        }
        assert!(page.contains("<title>Ticket 48213977</title>"));
        assert!(page.contains("<span class=\"muted\" dir=\"ltr\">dana@example.com</span>"));
        assert!(page.contains("datetime=\"2026-03-01T14:05:00Z\">2026-03-01 14:05 UTC</time>"));
        assert!(page.contains(">2026-03-01 16:30 UTC</time>"));
        assert!(page.contains("Outgoing — from an agent to the client"));
    }

    #[test]
    fn a_note_is_marked_as_not_seen_by_the_client() {
        let page = render(
            &ticket(),
            &[message(3, "Note", "Agent", "Upset", "")],
            &no_files,
        );
        assert!(page.contains("<li class=\"tx note\" id=\"tx-3\">"));
        assert!(page.contains("<p class=\"notice\">Internal note — not seen by the client</p>"));
        assert!(
            page.contains(".tx.note{"),
            "notes have a style of their own"
        );
    }

    #[test]
    fn roles_are_decided_as_the_web_viewer_decides_them() {
        let role = |kind, sender| role(&message(1, kind, sender, "", ""))[1];
        assert_eq!(role("Message", "Customer"), "Client");
        assert_eq!(role("Message", "CONTACT"), "Client");
        assert_eq!(role("Message", "User"), "Agent");
        assert_eq!(role("Message", "ChatBot"), "Bot");
        assert_eq!(role("Note", "Client"), "Internal note");
        assert_eq!(role("TicketClosed", "Client"), "Event");
        let page = render(
            &ticket(),
            &[message(9, "TicketClosed", "", "", "")],
            &no_files,
        );
        assert!(page.contains("<li class=\"tx event\"") && page.contains(">Ticket Closed</p>"));
    }

    #[test]
    fn an_attachment_links_relatively_to_its_percent_encoded_file() {
        let name = "דוח #1? \"final\".pdf";
        let mut mail = message(1001, "Message", "Client", "see attached", "");
        mail.attachments = vec![
            attachment(Some(name), true),
            attachment(Some("lost.doc"), false),
        ];
        let path =
            |t: &TransactionBody, i: usize| (i == 0).then(|| format!("files/7/{}/5-{name}", t.id));
        let page = render(&ticket(), &[mail], &path);
        assert_inert(&page);
        let links: Vec<_> = tags(&page)
            .into_iter()
            .filter(|(tag, _)| tag == "a")
            .collect();
        let link = "../files/7/1001/5-%d7%93%d7%95%d7%97%20%231%3f%20%22final%22.pdf";
        let expected = vec![("href".into(), link.into()), ("dir".into(), "auto".into())];
        assert_eq!(links, [("a".to_owned(), expected)]);
        assert!(page.contains(">דוח #1? &quot;final&quot;.pdf</a>"));
        let sha = "ab".repeat(32);
        assert!(page.contains(&format!("1.5 KB · <span dir=\"ltr\">application/pdf</span> · SHA-256 <span class=\"sha\" dir=\"ltr\">{sha}</span>")));
        assert!(page.contains("dir=\"auto\">lost.doc</span> — not in the archive"));
        assert_eq!(
            href("/../..//files/./a b").as_deref(),
            Some("../files/a%20b")
        );
        assert_eq!(href("../.."), None);
    }

    #[test]
    fn empty_odd_and_huge_input_renders_the_same_each_time_without_panicking() {
        let mut bare = ticket();
        (bare.client_identifier, bare.client_name, bare.protocol_type) =
            (String::new(), Some(" ".into()), String::new());
        (bare.closed_at, bare.tags) = (None, vec![String::new()]);
        let mut blank = message(0, "", "", "", "");
        (blank.sender_type, blank.from_protocol_type) = (None, None);
        blank.attachments = vec![attachment(None, false)];
        let huge = message(1, "Message", "Client", &"א<b>&".repeat(200_000), "");
        let odd = "<<>></><!-- &#99999999999; &#x110000; &; &# <a href='x";
        let transactions = [blank, huge, message(2, "Message", "Agent", "", odd)];
        let page = render(&bare, &transactions, &no_files);
        assert_eq!(page, render(&bare, &transactions, &no_files));
        assert_inert(&page);
        assert!(page.contains("<dd>not closed</dd>"));
        assert!(page.contains("dir=\"auto\">attachment</span> — not in the archive"));
        assert!(page.contains("&lt;&lt;&gt;&gt;</div>"));
    }
}
