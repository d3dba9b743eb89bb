//! Where Python hooks run: never on the I/O threads.
//!
//! A sync hook (`def`) runs on the hook thread, one Python thread per
//! process that takes the GIL once and drains every job queued before it
//! lets go. An `async def` hook is started there and awaited on an asyncio
//! loop (the server's, or the package's own loop thread); its result comes
//! back through a done-callback. Either way the connection's task awaits
//! a oneshot channel, so a slow hook stalls only its own session.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use tokio::sync::oneshot;

use crate::feeder::LoopFeeder;

/// A unit of work for the hook thread.
type Job = Box<dyn for<'py> FnOnce(Python<'py>) + Send>;

/// The hook thread's queue, and the process it was started in.
static QUEUE: Mutex<Option<(u32, Sender<Job>)>> = Mutex::new(None);

/// Queues `job` on the hook thread, starting it if needed. Fails only if
/// the thread cannot be started.
fn submit(job: Job) -> Result<(), Job> {
    let mut slot = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
    let pid = std::process::id();
    let job = match &*slot {
        Some((owner, tx)) if *owner == pid => match tx.send(job) {
            Ok(()) => return Ok(()),
            Err(mpsc::SendError(job)) => job,
        },
        _ => job,
    };
    let (tx, rx) = mpsc::channel::<Job>();
    let started = std::thread::Builder::new()
        .name("mtakit-hooks".to_owned())
        .spawn(move || drain(rx));
    if started.is_err() {
        return Err(job);
    }
    let sent = tx.send(job).map_err(|mpsc::SendError(job)| job);
    *slot = Some((pid, tx));
    sent
}

/// The hook thread: waits for jobs with the GIL released, then runs every
/// job queued before letting go of it again.
fn drain(mut rx: Receiver<Job>) {
    // Python calls a thread it did not start `Dummy-N`; name it as the OS
    // does, for logs and tracebacks.
    let _ = Python::try_attach(|py| {
        if let Ok(thread) = py
            .import("threading")
            .and_then(|t| t.call_method0("current_thread"))
        {
            let _ = thread.setattr("name", "mtakit-hooks");
        }
    });
    loop {
        let Some(ended) = Python::try_attach(|py| {
            let queue = &mut rx;
            let Ok(first) = py.detach(move || queue.recv()) else {
                return true;
            };
            first(py);
            while let Ok(job) = rx.try_recv() {
                job(py);
            }
            false
        }) else {
            // The interpreter is gone (finalising): nothing can run.
            return;
        };
        if ended {
            return;
        }
    }
}

/// Where a hook's failures go: kept for the test to re-raise, and logged.
#[derive(Clone, Debug, Default)]
pub(crate) struct Errors {
    kept: Arc<Mutex<Vec<PyErr>>>,
}

/// How many hook errors are kept for re-raising; later ones are only
/// logged.
const MAX_KEPT_ERRORS: usize = 100;

impl Errors {
    /// Records `error` from the hook `hook`.
    pub(crate) fn record(&self, py: Python<'_>, hook: &str, error: PyErr) {
        let message = format!("mtakit: the {hook} hook raised; the client got 451 4.3.0");
        if let Ok(logging) = py.import("logging")
            && let Ok(logger) = logging.call_method1("getLogger", ("mtakit",))
        {
            let kwargs = pyo3::types::PyDict::new(py);
            let _ = kwargs.set_item("exc_info", error.clone_ref(py).into_value(py));
            let _ = logger.call_method("error", (message,), Some(&kwargs));
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < MAX_KEPT_ERRORS {
            kept.push(error);
        }
    }

    /// Takes the first error kept, if any, and forgets the rest.
    pub(crate) fn take_first(&self) -> Option<PyErr> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let first = if kept.is_empty() {
            None
        } else {
            Some(kept.remove(0))
        };
        kept.clear();
        first
    }
}

/// Turns a hook's return value into what the server needs.
pub(crate) type Convert<R> =
    Arc<dyn for<'py> Fn(Python<'py>, &Bound<'py, PyAny>) -> PyResult<R> + Send + Sync>;

/// The asyncio loop `async def` hooks run on: set while a server runs
/// inside `Server.listen()`, otherwise the package's own loop thread.
#[derive(Clone, Default)]
pub(crate) struct LoopCell(Arc<Mutex<Option<EventLoop>>>);

/// An event loop and its feeder.
#[derive(Clone)]
struct EventLoop {
    handle: Arc<Py<PyAny>>,
    feeder: Arc<LoopFeeder>,
}

/// The feeder of the package's own loop, once made, and the process it
/// was made in.
static DEFAULT_FEEDER: Mutex<Option<(u32, Arc<LoopFeeder>)>> = Mutex::new(None);

/// The package's own loop's feeder, if this process has made it.
fn default_feeder() -> Option<Arc<LoopFeeder>> {
    match &*DEFAULT_FEEDER.lock().unwrap_or_else(|e| e.into_inner()) {
        Some((pid, feeder)) if *pid == std::process::id() => Some(Arc::clone(feeder)),
        _ => None,
    }
}

impl LoopCell {
    /// Runs async hooks on `event_loop` from now on; `None` returns to the
    /// package's own loop.
    pub(crate) fn set(&self, event_loop: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let event_loop = match event_loop {
            Some(l) => Some(EventLoop {
                handle: Arc::new(l.clone().unbind()),
                feeder: LoopFeeder::attach(l)?,
            }),
            None => None,
        };
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = event_loop;
        Ok(())
    }

    fn get(&self) -> Option<EventLoop> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Everything a hook call needs besides its arguments.
#[derive(Clone, Default)]
pub(crate) struct Runner {
    /// The loop `async def` hooks run on.
    pub(crate) event_loop: LoopCell,
    /// Where failures go.
    pub(crate) errors: Errors,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("own_loop", &self.event_loop.get().is_none())
            .finish_non_exhaustive()
    }
}

/// What is done with a hook's outcome, once it is known.
type Finish = Box<dyn for<'py> FnOnce(Python<'py>, PyResult<Bound<'py, PyAny>>) + Send>;

/// Receives the outcome of an `async def` hook from its loop.
#[pyclass(frozen)]
struct Done {
    reply: Mutex<Option<Finish>>,
}

#[pymethods]
impl Done {
    fn __call__(&self, py: Python<'_>, future: Bound<'_, PyAny>) {
        let outcome = future.call_method0("result");
        if let Some(reply) = self.reply.lock().unwrap_or_else(|e| e.into_inner()).take() {
            reply(py, outcome);
        }
    }
}

impl Runner {
    /// What to do with a hook's outcome: convert it and send it to the
    /// waiting connection, or record the error.
    fn finish<R: Send + 'static>(
        &self,
        hook: &'static str,
        convert: Convert<R>,
        tx: oneshot::Sender<Option<R>>,
    ) -> Finish {
        let errors = self.errors.clone();
        Box::new(move |py: Python<'_>, outcome: PyResult<Bound<'_, PyAny>>| {
            let value = outcome.and_then(|v| convert(py, &v));
            let _ = tx.send(match value {
                Ok(v) => Some(v),
                Err(e) => {
                    errors.record(py, hook, e);
                    None
                }
            });
        })
    }

    /// Calls a hook on the hook thread and awaits its outcome: `call`
    /// makes the Python call, `convert` reads its result (after awaiting
    /// it, for an `async def` hook). `None` when the hook raised (recorded
    /// in `errors`) or could not run.
    pub(crate) async fn run<R: Send + 'static>(
        &self,
        hook: &'static str,
        call: impl FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send + 'static,
        convert: Convert<R>,
    ) -> Option<R> {
        let (tx, rx) = oneshot::channel::<Option<R>>();
        let runner = self.clone();
        let finish = self.finish(hook, convert, tx);
        let job: Job = Box::new(move |py| match call(py).map(|v| v.into_bound(py)) {
            Ok(value) if is_awaitable(&value) => {
                if let Err(e) = runner.schedule(py, value, finish) {
                    runner.errors.record(py, hook, e);
                }
            }
            outcome => finish(py, outcome),
        });
        if submit(job).is_err() {
            return None;
        }
        rx.await.ok().flatten()
    }

    /// As [`run`](Self::run), for a hook written `async def`: it is called
    /// on its event loop's thread, and its coroutine runs there as a task,
    /// without the hook thread in between. Until the package's own loop
    /// exists, this goes through the hook thread, which makes it.
    pub(crate) async fn run_async<R: Send + 'static>(
        &self,
        hook: &'static str,
        call: impl FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send + 'static,
        convert: Convert<R>,
    ) -> Option<R> {
        let feeder = match self.event_loop.get() {
            Some(l) => Some(l.feeder),
            None => default_feeder(),
        };
        let Some(feeder) = feeder else {
            return self.run(hook, call, convert).await;
        };
        let (tx, rx) = oneshot::channel::<Option<R>>();
        let errors = self.errors.clone();
        let finish = self.finish(hook, convert, tx);
        feeder.push(Box::new(move |py| {
            match call(py).map(|v| v.into_bound(py)) {
                Ok(value) if is_awaitable(&value) => {
                    if let Err(e) = start_task(py, value, finish) {
                        errors.record(py, hook, e);
                    }
                }
                outcome => finish(py, outcome),
            }
        }));
        rx.await.ok().flatten()
    }

    /// [`run_async`](Self::run_async) for an `async def` hook, else
    /// [`run`](Self::run).
    pub(crate) async fn call<R: Send + 'static>(
        &self,
        hook: &'static str,
        is_async: bool,
        call: impl FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send + 'static,
        convert: Convert<R>,
    ) -> Option<R> {
        if is_async {
            self.run_async(hook, call, convert).await
        } else {
            self.run(hook, call, convert).await
        }
    }

    /// Awaits `awaitable` on the hook loop; `finish` gets the outcome.
    fn schedule(
        &self,
        py: Python<'_>,
        awaitable: Bound<'_, PyAny>,
        finish: Finish,
    ) -> PyResult<()> {
        let glue = py.import("mtakit._hooks")?;
        let event_loop = match self.event_loop.get() {
            Some(l) => l.handle.bind(py).clone(),
            None => {
                let own = glue.call_method0("default_loop")?;
                let mut slot = DEFAULT_FEEDER.lock().unwrap_or_else(|e| e.into_inner());
                let pid = std::process::id();
                if !matches!(&*slot, Some((owner, _)) if *owner == pid) {
                    *slot = Some((pid, LoopFeeder::attach(&own)?));
                }
                own
            }
        };
        let done = Bound::new(
            py,
            Done {
                reply: Mutex::new(Some(finish)),
            },
        )?;
        glue.call_method1("schedule", (awaitable, event_loop, done))?;
        Ok(())
    }
}

/// True if `object.name` is a coroutine function (`async def`): its calls
/// go straight to the event loop.
pub(crate) fn is_async_method(object: &Bound<'_, PyAny>, name: &str) -> PyResult<bool> {
    let Ok(method) = object.getattr(name) else {
        return Ok(false);
    };
    object
        .py()
        .import("inspect")?
        .call_method1("iscoroutinefunction", (method,))?
        .is_truthy()
}

/// Runs `awaitable` as a task on the running loop (this thread's);
/// `finish` gets its outcome.
fn start_task(py: Python<'_>, awaitable: Bound<'_, PyAny>, finish: Finish) -> PyResult<()> {
    let task = py
        .import("asyncio")?
        .call_method1("ensure_future", (awaitable,))?;
    let done = Bound::new(
        py,
        Done {
            reply: Mutex::new(Some(finish)),
        },
    )?;
    task.call_method1("add_done_callback", (done,))?;
    Ok(())
}

/// True for a coroutine or any other awaitable.
fn is_awaitable(value: &Bound<'_, PyAny>) -> bool {
    value.hasattr("__await__").unwrap_or(false)
}
