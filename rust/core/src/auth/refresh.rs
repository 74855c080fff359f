//! A token cache per context that renews before expiry, transparently to the requests that
//! use it: a long pipeline keeps working across token lifetimes.

use super::{AccessToken, TokenFuture, TokenSource};
use std::fmt;
use std::time::SystemTime;

/// Obtains a new token from an authority (one sign-in flow).
pub trait Acquire: Send + Sync + fmt::Debug {
    fn acquire(&self) -> TokenFuture<'_>;
}

/// Caches the last token of an [`Acquire`] and asks for a new one when
/// [`AccessToken::needs_refresh`] says so. Concurrent callers wait for one renewal instead of
/// each starting their own.
pub struct RefreshingToken {
    acquire: Box<dyn Acquire>,
    cache: tokio::sync::Mutex<Option<AccessToken>>,
}

impl RefreshingToken {
    pub fn new(acquire: Box<dyn Acquire>) -> RefreshingToken {
        RefreshingToken {
            acquire,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    /// Starts with a token already acquired (sign-in validated the credentials up front).
    pub fn with_initial(acquire: Box<dyn Acquire>, token: AccessToken) -> RefreshingToken {
        RefreshingToken {
            acquire,
            cache: tokio::sync::Mutex::new(Some(token)),
        }
    }
}

impl fmt::Debug for RefreshingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshingToken")
            .field("acquire", &self.acquire)
            .finish_non_exhaustive()
    }
}

impl TokenSource for RefreshingToken {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let mut cached = self.cache.lock().await;
            if let Some(token) = cached.as_ref()
                && !token.needs_refresh(SystemTime::now())
            {
                return Ok(token.clone());
            }
            let token = self.acquire.acquire().await?;
            *cached = Some(token.clone());
            Ok(token)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        lifetime: Duration,
    }

    impl Acquire for Counting {
        fn acquire(&self) -> TokenFuture<'_> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let lifetime = self.lifetime;
            Box::pin(async move { Ok(AccessToken::with_lifetime(format!("token-{n}"), lifetime)) })
        }
    }

    #[tokio::test]
    async fn a_fresh_token_is_reused_and_a_nearly_expired_one_renewed() {
        let calls = Arc::new(AtomicUsize::new(0));
        let long = RefreshingToken::new(Box::new(Counting {
            calls: calls.clone(),
            lifetime: Duration::from_secs(3600),
        }));
        for _ in 0..5 {
            long.token().await.expect("token");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let calls = Arc::new(AtomicUsize::new(0));
        let short = RefreshingToken::new(Box::new(Counting {
            calls: calls.clone(),
            lifetime: Duration::from_millis(500),
        }));
        short.token().await.expect("token");
        tokio::time::sleep(Duration::from_millis(450)).await; // inside the last fifth
        short.token().await.expect("token");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_renewal() {
        let calls = Arc::new(AtomicUsize::new(0));
        let source = Arc::new(RefreshingToken::new(Box::new(Counting {
            calls: calls.clone(),
            lifetime: Duration::from_secs(60),
        })));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let s = source.clone();
                tokio::spawn(async move { s.token().await.map(|_| ()) })
            })
            .collect();
        for t in tasks {
            t.await.expect("join").expect("token");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn refresh_margin_is_a_fifth_capped_at_five_minutes() {
        let now = SystemTime::now();
        let hour = AccessToken::with_lifetime("t", Duration::from_secs(3600));
        assert!(!hour.needs_refresh(now));
        assert!(!hour.needs_refresh(now + Duration::from_secs(3600 - 301)));
        assert!(hour.needs_refresh(now + Duration::from_secs(3600 - 299)));
        assert!(hour.needs_refresh(now + Duration::from_secs(4000)));
        assert!(!AccessToken::new("opaque").needs_refresh(now + Duration::from_secs(1_000_000)));
    }
}
