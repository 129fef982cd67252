//! Following the step container's log as it is written, line by line, into [`Reports`] (which
//! passes ordinary lines to the step's log). The stream is opened once the container has
//! started; it ends when the container does. A server that keeps the stream open past the
//! Job's end is not waited for longer than a short idle time.

use std::pin::pin;
use std::time::Duration;

use futures_util::io::{AsyncBufRead, AsyncBufReadExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::job::CONTAINER;
use super::reports::Reports;

/// A line longer than this is passed on in pieces, so a log without line breaks cannot take
/// the server's memory.
const MAX_LINE: usize = 64 * 1024;

/// Waits for the pod whose container started (sent by the status poll), then follows its log
/// until it ends, or until it stays idle for `drain` after `finished`.
pub async fn follow(
    pods: &Api<Pod>,
    mut started: watch::Receiver<Option<String>>,
    finished: &CancellationToken,
    drain: Duration,
    reports: &mut Reports<'_>,
) {
    let pod = loop {
        if let Some(pod) = started.borrow_and_update().clone() {
            break pod;
        }
        tokio::select! {
            changed = started.changed() => if changed.is_err() { return },
            () = finished.cancelled() => {
                match started.borrow().clone() {
                    Some(pod) => break pod,
                    None => return,
                }
            }
        }
    };
    let params = LogParams {
        container: Some(CONTAINER.to_owned()),
        follow: true,
        ..LogParams::default()
    };
    let stream = match pods.log_stream(&pod, &params).await {
        Ok(stream) => stream,
        Err(e) => {
            reports.log_note(&format!("cannot read the log of pod {pod}: {e}"));
            return;
        }
    };
    let mut stream = pin!(stream);
    let mut lines = Lines::default();
    loop {
        let idle = async {
            finished.cancelled().await;
            tokio::time::sleep(drain).await;
        };
        let read = tokio::select! {
            read = stream.fill_buf() => read.map(|chunk| {
                let complete = lines.push(chunk);
                (chunk.len(), complete)
            }),
            () = idle => break,
        };
        match read {
            Ok((0, _)) => break,
            Ok((used, complete)) => {
                stream.as_mut().consume(used);
                for line in complete {
                    reports.line(&line).await;
                }
            }
            Err(e) => {
                reports.log_note(&format!("the log of pod {pod} broke off: {e}"));
                break;
            }
        }
    }
    if let Some(rest) = lines.rest() {
        reports.line(&rest).await;
    }
    reports.finish();
}

/// Bytes to lines, across chunk boundaries. Invalid UTF-8 is replaced, not fatal.
#[derive(Default)]
struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    /// The lines `chunk` completes, without their line breaks.
    fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        let mut complete = Vec::new();
        for &byte in chunk {
            if byte == b'\n' {
                complete.push(self.take());
            } else {
                self.partial.push(byte);
                if self.partial.len() >= MAX_LINE {
                    complete.push(self.take());
                }
            }
        }
        complete
    }

    /// What is left after the last line break.
    fn rest(&mut self) -> Option<String> {
        (!self.partial.is_empty()).then(|| self.take())
    }

    fn take(&mut self) -> String {
        let bytes = std::mem::take(&mut self.partial);
        let text = String::from_utf8_lossy(&bytes);
        text.strip_suffix('\r').unwrap_or(&text).to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_joined_across_chunks_and_the_rest_is_kept() {
        let mut lines = Lines::default();
        assert_eq!(lines.push(b"one\ntw"), vec!["one"]);
        assert_eq!(lines.push(b"o\r\nthr"), vec!["two"]);
        assert_eq!(lines.rest().as_deref(), Some("thr"));
        assert_eq!(lines.rest(), None);
    }

    #[test]
    fn a_line_without_breaks_is_cut_into_pieces() {
        let mut lines = Lines::default();
        let long = vec![b'x'; MAX_LINE + 10];
        let complete = lines.push(&long);
        assert_eq!(complete.len(), 1);
        assert_eq!(complete[0].len(), MAX_LINE);
        assert_eq!(lines.rest().map(|r| r.len()), Some(10));
    }
}
