//! Bearer authentication of the REST API.

use http::header::AUTHORIZATION;
use lambda_http::Request;

use crate::access::{ApiToken, ApiTokens};
use crate::error::AppError;

/// The token of `Authorization: Bearer <token>`, if it is one of `tokens` (401 otherwise).
pub fn authenticate<'t>(
    request: &Request,
    tokens: &'t ApiTokens,
) -> Result<&'t ApiToken, AppError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    bearer_token(header)
        .and_then(|presented| tokens.identify(presented))
        .ok_or(AppError::Unauthorized)
}

/// The token of a `Bearer` authorization value; the scheme is case-insensitive.
fn bearer_token(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
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
}
