//! One contract suite per port, run against every adapter and fake: what the port's doc says
//! an implementation MUST do (`app/src/ssr/ports.rs`).

mod audit_store;
mod directory;
mod likeness;
mod mailer;
mod record_index;
mod seats;
