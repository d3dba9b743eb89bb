//! mtakit's own JSON API, under `/api/…`: one module per route family,
//! each with its `routes()`, merged by [`routes`].
//!
//! | family | routes |
//! |---|---|
//! | `messages` | `GET`, `DELETE /api/messages` (list with filters and pages, delete all) |
//! | `message` | `GET`, `DELETE /api/messages/{id}`; `/raw`, `/html`, `/attachments/{index}` |
//! | `wait` | `GET /api/wait` |
//! | `release` | `POST /api/messages/{id}/release`, `GET /api/relay` |
//! | `sessions` | `GET /api/sessions`, `GET /api/sessions/{id}` |
//! | `faults` | `GET`, `PUT`, `DELETE /api/faults` |
//! | `events` | `GET /api/events` (Server-Sent Events) |

use axum::Router;

use super::state::App;

mod events;
mod faults;
mod message;
mod messages;
mod release;
mod sessions;
mod wait;

pub(crate) use faults::load_file;

/// Every route of mtakit's own API.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .merge(messages::routes())
        .merge(message::routes())
        .merge(wait::routes())
        .merge(release::routes())
        .merge(sessions::routes())
        .merge(faults::routes())
        .merge(events::routes())
}
