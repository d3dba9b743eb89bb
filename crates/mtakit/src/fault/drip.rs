//! [`DripIo`]: the stream of one connection served with a fault plan, which
//! writes the replies after a [`Action::Drip`](super::Action::Drip) rule
//! fired one octet at a time.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// The drip pace one connection's policy sets and its stream takes: the
/// state the two share, and nothing else does.
#[derive(Debug, Default)]
pub(crate) struct DripState {
    /// The pace of the next flush in nanoseconds plus one; 0 for none.
    pace: AtomicU64,
}

impl DripState {
    /// Drips the replies of the next flush at `pace`.
    pub(crate) fn set(&self, pace: Duration) {
        let nanos = u64::try_from(pace.as_nanos()).unwrap_or(u64::MAX - 1);
        self.pace.store(nanos + 1, Ordering::Release);
    }

    /// Takes the pace set for the next flush.
    fn take(&self) -> Option<Duration> {
        match self.pace.swap(0, Ordering::AcqRel) {
            0 => None,
            n => Some(Duration::from_nanos(n - 1)),
        }
    }
}

/// The stream of one connection served with a [`FaultPlan`](super::FaultPlan)
/// (its [`MakePolicy::Io`](crate::MakePolicy::Io)): reads and writes pass
/// through, except that after a `Drip` rule fired, the writes up to the next
/// flush (the replies to that command) go out one octet at a time, `pace`
/// apart. The flush waits for the last pause. A drip longer than the
/// command timeout ends the connection with a write timeout.
#[derive(Debug)]
pub struct DripIo<IO> {
    inner: IO,
    state: Arc<DripState>,
    /// The pace of the writes in progress, taken at the first write.
    pace: Option<Duration>,
    /// The pause after the last octet written.
    pause: Option<Pin<Box<Sleep>>>,
}

impl<IO> DripIo<IO> {
    pub(crate) fn new(inner: IO, state: Arc<DripState>) -> Self {
        Self {
            inner,
            state,
            pace: None,
            pause: None,
        }
    }

    /// Waits out the pause after the last octet.
    fn poll_pause(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(pause) = self.pause.as_mut() {
            ready!(pause.as_mut().poll(cx));
            self.pause = None;
        }
        Poll::Ready(())
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for DripIo<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for DripIo<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pace.is_none() {
            this.pace = this.state.take();
        }
        let Some(pace) = this.pace else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        ready!(this.poll_pause(cx));
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..1]))?;
        this.pause = Some(Box::pin(tokio::time::sleep(pace)));
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_pause(cx));
        ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
        // The replies the drip was set for are out.
        this.pace = None;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_drip_paces_the_writes_up_to_the_next_flush_only() {
        let (mut client, server) = tokio::io::duplex(64);
        let state = Arc::new(DripState::default());
        let mut io = DripIo::new(server, state.clone());
        let mut buf = [0u8; 64];

        io.write_all(b"250 at once\r\n").await.unwrap();
        io.flush().await.unwrap();
        assert_eq!(client.read(&mut buf).await.unwrap(), 13);

        state.set(Duration::from_millis(10));
        let start = tokio::time::Instant::now();
        let writer = tokio::spawn(async move {
            io.write_all(b"250 OK\r\n").await.unwrap();
            io.flush().await.unwrap();
            io
        });
        let mut got = Vec::new();
        while got.len() < 8 {
            let n = client.read(&mut buf).await.unwrap();
            assert_eq!(n, 1, "one octet at a time");
            got.extend_from_slice(&buf[..n]);
        }
        let mut io = writer.await.unwrap();
        assert_eq!(got, b"250 OK\r\n");
        assert_eq!(start.elapsed(), Duration::from_millis(80));

        // Taken: the next replies go out at once.
        io.write_all(b"221 bye\r\n").await.unwrap();
        io.flush().await.unwrap();
        assert_eq!(client.read(&mut buf).await.unwrap(), 9);
    }
}
