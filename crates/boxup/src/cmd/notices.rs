//! One-line notices on stderr for the client library's warnings, above all
//! its `retrying` events: without them an unreachable or silent server
//! makes a command hang without a word for as long as the retries last
//! (up to 5 attempts with growing pauses, each attempt waiting up to the
//! request timeout).
//!
//! `boxup-client` offers no retry callback, but it logs every retry with
//! `tracing::warn!(error, delay, "retrying")`. So, unless `RUST_LOG` asks
//! for full logs, the client commands install this layer: it keeps the
//! library's warnings and prints each as
//! `boxup: GET http://…/2.0/folders/0/items failed: error sending request; retrying in 2.1s`.

use std::fmt::{Debug, Write as _};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// Installs the notice layer as the global subscriber.
pub(crate) fn install() {
    let _ = tracing_subscriber::registry().with(Notices).try_init();
}

struct Notices;

impl<S: Subscriber> Layer<S> for Notices {
    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        wanted(meta)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if !wanted(event.metadata()) {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        super::progress::say_anywhere(&fields.line());
    }
}

fn wanted(meta: &Metadata<'_>) -> bool {
    *meta.level() <= Level::WARN && meta.target().starts_with("boxup_client")
}

#[derive(Default)]
struct Fields {
    message: String,
    error: Option<String>,
    delay: Option<String>,
    other: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let text = format!("{value:?}");
        match field.name() {
            "message" => self.message = text,
            "error" => self.error = Some(compact(&text)),
            "delay" => self.delay = delay(&text),
            name => {
                let _ = write!(self.other, ", {name} {text}");
            }
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &format_args!("{value}"));
    }
}

impl Fields {
    fn line(&self) -> String {
        let wait = self
            .delay
            .as_ref()
            .map_or(String::new(), |d| format!(" in {d}"));
        match (self.message.as_str(), &self.error) {
            ("retrying", Some(e)) => format!("boxup: {e}; retrying{wait}"),
            (m, Some(e)) => format!("boxup: {m}{wait} ({e}{})", self.other),
            (m, None) => format!("boxup: {m}{wait}{}", self.other),
        }
    }
}

/// reqwest's "error sending request for url (URL)" repeats the URL the
/// client's own text already names.
fn compact(error: &str) -> String {
    let mut out = error.to_owned();
    while let Some(start) = out.find(" for url (") {
        let end = out[start..].find(')').map_or(out.len(), |i| start + i + 1);
        out.replace_range(start..end, "");
    }
    // Nor does a notice need the query string (`?fields=...`).
    while let Some(start) = out.find('?') {
        let end = out[start..].find(' ').map_or(out.len(), |i| start + i);
        out.replace_range(start..end, "");
    }
    out
}

/// `1.234567s` or `Some(1.234567s)` (a `Duration`'s or an
/// `Option<Duration>`'s Debug) as `1.2s`.
fn delay(debug: &str) -> Option<String> {
    let d = debug
        .strip_prefix("Some(")
        .and_then(|d| d.strip_suffix(')'))
        .unwrap_or(debug);
    let secs = if let Some(ms) = d.strip_suffix("ms") {
        ms.parse::<f64>().ok()? / 1e3
    } else if let Some(us) = d.strip_suffix("µs") {
        us.parse::<f64>().ok()? / 1e6
    } else if let Some(ns) = d.strip_suffix("ns") {
        ns.parse::<f64>().ok()? / 1e9
    } else {
        d.strip_suffix('s')?.parse::<f64>().ok()?
    };
    Some(format!(
        "{:.1}s",
        Duration::from_secs_f64(secs).as_secs_f64()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_one_short_line() {
        let f = Fields {
            message: "retrying".into(),
            error: Some(compact(
                "GET http://h/2.0/x?a=1 failed: error sending request for url (http://h/2.0/x?a=1)",
            )),
            delay: delay("Some(1.23456s)"),
            other: String::new(),
        };
        assert_eq!(
            f.line(),
            "boxup: GET http://h/2.0/x failed: error sending request; retrying in 1.2s"
        );
        assert_eq!(delay("Some(500ms)").as_deref(), Some("0.5s"));
        assert_eq!(delay("2.04s").as_deref(), Some("2.0s"));
        assert_eq!(delay("None"), None);
    }
}
