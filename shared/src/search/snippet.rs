//! The part of a transaction's text that shows why it matched: up to [`SNIPPET_CHARS`]
//! characters around the first match, on one line, with where each match is in it.

use serde::{Deserialize, Serialize};

use super::query::Query;
use super::terms::tokens;

/// About two lines of a result list.
pub const SNIPPET_CHARS: usize = 160;
/// How much of the text before the first match is kept, when there is more after it.
const CONTEXT_BEFORE_CHARS: usize = 50;
const ELLIPSIS: char = '…';

/// Where a match is in a snippet, in characters (Unicode scalar values) from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Highlight {
    pub start: usize,
    pub length: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<Highlight>,
}

/// The snippet of `text` for `query`; None when nothing in it matches.
pub fn snippet(text: &str, query: &Query) -> Option<Snippet> {
    let matched: Vec<(usize, usize)> = tokens(text)
        .into_iter()
        .filter(|token| query.matches(token))
        .map(|token| (token.start, token.end))
        .collect();
    let first = matched.iter().map(|&(start, _)| start).min()?;
    // Character index of every byte offset a token starts or ends at, and of the end.
    let offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let char_at = |byte: usize| offsets.partition_point(|&i| i < byte);
    let total = offsets.len();
    let from = char_at(first)
        .saturating_sub(CONTEXT_BEFORE_CHARS)
        .min(total.saturating_sub(SNIPPET_CHARS));
    let to = (from + SNIPPET_CHARS).min(total);
    let lead = usize::from(from > 0);
    let mut shown = String::with_capacity(SNIPPET_CHARS * 2);
    if from > 0 {
        shown.push(ELLIPSIS);
    }
    shown.extend(
        text.chars()
            .skip(from)
            .take(to - from)
            .map(|c| if c.is_whitespace() { ' ' } else { c }),
    );
    if to < total {
        shown.push(ELLIPSIS);
    }
    let mut spans: Vec<(usize, usize)> = matched
        .iter()
        .map(|&(start, end)| (char_at(start), char_at(end)))
        .filter(|&(start, end)| from <= start && end <= to)
        .collect();
    spans.sort_unstable();
    let mut highlights: Vec<Highlight> = Vec::new();
    for (start, end) in spans {
        let start = start - from + lead;
        let end = end - from + lead;
        match highlights.last_mut() {
            // A phone and the words it is written with overlap: one highlight.
            Some(last) if start <= last.start + last.length => {
                last.length = last.length.max(end - last.start);
            }
            _ => highlights.push(Highlight {
                start,
                length: end - start,
            }),
        }
    }
    Some(Snippet {
        text: shown,
        highlights,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(text: &str, q: &str) -> String {
        let query = Query::parse(q).expect("a valid query");
        let snippet = snippet(text, &query).expect("a match");
        let chars: Vec<char> = snippet.text.chars().collect();
        let mut out = String::new();
        let mut at = 0;
        for h in &snippet.highlights {
            out.extend(&chars[at..h.start]);
            out.push('[');
            out.extend(&chars[h.start..h.start + h.length]);
            out.push(']');
            at = h.start + h.length;
        }
        out.extend(&chars[at..]);
        out
    }

    #[test]
    fn a_short_text_is_shown_whole_with_its_matches_marked() {
        assert_eq!(
            marked(
                "Hi, about the REFUND\nfor order 4471: refunds take 3 days",
                "refund* 4471"
            ),
            "Hi, about the [REFUND] for order [4471]: [refunds] take 3 days"
        );
        assert_eq!(marked("שָׁלוֹם לכם", "שלום"), "[שָׁלוֹם] לכם");
        assert_eq!(
            marked("call me on 054-111-2233 please", "+972541112233"),
            "call me on [054-111-2233] please"
        );
    }

    #[test]
    fn a_long_text_is_cut_around_the_first_match() {
        let text = format!("{} needle {}", "word ".repeat(100), "tail ".repeat(100));
        let shown = marked(&text, "needle");
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert!(shown.contains("[needle]"));
        assert_eq!(shown.chars().count(), SNIPPET_CHARS + 2 + 2);
        assert!(snippet(&text, &Query::parse("absent").expect("valid")).is_none());
    }
}
