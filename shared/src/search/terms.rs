//! What a text is indexed by, and what a query is read as: its words (folded), the phone
//! numbers in it (one canonical form however they are written) and its e-mail addresses.
//! Index and query go through the same [`tokens`], so a word typed either way is found.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::phone;

/// Shorter words are not indexed (and skipped in a query): one letter says nothing.
pub const MIN_WORD_CHARS: usize = 2;
/// Longer runs are not words (encoded data, long URLs) and are not indexed.
pub const MAX_TERM_CHARS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Word,
    Phone,
    Email,
}

/// A term found in a text, with the byte range of the text it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub term: String,
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// Every term of `text`, in order of where it starts. A phone number or an e-mail address is
/// also read as the words it is made of, so each can be found either way.
pub fn tokens(text: &str) -> Vec<Token> {
    let mut found = words(text);
    found.extend(phone::numbers(text));
    found.extend(emails(text));
    found.sort_by_key(|token| (token.start, token.end));
    found
}

/// A word as it is compared: NFKD with the combining marks dropped (Latin diacritics, Hebrew
/// niqqud), lowercase, Hebrew final letters as their usual forms, apostrophes and gershayim
/// dropped (`צה"ל` and `צהל`, `don't` and `dont` are one word).
pub fn fold(word: &str) -> String {
    word.nfkd()
        .filter(|c| !is_combining_mark(*c) && !is_joiner(*c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ך' => 'כ',
            'ם' => 'מ',
            'ן' => 'נ',
            'ף' => 'פ',
            'ץ' => 'צ',
            other => other,
        })
        .collect()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Marks that belong inside a word when a letter is on both sides of them.
fn is_joiner(c: char) -> bool {
    matches!(c, '\'' | '’' | '\u{05F3}' | '\u{05F4}')
}

fn is_hebrew_letter(c: char) -> bool {
    ('\u{05D0}'..='\u{05EA}').contains(&c)
}

fn words(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_word_char(chars[i].1) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() {
            let c = chars[i].1;
            let joins = i > start
                && i + 1 < chars.len()
                && is_word_char(chars[i + 1].1)
                && (is_joiner(c)
                    || (c == '"'
                        && is_hebrew_letter(chars[i - 1].1)
                        && is_hebrew_letter(chars[i + 1].1)));
            if is_word_char(c) || joins {
                i += 1;
            } else {
                break;
            }
        }
        let (from, to) = (chars[start].0, chars.get(i).map_or(text.len(), |c| c.0));
        let term: String = fold(&text[from..to])
            .chars()
            .filter(|&c| c != '"')
            .collect();
        let length = term.chars().count();
        if (MIN_WORD_CHARS..=MAX_TERM_CHARS).contains(&length) {
            found.push(Token {
                term,
                kind: Kind::Word,
                start: from,
                end: to,
            });
        }
    }
    found
}

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-')
}

/// `local@domain.tld`, whole and lowercase.
fn emails(text: &str) -> Vec<Token> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices('@') {
        let local_start = text[..at]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_local_char(c))
            .last()
            .map_or(at, |(i, _)| i);
        let local = text[local_start..at].trim_start_matches('.');
        let start = at - local.len();
        let domain_len = text[at + 1..]
            .char_indices()
            .take_while(|&(_, c)| is_domain_char(c))
            .last()
            .map_or(0, |(i, c)| i + c.len_utf8());
        let domain = text[at + 1..at + 1 + domain_len].trim_end_matches(['.', '-']);
        let labels_fine = domain.split('.').all(|label| !label.is_empty());
        if local.is_empty() || !domain.contains('.') || !labels_fine {
            continue;
        }
        let end = at + 1 + domain.len();
        let term = text[start..end].to_lowercase();
        if term.chars().count() <= 320 {
            found.push(Token {
                term,
                kind: Kind::Email,
                start,
                end,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        tokens(text).into_iter().map(|t| t.term).collect()
    }

    #[test]
    fn hebrew_is_folded_without_niqqud_and_with_final_letters_as_usual_forms() {
        assert_eq!(fold("שָׁלוֹם"), fold("שלומ"));
        assert_eq!(fold("שלום"), "שלומ");
        assert_eq!(fold("ךםןףץ"), "כמנפצ");
        assert_eq!(terms("בְּרֵאשִׁית, ברא"), ["בראשית", "ברא"]);
        assert_eq!(terms("צה\"ל וצה״ל"), ["צהל", "וצהל"]);
    }

    #[test]
    fn latin_is_lowercase_without_diacritics() {
        assert_eq!(
            terms("Crème BRÛLÉE, naïve ﬁle"),
            ["creme", "brulee", "naive", "file"]
        );
        assert_eq!(terms("don't"), ["dont"]);
    }

    #[test]
    fn one_letter_and_overlong_runs_are_not_words() {
        assert_eq!(terms("a b 7 ok"), ["ok"]);
        assert!(terms(&"x".repeat(MAX_TERM_CHARS + 1)).is_empty());
        assert_eq!(terms("$where .* { }"), ["where"]);
    }

    #[test]
    fn an_email_address_is_one_term_and_its_words() {
        let found = tokens("Write to Dana.Levi@Example.co.il.");
        let emails: Vec<_> = found.iter().filter(|t| t.kind == Kind::Email).collect();
        assert_eq!(emails.len(), 1);
        assert_eq!(emails[0].term, "dana.levi@example.co.il");
        assert_eq!(
            &"Write to Dana.Levi@Example.co.il."[emails[0].start..emails[0].end],
            "Dana.Levi@Example.co.il"
        );
        assert!(
            found
                .iter()
                .any(|t| t.term == "levi" && t.kind == Kind::Word)
        );
        assert!(
            tokens("a@b @c.d x@y.")
                .iter()
                .all(|t| t.kind != Kind::Email)
        );
    }
}
