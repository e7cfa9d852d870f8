//! Mail through an SMTP server (`KIRO_SMTP_URL`, lettre's transport): the same message the
//! outbox writes. `smtp://host:port` is plain (a relay on the same network), with
//! `?tls=required` STARTTLS; `smtps://user:password@host` is TLS from the start, checked
//! against the system's certificate roots.

use super::mail_message::rfc5322;
use app::ssr::ports::{Mail, Mailer, PortError, PortResult};
use async_trait::async_trait;
use lettre::address::Envelope;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

const SERVICE: &str = "the mail server";

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The URL without its password, for the log.
    shown: String,
}

impl SmtpMailer {
    /// From a connection URL; a URL lettre cannot use is a start-up error (naming the
    /// variable, never the password).
    pub fn new(url: &str, from: Mailbox, timeout: Duration) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("KIRO_SMTP_URL is not a usable SMTP URL: {e}"))?
            .timeout(Some(timeout))
            .build();
        Ok(Self {
            transport,
            from,
            shown: without_password(url),
        })
    }
}

/// `smtps://user:secret@host` → `smtps://user@host`.
fn without_password(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, rest)), Some((_, host))) if rest.contains('@') => {
            let user = rest.split(['@', ':']).next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        _ => url.to_owned(),
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    fn name(&self) -> String {
        format!("smtp ({})", self.shown)
    }

    async fn send(&self, mail: &Mail) -> PortResult<()> {
        let bytes = rfc5322(&self.from, mail, SERVICE)?;
        let to = mail
            .to
            .parse()
            .map_err(|e| PortError::upstream(SERVICE, e))?;
        let envelope = Envelope::new(Some(self.from.email.clone()), vec![to])
            .map_err(|e| PortError::upstream(SERVICE, e))?;
        match self.transport.send_raw(&envelope, &bytes).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_timeout() => Err(PortError::timeout(SERVICE)),
            // The server answered, and said no (a 4xx or 5xx reply).
            Err(e) if e.is_transient() || e.is_permanent() => Err(PortError::upstream(SERVICE, e)),
            Err(e) => Err(PortError::unavailable(SERVICE, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_reaches_the_log() {
        assert_eq!(
            without_password("smtps://mailer:s3cret@smtp.example.com:465"),
            "smtps://mailer@smtp.example.com:465"
        );
        assert_eq!(
            without_password("smtp://127.0.0.1:2525"),
            "smtp://127.0.0.1:2525"
        );
    }
}
