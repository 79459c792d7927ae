//! Just enough shell parsing to see which commands a CI script runs, shared by every pack.
//!
//! This is not a shell: it splits a script into simple commands at `;`, `&&`, `||`, `|`, `&`,
//! newlines and parentheses, removes quotes, skips comments and here-document bodies, and
//! keeps `${{ … }}`, `$( … )`, `${ … }` and backquotes inside the word they appear in. That is
//! what the rules need to ask "does this script run `npm install`, and where?" without being
//! fooled by `# npm install` comments, `echo "make"` arguments or here-documents.
//!
//! [`download`] finds download-then-execute (`curl … | sh`), [`reeval`] finds shell variables
//! that reach a second evaluation (`eval "$X"`, `bash -c "… $X"`): the two script questions
//! every platform's rules ask the same way.

pub mod download;
pub mod reeval;

use std::ops::Range;

/// One simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command<'s> {
    /// Bytes of the script from the first word to the end of the last.
    pub range: Range<usize>,
    pub words: Vec<Word<'s>>,
}

/// One word of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word<'s> {
    /// As written, quotes included.
    pub raw: &'s str,
    pub range: Range<usize>,
    /// With quotes and backslash escapes removed.
    pub text: String,
}

/// Words that precede the program without being it.
const PREFIXES: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "time", "{", "}", "exec", "nohup",
    "command", "builtin", "eval", "xvfb-run",
];

impl<'s> Command<'s> {
    /// Index of the word that is the program being run, after assignments (`CI=1 make`),
    /// keywords (`then make`) and wrappers (`sudo -E make`, `env X=1 make`, `timeout 5m make`).
    pub fn program_index(&self) -> Option<usize> {
        let mut index = 0;
        while let Some(word) = self.words.get(index) {
            let text = word.text.as_str();
            if is_assignment(text) || PREFIXES.contains(&text) {
                index += 1;
            } else if text == "sudo" || text == "env" {
                index += 1;
                while self
                    .words
                    .get(index)
                    .is_some_and(|w| w.text.starts_with('-') || is_assignment(&w.text))
                {
                    index += 1;
                }
            } else if text == "timeout" {
                index += 1;
                while self
                    .words
                    .get(index)
                    .is_some_and(|w| w.text.starts_with('-'))
                {
                    index += 1;
                }
                // The duration.
                index += 1;
            } else {
                return Some(index);
            }
        }
        None
    }

    pub fn program(&self) -> Option<&Word<'s>> {
        self.words.get(self.program_index()?)
    }

    /// The words after the program.
    pub fn args(&self) -> &[Word<'s>] {
        match self.program_index() {
            Some(index) => &self.words[index + 1..],
            None => &[],
        }
    }

    /// `program arg1 arg2 …` with quotes removed, for messages and prefix matching.
    pub fn text(&self) -> String {
        let start = self.program_index().unwrap_or(0);
        self.words[start..]
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `NAME=value`.
fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else {
        return false;
    };
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Splits `script` into simple commands, in order.
pub fn commands(script: &str) -> Vec<Command<'_>> {
    Splitter::new(script).run()
}

struct Splitter<'s> {
    script: &'s str,
    bytes: &'s [u8],
    at: usize,
    commands: Vec<Command<'s>>,
    words: Vec<Word<'s>>,
    /// Here-document delimiters whose bodies start at the next line.
    pending_heredocs: Vec<String>,
    /// The previous word was a `<<` operator, so this one is a delimiter.
    expect_delimiter: bool,
}

impl Splitter<'_> {
    /// Inside `[[ … ]]`, where `&&`, `||`, `(`, `)`, `<` and `>` are operators of the test,
    /// not command separators or redirections.
    fn in_test(&self) -> bool {
        self.words
            .iter()
            .rposition(|w| w.raw == "[[")
            .is_some_and(|open| !self.words[open..].iter().any(|w| w.raw == "]]"))
    }

    /// Keeps a test operator as a word of the `[[ … ]]` command.
    fn test_operator(&mut self) {
        let start = self.at;
        let len = match &self.script[start..] {
            rest if rest.starts_with("&&") || rest.starts_with("||") => 2,
            _ => 1,
        };
        self.at += len;
        let raw = &self.script[start..self.at];
        self.words.push(Word {
            raw,
            range: start..self.at,
            text: raw.to_owned(),
        });
    }
}

impl<'s> Splitter<'s> {
    fn new(script: &'s str) -> Splitter<'s> {
        Splitter {
            script,
            bytes: script.as_bytes(),
            at: 0,
            commands: Vec::new(),
            words: Vec::new(),
            pending_heredocs: Vec::new(),
            expect_delimiter: false,
        }
    }

    fn run(mut self) -> Vec<Command<'s>> {
        while self.at < self.bytes.len() {
            match self.bytes[self.at] {
                b' ' | b'\t' | b'\r' => self.at += 1,
                b'\\' if self.bytes.get(self.at + 1) == Some(&b'\n') => self.at += 2,
                b'\n' => {
                    self.end_command();
                    self.at += 1;
                    self.skip_heredoc_bodies();
                }
                b'&' | b'|' | b'(' | b')' | b'<' | b'>' if self.in_test() => self.test_operator(),
                b';' | b'&' | b'|' | b'(' | b')' => {
                    self.end_command();
                    self.at += 1;
                }
                b'#' => {
                    while self.at < self.bytes.len() && self.bytes[self.at] != b'\n' {
                        self.at += 1;
                    }
                }
                b'<' | b'>' => self.redirection(),
                _ => self.word(),
            }
        }
        self.end_command();
        self.commands
    }

    fn end_command(&mut self) {
        if self.words.is_empty() {
            return;
        }
        let words = std::mem::take(&mut self.words);
        let range = words[0].range.start..words[words.len() - 1].range.end;
        self.commands.push(Command { range, words });
        self.expect_delimiter = false;
    }

    /// `>`, `>>`, `2>&1`, `<<EOF`, `<<-EOF`: not words of the command, but a here-document
    /// operator makes the next word a delimiter.
    fn redirection(&mut self) {
        let start = self.at;
        while self.at < self.bytes.len() && matches!(self.bytes[self.at], b'<' | b'>') {
            self.at += 1;
        }
        let operator = &self.script[start..self.at];
        if self.bytes.get(self.at) == Some(&b'&') {
            // `>&2`, `2>&-`: duplicates a descriptor, no file name follows.
            self.at += 1;
            while self.at < self.bytes.len()
                && (self.bytes[self.at].is_ascii_digit() || self.bytes[self.at] == b'-')
            {
                self.at += 1;
            }
            return;
        }
        if operator == "<<" {
            if self.bytes.get(self.at) == Some(&b'-') {
                self.at += 1;
            }
            self.expect_delimiter = true;
        }
        // A redirection target is a file name, not an argument: consume it too.
        while self.at < self.bytes.len() && matches!(self.bytes[self.at], b' ' | b'\t') {
            self.at += 1;
        }
        if self.at < self.bytes.len() && !matches!(self.bytes[self.at], b'\n' | b';' | b'&' | b'|')
        {
            let word = self.scan_word();
            if std::mem::take(&mut self.expect_delimiter) {
                self.pending_heredocs.push(word.text);
            }
        }
    }

    fn word(&mut self) {
        let word = self.scan_word();
        // The `2` of `2>&1` names a descriptor; it is not an argument.
        let descriptor = matches!(self.bytes.get(self.at), Some(b'<' | b'>'))
            && word.raw.bytes().all(|b| b.is_ascii_digit());
        if !descriptor {
            self.words.push(word);
        }
    }

    /// Reads one word at `self.at`.
    fn scan_word(&mut self) -> Word<'s> {
        let start = self.at;
        let mut text = String::new();
        while self.at < self.bytes.len() {
            let rest = &self.script[self.at..];
            if rest.starts_with("${{") {
                let end = rest.find("}}").map_or(rest.len(), |i| i + 2);
                text.push_str(&rest[..end]);
                self.at += end;
                continue;
            }
            match self.bytes[self.at] {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>' => {
                    break;
                }
                b'\'' => match rest[1..].find('\'') {
                    Some(close) => {
                        text.push_str(&rest[1..=close]);
                        self.at += close + 2;
                    }
                    None => {
                        text.push_str(&rest[1..]);
                        self.at += rest.len();
                    }
                },
                b'"' => {
                    self.at += 1;
                    self.double_quoted(&mut text);
                }
                b'\\' => {
                    let next = rest[1..].chars().next();
                    if let Some(next) = next {
                        if next != '\n' {
                            text.push(next);
                        }
                        self.at += 1 + next.len_utf8();
                    } else {
                        self.at += 1;
                    }
                }
                b'$' if matches!(self.bytes.get(self.at + 1), Some(b'(') | Some(b'{')) => {
                    let end = self.balanced(self.at + 1);
                    text.push_str(&self.script[self.at..end]);
                    self.at = end;
                }
                b'`' => {
                    let end = rest[1..].find('`').map_or(rest.len(), |i| i + 2);
                    text.push_str(&rest[..end]);
                    self.at += end;
                }
                _ => {
                    let c = rest.chars().next().unwrap_or(' ');
                    text.push(c);
                    self.at += c.len_utf8();
                }
            }
        }
        Word {
            raw: &self.script[start..self.at],
            range: start..self.at,
            text,
        }
    }

    /// Inside `"…"` (opening quote consumed): keeps `$…` forms, resolves `\"` and `\\`.
    fn double_quoted(&mut self, text: &mut String) {
        while self.at < self.bytes.len() {
            let rest = &self.script[self.at..];
            if rest.starts_with("${{") {
                let end = rest.find("}}").map_or(rest.len(), |i| i + 2);
                text.push_str(&rest[..end]);
                self.at += end;
                continue;
            }
            match self.bytes[self.at] {
                b'"' => {
                    self.at += 1;
                    return;
                }
                b'\\'
                    if matches!(
                        self.bytes.get(self.at + 1),
                        Some(b'"' | b'\\' | b'$' | b'`')
                    ) =>
                {
                    text.push(char::from(self.bytes[self.at + 1]));
                    self.at += 2;
                }
                b'$' if matches!(self.bytes.get(self.at + 1), Some(b'(') | Some(b'{')) => {
                    let end = self.balanced(self.at + 1);
                    text.push_str(&self.script[self.at..end]);
                    self.at = end;
                }
                _ => {
                    let c = rest.chars().next().unwrap_or(' ');
                    text.push(c);
                    self.at += c.len_utf8();
                }
            }
        }
    }

    /// End (exclusive) of the bracketed group opening at `open`, honouring quotes.
    fn balanced(&self, open: usize) -> usize {
        let (opening, closing) = match self.bytes[open] {
            b'(' => (b'(', b')'),
            _ => (b'{', b'}'),
        };
        let mut depth = 0usize;
        let mut i = open;
        let mut quote: Option<u8> = None;
        while i < self.bytes.len() {
            let b = self.bytes[i];
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) if b == b'\\' => i += 1,
                Some(_) => {}
                None if b == b'\'' || b == b'"' => quote = Some(b),
                None if b == opening => depth += 1,
                None if b == closing => {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                None => {}
            }
            i += 1;
        }
        self.bytes.len()
    }

    /// After a newline: skip the bodies of here-documents opened on the previous line.
    fn skip_heredoc_bodies(&mut self) {
        let pending = std::mem::take(&mut self.pending_heredocs);
        for delimiter in pending {
            while self.at < self.bytes.len() {
                let end = self.script[self.at..]
                    .find('\n')
                    .map_or(self.bytes.len(), |i| self.at + i);
                let line = self.script[self.at..end].trim();
                self.at = (end + 1).min(self.bytes.len());
                if line == delimiter {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programs(script: &str) -> Vec<String> {
        commands(script).iter().map(Command::text).collect()
    }

    #[test]
    fn splits_on_operators_and_lines() {
        assert_eq!(
            programs("cd app && npm ci; npm test || exit 1\nmake | tee log &\n"),
            ["cd app", "npm ci", "npm test", "exit 1", "make", "tee log"]
        );
    }

    #[test]
    fn skips_comments_prefixes_and_heredocs() {
        let script = "# npm install\nCI=1 sudo -E make build # comment\ncat <<'EOF' > out.txt\nnpm install\nEOF\nif ./run.sh; then echo ok; fi\n";
        assert_eq!(
            programs(script),
            ["make build", "cat", "./run.sh", "echo ok", "fi"]
        );
    }

    #[test]
    fn keeps_quotes_and_expressions_in_words() {
        let script =
            "echo \"a && b\" '${{ x || y }}' ${{ github.event.issue.title || 'a;b' }} $(make x; y)";
        let parsed = commands(script);
        assert_eq!(parsed.len(), 1);
        let words: Vec<&str> = parsed[0].words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(
            words,
            [
                "echo",
                "a && b",
                "${{ x || y }}",
                "${{ github.event.issue.title || 'a;b' }}",
                "$(make x; y)"
            ]
        );
        assert_eq!(&script[parsed[0].words[1].range.clone()], "\"a && b\"");
    }

    #[test]
    fn ranges_point_into_the_script() {
        let script = "  git fetch origin pull/1/head:pr \\\n    --depth 1\n  git checkout pr\n";
        let parsed = commands(script);
        assert_eq!(parsed.len(), 2);
        assert_eq!(
            &script[parsed[1].range.clone()],
            "git checkout pr",
            "second command"
        );
        assert_eq!(parsed[0].words.last().map(|w| w.text.as_str()), Some("1"));
    }

    #[test]
    fn double_bracket_tests_are_one_command() {
        let script = "if [[ $A == x && ( $B < y || -z $C ) ]]; then $B run; fi";
        assert_eq!(
            programs(script),
            ["[[ $A == x && ( $B < y || -z $C ) ]]", "$B run", "fi"],
            "`if` is a prefix, the test is the program"
        );
    }

    #[test]
    fn wrappers() {
        assert_eq!(
            commands("timeout 10m env -i A=b ./gradlew build")[0]
                .program()
                .map(|w| w.text.as_str()),
            Some("./gradlew")
        );
        assert_eq!(commands("( cd x && make )")[1].text(), "make");
    }
}
