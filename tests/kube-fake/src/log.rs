//! The ordered request log tests assert on ("no write on an idempotent re-reconcile").

/// One request as the fake saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// The raw (still percent-encoded) query string, "" when absent.
    pub query: String,
    pub content_type: Option<String>,
    pub body: String,
    /// The HTTP status answered (a watch is 200 even when it carries an in-stream error).
    pub status: u16,
}

impl RequestRecord {
    pub fn is_write(&self) -> bool {
        self.method != "GET"
    }

    pub fn is_watch(&self) -> bool {
        self.query
            .split('&')
            .any(|p| p == "watch=true" || p == "watch=1")
    }

    /// The decoded value of one query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        crate::routes::parse_query(&self.query).remove(name)
    }
}
