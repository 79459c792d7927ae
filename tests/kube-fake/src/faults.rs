//! Fault injection: answer the next matching requests with an error instead of serving them.

/// Which requests a fault applies to.
#[derive(Clone, Debug)]
pub struct Fault {
    /// HTTP method ("GET", "PATCH", ...); None matches any.
    pub method: Option<String>,
    /// Substring of `path?query`, e.g. "/status", "/gitrepositories?" (list and watch, not
    /// single objects) or "watch=true"; "" matches any.
    pub path_contains: String,
    pub status: u16,
    pub reason: String,
    /// How many more requests to fail.
    pub remaining: usize,
}

impl Fault {
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.remaining > 0
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.contains(&self.path_contains)
    }
}

/// Takes one use of the first matching fault.
pub fn take(faults: &mut Vec<Fault>, method: &str, path_and_query: &str) -> Option<(u16, String)> {
    let i = faults
        .iter()
        .position(|f| f.matches(method, path_and_query))?;
    let f = &mut faults[i];
    f.remaining -= 1;
    let hit = (f.status, f.reason.clone());
    if f.remaining == 0 {
        faults.remove(i);
    }
    Some(hit)
}
