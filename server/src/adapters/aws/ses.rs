//! Mail through Amazon SES (API v2, SendEmail with the raw message): the same bytes the outbox
//! writes. The sender (`KIRO_MAIL_FROM`) must be an identity verified in SES.

use super::port_error;
use crate::adapters::mail_message::rfc5322;
use app::ssr::ports::{Mail, Mailer, PortError, PortResult};
use async_trait::async_trait;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use lettre::message::Mailbox;

const SERVICE: &str = "the mail service";

pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: Mailbox,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: Mailbox) -> Self {
        Self { client, from }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    fn name(&self) -> String {
        "ses".into()
    }

    async fn send(&self, mail: &Mail) -> PortResult<()> {
        let raw = RawMessage::builder()
            .data(Blob::new(rfc5322(&self.from, mail, SERVICE)?))
            .build()
            .map_err(|e| PortError::upstream(SERVICE, e))?;
        self.client
            .send_email()
            .from_email_address(self.from.email.to_string())
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(())
    }
}
