use std::time::{Duration, Instant};

use super::*;
use crate::text::LineIndex;

fn one(source: &str) -> Document {
    let mut documents = parse(source).expect("valid YAML");
    assert_eq!(documents.len(), 1, "one document");
    documents.remove(0)
}

fn text(source: &str, span: Span) -> &str {
    &source[span.start_byte as usize..span.end_byte as usize]
}

/// Asserts that a span's lines and columns agree with its byte offsets.
fn assert_consistent(source: &str, span: Span) {
    let index = LineIndex::new(source);
    assert_eq!(
        index.span(span.start_byte as usize..span.end_byte as usize),
        span,
        "inconsistent span"
    );
}

/// Every node's span, and the span of each char of every scalar, is consistent and within the
/// node.
fn check_tree(source: &str, node: &Node) {
    assert_consistent(source, node.span);
    match &node.value {
        Value::Scalar(scalar) => {
            for (offset, c) in scalar.text.char_indices() {
                let span = scalar
                    .span_of(offset..offset + c.len_utf8())
                    .expect("char in range");
                assert_consistent(source, span);
                assert!(span.start_byte >= node.span.start_byte, "{node:?}");
                assert!(span.end_byte <= node.span.end_byte, "{node:?}");
            }
            let whole = scalar.span_of(0..scalar.text.len()).expect("whole");
            assert_consistent(source, whole);
        }
        Value::Sequence(items) => items.iter().for_each(|item| check_tree(source, item)),
        Value::Mapping(mapping) => {
            for (key, value) in mapping.iter() {
                check_tree(source, key);
                check_tree(source, value);
            }
        }
        Value::Null => {}
    }
}

#[test]
fn positions_of_keys_and_values() {
    let source = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: echo hi\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let jobs = doc.root.entry("jobs").expect("jobs");
    assert_eq!(text(source, jobs.key.span), "jobs");
    assert_eq!(
        (jobs.key.span.start_line, jobs.key.span.start_column),
        (2, 1)
    );
    let runs_on = jobs
        .value
        .get("build")
        .and_then(|b| b.entry("runs-on"))
        .expect("runs-on");
    assert_eq!(text(source, runs_on.value.span), "ubuntu-latest");
    assert_eq!(
        (
            runs_on.value.span.start_line,
            runs_on.value.span.start_column
        ),
        (4, 14)
    );
    assert_eq!(runs_on.value.route.to_string(), "jobs.build.runs-on");
    assert_eq!(runs_on.key.route.to_string(), "jobs.build.runs-on");
    let steps = jobs
        .value
        .get("build")
        .and_then(|b| b.get("steps"))
        .expect("steps");
    assert_eq!(text(source, steps.span).lines().count(), 2);
    assert!(text(source, steps.span).starts_with("- uses"));
    assert!(text(source, steps.span).ends_with("echo hi"));
    let run = &steps.as_sequence().expect("sequence")[1];
    assert_eq!(run.route.to_string(), "jobs.build.steps[1]");
    assert_eq!(text(source, run.span), "run: echo hi");
    assert_eq!(run.get("run").and_then(Node::as_str), Some("echo hi"));
    assert_eq!(text(source, doc.root.span), source.trim_end());
    assert_eq!(doc.root.get("on").and_then(Node::as_str), Some("push"));
    assert!(doc.root.get("missing").is_none());
    assert!(run.get("run").and_then(|r| r.get("x")).is_none());
}

#[test]
fn literal_block_maps_lines_exactly() {
    let source = "steps:\n  - name: t\n    run: |\n      echo one\n      if true; then\n        echo \"${{ github.event.issue.title }}\"\n      fi\n    env: {}\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let run = doc
        .root
        .get("steps")
        .and_then(|s| s.as_sequence())
        .and_then(|s| s[0].get("run"))
        .expect("run");
    let scalar = run.as_scalar().expect("scalar");
    assert_eq!(scalar.style, ScalarStyle::Literal);
    assert_eq!(
        scalar.text,
        "echo one\nif true; then\n  echo \"${{ github.event.issue.title }}\"\nfi\n"
    );
    // The node covers `|` to the end of `fi`.
    assert!(text(source, run.span).starts_with("|\n      echo one"));
    assert!(text(source, run.span).ends_with("fi"));
    assert_eq!((run.span.start_line, run.span.start_column), (3, 10));
    assert_eq!((run.span.end_line, run.span.end_column), (7, 9));

    let needle = "${{ github.event.issue.title }}";
    let offset = scalar.text.find(needle).expect("needle");
    let span = run.span_of(offset..offset + needle.len()).expect("span");
    assert_eq!(text(source, span), needle);
    assert_eq!((span.start_line, span.start_column), (6, 15));
    assert_eq!(
        (span.end_line, span.end_column),
        (6, 15 + needle.len() as u32)
    );
    assert_consistent(source, span);

    // A range across lines starts and ends where its ends are.
    let span = run
        .span_of(0..scalar.text.find("then").expect("then"))
        .expect("span");
    assert_eq!((span.start_line, span.start_column), (4, 7));
    assert_eq!((span.end_line, span.end_column), (5, 16));
    assert_eq!(run.span_of(0..1000), None);
    #[allow(clippy::reversed_empty_ranges)]
    let reversed = 5..2;
    assert_eq!(run.span_of(reversed), None);
}

#[test]
fn block_scalar_variants() {
    let source = "a: |-\n  x\n  y\nb: |+\n  keep\n\nc: |2\n    two extra\n  base\nd: >\n  folded\n  text\n\n  para\n   more\ne: |\nf: >-  # comment\n\n  late\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let get = |k: &str| doc.root.get(k).expect(k);
    assert_eq!(get("a").as_str(), Some("x\ny"));
    assert_eq!(get("b").as_str(), Some("keep\n\n"));
    assert_eq!(get("c").as_str(), Some("  two extra\nbase\n"));
    assert_eq!(get("d").as_str(), Some("folded text\npara\n more\n"));
    assert_eq!(get("e").as_str(), Some(""));
    // Leading empty lines are kept, even when folding.
    assert_eq!(get("f").as_str(), Some("\nlate"));
    for (key, needle, line, column) in [
        ("a", "y", 3, 3),
        ("b", "keep", 5, 3),
        ("c", "two", 8, 5),
        ("c", "base", 9, 3),
        ("d", "text", 12, 3),
        ("d", "para", 14, 3),
        ("d", "more", 15, 4),
        ("f", "late", 19, 3),
    ] {
        let node = get(key);
        let offset = node.as_str().and_then(|t| t.find(needle)).expect(needle);
        let span = node.span_of(offset..offset + needle.len()).expect("span");
        assert_eq!(text(source, span), needle, "{key}");
        assert_eq!(
            (span.start_line, span.start_column),
            (line, column),
            "{key}"
        );
    }
    assert_eq!(text(source, get("e").span), "|");
    assert_eq!(text(source, get("f").span), ">-  # comment\n\n  late");
    // The folded space between `folded` and `text` maps to the line break it replaced.
    let d = get("d");
    let space = d.span_of(6..7).expect("space");
    assert_eq!((space.start_line, space.end_line), (11, 12));
}

#[test]
fn crlf_file() {
    let source =
        "a: 1\r\nrun: |\r\n  echo one\r\n  echo two\r\nb: \"x\r\n  y\"\r\nc: plain\r\n  folded\r\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let run = doc.root.get("run").expect("run");
    assert_eq!(run.as_str(), Some("echo one\necho two\n"));
    let offset = run.as_str().and_then(|t| t.find("two")).expect("two");
    let span = run.span_of(offset..offset + 3).expect("span");
    assert_eq!(text(source, span), "two");
    assert_eq!((span.start_line, span.start_column), (4, 8));
    assert!(text(source, run.span).ends_with("echo two"));
    let b = doc.root.get("b").expect("b");
    assert_eq!(b.as_str(), Some("x y"));
    assert_eq!(text(source, b.span), "\"x\r\n  y\"");
    let y = b.span_of(2..3).expect("y");
    assert_eq!(text(source, y), "y");
    let c = doc.root.get("c").expect("c");
    assert_eq!(c.as_str(), Some("plain folded"));
    let folded = c.span_of(6..12).expect("folded");
    assert_eq!(text(source, folded), "folded");
    assert_eq!((folded.start_line, folded.start_column), (8, 3));
}

#[test]
fn multi_byte_characters_before_a_span() {
    let source = "名前: \"héllo wörld\" # ü\nkey: 😀 ${{ x }}\nrun: |\n  é ${{ y }}\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let entry = doc.root.entry("名前").expect("key");
    assert_eq!(
        (entry.key.span.start_column, entry.key.span.end_column),
        (1, 3)
    );
    assert_eq!(entry.key.span.end_byte, 6);
    assert_eq!(text(source, entry.value.span), "\"héllo wörld\"");
    assert_eq!(entry.value.span.start_column, 5);
    let w = entry.value.span_of(7..13).expect("wörld");
    assert_eq!(text(source, w), "wörld");
    assert_eq!((w.start_column, w.end_column), (12, 17));
    let key = doc.root.get("key").expect("key");
    let expression = key.span_of(5..13).expect("expr");
    assert_eq!(text(source, expression), "${{ x }}");
    assert_eq!(expression.start_column, 8);
    let run = doc.root.get("run").expect("run");
    let y = run.span_of(3..11).expect("y");
    assert_eq!(text(source, y), "${{ y }}");
    assert_eq!((y.start_line, y.start_column), (4, 5));
    // Not a char boundary.
    assert_eq!(entry.value.span_of(2..3), None);
}

#[test]
fn bom_is_counted_like_line_index() {
    let source = "\u{feff}a: b\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let b = doc.root.get("a").expect("a");
    assert_eq!(text(source, b.span), "b");
    assert_eq!(b.span.start_column, 5);
}

#[test]
fn folded_scalar_mapping() {
    let source = "description: >\n  first line\n  second ${{ inputs.x }}\n\n  new paragraph\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let node = doc.root.get("description").expect("description");
    let value = node.as_str().expect("text");
    assert_eq!(value, "first line second ${{ inputs.x }}\nnew paragraph\n");
    let offset = value.find("${{").expect("expr");
    let span = node
        .span_of(offset..offset + "${{ inputs.x }}".len())
        .expect("span");
    assert_eq!(text(source, span), "${{ inputs.x }}");
    assert_eq!((span.start_line, span.start_column), (3, 10));
    let offset = value.find("new").expect("new");
    let span = node.span_of(offset..value.len()).expect("span");
    assert_eq!((span.start_line, span.start_column), (5, 3));
    assert_eq!(span.end_line, 5);
    // A range over the fold covers both lines.
    let span = node.span_of(0..17).expect("span");
    assert_eq!((span.start_line, span.end_line), (2, 3));
    assert_eq!(text(source, span), "first line\n  second");
}

#[test]
fn quoted_scalar_mapping() {
    let source = "a: 'it''s ${{ x }}'\nb: \"tab\\there \\u00e9 ${{ y }}\"\nc: \"multi\n  line ${{ z }}\"\nd: \"esc\\\n   aped\"\ne: ''\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let cases = [
        ("a", "${{ x }}", 1, 11),
        ("b", "${{ y }}", 2, 22),
        ("c", "${{ z }}", 4, 8),
    ];
    for (key, needle, line, column) in cases {
        let node = doc.root.get(key).expect(key);
        let offset = node.as_str().and_then(|t| t.find(needle)).expect(needle);
        let span = node.span_of(offset..offset + needle.len()).expect("span");
        assert_eq!(text(source, span), needle, "{key}");
        assert_eq!(
            (span.start_line, span.start_column),
            (line, column),
            "{key}"
        );
    }
    let a = doc.root.get("a").expect("a");
    assert_eq!(a.as_str(), Some("it's ${{ x }}"));
    assert_eq!(text(source, a.span), "'it''s ${{ x }}'");
    assert_eq!(text(source, a.span_of(2..3).expect("quote")), "''");
    let b = doc.root.get("b").expect("b");
    assert_eq!(b.as_str(), Some("tab\there é ${{ y }}"));
    assert_eq!(text(source, b.span_of(3..4).expect("tab")), "\\t");
    assert_eq!(text(source, b.span_of(9..11).expect("é")), "\\u00e9");
    assert_eq!(
        doc.root.get("c").and_then(Node::as_str),
        Some("multi line ${{ z }}")
    );
    let d = doc.root.get("d").expect("d");
    assert_eq!(d.as_str(), Some("escaped"));
    assert_eq!(text(source, d.span_of(3..7).expect("aped")), "aped");
    let e = doc.root.get("e").expect("e");
    assert_eq!(e.as_str(), Some(""));
    assert!(!e.is_null());
    assert_eq!(
        e.span_of(0..0).map(|s| s.start_byte),
        Some(e.span.start_byte)
    );
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let source = "base: &base\n  runs-on: ubuntu\n  timeout: 5\nextra: &extra\n  timeout: 9\n  env: x\njobs:\n  a:\n    <<: *base\n    timeout: 10\n  b:\n    <<: [*extra, *base]\n  c: *base\n  d: &s scalar\n  e: *s\n  f:\n    *s : aliased key\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let base = doc.root.get("base").expect("base");
    assert_eq!(base.anchor.as_deref(), Some("base"));
    assert!(text(source, base.span).starts_with("runs-on"));
    let jobs = doc.root.get("jobs").expect("jobs");

    let a = jobs.get("a").expect("a");
    let keys: Vec<_> = a
        .as_mapping()
        .expect("mapping")
        .iter()
        .filter_map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(keys, ["runs-on", "timeout"]);
    assert_eq!(a.get("timeout").and_then(Node::as_str), Some("10"));
    let runs_on = a.get("runs-on").expect("merged");
    assert_eq!(runs_on.as_str(), Some("ubuntu"));
    // Merged entries keep their spans but get the route of where they are used.
    assert_eq!(runs_on.span.start_line, 2);
    assert_eq!(runs_on.route.to_string(), "jobs.a.runs-on");

    let b = jobs.get("b").expect("b");
    assert_eq!(b.get("timeout").and_then(Node::as_str), Some("9"));
    assert_eq!(b.get("env").and_then(Node::as_str), Some("x"));
    assert_eq!(b.get("runs-on").and_then(Node::as_str), Some("ubuntu"));
    assert_eq!(b.as_mapping().map(Mapping::len), Some(3));

    let c = jobs.get("c").expect("c");
    assert_eq!(c.route.to_string(), "jobs.c");
    assert_eq!(
        c.get("timeout").map(|t| t.route.to_string()).as_deref(),
        Some("jobs.c.timeout")
    );
    assert_eq!(c.span, base.span);
    assert_eq!(jobs.get("e").and_then(Node::as_str), Some("scalar"));
    assert_eq!(jobs.get("d").and_then(|d| d.anchor.as_deref()), Some("s"));
    assert_eq!(text(source, jobs.get("d").expect("d").span), "scalar");
    let f = jobs
        .get("f")
        .and_then(|f| f.entry("scalar"))
        .expect("alias key");
    assert_eq!(f.value.as_str(), Some("aliased key"));
    assert_eq!(f.key.route.to_string(), "jobs.f.scalar");
    assert_eq!(f.value.route.to_string(), "jobs.f.scalar");
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
}

#[test]
fn undefined_and_recursive_aliases_are_syntax_errors() {
    let error = parse("a: *nope\n").expect_err("undefined");
    assert_eq!(error.kind, YamlErrorKind::Syntax);
    assert_eq!((error.span.start_line, error.span.start_column), (1, 4));
    let error = parse("a: &x [1, *x]\n").expect_err("recursive");
    assert_eq!(error.kind, YamlErrorKind::Syntax);
    // Anchors do not cross documents.
    let error = parse("a: &x 1\n---\nb: *x\n").expect_err("other document");
    assert_eq!(error.kind, YamlErrorKind::Syntax);
}

#[test]
fn billion_laughs_hits_the_limit_fast() {
    let mut source = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(",");
        source.push_str(&format!("{}: &{} [{}]\n", pair[1], pair[1], refs));
    }
    let started = Instant::now();
    let error = parse(&source).expect_err("limit");
    assert_eq!(error.kind, YamlErrorKind::Limit, "{error}");
    assert!(started.elapsed() < Duration::from_secs(1));
    // A generous limit lets the small levels through.
    let small = "a: &a [x, y]\nb: [*a, *a]\n";
    let limits = Limits {
        max_alias_expansion: 6,
        ..Limits::default()
    };
    assert!(parse_with(small, limits).is_ok());
    let limits = Limits {
        max_alias_expansion: 5,
        ..Limits::default()
    };
    assert_eq!(
        parse_with(small, limits).map_err(|e| e.kind),
        Err(YamlErrorKind::Limit)
    );
}

#[test]
fn deep_nesting_hits_the_limit_without_crashing() {
    let started = Instant::now();
    for source in [
        "[".repeat(100_000),
        "{a: ".repeat(100_000),
        "- ".repeat(100_000),
        format!("{}1{}", "[".repeat(300), "]".repeat(300)),
    ] {
        let error = parse(&source).expect_err("too deep");
        assert_eq!(error.kind, YamlErrorKind::Limit, "{error}");
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    let fine = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    assert!(parse(&fine).is_ok());
    let block = (0..300).fold(String::new(), |mut s, depth| {
        s.push_str(&format!("{}k:\n", " ".repeat(depth)));
        s
    });
    let error = parse(&block).expect_err("deep block mapping");
    assert_eq!(error.kind, YamlErrorKind::Limit);
    assert_eq!(error.span.start_line, 257);
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(parse_with("a: [[1]]\n", limits).is_ok());
    assert!(parse_with("a: [[[1]]]\n", limits).is_err());
    // Aliases cannot smuggle depth in.
    let error = parse_with("a: &a [[1]]\nb: [*a]\n", limits).expect_err("alias depth");
    assert_eq!(error.kind, YamlErrorKind::Limit);
}

#[test]
fn duplicate_keys_warn() {
    let source = "a: 1\nb: 2\na: 3\n";
    let doc = one(source);
    assert_eq!(doc.warnings.len(), 1);
    assert_eq!(
        doc.warnings[0].message,
        "duplicate key `a` (first defined on line 1)"
    );
    assert_eq!(doc.warnings[0].span.start_line, 3);
    assert_eq!(doc.root.get("a").and_then(Node::as_str), Some("1"));
    assert_eq!(doc.root.as_mapping().map(Mapping::len), Some(3));
}

#[test]
fn multi_document_streams() {
    let source = "a: 1\n---\n---\nb: 2\n...\n--- |\n  text\n";
    let docs = parse(source).expect("valid");
    assert_eq!(docs.len(), 4);
    assert_eq!(docs[0].root.get("a").and_then(Node::as_str), Some("1"));
    assert!(docs[1].root.is_null());
    assert_eq!(docs[2].root.get("b").and_then(Node::as_str), Some("2"));
    assert_eq!(docs[3].root.as_str(), Some("text\n"));
    assert_eq!(text(source, docs[3].root.span), "|\n  text");
    for doc in &docs {
        check_tree(source, &doc.root);
        assert!(doc.root.route.is_root());
    }
    assert!(parse("").expect("empty").is_empty());
    assert!(parse("# only a comment\n").expect("comment").is_empty());
    let empty = parse("---\n").expect("empty document");
    assert_eq!(empty.len(), 1);
    assert!(empty[0].root.is_null());
}

#[test]
fn syntax_error_positions() {
    let error = parse("a: [1, 2\nb: c\n").expect_err("syntax");
    assert_eq!(error.kind, YamlErrorKind::Syntax);
    assert_eq!((error.span.start_line, error.span.start_column), (2, 2));
    assert!(
        error.to_string().starts_with("line 2 column 2: "),
        "{error}"
    );
    let error = parse("é: \"ü\n").expect_err("unterminated");
    assert_eq!((error.span.start_line, error.span.start_column), (1, 4));
    assert_eq!(error.span.start_byte, 4);
    let error = parse("a: b\0").expect_err("nul");
    assert_eq!(error.span.start_column, 5);
}

#[test]
fn nulls_tags_and_complex_keys() {
    let source = "a:\nb: ~\nc: null\nd: !!str\ne: !reference [x, y]\nf: \"null\"\n? [k1, k2]\n: complex\n? |\n  block key\n: v\n~: nullkey\ng: !!null x\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let get = |k: &str| doc.root.get(k).expect(k);
    assert!(get("a").is_null());
    assert_eq!((get("a").span.start_byte, get("a").span.end_byte), (2, 2));
    assert!(get("b").is_null());
    assert!(get("c").is_null());
    assert_eq!(get("d").as_str(), Some(""));
    assert_eq!(get("d").tag.as_deref(), Some("tag:yaml.org,2002:str"));
    let e = get("e");
    assert_eq!(e.tag.as_deref(), Some("!reference"));
    assert_eq!(e.as_sequence().map(<[Node]>::len), Some(2));
    assert_eq!(text(source, e.span), "[x, y]");
    assert_eq!(get("f").as_str(), Some("null"));
    assert!(get("g").is_null());
    assert_eq!(get("block key\n").as_str(), Some("v"));
    assert_eq!(doc.root.get("~").and_then(Node::as_str), Some("nullkey"));
    let mapping = doc.root.as_mapping().expect("mapping");
    let complex = mapping
        .entries
        .iter()
        .find(|e| e.key.as_sequence().is_some())
        .expect("complex");
    assert_eq!(complex.value.as_str(), Some("complex"));
    assert_eq!(text(source, complex.key.span), "[k1, k2]");
    assert_eq!(complex.value.route.to_string(), "[\"?\"]");
}

#[test]
fn routes_display() {
    let route = Route::root();
    assert_eq!(route.to_string(), "");
    let route = route
        .key("jobs")
        .key("build")
        .key("steps")
        .index(2)
        .key("run");
    assert_eq!(route.to_string(), "jobs.build.steps[2].run");
    assert_eq!(route.segments().len(), 5);
    assert_eq!(route.segments()[3], RouteSegment::Index(2));
    assert_eq!(
        Route::root().key("jobs").key("my.job").to_string(),
        "jobs[\"my.job\"]"
    );
    assert_eq!(Route::root().key("a b").key("x").to_string(), "[\"a b\"].x");
    assert_eq!(Route::root().key("q\"\\").to_string(), "[\"q\\\"\\\\\"]");
    assert_eq!(Route::root().index(0).index(1).to_string(), "[0][1]");
    assert_eq!(Route::root().key("").to_string(), "[\"\"]");
    assert_eq!(
        Route::root()
            .key("on")
            .key("pull_request_target")
            .to_string(),
        "on.pull_request_target"
    );

    let source = "jobs:\n  \"my.job\":\n    steps:\n      - run: x\n";
    let doc = one(source);
    let run = doc
        .root
        .get("jobs")
        .and_then(|j| j.get("my.job"))
        .and_then(|j| j.get("steps"))
        .and_then(|s| s.as_sequence())
        .and_then(|s| s[0].get("run"))
        .expect("run");
    assert_eq!(run.route.to_string(), "jobs[\"my.job\"].steps[0].run");
}

#[test]
fn flow_collections_and_plain_multi_line() {
    let source = "a: {x: 1, y: [2, 3], z: }\nb: [ {k: v} , w ]\nc: plain text\n  continued here\n\n  after blank\nd: [a: b, c]\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let a = doc.root.get("a").expect("a");
    assert_eq!(text(source, a.span), "{x: 1, y: [2, 3], z: }");
    assert_eq!(a.get("y").map(|y| text(source, y.span)), Some("[2, 3]"));
    assert!(a.get("z").is_some_and(Node::is_null));
    let b = doc.root.get("b").expect("b");
    assert_eq!(text(source, b.span), "[ {k: v} , w ]");
    let c = doc.root.get("c").expect("c");
    assert_eq!(c.as_str(), Some("plain text continued here\nafter blank"));
    assert_eq!(
        text(source, c.span),
        "plain text\n  continued here\n\n  after blank"
    );
    let span = c.span_of(11..20).expect("continued");
    assert_eq!(text(source, span), "continued");
    assert_eq!((span.start_line, span.start_column), (4, 3));
    let d = doc.root.get("d").and_then(Node::as_sequence).expect("d");
    assert_eq!(d[0].get("a").and_then(Node::as_str), Some("b"));
    assert_eq!(text(source, d[0].span), "a: b");
}

#[test]
fn empty_values_point_after_their_indicator() {
    let source = "a:\nb:    # comment\nc:\n-\n- \n- x\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let items = doc.root.get("c").and_then(Node::as_sequence).expect("c");
    assert_eq!(items.len(), 3);
    assert!(items[0].is_null() && items[1].is_null());
    assert_eq!(
        text(source, doc.root.get("c").expect("c").span),
        "-\n- \n- x"
    );
    let source = "a:\nb:    # comment\nc:\n  -\n  - x\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    assert_eq!(doc.root.get("a").map(|a| a.span.start_byte), Some(2));
    assert_eq!(doc.root.get("b").map(|b| b.span.start_byte), Some(5));
    let items = doc.root.get("c").and_then(Node::as_sequence).expect("c");
    assert!(items[0].is_null());
    assert_eq!(items[0].route.to_string(), "c[0]");
    let c = doc.root.get("c").expect("c");
    assert_eq!(text(source, c.span), "-\n  - x");
}

/// Deterministic xorshift, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
}

#[test]
fn random_and_truncated_input_never_panics() {
    let seeds = [
        "on:\n  push:\n    branches: [main]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: |\n          echo \"${{ github.event.issue.title }}\"\n          make\n",
        "a: &a {x: 1}\nb:\n  <<: *a\n  y: 'it''s'\nc: \"esc\\u00e9\\\n  line\"\nd: >-\n  folded\n\n  text\n? [k]\n: v\n--- !tag\n- é\n- ~\n",
        "key: |2+\n    indented\n\n...\n%YAML 1.2\n---\n[{a: b}, {c: [d, e]}]\n",
    ];
    let alphabet: Vec<char> = "abc:-?[]{},&*!|>'\"#%@`\\ \t\n\r~.<0é😀".chars().collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut inputs: Vec<String> = Vec::new();
    for seed in seeds {
        for (cut, _) in seed.char_indices() {
            inputs.push(seed[..cut].to_owned());
        }
        for _ in 0..150 {
            let mut chars: Vec<char> = seed.chars().collect();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(chars.len());
                match rng.below(3) {
                    0 => chars[at] = alphabet[rng.below(alphabet.len())],
                    1 => chars.insert(at, alphabet[rng.below(alphabet.len())]),
                    _ => {
                        chars.remove(at);
                    }
                }
            }
            inputs.push(chars.into_iter().collect());
        }
    }
    for _ in 0..300 {
        let len = rng.below(60);
        inputs.push(
            (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect(),
        );
    }
    let started = Instant::now();
    for input in &inputs {
        if let Ok(docs) = parse(input) {
            for doc in &docs {
                check_tree(input, &doc.root);
            }
        }
    }
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn flow_closing_bracket_at_parent_indentation_is_accepted() {
    // Strict YAML 1.2 rejects this; libyaml and the CI platforms accept it.
    let source = "a:\n  needs: [\n    \"x\", # c\n\n    # more\n  ]\n  rules: y\nb:\n  - [\n      \"z\",\n    ]\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let a = doc.root.get("a").expect("a");
    let needs = a.get("needs").expect("needs");
    assert_eq!(
        text(source, needs.span),
        "[\n    \"x\", # c\n\n    # more\n  ]"
    );
    assert_eq!(needs.as_sequence().map(<[Node]>::len), Some(1));
    let rules = a.get("rules").expect("rules");
    assert_eq!((rules.span.start_line, rules.span.start_column), (7, 10));
    let b = doc.root.get("b").and_then(Node::as_sequence).expect("b");
    assert_eq!(b[0].as_sequence().and_then(|s| s[0].as_str()), Some("z"));
    // Still an error where the bracket does not start its line.
    assert!(parse("a: [\n  \"x\",\n ]]\n").is_err());
}

#[test]
fn properties_on_collections_and_verbatim_tags() {
    let source = "a: !!map &m\n  k: v\nb: *m\nc: !<tag:example.com,2024:x> &s [1]\nd: &e\n- 1\n";
    let doc = one(source);
    check_tree(source, &doc.root);
    let a = doc.root.get("a").expect("a");
    assert_eq!(a.tag.as_deref(), Some("tag:yaml.org,2002:map"));
    assert_eq!(a.anchor.as_deref(), Some("m"));
    assert_eq!(text(source, a.span), "k: v");
    assert_eq!(
        doc.root
            .get("b")
            .and_then(|b| b.get("k"))
            .map(|k| k.route.to_string())
            .as_deref(),
        Some("b.k")
    );
    let c = doc.root.get("c").expect("c");
    assert_eq!(c.tag.as_deref(), Some("tag:example.com,2024:x"));
    assert_eq!(c.anchor.as_deref(), Some("s"));
    assert_eq!(text(source, c.span), "[1]");
    let d = doc.root.get("d").expect("d");
    assert_eq!(d.anchor.as_deref(), Some("e"));
    assert_eq!(text(source, d.span), "- 1");
}
