//! The API's error answer: `{"error": {"code", "message"}}` with the status that says whose
//! move it is (4xx: the caller's; 5xx: the server's or the exchange's).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use vane_core::ErrorClass;

/// An error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code (`unknown_symbol`, `unauthorized`, …).
    pub code: &'static str,
    /// What went wrong, naming the input, for a person.
    pub message: String,
    /// Seconds to wait before trying again (`Retry-After`), for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }

    /// 400: a bad request.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404: what was asked for does not exist.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 500: the server failed (the message names the file or the step).
    pub fn internal(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, code, message)
    }

    /// An error of a library, by its class (usage 400, data 422, io 500, network 502, internal 500).
    pub fn from_class(class: ErrorClass, message: impl Into<String>) -> Self {
        let status = StatusCode::from_u16(class.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = match class {
            ErrorClass::Usage => "bad_request",
            ErrorClass::Data => "bad_data",
            ErrorClass::Io => "io_error",
            ErrorClass::Network => "exchange_error",
            ErrorClass::Internal => "internal_error",
        };
        Self::new(status, code, message)
    }

    /// With a `Retry-After` of `secs`.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut r = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

/// A handler's result.
pub type ApiResult<T> = std::result::Result<T, ApiError>;

/// The pipeline's error as an answer: a model that cannot be loaded is the server's fault (500,
/// naming the file), a missing model the caller's (404).
pub fn from_pipeline(e: &vane_pipeline::PipelineError) -> ApiError {
    use vane_pipeline::PipelineError as P;
    match e {
        P::NoModel { .. } | P::UnknownModel { .. } => ApiError::not_found("no_model", e.to_string()),
        P::Artifact { .. } | P::File(_) | P::Tabular(_) | P::Models(_) => {
            ApiError::internal("model_unavailable", e.to_string())
        }
        _ => ApiError::from_class(e.class(), e.to_string()),
    }
}

/// The store's error as an answer.
pub fn from_market(e: &vane_market_data::MarketDataError) -> ApiError {
    match e.class() {
        ErrorClass::Data | ErrorClass::Io => ApiError::internal("store_unavailable", e.to_string()),
        c => ApiError::from_class(c, e.to_string()),
    }
}
