//! The dashboard, `GET /`: one page (HTML, JS and CSS embedded in the binary; uPlot vendored
//! under `assets/vendor/`, no CDN) over the JSON endpoints: the runs registry (`/v1/runs…`),
//! `/health`, seed 000's runtime (`/v1/signal/{tag}`) and `POST /v1/thresholds/reload`.
//! `docs/dashboard.md` describes it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// The page.
pub const INDEX_HTML: &str = include_str!("../assets/index.html");
/// The page's script.
pub const APP_JS: &str = include_str!("../assets/app.js");
/// The page's style sheet.
pub const APP_CSS: &str = include_str!("../assets/app.css");
/// uPlot 1.6.32 (MIT), minified.
pub const UPLOT_JS: &str = include_str!("../assets/vendor/uPlot.iife.min.js");
/// uPlot's style sheet.
pub const UPLOT_CSS: &str = include_str!("../assets/vendor/uPlot.min.css");

/// What the page may load: its own origin only (the plots are same-origin images; uPlot sets
/// inline styles).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/// The dashboard's routes (state applied by [`crate::router`]).
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }))
        .route("/assets/app.js", get(|| async { asset(APP_JS, "text/javascript; charset=utf-8") }))
        .route("/assets/app.css", get(|| async { asset(APP_CSS, "text/css; charset=utf-8") }))
        .route("/assets/vendor/uPlot.iife.min.js", get(|| async { asset(UPLOT_JS, "text/javascript; charset=utf-8") }))
        .route("/assets/vendor/uPlot.min.css", get(|| async { asset(UPLOT_CSS, "text/css; charset=utf-8") }))
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}
