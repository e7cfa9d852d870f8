//! A mailer that keeps what it is given, or fails as told. It refuses the addresses the real
//! mailers cannot use (lettre's rules), as the contract says.

use super::{Failure, Failures};
use app::ssr::ports::{Mail, Mailer, PortError, PortResult};
use async_trait::async_trait;
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Send;

#[derive(Debug)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Mail>>,
    failures: Failures<Send>,
}

impl Default for MemoryMailer {
    fn default() -> Self {
        Self {
            sent: Mutex::new(Vec::new()),
            failures: Failures::new("the mail service"),
        }
    }
}

impl MemoryMailer {
    /// Every mail handed over so far, oldest first.
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Makes every send fail from now on (`None`: work again).
    pub fn fail(&self, failure: Option<Failure>) {
        self.failures.set(Send, 0, failure);
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    fn name(&self) -> String {
        "memory".into()
    }

    async fn send(&self, mail: &Mail) -> PortResult<()> {
        self.failures.check(Send).await?;
        mail.to
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| PortError::upstream("the mail service", e))?;
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(mail.clone());
        Ok(())
    }
}
