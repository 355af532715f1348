//! Archived e-mail HTML read as plain text: what the export's transcript shows (escaped) and
//! what search indexes and quotes in its snippets.

/// Readable text of archived e-mail HTML: tags dropped (with the contents of those that are
/// not text), block ends turned into line breaks, the common entities decoded. The result is
/// plain text, to be escaped like any other.
pub fn html_to_text(html: &str) -> String {
    // ASCII lowercasing keeps byte offsets, so positions found in `lower` index `html`.
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len());
    let mut at = 0;
    while at < html.len() {
        let Some(offset) = html[at..].find('<') else {
            push_text(&mut out, &html[at..]);
            break;
        };
        let lt = at + offset;
        push_text(&mut out, &html[at..lt]);
        let rest = &lower[lt + 1..];
        if rest.starts_with("!--") {
            at = rest.find("-->").map_or(html.len(), |end| lt + 1 + end + 3);
            continue;
        }
        let closing = rest.starts_with('/');
        let after_slash = &rest[usize::from(closing)..];
        let name_len = after_slash
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after_slash.len());
        let name = &after_slash[..name_len];
        if !name.starts_with(|c: char| c.is_ascii_alphabetic())
            && !rest.starts_with(['!', '?', '/'])
        {
            // Not a tag (`a < b`, `I <3 it`): browsers show the `<` as text.
            out.push('<');
            at = lt + 1;
            continue;
        }
        // A tag left open at the end: browsers drop it and what follows, so does this.
        let Some(end) = tag_end(&html[lt..]) else {
            break;
        };
        at = lt + end;
        match name {
            "script" | "style" | "title" if !closing => {
                // Their contents are code or metadata, not text; the closing tag is read next.
                at = lower[at..]
                    .find(&format!("</{name}"))
                    .map_or(html.len(), |i| at + i);
            }
            "br" => out.push('\n'),
            "p" => end_line(&mut out, 2),
            "div" | "li" | "tr" | "table" | "ul" | "ol" | "blockquote" | "h1" | "h2" | "h3"
            | "h4" | "h5" | "h6" | "hr" => end_line(&mut out, 1),
            "td" | "th" if closing => out.push(' '),
            _ => {}
        }
    }
    tidy(&out)
}

/// The length of the tag that `tag` starts with, up to its `>`; a `>` inside a quoted
/// attribute value does not end it. None when the tag never ends.
fn tag_end(tag: &str) -> Option<usize> {
    let mut quote = None;
    let mut after_equals = false;
    for (i, b) in tag.bytes().enumerate().skip(1) {
        if let Some(q) = quote {
            if b == q {
                quote = None;
            }
            continue;
        }
        match b {
            b'>' => return Some(i + 1),
            b'"' | b'\'' if after_equals => {
                quote = Some(b);
                after_equals = false;
            }
            b'=' => after_equals = true,
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => after_equals = false,
        }
    }
    None
}

/// Ends `out` with `count` line breaks (one ends a line, two a paragraph), as a block's edge
/// does on screen; a `<br>` is the one way to add more.
fn end_line(out: &mut String, count: usize) {
    let have = out.len() - out.trim_end_matches('\n').len();
    if !out.is_empty() {
        out.extend(std::iter::repeat_n('\n', count.saturating_sub(have)));
    }
}

/// Text between tags, each run of whitespace one space, as a browser lays it out.
fn push_text(out: &mut String, raw: &str) {
    for c in decode_entities(raw).chars() {
        if !c.is_ascii_whitespace() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with([' ', '\n']) {
            out.push(' ');
        }
    }
}

pub(crate) fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest
            .bytes()
            .take(12)
            .position(|b| b == b';')
            .and_then(|semi| Some((entity(&rest[1..semi])?, semi + 1)));
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character of an entity's name (between `&` and `;`); None for one not decoded here.
fn entity(name: &str) -> Option<char> {
    let named = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        _ => {
            let number = name.strip_prefix('#')?;
            let (digits, radix) = match number.strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (number, 10),
            };
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            let code = u32::from_str_radix(digits, radix).ok();
            // As browsers do, an impossible code point reads as the replacement character.
            return Some(
                code.filter(|&c| c != 0)
                    .and_then(char::from_u32)
                    .unwrap_or('\u{fffd}'),
            );
        }
    };
    Some(named)
}

/// Lines without edge spaces, at most one blank line in a row, none at either end.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.split('\n').map(|l| l.trim_matches([' ', '\t', '\r'])) {
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}
