//! The API token, kept out of every log line, error and `Debug` output.

use std::fmt;

/// A GitHub token. Its `Debug` and `Display` print a placeholder, so a token that ends up in a
/// formatted error or a trace is still not disclosed.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// A token from text read from a file or the environment: surrounding whitespace (the
    /// newline a file ends with) is dropped; empty text is no token.
    pub fn new(text: &str) -> Option<Token> {
        let trimmed = text.trim();
        (!trimmed.is_empty()).then(|| Token(trimmed.to_owned()))
    }

    /// The secret itself, for the one place that sends it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_print() {
        let token = Token::new(" ghp_secret\n").expect("non-empty");
        assert_eq!(token.expose(), "ghp_secret");
        assert!(!format!("{token:?} {token}").contains("ghp_secret"));
        assert!(Token::new(" \n").is_none());
    }
}
