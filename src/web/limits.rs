//! What one caller can make the listener spend: each request has a deadline
//! (a client that sends its headers and then stalls is cut off with 408), the
//! requests in flight at once are capped (the rest wait their turn, inside the
//! same deadline), and a body larger than any hallpass route needs is refused
//! with 413 before it is read.
//!
//! Not covered here: a client that stalls *inside* its headers is not seen by
//! these layers (axum's server sets no header-read deadline), so production
//! deployments put the listener behind a reverse proxy that has one.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// The listener's bounds. `Default` is the production setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerLimits {
    /// From the request's headers to its response. Discord wants an answer in
    /// 3 s and Zendesk gives up after about 10 s; slow work is deferred.
    pub request_timeout: Duration,
    /// Requests handled at once, across all routes.
    pub max_in_flight: usize,
    /// The largest request body accepted. Discord's interactions and Zendesk's
    /// trigger bodies are a few kilobytes.
    pub max_body_bytes: usize,
}

impl Default for ListenerLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            max_in_flight: 256,
            max_body_bytes: 64 * 1024,
        }
    }
}

impl ListenerLimits {
    /// `router` with these limits around every route. The deadline is the
    /// outermost layer, so time spent waiting for a slot counts against it.
    pub fn apply<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        router
            .layer(DefaultBodyLimit::max(self.max_body_bytes))
            .layer(GlobalConcurrencyLimitLayer::new(self.max_in_flight))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                self.request_timeout,
            ))
    }
}
