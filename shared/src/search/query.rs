//! `q` read into terms. What a reader types is text, never an operator or a pattern: `$where`
//! is the word `where`, `.*` and `{` are nothing.

use std::collections::BTreeSet;

use super::terms::{Kind, Token, tokens};
use crate::error::AppError;

/// The longest `q`: a phrase, not a document.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most terms a query may have (each one is a condition on the index).
pub const MAX_QUERY_TERMS: usize = 8;
/// A prefix (`refu*`) is at least this long: shorter ones would match half the archive.
pub const MIN_PREFIX_CHARS: usize = 3;

/// Every term must match: `exact` ones as a whole term, `prefixes` as the start of a word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub exact: Vec<String>,
    pub prefixes: Vec<String>,
    /// `q` had text but no term in it (`.*`, `{`, one letter): it matches nothing, as that
    /// text would, rather than everything, as no `q` does.
    pub unsearchable: bool,
}

impl Query {
    pub fn parse(q: &str) -> Result<Self, AppError> {
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(AppError::BadRequest(format!(
                "q must be at most {MAX_QUERY_CHARS} characters"
            )));
        }
        let found = tokens(q);
        // A phone number or an address is one term, not also the words it is written with.
        let wholes: Vec<&Token> = found.iter().filter(|t| t.kind != Kind::Word).collect();
        let mut exact = BTreeSet::new();
        let mut prefixes = BTreeSet::new();
        for token in &found {
            let inside_whole = token.kind == Kind::Word
                && wholes
                    .iter()
                    .any(|w| w.start <= token.start && token.end <= w.end);
            if inside_whole {
                continue;
            }
            let starred = token.kind == Kind::Word && q[token.end..].starts_with('*');
            if !starred {
                exact.insert(token.term.clone());
            } else if token.term.chars().count() >= MIN_PREFIX_CHARS {
                prefixes.insert(token.term.clone());
            } else {
                return Err(AppError::BadRequest(format!(
                    "a word ending in * must have at least {MIN_PREFIX_CHARS} letters before it"
                )));
            }
        }
        // A word that is also given as a prefix adds nothing the prefix does not ask.
        exact.retain(|term| !prefixes.iter().any(|p| term.starts_with(p.as_str())));
        let query = Self {
            unsearchable: exact.is_empty() && prefixes.is_empty() && !q.trim().is_empty(),
            exact: exact.into_iter().collect(),
            prefixes: prefixes.into_iter().collect(),
        };
        if query.exact.len() + query.prefixes.len() > MAX_QUERY_TERMS {
            return Err(AppError::BadRequest(format!(
                "q may have at most {MAX_QUERY_TERMS} words, numbers or addresses"
            )));
        }
        Ok(query)
    }

    /// No term at all: the filters alone select (or, when [`Self::unsearchable`], nothing).
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty()
    }

    /// Whether `token` of a text is one this query looks for.
    pub fn matches(&self, token: &Token) -> bool {
        self.exact.contains(&token.term)
            || (token.kind == Kind::Word
                && self
                    .prefixes
                    .iter()
                    .any(|prefix| token.term.starts_with(prefix.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Query {
        Query::parse(q).expect("a valid query")
    }

    #[test]
    fn words_numbers_phones_and_addresses_are_terms() {
        let query = parse("Refund order 4471 (054) 111-2233 Dana@Example.com");
        assert_eq!(
            query.exact,
            [
                "4471",
                "972541112233",
                "dana@example.com",
                "order",
                "refund"
            ]
        );
        assert!(query.prefixes.is_empty());
    }

    #[test]
    fn a_trailing_star_asks_for_a_prefix_of_three_letters_or_more() {
        let query = parse("refu* הזמנ*");
        assert_eq!(query.prefixes, ["refu", "הזמנ"]);
        assert!(query.exact.is_empty());
        assert!(matches!(Query::parse("re*"), Err(AppError::BadRequest(_))));
    }

    #[test]
    fn operator_looking_input_is_text() {
        assert_eq!(parse("$where").exact, ["where"]);
        let nothing = parse(".* { } $");
        assert!(nothing.is_empty() && nothing.unsearchable);
        assert!(
            !parse("  ").unsearchable,
            "no q is not a q that finds nothing"
        );
        assert_eq!(parse("{\"$ne\": null}").exact, ["ne", "null"]);
    }

    #[test]
    fn long_queries_are_refused() {
        assert!(Query::parse(&"a".repeat(MAX_QUERY_CHARS + 1)).is_err());
        assert!(Query::parse("one two three four five six seven eight nine").is_err());
    }
}
