//! The bearer token, cached and renewed shortly before it expires. The lock is held while a
//! new token is fetched, so concurrent callers wait for that one `token/get` instead of each
//! making their own.

use std::future::Future;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::GlassixError;

struct CachedToken {
    value: SecretString,
    renew_at: Instant,
}

#[derive(Default)]
pub(super) struct TokenCache(Mutex<Option<CachedToken>>);

impl TokenCache {
    /// The cached token, or the one `fetch` obtains (with its lifetime), cached for next time.
    pub(super) async fn get_or_fetch<F>(&self, fetch: F) -> Result<SecretString, GlassixError>
    where
        F: Future<Output = Result<(SecretString, Duration), GlassixError>>,
    {
        let mut cached = self.0.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        let (value, lifetime) = fetch.await?;
        *cached = Some(CachedToken {
            value: value.clone(),
            renew_at: Instant::now() + renew_after(lifetime),
        });
        tracing::info!(expires_in_s = lifetime.as_secs(), "Glassix token obtained");
        Ok(value)
    }

    /// Drops the cached token if it is still the one that was refused.
    pub(super) async fn forget(&self, refused: &SecretString) {
        let mut cached = self.0.lock().await;
        if cached
            .as_ref()
            .is_some_and(|t| t.value.expose_secret() == refused.expose_secret())
        {
            *cached = None;
        }
    }
}

/// The token's lifetime as Glassix states it, bounded to something sane.
pub(super) fn lifetime(expires_in: Option<f64>) -> Duration {
    Duration::from_secs_f64(expires_in.unwrap_or(3600.0).clamp(1.0, 86_400.0))
}

/// Renew 5 minutes early, or a tenth of the lifetime early for short-lived tokens.
fn renew_after(lifetime: Duration) -> Duration {
    lifetime - (lifetime / 10).min(Duration::from_secs(300))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_early() {
        assert_eq!(
            renew_after(Duration::from_secs(3 * 3600)),
            Duration::from_secs(3 * 3600 - 300)
        );
        assert_eq!(
            renew_after(Duration::from_secs(600)),
            Duration::from_secs(540)
        );
    }

    #[test]
    fn a_lifetime_is_bounded() {
        assert_eq!(lifetime(None), Duration::from_secs(3600));
        assert_eq!(lifetime(Some(0.0)), Duration::from_secs(1));
        assert_eq!(lifetime(Some(1e12)), Duration::from_secs(86_400));
    }

    #[tokio::test]
    async fn a_cached_token_is_reused_until_forgotten() {
        let cache = TokenCache::default();
        let fetch = |value: &'static str| async move {
            Ok((SecretString::from(value), Duration::from_secs(3600)))
        };
        let first = cache.get_or_fetch(fetch("one")).await.expect("fetched");
        let again = cache.get_or_fetch(fetch("two")).await.expect("cached");
        assert_eq!(again.expose_secret(), "one");
        cache.forget(&SecretString::from("other")).await;
        assert_eq!(
            cache
                .get_or_fetch(fetch("two"))
                .await
                .expect("cached")
                .expose_secret(),
            "one"
        );
        cache.forget(&first).await;
        assert_eq!(
            cache
                .get_or_fetch(fetch("two"))
                .await
                .expect("new")
                .expose_secret(),
            "two"
        );
    }
}
