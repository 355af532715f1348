//! The REST API's tokens as `API_TOKENS` configures them: a comma-separated list (each token
//! named `token-1`, `token-2`, … and holding every scope), or a JSON array of named entries,
//! each giving its token or only the token's SHA-256, so the secret need not hold usable
//! tokens. Only digests are kept once parsed.
//!
//! A refusal names an entry by its position and never quotes a value that could be a token.

use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::{Scope, Scopes};

/// 32 characters: a token guessed or brute-forced through the API stays out of reach.
pub const MIN_TOKEN_CHARS: usize = 32;
const MAX_NAME_CHARS: usize = 40;

/// One accepted token: its name (in the access log), its scopes and its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken {
    name: String,
    scopes: Scopes,
    digest: [u8; 32],
}

impl ApiToken {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn scopes(&self) -> Scopes {
        self.scopes
    }
}

/// The digest stays out of debug output: with `sha256` entries it is what the secret holds.
impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiToken")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Every accepted token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokens(Vec<ApiToken>);

impl ApiTokens {
    /// Reads `API_TOKENS`: JSON when it starts with `[` (or `{`, an entry without its array),
    /// else a comma-separated list.
    /// The error is the reason, for `ConfigError::Malformed`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let tokens = if raw.starts_with(['[', '{']) {
            parse_entries(raw)?
        } else {
            parse_list(raw)?
        };
        if tokens.is_empty() {
            return Err("no token is configured".into());
        }
        Ok(Self(tokens))
    }

    /// The token `presented` is, if any. Every token is compared, in constant time, so the
    /// time taken does not tell which one matched or how much of one; what is compared are
    /// SHA-256 digests, always 32 bytes, so neither does a token's length.
    pub fn identify(&self, presented: &str) -> Option<&ApiToken> {
        let presented = digest(presented);
        let mut matched = subtle::Choice::from(0);
        let mut index = 0u32;
        for (position, token) in self.0.iter().enumerate() {
            let equal = token.digest.ct_eq(&presented);
            index.conditional_assign(&(position as u32), equal);
            matched |= equal;
        }
        bool::from(matched).then(|| &self.0[index as usize])
    }

    pub fn iter(&self) -> impl Iterator<Item = &ApiToken> {
        self.0.iter()
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn parse_list(raw: &str) -> Result<Vec<ApiToken>, String> {
    let tokens: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.iter().any(|t| t.chars().count() < MIN_TOKEN_CHARS) {
        return Err(format!(
            "every token must be at least {MIN_TOKEN_CHARS} characters"
        ));
    }
    Ok(tokens
        .iter()
        .enumerate()
        .map(|(i, token)| ApiToken {
            name: format!("token-{}", i + 1),
            scopes: Scopes::all(),
            digest: digest(token),
        })
        .collect())
}

fn parse_entries(raw: &str) -> Result<Vec<ApiToken>, String> {
    // Parsed as a value first: serde's errors for a typed entry could quote a misplaced token.
    let entries = match serde_json::from_str::<Value>(raw) {
        Ok(Value::Array(entries)) => entries,
        Ok(_) => return Err("expected a JSON array of token entries".into()),
        Err(error) => {
            return Err(format!(
                "not valid JSON (line {}, column {})",
                error.line(),
                error.column()
            ));
        }
    };
    let mut tokens: Vec<ApiToken> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let position = index + 1;
        let token = parse_entry(entry).map_err(|reason| format!("entry {position}: {reason}"))?;
        if let Some(other) = tokens.iter().position(|t| t.name == token.name) {
            return Err(format!(
                "entry {position}: the name {} is already entry {}'s",
                token.name,
                other + 1
            ));
        }
        if let Some(other) = tokens.iter().position(|t| t.digest == token.digest) {
            return Err(format!(
                "entry {position}: the same token as entry {}",
                other + 1
            ));
        }
        tokens.push(token);
    }
    Ok(tokens)
}

fn parse_entry(entry: &Value) -> Result<ApiToken, String> {
    let Value::Object(fields) = entry else {
        return Err("expected an object with name, scopes and token or sha256".into());
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "scopes" | "token" | "sha256"))
    {
        return Err(if is_plain_word(unknown) {
            format!("unknown field {unknown} (expected name, scopes, token or sha256)")
        } else {
            "an unknown field (expected name, scopes, token or sha256)".into()
        });
    }
    let name = match fields.get("name") {
        Some(Value::String(name)) if is_valid_name(name) => name.clone(),
        _ => {
            return Err(format!(
                "name must be 1 to {MAX_NAME_CHARS} of a-z, 0-9 and -"
            ));
        }
    };
    let scopes = parse_scopes(fields.get("scopes"))?;
    let digest = match (fields.get("token"), fields.get("sha256")) {
        (Some(Value::String(token)), None) if token.chars().count() >= MIN_TOKEN_CHARS => {
            digest(token)
        }
        (Some(_), None) => {
            return Err(format!(
                "token must be a string of at least {MIN_TOKEN_CHARS} characters"
            ));
        }
        (None, Some(Value::String(hex_digest))) => parse_sha256(hex_digest)
            .ok_or("sha256 must be the token's SHA-256 as 64 hexadecimal digits")?,
        (None, Some(_)) => {
            return Err("sha256 must be the token's SHA-256 as 64 hexadecimal digits".into());
        }
        (Some(_), Some(_)) => return Err("give token or sha256, not both".into()),
        (None, None) => return Err("give the token or its sha256".into()),
    };
    Ok(ApiToken {
        name,
        scopes,
        digest,
    })
}

fn parse_scopes(value: Option<&Value>) -> Result<Scopes, String> {
    let expected = || {
        let names: Vec<&str> = Scope::ALL.iter().map(|s| s.name()).collect();
        format!("scopes must list one or more of {}", names.join(", "))
    };
    let Some(Value::Array(values)) = value else {
        return Err(expected());
    };
    let scopes = values
        .iter()
        .map(|v| v.as_str().and_then(Scope::parse))
        .collect::<Option<Vec<Scope>>>()
        .ok_or_else(expected)?;
    let scopes: Scopes = scopes.into_iter().collect();
    if scopes.is_empty() {
        return Err(expected());
    }
    Ok(scopes)
}

fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let mut digest = [0u8; 32];
    hex::decode_to_slice(text, &mut digest).ok()?;
    Some(digest)
}

fn is_valid_name(name: &str) -> bool {
    (1..=MAX_NAME_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A field name worth quoting back: short and plain, so not a token pasted as a key.
fn is_plain_word(text: &str) -> bool {
    text.len() <= 12 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const READER: &str = "reader-token-0123456789abcdefghijk";
    const WRITER: &str = "writer-token-0123456789abcdefghijk";

    fn sha256_hex(token: &str) -> String {
        hex::encode(digest(token))
    }

    fn scopes(token: &ApiToken) -> Vec<&'static str> {
        token.scopes().iter().map(Scope::name).collect()
    }

    #[test]
    fn a_list_names_its_tokens_in_order_and_gives_each_every_scope() {
        let tokens = ApiTokens::parse(&format!(" {READER} , {WRITER} ")).expect("valid");
        let second = tokens.identify(WRITER).expect("known");
        assert_eq!(second.name(), "token-2");
        assert_eq!(
            scopes(second),
            ["read", "write", "erase", "export", "audit"]
        );
        assert_eq!(tokens.identify(READER).expect("known").name(), "token-1");
        assert!(
            tokens
                .identify("reader-token-0123456789abcdefghij")
                .is_none()
        );
    }

    #[test]
    fn entries_give_a_token_or_its_sha256_with_a_name_and_scopes() {
        let raw = format!(
            r#"[{{"name": "support-viewer", "scopes": ["read"], "token": "{READER}"}},
                {{"name": "crm-sync", "scopes": ["read", "write"], "sha256": "{}"}}]"#,
            sha256_hex(WRITER).to_uppercase()
        );
        let tokens = ApiTokens::parse(&raw).expect("valid");
        let reader = tokens.identify(READER).expect("known");
        assert_eq!(
            (reader.name(), scopes(reader)),
            ("support-viewer", vec!["read"])
        );
        let writer = tokens.identify(WRITER).expect("known");
        assert_eq!(
            (writer.name(), scopes(writer)),
            ("crm-sync", vec!["read", "write"])
        );
        assert!(
            tokens.identify(&sha256_hex(WRITER)).is_none(),
            "a digest is not a token"
        );
        assert!(tokens.identify("").is_none());
    }

    #[test]
    fn a_malformed_entry_is_refused_by_its_position_without_quoting_a_token() {
        let entry = |body: &str| {
            format!(r#"[{{"name": "fine", "scopes": ["read"], "token": "{WRITER}"}}, {body}]"#)
        };
        let cases = [
            (
                entry(&format!(
                    r#"{{"name": "Bad Name", "scopes": ["read"], "token": "{READER}"}}"#
                )),
                "entry 2: name must be",
            ),
            (
                entry(&format!(
                    r#"{{"name": "fine", "scopes": ["read"], "token": "{READER}"}}"#
                )),
                "entry 2: the name fine is already entry 1's",
            ),
            (
                entry(&format!(
                    r#"{{"name": "b", "scopes": ["read"], "token": "{WRITER}"}}"#
                )),
                "entry 2: the same token as entry 1",
            ),
            (
                entry(&format!(
                    r#"{{"name": "b", "scopes": ["{READER}"], "token": "{WRITER}x"}}"#
                )),
                "entry 2: scopes must list one or more of read, write, erase, export, audit",
            ),
            (
                entry(&format!(
                    r#"{{"name": "b", "scopes": [], "token": "{READER}"}}"#
                )),
                "entry 2: scopes must list",
            ),
            (
                entry(r#"{"name": "b", "scopes": ["read"], "token": "short"}"#),
                "entry 2: token must be a string of at least 32 characters",
            ),
            (
                entry(r#"{"name": "b", "scopes": ["read"], "sha256": "abc"}"#),
                "entry 2: sha256 must be",
            ),
            (
                entry(&format!(
                    r#"{{"name": "b", "scopes": ["read"], "token": "{READER}", "sha256": "{}"}}"#,
                    sha256_hex(READER)
                )),
                "entry 2: give token or sha256, not both",
            ),
            (
                entry(r#"{"name": "b", "scopes": ["read"]}"#),
                "entry 2: give the token or its sha256",
            ),
            (
                entry(&format!(
                    r#"{{"name": "b", "scope": ["read"], "token": "{READER}"}}"#
                )),
                "entry 2: unknown field scope",
            ),
            (
                entry(&format!(
                    r#"{{"name": "b", "{READER}": 1, "token": "{READER}"}}"#
                )),
                "entry 2: an unknown field",
            ),
            (
                entry(&format!(r#""{READER}""#)),
                "entry 2: expected an object",
            ),
            (
                format!(r#"[{{"name": "b", "token": "{READER}""#),
                "not valid JSON (line 1",
            ),
            (r#"{"name": "b"}"#.into(), "expected a JSON array"),
            ("[]".into(), "no token is configured"),
            (
                format!("{READER},short"),
                "every token must be at least 32 characters",
            ),
        ];
        for (raw, expected) in cases {
            let reason = ApiTokens::parse(&raw).expect_err(&raw);
            assert!(reason.starts_with(expected), "{reason:?} for {raw}");
            assert!(
                !reason.contains(READER) && !reason.contains(WRITER),
                "{reason}"
            );
        }
    }
}
