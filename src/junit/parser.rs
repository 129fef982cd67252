//! The streaming pass over a report: one event at a time from quick-xml, one case built at a
//! time, each handed to the [`Collector`] and dropped. Memory is the kept cases plus one case
//! being read, whatever the report's size.

use std::io::BufRead;
use std::time::Duration;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use super::attrs;
use super::case::CaseBuilder;
use super::collect::Collector;
use super::error::JunitError;
use super::input::Input;
use super::model::{Limits, Outcome, Report};

/// Deeper nesting than any real report has (suites in suites rarely pass 5); past it the
/// input is treated as malformed rather than letting the element stack grow.
const MAX_DEPTH: usize = 256;
/// A read buffer grown past this by one huge element is given back afterwards.
const BUF_KEEP: usize = 1 << 20;

/// What an open element means to the parser.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    /// `<testsuites>` or `<testsuite>`; `zero_based` when inside pytest's suite, whose
    /// `line` attributes count from 0.
    Suite {
        zero_based: bool,
    },
    Case,
    /// `<failure>` or `<error>` of the current case: its text is captured.
    Failure,
    /// Anything else (`<properties>`, `<system-out>`, retries' children): content ignored.
    Other,
}

pub(crate) fn parse<R: BufRead>(source: R, limits: &Limits) -> Result<Report, JunitError> {
    let mut reader = Reader::from_reader(Input::new(source, limits.max_bytes));
    let mut parser = Parser {
        limits,
        collector: Collector::new(limits),
        stack: Vec::new(),
        case: None,
        root_seen: false,
        wall_time: None,
        child_suite_time: None,
        case_time: Duration::ZERO,
    };
    let mut buf = Vec::new();
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) => {
                if reader.get_ref().exceeded() {
                    return Err(JunitError::TooLarge {
                        limit: limits.max_bytes,
                    });
                }
                return Err(malformed(&reader, reader.error_position(), e.to_string()));
            }
        };
        let step = match event {
            Event::Start(e) => parser.open(&e, false),
            Event::Empty(e) => parser.open(&e, true),
            Event::End(_) => {
                parser.close();
                Ok(())
            }
            Event::Text(t) => {
                parser.text(&t.xml10_content());
                Ok(())
            }
            Event::CData(t) => {
                parser.text(&t.xml10_content());
                Ok(())
            }
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                match r.resolve_char_ref() {
                    Ok(Some(c)) => parser.text(c.encode_utf8(&mut [0; 4])),
                    _ => match resolve_predefined_entity(&name) {
                        Some(s) => parser.text(s),
                        None => parser.text(&format!("&{name};")),
                    },
                }
                Ok(())
            }
            Event::Eof => break,
            _ => Ok(()),
        };
        if let Err(message) = step {
            return Err(malformed(&reader, reader.buffer_position(), message));
        }
        buf.clear();
        if buf.capacity() > BUF_KEEP {
            buf.shrink_to(BUF_KEEP / 16);
        }
    }
    if !parser.stack.is_empty() {
        let message = "the report ends before its elements are closed".to_owned();
        return Err(malformed(&reader, reader.buffer_position(), message));
    }
    if !parser.root_seen {
        let message = "no <testsuites> or <testsuite> element".to_owned();
        return Err(malformed(&reader, reader.buffer_position(), message));
    }
    let wall = parser.wall_time.or(parser.child_suite_time);
    Ok(parser.collector.finish(wall, parser.case_time))
}

fn malformed<R: BufRead>(reader: &Reader<Input<R>>, offset: u64, message: String) -> JunitError {
    let (line, column) = reader.get_ref().line_column(offset);
    JunitError::Malformed {
        line,
        column,
        offset,
        message,
    }
}

struct Parser<'l> {
    limits: &'l Limits,
    collector: Collector<'l>,
    stack: Vec<Open>,
    case: Option<CaseBuilder>,
    root_seen: bool,
    /// The root element's `time`: the run's wall time.
    wall_time: Option<Duration>,
    /// The sum of the root's child suites' times, for a `<testsuites>` root without one.
    child_suite_time: Option<Duration>,
    case_time: Duration,
}

impl Parser<'_> {
    fn open(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("elements nested deeper than {MAX_DEPTH}"));
        }
        let local = e.local_name();
        let tag = local.as_ref();
        let parent = self.stack.last().copied();
        let open = match (parent, tag) {
            (None, "testsuites" | "testsuite") if !self.root_seen => {
                self.root_seen = true;
                let a = attrs::read(e, self.limits.max_field_bytes)?;
                self.wall_time = a.time;
                self.suite(tag, &a, false)
            }
            (None, _) if self.root_seen => return Err("a second root element".to_owned()),
            (None, _) => {
                let name = tag;
                return Err(format!(
                    "root element is <{name}>, not <testsuites> or <testsuite>"
                ));
            }
            (Some(Open::Suite { zero_based }), "testsuite" | "testsuites") => {
                let a = attrs::read(e, self.limits.max_field_bytes)?;
                if self.stack.len() == 1
                    && let Some(t) = a.time
                {
                    self.child_suite_time = Some(self.child_suite_time.unwrap_or_default() + t);
                }
                self.suite(tag, &a, zero_based)
            }
            (Some(Open::Suite { zero_based }), "testcase") => {
                let a = attrs::read(e, self.limits.max_field_bytes)?;
                self.case = Some(CaseBuilder::new(a, zero_based));
                Open::Case
            }
            (Some(Open::Case), _) => self.case_child(e, tag)?,
            _ => Open::Other,
        };
        if empty {
            self.push_and_close(open);
        } else {
            self.stack.push(open);
        }
        Ok(())
    }

    fn suite(&mut self, tag: &str, a: &attrs::Attrs, inherited: bool) -> Open {
        if tag == "testsuite" {
            self.collector.suite();
        }
        let pytest = tag == "testsuite" && a.name.as_deref() == Some("pytest");
        Open::Suite {
            zero_based: inherited || pytest,
        }
    }

    fn case_child(&mut self, e: &BytesStart<'_>, tag: &str) -> Result<Open, String> {
        let Some(case) = self.case.as_mut() else {
            return Ok(Open::Other);
        };
        let outcome = match tag {
            "failure" => Outcome::Failed,
            "error" => Outcome::Error,
            "skipped" => Outcome::Skipped,
            "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError" => {
                case.retries = case.retries.saturating_add(1);
                return Ok(Open::Other);
            }
            _ => return Ok(Open::Other),
        };
        let a = attrs::read(e, self.limits.max_field_bytes)?;
        Ok(if case.set_outcome(outcome, a.message) {
            Open::Failure
        } else {
            Open::Other
        })
    }

    fn push_and_close(&mut self, open: Open) {
        self.stack.push(open);
        self.close();
    }

    fn close(&mut self) {
        if self.stack.pop() == Some(Open::Case)
            && let Some(builder) = self.case.take()
        {
            let case = builder.finish(self.limits);
            self.case_time += case.time;
            self.collector.case(case);
        }
    }

    fn text(&mut self, text: &str) {
        if self.stack.last() == Some(&Open::Failure)
            && let Some(case) = self.case.as_mut()
        {
            case.push_text(text, self.limits.max_text_bytes);
        }
    }
}
