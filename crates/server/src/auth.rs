//! The mutating endpoints (`train=true`, cancelling a job, reloading thresholds) need
//! `Authorization: Bearer <token>`, compared in constant time. Without a configured token they are
//! refused, unless the server was started with `--insecure-local` on a loopback address.

use axum::http::{HeaderMap, StatusCode, header};
use subtle::ConstantTimeEq;

use crate::api::{ApiError, ApiResult};
use crate::state::AppState;

/// Whether `given` equals `expected`, in time independent of where they differ.
pub fn token_matches(given: &[u8], expected: &[u8]) -> bool {
    // Lengths are not secret (a token has a fixed length); contents are.
    given.len() == expected.len() && bool::from(given.ct_eq(expected))
}

/// The token of an `Authorization` value `Bearer <token>`; the scheme is case-insensitive
/// (RFC 9110 §11.1: `bearer`, `BEARER` are the same scheme), blanks around the token are ignored.
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once([' ', '\t'])?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Allows a mutating request, or answers 401 (no or wrong token) / 403 (no token configured).
pub fn authorize(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let cfg = state.config();
    let Some(expected) = cfg.token.as_deref() else {
        if cfg.insecure_local {
            return Ok(());
        }
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "mutations_disabled",
            "this server has no API token, so it refuses changes: start it with --token-file FILE or VANE_API_TOKEN (or --insecure-local on loopback)",
        ));
    };
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer_token);
    match given {
        Some(t) if token_matches(t.as_bytes(), expected.trim().as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "the bearer token is wrong")),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this request changes the server: send Authorization: Bearer <token>",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_by_content_and_length() {
        assert!(token_matches(b"0123456789abcdef", b"0123456789abcdef"));
        assert!(!token_matches(b"0123456789abcdeX", b"0123456789abcdef"));
        assert!(!token_matches(b"0123456789abcde", b"0123456789abcdef"));
        assert!(!token_matches(b"", b"0123456789abcdef"));
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER  abc "), Some("abc"));
        assert_eq!(bearer_token("Token abc"), None);
        assert_eq!(bearer_token("Bearerabc"), None);
        assert_eq!(bearer_token("Basic YWJj"), None);
    }
}
