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
    /// Who sent it, for a client made by `FakeApiServer::client_as`.
    pub client: Option<String>,
}

/// What RBAC would check for a request: verb, API group, resource (with `/subresource`) and
/// namespace (empty for cluster-scoped requests and requests across all namespaces).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Access {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub namespace: String,
}

impl RequestRecord {
    /// The RBAC access the request needs; `None` for discovery and other non-resource paths.
    pub fn access(&self) -> Option<Access> {
        let segments: Vec<&str> = self.path.trim_matches('/').split('/').collect();
        let (group, rest) = match segments.as_slice() {
            ["api", _version, rest @ ..] => ("", rest),
            ["apis", group, _version, rest @ ..] => (*group, rest),
            _ => return None,
        };
        let (namespace, rest) = match rest {
            ["namespaces", ns, rest @ ..] if !rest.is_empty() => (*ns, rest),
            _ => ("", rest),
        };
        let (resource, named) = match rest {
            [] => return None,
            [resource] => (resource.to_string(), false),
            [resource, _name] => (resource.to_string(), true),
            [resource, _name, sub, ..] => (format!("{resource}/{sub}"), true),
        };
        let verb = match (self.method.as_str(), named) {
            ("GET", true) => "get",
            ("GET", false) if self.is_watch() => "watch",
            ("GET", false) => "list",
            ("POST", _) => "create",
            ("PUT", _) => "update",
            ("PATCH", _) => "patch",
            ("DELETE", true) => "delete",
            ("DELETE", false) => "deletecollection",
            _ => return None,
        };
        Some(Access {
            verb: verb.to_string(),
            group: group.to_string(),
            resource,
            namespace: namespace.to_string(),
        })
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(method: &str, path: &str, query: &str) -> RequestRecord {
        RequestRecord {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            content_type: None,
            body: String::new(),
            status: 200,
            client: None,
        }
    }

    fn access(verb: &str, group: &str, resource: &str, namespace: &str) -> Option<Access> {
        Some(Access {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            namespace: namespace.into(),
        })
    }

    #[test]
    fn requests_map_to_the_access_rbac_checks() {
        let cases = [
            (
                record("GET", "/api/v1/namespaces", ""),
                access("list", "", "namespaces", ""),
            ),
            (
                record("GET", "/api/v1/namespaces/shop", ""),
                access("get", "", "namespaces", ""),
            ),
            (
                record("GET", "/api/v1/namespaces/ops/secrets/alerts", ""),
                access("get", "", "secrets", "ops"),
            ),
            (
                record(
                    "GET",
                    "/apis/argoproj.io/v1alpha1/applications",
                    "watch=true&resourceVersion=3",
                ),
                access("watch", "argoproj.io", "applications", ""),
            ),
            (
                record(
                    "PUT",
                    "/apis/sluice.dev/v1alpha1/namespaces/a/pipelinesecurityreports/r/status",
                    "",
                ),
                access(
                    "update",
                    "sluice.dev",
                    "pipelinesecurityreports/status",
                    "a",
                ),
            ),
            (
                record("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web", ""),
                access("patch", "apps", "deployments", "shop"),
            ),
            (
                record("POST", "/apis/events.k8s.io/v1/namespaces/a/events", ""),
                access("create", "events.k8s.io", "events", "a"),
            ),
            (record("GET", "/apis", ""), None),
            (record("GET", "/apis/argoproj.io/v1alpha1", ""), None),
            (record("GET", "/version", ""), None),
        ];
        for (request, expected) in cases {
            assert_eq!(
                request.access(),
                expected,
                "{} {}",
                request.method,
                request.path
            );
        }
    }
}
