//! HTTP for sign-in: every request to an authority or identity endpoint has a timeout and a
//! bounded answer, so an authority that stops answering, or streams without end, fails the
//! sign-in (or the token renewal in the middle of a pipeline) clearly instead of hanging it.

use crate::error::root_cause;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The largest answer read from a token, device-code or identity endpoint (real ones are a
/// few KiB).
pub const MAX_AUTH_BODY_BYTES: usize = 256 * 1024;

/// The default timeout of one sign-in request (the connection's `-TimeoutSec`).
pub const DEFAULT_AUTH_TIMEOUT: Duration = Duration::from_secs(60);

/// The HTTP client of the sign-in flows, and the timeout of each of their requests.
#[derive(Clone, Debug)]
pub struct AuthHttp {
    client: reqwest::Client,
    timeout: Duration,
}

/// Why a sign-in request got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum AuthHttpError {
    #[error("no answer within {0} s")]
    Timeout(u64),
    #[error("{0}")]
    Transport(String),
    #[error("the answer is larger than {} KiB", MAX_AUTH_BODY_BYTES / 1024)]
    TooLarge,
    #[error("the request could not be built ({0})")]
    Build(String),
}

impl AuthHttp {
    pub fn new(client: reqwest::Client, timeout: Duration) -> AuthHttp {
        AuthHttp { client, timeout }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `request` with the timeout and reads at most [`MAX_AUTH_BODY_BYTES`].
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>), AuthHttpError> {
        let timeout = self.timeout;
        let exchange = async {
            let mut response = request
                .timeout(timeout)
                .send()
                .await
                .map_err(|e| self.transport(&e))?;
            let status = response.status();
            let headers = response.headers().clone();
            if response
                .content_length()
                .is_some_and(|n| n > MAX_AUTH_BODY_BYTES as u64)
            {
                return Err(AuthHttpError::TooLarge);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(&e))? {
                if body.len() + chunk.len() > MAX_AUTH_BODY_BYTES {
                    return Err(AuthHttpError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok((status, headers, body))
        };
        // reqwest's own timeout covers the body too; this outer one also bounds a stalled
        // chunk stream whatever reqwest does.
        tokio::time::timeout(timeout + Duration::from_millis(100), exchange)
            .await
            .unwrap_or(Err(AuthHttpError::Timeout(timeout.as_secs())))
    }

    fn transport(&self, e: &reqwest::Error) -> AuthHttpError {
        if e.is_timeout() {
            AuthHttpError::Timeout(self.timeout.as_secs())
        } else {
            AuthHttpError::Transport(root_cause(e))
        }
    }

    /// The `oauth2` crate's HTTP call, through [`AuthHttp::send`].
    pub async fn oauth2(
        &self,
        request: oauth2::HttpRequest,
    ) -> Result<oauth2::HttpResponse, AuthHttpError> {
        let (parts, body) = request.into_parts();
        let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes())
            .map_err(|e| AuthHttpError::Build(e.to_string()))?;
        let mut builder = self
            .client
            .request(method, parts.uri.to_string())
            .body(body);
        for (name, value) in &parts.headers {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        let (status, headers, body) = self.send(builder).await?;
        let mut response = oauth2::http::Response::builder().status(status.as_u16());
        for (name, value) in &headers {
            response = response.header(name.as_str(), value.as_bytes());
        }
        response
            .body(body)
            .map_err(|e| AuthHttpError::Build(e.to_string()))
    }
}

/// Lets the `oauth2` crate send its requests through [`AuthHttp::send`].
impl<'c> oauth2::AsyncHttpClient<'c> for AuthHttp {
    type Error = AuthHttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, AuthHttpError>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.oauth2(request))
    }
}
