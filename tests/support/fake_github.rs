//! A fake GitHub REST API on 127.0.0.1, shared by `tests/github.rs` and the `github` bench:
//! commits (with ETags and 304s), recursive and per-directory trees, base64 blobs,
//! authentication failures, faults, renames, GitHub Enterprise's `/api/v3` prefix. It records
//! every request, so callers can say exactly what was asked for.
//!
//! Included with `#[path]` only by the binaries that use it, not from `support/mod.rs`, so the
//! other test binaries do not compile it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub if_none_match: Option<String>,
    pub authorization: Option<String>,
    pub status: u16,
}

/// A tree entry: name (or path), mode, type, SHA, size.
pub type Entry = (String, &'static str, &'static str, String, usize);

/// How the server treats credentials.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Anyone may read.
    Open,
    /// Only `Bearer TOKEN`; anything else is 401.
    Require(String),
    /// Every request is refused with 403.
    Forbidden,
    /// Every request is refused with a primary rate limit 403.
    RateLimited,
    /// A GitHub App installation: `POST /app/installations/{id}/access_tokens` with a JWT the
    /// App's key signed buys `token`; every other request needs `Bearer <token>`.
    App(AppAuth),
}

#[derive(Debug, Clone)]
pub struct AppAuth {
    pub app_id: u64,
    pub installation_id: u64,
    /// The App's public key (PEM), to check the JWT's signature.
    pub public_pem: Vec<u8>,
    /// The installation token handed out.
    pub token: String,
    /// How long a token is valid (GitHub: an hour).
    pub lifetime_secs: u64,
}

#[derive(Debug)]
pub struct Repo {
    /// ref name → commit SHA; `HEAD` is the default branch.
    pub refs: BTreeMap<String, String>,
    /// commit SHA → files (path, content).
    pub commits: BTreeMap<String, Vec<(String, String)>>,
}

#[derive(Debug)]
pub struct State {
    pub prefix: String,
    pub auth: Auth,
    /// Answer `?recursive=1` with `truncated: true` and half the entries.
    pub truncate: bool,
    pub repos: BTreeMap<String, Repo>,
    pub blobs: BTreeMap<String, String>,
    /// tree SHA → (entries: name, mode, type, sha, size).
    pub trees: BTreeMap<String, Vec<Entry>>,
    /// Repositories answered with a 301 to this address prefix instead (old name → new URL
    /// prefix, up to `/repos/`).
    pub moved: BTreeMap<String, String>,
    /// Answers given instead of the real one, to the next requests, in order.
    pub faults: std::collections::VecDeque<Answer>,
    pub seen: Vec<Seen>,
    /// Organisation → its repositories (full name, archived), in listing order.
    pub orgs: BTreeMap<String, Vec<(String, bool)>>,
    /// Repositories per page of an organisation listing (GitHub: `per_page`, at most 100).
    pub page_size: usize,
    /// Repositories answered with 403 (the token may not read them).
    pub forbidden: std::collections::BTreeSet<String>,
    /// `http://127.0.0.1:PORT` and the prefix: where `Link` headers point.
    pub base: String,
}

/// A fake GitHub REST API on 127.0.0.1.
pub struct FakeGithub {
    pub url: String,
    pub state: Arc<Mutex<State>>,
    salt: String,
}

impl FakeGithub {
    /// A server whose API lives under `prefix` ("" like github.com, "/api/v3" like GHE).
    pub fn start(prefix: &str, auth: Auth) -> FakeGithub {
        static SERVERS: AtomicU64 = AtomicU64::new(0);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        // SHAs differ on every run, so the shared test cache never answers for this server.
        let salt = format!(
            "{}-{}-{:?}",
            std::process::id(),
            SERVERS.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
        );
        let state = Arc::new(Mutex::new(State {
            prefix: prefix.to_owned(),
            auth,
            truncate: false,
            repos: BTreeMap::new(),
            blobs: BTreeMap::new(),
            trees: BTreeMap::new(),
            faults: std::collections::VecDeque::new(),
            moved: BTreeMap::new(),
            seen: Vec::new(),
            orgs: BTreeMap::new(),
            page_size: 100,
            forbidden: std::collections::BTreeSet::new(),
            base: format!("http://127.0.0.1:{port}{prefix}"),
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        FakeGithub {
            url: format!("http://127.0.0.1:{port}{prefix}"),
            state,
            salt,
        }
    }

    fn sha(&self, text: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.salt.as_bytes());
        hasher.update(text.as_bytes());
        hex::encode(hasher.finalize())[..40].to_owned()
    }

    /// Serves `owner/repo` with `files` at one commit, reachable as `HEAD`, `main` and by SHA.
    /// Returns the commit SHA.
    pub fn add_repo(&self, name: &str, files: &[(&str, &str)]) -> String {
        let commit = self.sha(&format!("commit {name} {files:?}"));
        let mut state = self.state.lock().expect("state");
        // Trees, directory by directory: dir path → entries.
        let mut dirs: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        dirs.insert(String::new(), Vec::new());
        for (path, content) in files {
            // Real git blob ids (sluice checks them); the salt keeps them new on every run.
            let content = format!("{content}\n# {}\n", self.salt);
            let blob = git_blob_id(&content);
            state.blobs.insert(blob.clone(), content.clone());
            let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
            dirs.entry(dir.to_owned()).or_default().push((
                file.to_owned(),
                "100644",
                "blob",
                blob,
                content.len(),
            ));
            let mut parent = dir.to_owned();
            while !parent.is_empty() {
                let (up, name) = parent.rsplit_once('/').unwrap_or(("", &parent));
                let (up, name) = (up.to_owned(), name.to_owned());
                let tree = self.tree_sha(&commit, &parent);
                let entries = dirs.entry(up.clone()).or_default();
                if !entries.iter().any(|e| e.0 == name) {
                    entries.push((name, "040000", "tree", tree, 0));
                }
                parent = up;
            }
        }
        for (dir, entries) in dirs {
            let sha = if dir.is_empty() {
                commit.clone()
            } else {
                self.tree_sha(&commit, &dir)
            };
            state.trees.insert(sha, entries);
        }
        let repo = state.repos.entry(name.to_owned()).or_insert_with(|| Repo {
            refs: BTreeMap::new(),
            commits: BTreeMap::new(),
        });
        for git_ref in ["HEAD", "main", commit.as_str()] {
            repo.refs.insert(git_ref.to_owned(), commit.clone());
        }
        repo.commits.insert(
            commit.clone(),
            files
                .iter()
                .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
                .collect(),
        );
        commit
    }

    fn tree_sha(&self, commit: &str, dir: &str) -> String {
        self.sha(&format!("tree {commit} {dir}"))
    }

    /// Lists `repos` (full name, archived) as the repositories of `org`.
    pub fn add_org(&self, org: &str, repos: &[(&str, bool)]) {
        self.state.lock().expect("state").orgs.insert(
            org.to_owned(),
            repos
                .iter()
                .map(|(name, archived)| ((*name).to_owned(), *archived))
                .collect(),
        );
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().expect("state").seen.clone()
    }

    pub fn fail_next(&self, faults: Vec<Answer>) {
        self.state.lock().expect("state").faults.extend(faults);
    }

    pub fn clear(&self) {
        self.state.lock().expect("state").seen.clear();
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = BTreeMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let mut words = request_line.split_whitespace();
        let method = words.next().unwrap_or_default().to_owned();
        let target = words.next().unwrap_or_default().to_owned();
        // Read (and ignore) a body, so that the next request on the connection starts clean.
        let length: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if length > 0 {
            let mut body = vec![0; length];
            if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
                return;
            }
        }
        let (status, extra, body) = {
            let mut state = state.lock().expect("state");
            let answer = match state.faults.pop_front() {
                Some(fault) => fault,
                None => answer(&state, &method, &target, &headers),
            };
            state.seen.push(Seen {
                method: method.clone(),
                path: target.clone(),
                if_none_match: headers.get("if-none-match").cloned(),
                authorization: headers.get("authorization").cloned(),
                status: answer.0,
            });
            answer
        };
        if status == STALL {
            // Accept the request and never answer it; the client's timeout must end the wait.
            std::thread::sleep(std::time::Duration::from_secs(5));
            return;
        }
        let reason = match status {
            200 => "OK",
            201 => "Created",
            304 => "Not Modified",
            401 => "Unauthorized",
            403 => "Forbidden",
            301 => "Moved Permanently",
            404 => "Not Found",
            429 => "Too Many Requests",
            _ => "Server Error",
        };
        let mut response = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nx-ratelimit-limit: 5000\r\n",
            body.len()
        );
        for (name, value) in extra {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        response.push_str("\r\n");
        response.push_str(&body);
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

pub type Answer = (u16, Vec<(&'static str, String)>, String);

/// A fault "status": read the request, then answer nothing for five seconds.
pub const STALL: u16 = 0;

fn answer(state: &State, method: &str, target: &str, headers: &BTreeMap<String, String>) -> Answer {
    let not_found = (
        404,
        Vec::new(),
        r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}"#.to_owned(),
    );
    let remaining = |n: u32| vec![("x-ratelimit-remaining", n.to_string())];
    let unauthorized = || {
        (
            401,
            Vec::new(),
            r#"{"message":"Bad credentials"}"#.to_owned(),
        )
    };
    match &state.auth {
        Auth::Open => {}
        Auth::App(app) => {
            let bearer = headers
                .get("authorization")
                .and_then(|v| v.strip_prefix("Bearer "));
            if let Some(id) = target
                .strip_prefix(&state.prefix)
                .and_then(|t| t.strip_prefix("/app/installations/"))
                .and_then(|t| t.strip_suffix("/access_tokens"))
            {
                if method != "POST" {
                    return not_found;
                }
                if !bearer.is_some_and(|jwt| jwt_is_valid(app, jwt)) {
                    return unauthorized();
                }
                if id != app.installation_id.to_string() {
                    return not_found;
                }
                let expires = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("clock after 1970")
                    .as_secs()
                    + app.lifetime_secs;
                let body = serde_json::json!({
                    "token": app.token,
                    "expires_at": utc(expires),
                    "permissions": {"contents": "read", "metadata": "read"},
                });
                return (201, Vec::new(), body.to_string());
            }
            if bearer != Some(app.token.as_str()) {
                return unauthorized();
            }
        }
        Auth::Require(token) => {
            if headers.get("authorization") != Some(&format!("Bearer {token}")) {
                return (
                    401,
                    Vec::new(),
                    r#"{"message":"Bad credentials"}"#.to_owned(),
                );
            }
        }
        Auth::Forbidden => {
            return (
                403,
                remaining(4999),
                r#"{"message":"Resource not accessible by personal access token"}"#.to_owned(),
            );
        }
        Auth::RateLimited => {
            let mut extra = remaining(0);
            extra.push(("x-ratelimit-reset", "1700000000".to_owned()));
            return (
                403,
                extra,
                r#"{"message":"API rate limit exceeded for 127.0.0.1."}"#.to_owned(),
            );
        }
    }
    let Some(rest) = target.strip_prefix(&state.prefix) else {
        return not_found;
    };
    if let Some(listing) = rest.strip_prefix("/orgs/") {
        return org_page(state, listing, headers).unwrap_or(not_found);
    }
    let Some(rest) = rest.strip_prefix("/repos/") else {
        return not_found;
    };
    let mut parts = rest.splitn(3, '/');
    let (Some(owner), Some(name), Some(tail)) = (parts.next(), parts.next(), parts.next()) else {
        return not_found;
    };
    if let Some(to) = state.moved.get(&format!("{owner}/{name}")) {
        let location = format!("{to}/{tail}");
        return (
            301,
            vec![("location", location.clone())],
            serde_json::json!({"message": "Moved Permanently", "url": location}).to_string(),
        );
    }
    if state.forbidden.contains(&format!("{owner}/{name}")) {
        return (
            403,
            remaining(4999),
            r#"{"message":"Resource not accessible by integration"}"#.to_owned(),
        );
    }
    let Some(repo) = state.repos.get(&format!("{owner}/{name}")) else {
        return not_found;
    };
    if let Some(git_ref) = tail.strip_prefix("commits/") {
        let Some(commit) = repo.refs.get(git_ref) else {
            return not_found;
        };
        if headers.get("accept").map(String::as_str) != Some("application/vnd.github.sha") {
            return (
                415,
                Vec::new(),
                r#"{"message":"expected the sha media type"}"#.to_owned(),
            );
        }
        let etag = format!("\"c-{commit}\"");
        if headers.get("if-none-match") == Some(&etag) {
            return (304, vec![("etag", etag)], String::new());
        }
        let mut extra = remaining(4990);
        extra.push(("etag", etag));
        return (200, extra, commit.clone());
    }
    if let Some(tree) = tail.strip_prefix("git/trees/") {
        let (sha, recursive) = match tree.split_once('?') {
            Some((sha, query)) => (sha, query == "recursive=1"),
            None => (tree, false),
        };
        let Some(entries) = state.trees.get(sha) else {
            return not_found;
        };
        let mut listed = Vec::new();
        if recursive {
            flatten(state, sha, "", &mut listed);
            if state.truncate {
                listed.truncate(listed.len() / 2);
            }
        } else {
            listed = entries.clone();
        }
        let tree: Vec<serde_json::Value> = listed
            .iter()
            .map(|(path, mode, kind, sha, size)| {
                let mut entry =
                    serde_json::json!({"path": path, "mode": mode, "type": kind, "sha": sha});
                if *kind == "blob" {
                    entry["size"] = serde_json::json!(size);
                }
                entry
            })
            .collect();
        let body =
            serde_json::json!({"sha": sha, "tree": tree, "truncated": recursive && state.truncate});
        return (200, remaining(4980), body.to_string());
    }
    if let Some(sha) = tail.strip_prefix("git/blobs/") {
        let Some(content) = state.blobs.get(sha) else {
            return not_found;
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(content);
        // GitHub wraps its base64 at 60 columns.
        let wrapped: Vec<String> = encoded
            .as_bytes()
            .chunks(60)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let body = serde_json::json!({
            "sha": sha, "size": content.len(), "encoding": "base64",
            "content": wrapped.join("\n") + "\n",
        });
        return (200, remaining(4970), body.to_string());
    }
    not_found
}

/// One page of `GET /orgs/{org}/repos?per_page=100&type=all[&page=N]`, with an ETag and a
/// `Link` to the next page as GitHub sends them.
fn org_page(state: &State, listing: &str, headers: &BTreeMap<String, String>) -> Option<Answer> {
    let (org, query) = listing.split_once("/repos?")?;
    let repos = state.orgs.get(org)?;
    let page: usize = query
        .split('&')
        .find_map(|p| p.strip_prefix("page="))
        .map_or(Some(1), |n| n.parse().ok())?;
    let start = (page - 1) * state.page_size;
    let items: Vec<serde_json::Value> = repos
        .iter()
        .skip(start)
        .take(state.page_size)
        .map(|(full_name, archived)| {
            let name = full_name.split_once('/').map_or("", |(_, n)| n);
            serde_json::json!({
                "name": name, "full_name": full_name, "archived": archived,
                "default_branch": "main", "private": false,
            })
        })
        .collect();
    let body = serde_json::Value::Array(items).to_string();
    let etag = format!("\"o-{}\"", hex::encode(Sha256::digest(body.as_bytes())));
    let mut extra = vec![
        ("etag", etag.clone()),
        ("x-ratelimit-remaining", "4900".to_owned()),
    ];
    if start + state.page_size < repos.len() {
        extra.push((
            "link",
            format!(
                "<{}/orgs/{org}/repos?per_page=100&type=all&page={}>; rel=\"next\"",
                state.base,
                page + 1
            ),
        ));
    }
    if headers.get("if-none-match") == Some(&etag) {
        return Some((304, extra, String::new()));
    }
    Some((200, extra, body))
}

/// Whether `jwt` is signed by the App's key, names the App as its issuer and is current.
fn jwt_is_valid(app: &AppAuth, jwt: &str) -> bool {
    let Ok(key) = jsonwebtoken::DecodingKey::from_rsa_pem(&app.public_pem) else {
        return false;
    };
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[app.app_id.to_string()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss"]);
    jsonwebtoken::decode::<serde_json::Value>(jwt, &key, &validation).is_ok()
}

/// Unix time as GitHub writes it: `2016-07-11T22:14:10Z`.
fn utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).expect("a date of this era");
    let rest = secs % 86_400;
    // Civil date from days since 1970 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Every entry under tree `sha`, with paths from the root.
fn flatten(state: &State, sha: &str, prefix: &str, out: &mut Vec<Entry>) {
    for (name, mode, kind, child, size) in state.trees.get(sha).into_iter().flatten() {
        let path = format!("{prefix}{name}");
        out.push((path.clone(), mode, kind, child.clone(), *size));
        if *kind == "tree" {
            flatten(state, child, &format!("{path}/"), out);
        }
    }
}

fn git_blob_id(content: &str) -> String {
    use sha1::Digest as _;
    let mut hasher = sha1::Sha1::new();
    hasher.update(format!("blob {}\0", content.len()).as_bytes());
    hasher.update(content.as_bytes());
    hex::encode(hasher.finalize())
}
