//! The embedded default's mailer: each mail is an `.eml` file in `KIRO_DATA_DIR/outbox`
//! (0600, the directory 0700), named by time so they sort, written whole under a temporary
//! name and then renamed, so a reader never sees half a message. Any mail client opens them.

use super::mail_message::rfc5322;
use crate::private_files::{private_dir, write_private};
use app::ssr::ports::{Mail, Mailer, PortError, PortResult};
use async_trait::async_trait;
use lettre::message::Mailbox;
use std::path::{Path, PathBuf};

const SERVICE: &str = "the mail outbox";

pub struct OutboxMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl OutboxMailer {
    /// Creates `dir` (0700) when it is missing.
    pub fn open(dir: &Path, from: Mailbox) -> anyhow::Result<Self> {
        private_dir(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            from,
        })
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    fn name(&self) -> String {
        "outbox".into()
    }

    async fn send(&self, mail: &Mail) -> PortResult<()> {
        let bytes = rfc5322(&self.from, mail, SERVICE)?;
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            uuid::Uuid::new_v4().simple()
        );
        let (temporary, done) = (self.dir.join(format!(".{name}.tmp")), self.dir.join(name));
        tokio::task::spawn_blocking(move || {
            write_private(&temporary, &bytes)?;
            std::fs::rename(&temporary, &done)?;
            anyhow::Ok(())
        })
        .await
        .map_err(|e| PortError::unavailable(SERVICE, e))?
        .map_err(|e| PortError::unavailable(SERVICE, e.into_boxed_dyn_error()))
    }
}
