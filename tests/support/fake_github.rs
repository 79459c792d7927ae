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
        let target = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let (status, extra, body) = {
            let mut state = state.lock().expect("state");
            let answer = match state.faults.pop_front() {
                Some(fault) => fault,
                None => answer(&state, &target, &headers),
            };
            state.seen.push(Seen {
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

fn answer(state: &State, target: &str, headers: &BTreeMap<String, String>) -> Answer {
    let not_found = (
        404,
        Vec::new(),
        r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}"#.to_owned(),
    );
    let remaining = |n: u32| vec![("x-ratelimit-remaining", n.to_string())];
    match &state.auth {
        Auth::Open => {}
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
