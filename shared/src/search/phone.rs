//! Phone numbers, however they are written: `+972-54-111-2233`, `054-1112233`,
//! `972541112233`, `(054) 111 2233` and `00972 54 111 2233` are all `972541112233`, the
//! international number in digits (what a WhatsApp client's identifier is).
//!
//! The rule: digits with single spaces, `-`, `.`, `(` or `)` between them are read as one
//! number when it is
//! - `+` or `00` then 8 to 15 digits: international, as written;
//! - `0` then 8 or 9 digits: Israeli national, the `0` replaced by `972`;
//! - `972` then 8 or 9 digits: international without its `+`.
//!
//! The longest such number from where the digits start is taken (`054-111-2233 12` is the
//! phone and then `12`). Other digit runs are words only (an order number stays `4471`).

use super::terms::{Kind, Token};

const SEPARATORS: [char; 5] = [' ', '-', '.', '(', ')'];

/// The canonical digits of a number written with these `digits` (and a leading `+` when
/// `plus`), or None when it is not a phone number by the rule above.
pub fn canonical(plus: bool, digits: &str) -> Option<String> {
    let international = |rest: &str| (8..=15).contains(&rest.len()).then(|| rest.to_owned());
    if plus {
        return international(digits);
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return international(rest);
    }
    if let Some(rest) = digits.strip_prefix('0') {
        return (8..=9).contains(&rest.len()).then(|| format!("972{rest}"));
    }
    (digits.starts_with("972") && (11..=12).contains(&digits.len())).then(|| digits.to_owned())
}

/// Every phone number in `text`, as a token over the characters it was read from.
pub fn numbers(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let starts = (c.is_ascii_digit() || c == '+' || c == '(')
            && (i == 0 || !chars[i - 1].1.is_alphanumeric());
        if !starts {
            i += 1;
            continue;
        }
        match number_at(text, &chars, i) {
            Some((token, next)) => {
                found.push(token);
                i = next;
            }
            None => i += 1,
        }
    }
    found
}

/// The longest phone number starting at `chars[start]`, and the index after it.
fn number_at(text: &str, chars: &[(usize, char)], start: usize) -> Option<(Token, usize)> {
    let plus = chars[start].1 == '+';
    let mut digits = String::new();
    let mut best = None;
    let mut i = start + usize::from(plus);
    let mut previous = chars[start].1;
    while i < chars.len() {
        let c = chars[i].1;
        if c.is_ascii_digit() {
            digits.push(c);
            let next_is_digit = chars.get(i + 1).is_some_and(|n| n.1.is_ascii_digit());
            if !next_is_digit && let Some(term) = canonical(plus, &digits) {
                best = Some((term, i + 1));
            }
        } else if !SEPARATORS.contains(&c) || (c == ' ' && previous == ' ') {
            break;
        }
        previous = c;
        i += 1;
    }
    let (term, end) = best?;
    // A number glued to letters (`A0541112233`, `0541112233kg`) is not a phone.
    if chars.get(end).is_some_and(|c| c.1.is_alphabetic()) {
        return None;
    }
    let from = chars[start].0;
    let to = chars.get(end).map_or(text.len(), |c| c.0);
    Some((
        Token {
            term,
            kind: Kind::Phone,
            start: from,
            end: to,
        },
        end,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phones(text: &str) -> Vec<String> {
        numbers(text).into_iter().map(|t| t.term).collect()
    }

    #[test]
    fn common_writings_of_one_number_are_one_term() {
        for written in [
            "+972-54-111-2233",
            "054-1112233",
            "972541112233",
            "(054) 111 2233",
            "00972 54 111 2233",
            "054.111.2233",
        ] {
            assert_eq!(phones(written), ["972541112233"], "{written}");
        }
        assert_eq!(phones("03-1234567"), ["97231234567"]);
        assert_eq!(phones("+1 (415) 555-0100"), ["14155550100"]);
    }

    #[test]
    fn the_number_ends_where_the_phone_does() {
        let text = "call 054-111-2233 12 times";
        let found = numbers(text);
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].start..found[0].end], "054-111-2233");
    }

    #[test]
    fn other_digit_runs_are_not_phones() {
        assert!(phones("order 4471, ticket 12345678").is_empty());
        assert!(phones("12345678901").is_empty());
        assert!(phones("A0541112233").is_empty());
        assert!(phones("0541112233kg").is_empty());
        assert!(phones("054  1112233").is_empty());
    }
}
