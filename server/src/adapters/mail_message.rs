//! A mail as the RFC 5322 message both mailers hand over (multipart/alternative: the plain
//! text, then the HTML), built by lettre: what the outbox writes is what SES sends.

use app::ssr::ports::{Mail, PortError, PortResult};
use lettre::message::{Mailbox, MultiPart};

/// The message from `from` to `mail.to`; an address lettre cannot use is the mailer's error.
pub fn rfc5322(from: &Mailbox, mail: &Mail, service: &'static str) -> PortResult<Vec<u8>> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| PortError::upstream(service, e))?;
    let message = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.as_str())
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| PortError::upstream(service, e))?;
    Ok(message.formatted())
}
