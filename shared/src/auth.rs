//! Bearer authentication of the REST API.

use http::header::AUTHORIZATION;
use lambda_http::Request;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::AppError;

/// Requires `Authorization: Bearer <token>` matching one of `tokens` (401 otherwise).
pub fn require_bearer(request: &Request, tokens: &[SecretString]) -> Result<(), AppError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match bearer_token(header) {
        Some(presented) if is_known(presented, tokens) => Ok(()),
        _ => Err(AppError::Unauthorized),
    }
}

/// The token of a `Bearer` authorization value; the scheme is case-insensitive.
fn bearer_token(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Every token is compared in constant time, and all of them are always compared, so the
/// time taken does not tell which token matched or how much of one. What is compared are
/// SHA-256 digests, always 32 bytes: comparing the tokens themselves would end at once on a
/// length mismatch and so tell a caller how long the tokens are.
fn is_known(presented: &str, tokens: &[SecretString]) -> bool {
    let presented = digest(presented);
    let matched = tokens.iter().fold(subtle::Choice::from(0), |acc, token| {
        acc | digest(token.expose_secret()).ct_eq(&presented)
    });
    bool::from(matched)
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_read_in_any_case_with_surrounding_space_trimmed() {
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(Some("BEARER abc")), Some("abc"));
    }

    #[test]
    fn other_schemes_and_shapes_carry_no_token() {
        for header in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Bearer "),
            Some("Basic abc"),
            Some("abc"),
        ] {
            assert_eq!(bearer_token(header), None, "{header:?}");
        }
    }

    #[test]
    fn only_a_whole_configured_token_is_known() {
        let tokens = [
            SecretString::from("first-token-123"),
            SecretString::from("second-token-456"),
        ];
        assert!(is_known("first-token-123", &tokens));
        assert!(is_known("second-token-456", &tokens));
        for wrong in ["first-token-12", "first-token-1234", "", "FIRST-TOKEN-123"] {
            assert!(!is_known(wrong, &tokens), "{wrong}");
        }
        assert!(!is_known("anything", &[]));
    }
}
