//! Logging to the host. The host caps and rate-limits what a pack may log; natively (in unit
//! tests) messages go to standard error.

/// Importance of a log message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
}

/// Sends `message` to the host's log.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        use crate::__private::sluice::pack::host;
        let level = match level {
            Level::Debug => host::LogLevel::Debug,
            Level::Info => host::LogLevel::Info,
            Level::Warn => host::LogLevel::Warn,
        };
        host::log(level, message);
    }
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[pack {level:?}] {message}");
}

/// Logs at debug level.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Logs at info level.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Logs at warn level.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}
