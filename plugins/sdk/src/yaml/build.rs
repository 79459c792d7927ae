//! Builds the document model from `saphyr-parser` events.
//!
//! The builder keeps an explicit stack instead of recursing, so input nesting cannot overflow
//! the stack; it stops at [`Limits::max_depth`] before the tree gets deep enough for the
//! (recursive) clone and drop of nodes to matter.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle as ParserStyle, ScanError, Tag};

use super::position::Positioner;
use super::scalar;
use super::{
    Document, Entry, Limits, Mapping, Node, Route, Scalar, ScalarStyle, Value, YamlError,
    YamlErrorKind, YamlWarning,
};

/// The core schema's null tag, as the parser resolves `!!null`.
const NULL_TAG: &str = "tag:yaml.org,2002:null";

/// How many flow-indentation repairs one parse may make (see [`join_with_previous_line`]).
const MAX_FLOW_FIXES: usize = 64;

pub(super) fn parse(source: &str, limits: Limits) -> Result<Vec<Document>, YamlError> {
    let at = Positioner::new(source);
    // The parser treats NUL as end of input while its input still has text; YAML forbids the
    // character anyway.
    if let Some(nul) = source.find('\0') {
        return Err(YamlError {
            kind: YamlErrorKind::Syntax,
            message: "NUL characters are not allowed in YAML".to_owned(),
            span: at.span(nul, nul),
        });
    }
    let mut shadow: Option<String> = None;
    let mut fixes = 0;
    loop {
        let text = shadow.as_deref().unwrap_or(source);
        match run(&at, text, limits) {
            Ok(documents) => return Ok(documents),
            Err(Failure::Model(error)) => return Err(error),
            Err(Failure::Scan(error)) => {
                // The scanner reports exactly this message only inside flow collections.
                if error.info() == "invalid indentation"
                    && fixes < MAX_FLOW_FIXES
                    && let Some(fixed) = join_with_previous_line(text, error.marker().index())
                {
                    shadow = Some(fixed);
                    fixes += 1;
                    continue;
                }
                return Err(scan_error(&at, &error));
            }
        }
    }
}

enum Failure {
    Scan(ScanError),
    Model(YamlError),
}

/// Parses `text`, which has the same chars at the same char indices as `at`'s source except
/// for whitespace (see [`join_with_previous_line`]); positions and scalar layouts come from
/// `at`'s source.
fn run(at: &Positioner<'_>, text: &str, limits: Limits) -> Result<Vec<Document>, Failure> {
    let mut builder = Builder::new(at, limits);
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(Failure::Scan)?;
        let start = at.byte_of_char(span.start.index());
        let end = at.byte_of_char(span.end.index()).max(start);
        builder.event(event, start, end).map_err(Failure::Model)?;
    }
    Ok(builder.documents)
}

fn scan_error(at: &Positioner<'_>, error: &ScanError) -> YamlError {
    let offset = at.byte_of_char(error.marker().index());
    // The scanner counts flow nesting in a `u8` and gives up at 255 levels.
    let kind = if error.info() == "recursion limit exceeded" {
        YamlErrorKind::Limit
    } else {
        YamlErrorKind::Syntax
    };
    YamlError {
        kind,
        message: error.info().to_owned(),
        span: at.span(offset, offset),
    }
}

/// Repairs a flow collection line indented less than YAML 1.2 allows, typically a closing
/// bracket at its parent's indentation:
///
/// ```yaml
/// matrix:
///   include: [
///     {os: linux},
///   ]
/// ```
///
/// libyaml, Go's yaml and YamlDotNet accept this and CI platforms run such files, so we do too:
/// the line holding the char at `char_index` is joined onto the previous content line by
/// blanking the line breaks, blank and comment-only lines and the trailing comment in between.
/// Each blanked char becomes one space, so char indices (which the parser reports) still match
/// the original source. `None` if the char does not start its line's content.
fn join_with_previous_line(text: &str, char_index: usize) -> Option<String> {
    let byte = text.char_indices().nth(char_index)?.0;
    let line_start = text.get(..byte)?.rfind('\n').map(|i| i + 1)?;
    if !text
        .get(line_start..byte)?
        .bytes()
        .all(|b| b == b' ' || b == b'\t')
    {
        return None;
    }
    let mut blank_from = line_start - 1;
    loop {
        let previous_start = text.get(..blank_from)?.rfind('\n').map_or(0, |i| i + 1);
        let line = text.get(previous_start..blank_from)?;
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            if previous_start == 0 {
                return None;
            }
            blank_from = previous_start - 1;
            continue;
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        blank_from = previous_start + comment_start(line).unwrap_or(line.len());
        break;
    }
    let blanked = blank_from..line_start;
    Some(
        text.char_indices()
            .map(|(i, c)| if blanked.contains(&i) { ' ' } else { c })
            .collect(),
    )
}

/// Where a line's comment starts, skipping `#` inside quoted scalars.
fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut after_separator = true;
    for (i, c) in line.char_indices() {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '#' && after_separator => return Some(i),
            None if (c == '"' || c == '\'') && after_separator => quote = Some(c),
            None => {}
        }
        after_separator = matches!(c, ' ' | '\t' | '[' | '{' | ',');
    }
    None
}

/// How big a subtree is: node count and collection nesting (0 for scalars).
#[derive(Debug, Clone, Copy)]
struct Shape {
    size: usize,
    height: usize,
}

const LEAF: Shape = Shape { size: 1, height: 0 };

#[derive(Debug)]
struct Anchor {
    name: Option<String>,
    /// `None` while the anchored node is still being built.
    node: Option<(Node, Shape)>,
}

#[derive(Debug)]
enum FrameKind {
    Sequence(Vec<Node>),
    /// Entries with their key text (`None` for non-scalar keys), and a key awaiting its value.
    Mapping {
        entries: Vec<(Entry, Option<String>)>,
        key: Option<(Node, Option<String>)>,
    },
}

/// A collection being built.
#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    start: usize,
    flow: bool,
    route: Route,
    tag: Option<String>,
    anchor: Option<(usize, Option<String>)>,
    shape: Shape,
    last_end: usize,
}

struct Builder<'a, 's> {
    at: &'a Positioner<'s>,
    limits: Limits,
    documents: Vec<Document>,
    warnings: Vec<YamlWarning>,
    root: Option<Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchor>,
    expanded: usize,
    /// End of the previous event's text: block scalar headers are searched after it.
    previous_end: usize,
}

impl<'a, 's> Builder<'a, 's> {
    fn new(at: &'a Positioner<'s>, limits: Limits) -> Builder<'a, 's> {
        Builder {
            at,
            limits,
            documents: Vec::new(),
            warnings: Vec::new(),
            root: None,
            stack: Vec::new(),
            anchors: HashMap::new(),
            expanded: 0,
            previous_end: 0,
        }
    }

    fn src(&self) -> &'s str {
        self.at.source()
    }

    fn error(&self, kind: YamlErrorKind, message: String, start: usize, end: usize) -> YamlError {
        YamlError {
            kind,
            message,
            span: self.at.span(start, end),
        }
    }

    fn event(&mut self, event: Event<'_>, start: usize, end: usize) -> Result<(), YamlError> {
        let mut end_of_text = end;
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd => {}
            Event::DocumentStart(_) => {
                self.anchors.clear();
                self.warnings.clear();
                self.stack.clear();
                self.root = None;
            }
            Event::DocumentEnd => {
                let root = match self.root.take() {
                    Some(root) => root,
                    None => self.null_node(self.previous_end.min(start)),
                };
                self.documents.push(Document {
                    root,
                    warnings: std::mem::take(&mut self.warnings),
                });
            }
            Event::Scalar(value, style, anchor, tag) => {
                let (node, key_text) = self.scalar(value, style, anchor, tag, start, end);
                end_of_text = usize_of(node.span.end_byte);
                self.attach(node, LEAF, (anchor > 0).then_some(anchor), key_text);
            }
            Event::SequenceStart(anchor, tag) => self.open(false, anchor, tag, start)?,
            Event::MappingStart(anchor, tag) => self.open(true, anchor, tag, start)?,
            Event::SequenceEnd | Event::MappingEnd => self.close(end),
            Event::Alias(id) => self.alias(id, start, end)?,
        }
        self.previous_end = self.previous_end.max(end_of_text);
        Ok(())
    }

    fn null_node(&self, at: usize) -> Node {
        Node {
            span: self.at.span(at, at),
            route: Route::root(),
            tag: None,
            anchor: None,
            value: Value::Null,
        }
    }

    /// The route of the node about to be attached, and whether it is a mapping key.
    fn next_route(&self) -> (Route, bool) {
        match self.stack.last() {
            None => (Route::root(), false),
            Some(frame) => match &frame.kind {
                FrameKind::Sequence(items) => (frame.route.index(items.len()), false),
                FrameKind::Mapping { key: None, .. } => (frame.route.clone(), true),
                FrameKind::Mapping {
                    key: Some((_, text)),
                    ..
                } => (frame.route.key(text.as_deref().unwrap_or("?")), false),
            },
        }
    }

    fn register_anchor(&mut self, id: usize, name: Option<String>) {
        if id > 0 {
            self.anchors.insert(id, Anchor { name, node: None });
        }
    }

    fn scalar(
        &mut self,
        value: Cow<'_, str>,
        style: ParserStyle,
        anchor: usize,
        tag: Option<Cow<'_, Tag>>,
        start: usize,
        end: usize,
    ) -> (Node, Option<String>) {
        let src = self.src();
        let has_properties = anchor > 0 || tag.is_some();
        let (anchor_name, properties_end) = if has_properties {
            read_properties(src, start)
        } else {
            (None, start)
        };
        self.register_anchor(anchor, anchor_name.clone());
        let content = if has_properties {
            skip_space(src, properties_end)
        } else {
            start
        };
        let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
        let layout = match style {
            ParserStyle::Plain if value.is_empty() => {
                if has_properties {
                    scalar::coarse("", self.at.span(start, properties_end))
                } else {
                    let at = self.empty_value_position(start, end);
                    scalar::coarse("", self.at.span(at, at))
                }
            }
            ParserStyle::Plain if content < end => scalar::plain(self.at, &value, content, end),
            ParserStyle::Plain => scalar::coarse(&value, self.at.span(start, end)),
            ParserStyle::SingleQuoted => scalar::quoted(self.at, &value, content, false),
            ParserStyle::DoubleQuoted => scalar::quoted(self.at, &value, content, true),
            ParserStyle::Literal | ParserStyle::Folded => {
                let (from, to) = if has_properties {
                    (properties_end, end)
                } else {
                    (self.previous_end.min(start), start)
                };
                match find_block_header(src, from, to) {
                    Some(header) => {
                        // The parser's token ends where the next token starts; trim back to
                        // the last content character for the fallback.
                        let trimmed = src.get(..end).map_or(end, |s| s.trim_end().len());
                        let literal = style == ParserStyle::Literal;
                        scalar::block(self.at, &value, header, literal, trimmed)
                    }
                    None => scalar::coarse(&value, self.at.span(content, end)),
                }
            }
        };
        let style = match style {
            ParserStyle::Plain => ScalarStyle::Plain,
            ParserStyle::SingleQuoted => ScalarStyle::SingleQuoted,
            ParserStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
            ParserStyle::Literal => ScalarStyle::Literal,
            ParserStyle::Folded => ScalarStyle::Folded,
        };
        let is_null = style == ScalarStyle::Plain
            && match tag.as_deref() {
                None => matches!(&*value, "" | "~" | "null" | "Null" | "NULL"),
                Some(tag) => tag == NULL_TAG,
            };
        let (route, is_key) = self.next_route();
        let text = value.into_owned();
        let route = if is_key { route.key(&text) } else { route };
        let key_text = is_key.then(|| text.clone());
        let span = layout.span;
        let value = if is_null {
            Value::Null
        } else {
            Value::Scalar(Scalar {
                text,
                style,
                layout,
            })
        };
        let node = Node {
            span,
            route,
            tag,
            anchor: anchor_name,
            value,
        };
        (node, key_text)
    }

    /// Where an empty plain value sits: just after the `:`, `-` or `?` the parser points at.
    fn empty_value_position(&self, start: usize, end: usize) -> usize {
        let src = self.src();
        let text = src.get(start..end).unwrap_or("");
        if text.starts_with("---") || text.starts_with("...") {
            // An empty document: the parser points at the next document marker.
            return self.previous_end.min(start);
        }
        match src.as_bytes().get(start) {
            Some(b':' | b'-' | b'?') => start + 1,
            _ => start,
        }
    }

    fn open(
        &mut self,
        mapping: bool,
        anchor: usize,
        tag: Option<Cow<'_, Tag>>,
        start: usize,
    ) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.error(
                YamlErrorKind::Limit,
                format!("nesting is deeper than {} levels", self.limits.max_depth),
                start,
                start,
            ));
        }
        let src = self.src();
        let has_properties = anchor > 0 || tag.is_some();
        let (anchor_name, mut content) = if has_properties {
            let (name, end) = read_properties(src, start);
            (name, skip_space(src, end))
        } else {
            (None, start)
        };
        let flow = matches!(src.as_bytes().get(content), Some(b'[' | b'{'));
        if !mapping && !flow {
            content = find_dash(src, content);
        }
        self.register_anchor(anchor, anchor_name.clone());
        let (route, _) = self.next_route();
        let kind = if mapping {
            FrameKind::Mapping {
                entries: Vec::new(),
                key: None,
            }
        } else {
            FrameKind::Sequence(Vec::new())
        };
        self.stack.push(Frame {
            kind,
            start: content,
            flow,
            route,
            tag: tag.map(|t| format!("{}{}", t.handle, t.suffix)),
            anchor: (anchor > 0).then_some((anchor, anchor_name)),
            shape: Shape { size: 1, height: 1 },
            last_end: content,
        });
        Ok(())
    }

    fn close(&mut self, end: usize) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let end = if frame.flow { end } else { frame.last_end }.max(frame.start);
        let span = self.at.span(frame.start, end);
        let value = match frame.kind {
            FrameKind::Sequence(items) => Value::Sequence(items),
            FrameKind::Mapping { mut entries, key } => {
                if let Some((key, text)) = key {
                    // Not produced by the parser, but never lose a key.
                    let value = self.null_node(usize_of(key.span.end_byte));
                    entries.push((Entry { key, value }, text));
                }
                Value::Mapping(self.finish_mapping(entries, &frame.route))
            }
        };
        let (anchor_id, anchor_name) = match frame.anchor {
            Some((id, name)) => (Some(id), name),
            None => (None, None),
        };
        let node = Node {
            span,
            route: frame.route,
            tag: frame.tag,
            anchor: anchor_name,
            value,
        };
        self.attach(node, frame.shape, anchor_id, None);
    }

    fn alias(&mut self, id: usize, start: usize, end: usize) -> Result<(), YamlError> {
        let name = self.src().get(start..end).unwrap_or("*").to_owned();
        let Some(anchor) = self.anchors.get(&id) else {
            return Err(self.error(
                YamlErrorKind::Syntax,
                format!("alias `{name}` refers to an anchor of another document"),
                start,
                end,
            ));
        };
        let Some((node, shape)) = &anchor.node else {
            let anchor_name = anchor.name.as_deref().unwrap_or("?");
            return Err(self.error(
                YamlErrorKind::Syntax,
                format!("alias `{name}` is used inside the node anchored as `&{anchor_name}`"),
                start,
                end,
            ));
        };
        let shape = *shape;
        self.expanded = self.expanded.saturating_add(shape.size);
        if self.expanded > self.limits.max_alias_expansion {
            return Err(self.error(
                YamlErrorKind::Limit,
                format!(
                    "expanding aliases produces more than {} nodes",
                    self.limits.max_alias_expansion
                ),
                start,
                end,
            ));
        }
        if self.stack.len().saturating_add(shape.height) > self.limits.max_depth {
            return Err(self.error(
                YamlErrorKind::Limit,
                format!(
                    "expanding alias `{name}` nests deeper than {} levels",
                    self.limits.max_depth
                ),
                start,
                end,
            ));
        }
        let mut copy = node.clone();
        let (route, is_key) = self.next_route();
        let route = match scalar_text(&copy) {
            Some(text) if is_key => route.key(&text),
            _ => route,
        };
        reroute(&mut copy, route);
        self.attach(copy, shape, None, None);
        Ok(())
    }

    fn attach(
        &mut self,
        node: Node,
        shape: Shape,
        anchor: Option<usize>,
        key_text: Option<String>,
    ) {
        if let Some(anchor) = anchor.and_then(|id| self.anchors.get_mut(&id)) {
            anchor.node = Some((node.clone(), shape));
        }
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        frame.shape.size = frame.shape.size.saturating_add(shape.size);
        frame.shape.height = frame.shape.height.max(shape.height + 1);
        frame.last_end = frame.last_end.max(usize_of(node.span.end_byte));
        match &mut frame.kind {
            FrameKind::Sequence(items) => items.push(node),
            FrameKind::Mapping { entries, key } => match key.take() {
                None => {
                    let text = key_text.or_else(|| scalar_text(&node));
                    *key = Some((node, text));
                }
                Some((key, text)) => entries.push((Entry { key, value: node }, text)),
            },
        }
    }

    /// Warns about duplicate keys and applies merge keys.
    fn finish_mapping(&mut self, entries: Vec<(Entry, Option<String>)>, route: &Route) -> Mapping {
        let mut first_line: HashMap<&str, u32> = HashMap::new();
        let mut has_merge = false;
        for (entry, text) in &entries {
            if is_merge_key(entry, text.as_deref()) {
                has_merge = true;
                continue;
            }
            let Some(text) = text.as_deref() else {
                continue;
            };
            match first_line.get(text) {
                Some(line) => self.warnings.push(YamlWarning {
                    message: format!("duplicate key `{text}` (first defined on line {line})"),
                    span: entry.key.span,
                }),
                None => {
                    first_line.insert(text, entry.key.span.start_line);
                }
            }
        }
        if !has_merge {
            return Mapping {
                entries: entries.into_iter().map(|(entry, _)| entry).collect(),
            };
        }
        let explicit: HashSet<String> = first_line.into_keys().map(str::to_owned).collect();
        let mut merged: HashSet<String> = HashSet::new();
        let mut out = Vec::with_capacity(entries.len());
        for (entry, text) in entries {
            if !is_merge_key(&entry, text.as_deref()) || !is_mergeable(&entry.value) {
                out.push(entry);
                continue;
            }
            let sources = match entry.value.value {
                Value::Sequence(items) => items,
                other => vec![Node {
                    value: other,
                    ..entry.value
                }],
            };
            // Earlier sources win over later ones, explicit keys over all of them.
            for source in sources {
                let Value::Mapping(mapping) = source.value else {
                    continue;
                };
                for mut entry in mapping.entries {
                    match scalar_text(&entry.key) {
                        Some(key) => {
                            if explicit.contains(&key) || !merged.insert(key.clone()) {
                                continue;
                            }
                            let entry_route = route.key(&key);
                            reroute(&mut entry.key, entry_route.clone());
                            reroute(&mut entry.value, entry_route);
                        }
                        None => reroute(&mut entry.key, route.clone()),
                    }
                    out.push(entry);
                }
            }
        }
        Mapping { entries: out }
    }
}

fn usize_of(value: u32) -> usize {
    super::position::usize_from(value)
}

/// The text a key node contributes to routes and lookups (`""` for a null key).
fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        Value::Scalar(scalar) => Some(scalar.text.clone()),
        Value::Null => Some(String::new()),
        Value::Sequence(_) | Value::Mapping(_) => None,
    }
}

fn is_merge_key(entry: &Entry, text: Option<&str>) -> bool {
    text == Some("<<")
        && entry.key.tag.is_none()
        && matches!(&entry.key.value, Value::Scalar(s) if s.style == ScalarStyle::Plain)
}

/// A merge value must be a mapping or a sequence of mappings; anything else stays a plain entry.
fn is_mergeable(node: &Node) -> bool {
    match &node.value {
        Value::Mapping(_) => true,
        Value::Sequence(items) => items.iter().all(|i| i.as_mapping().is_some()),
        Value::Null | Value::Scalar(_) => false,
    }
}

/// Gives a copied subtree the routes of the place it is copied to.
fn reroute(node: &mut Node, route: Route) {
    match &mut node.value {
        Value::Sequence(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                reroute(item, route.index(index));
            }
        }
        Value::Mapping(mapping) => {
            for entry in &mut mapping.entries {
                match scalar_text(&entry.key) {
                    Some(key) => {
                        let entry_route = route.key(&key);
                        reroute(&mut entry.key, entry_route.clone());
                        reroute(&mut entry.value, entry_route);
                    }
                    None => {
                        reroute(&mut entry.key, route.clone());
                        reroute(&mut entry.value, route.key("?"));
                    }
                }
            }
        }
        Value::Null | Value::Scalar(_) => {}
    }
    node.route = route;
}

/// Reads the anchor and tag at `at`: the anchor name and where the properties end.
fn read_properties(src: &str, at: usize) -> (Option<String>, usize) {
    let bytes = src.as_bytes();
    let mut anchor = None;
    let mut end = at;
    let mut i = at;
    for _ in 0..2 {
        i = skip_space(src, i);
        match bytes.get(i) {
            Some(b'&') => {
                let name_start = i + 1;
                let name_end = src
                    .get(name_start..)
                    .and_then(|rest| rest.find(|c: char| !is_anchor_char(c)))
                    .map_or(src.len(), |len| name_start + len);
                anchor = src.get(name_start..name_end).map(str::to_owned);
                i = name_end;
            }
            Some(b'!') => {
                let rest = src.get(i..).unwrap_or("");
                let len = if rest.starts_with("!<") {
                    rest.find('>').map_or(rest.len(), |close| close + 1)
                } else {
                    rest.find(|c: char| {
                        c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}')
                    })
                    .unwrap_or(rest.len())
                };
                i += len;
            }
            _ => break,
        }
        end = i;
    }
    (anchor, end)
}

fn is_anchor_char(c: char) -> bool {
    !matches!(
        c,
        ' ' | '\t' | '\r' | '\n' | '\u{feff}' | ',' | '[' | ']' | '{' | '}'
    )
}

/// Skips whitespace, line breaks and comments.
fn skip_space(src: &str, at: usize) -> usize {
    let bytes = src.as_bytes();
    let mut i = at;
    loop {
        match bytes.get(i) {
            Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
            Some(b'#') => {
                i = src
                    .get(i..)
                    .and_then(|rest| rest.find('\n'))
                    .map_or(src.len(), |len| i + len);
            }
            _ => return i,
        }
    }
}

/// Finds the `|` or `>` of a block scalar between the end of the previous token and `to`.
fn find_block_header(src: &str, from: usize, to: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut i = from;
    loop {
        i = skip_space(src, i);
        if i > to {
            return None;
        }
        match bytes.get(i)? {
            b'|' | b'>' => return Some(i),
            b':' | b'-' | b'?' => i += 1,
            b'&' | b'!' => {
                let (_, end) = read_properties(src, i);
                if end <= i {
                    return None;
                }
                i = end;
            }
            _ => return None,
        }
    }
}

/// The `-` that starts a block sequence whose parser position is `at` (it may point at the
/// dash, just after it, or at the whitespace before it).
fn find_dash(src: &str, at: usize) -> usize {
    let bytes = src.as_bytes();
    if bytes.get(at) == Some(&b'-') {
        return at;
    }
    let mut back = at;
    while back > 0 && matches!(bytes.get(back - 1), Some(b' ' | b'\t')) {
        back -= 1;
    }
    if back > 0 && bytes.get(back - 1) == Some(&b'-') {
        return back - 1;
    }
    let forward = skip_space(src, at);
    if bytes.get(forward) == Some(&b'-') {
        forward
    } else {
        at
    }
}
