//! Who is told what by mail: the requester, each decision on their request (granted, denied,
//! waiting, and an administrator's ruling); a person an administrator added to the group; the
//! administrators (`KIRO_ADMIN_EMAILS`), a request waiting for review; and the one-time codes.
//! Sending never changes a decision: a failure is logged and noted on the decision's record
//! (`mail_error`).

use super::ports::{Mail, Mailer};
use super::Services;
use crate::api::{DecisionRecord, Verdict};
use std::sync::Arc;

/// Where mail goes, besides the requester.
#[derive(Clone, Debug, Default)]
pub struct Notices {
    /// `KIRO_ADMIN_EMAILS`: told of each request that waits for review.
    pub admin_emails: Vec<String>,
    /// `KIRO_PUBLIC_URL`: the app's address as people reach it, for the link to `/admin`.
    pub public_url: Option<String>,
}

/// The mailer and who else is told; without one (`KIRO_MAILER=off`) nobody is.
#[derive(Clone, Default)]
pub struct Notifier {
    mailer: Option<Arc<dyn Mailer>>,
    notices: Notices,
}

impl Notifier {
    pub fn new(mailer: Arc<dyn Mailer>, notices: Notices) -> Self {
        Self {
            mailer: Some(mailer),
            notices,
        }
    }
}

impl Services {
    /// Tells the requester the decision on record, and the administrators when it waits for
    /// review. What could not be sent is written on the record (a second write, only then).
    pub(super) async fn notify_decision(&self, key: &str, record: &mut DecisionRecord) {
        let Some(mailer) = &self.notifier.mailer else {
            return;
        };
        let mut mails = vec![decision_mail(record, &self.group_name)];
        if record.is_waiting() {
            mails.extend(
                self.notifier
                    .notices
                    .admin_emails
                    .iter()
                    .map(|admin| review_waiting_mail(admin, record, &self.notifier.notices)),
            );
        }
        let mut failed = Vec::new();
        for mail in &mails {
            if let Err(e) = mailer.send(mail).await {
                tracing::warn!(
                    cause = %super::error::CauseChain(&e),
                    mailer = %mailer.name(),
                    to = %mail.to,
                    %key,
                    "could not send a mail"
                );
                failed.push(mail.to.clone());
            }
        }
        if !failed.is_empty() {
            record.mail_error = Some(format!("not sent to {}", failed.join(", ")));
            self.update_record(key, record).await;
        }
    }
}

impl Services {
    /// Mails a one-time code. Unlike a decision's mail, a failure here is the request's
    /// failure: without the mail the code is no use.
    pub(super) async fn send_code_mail(
        &self,
        to: &str,
        code: &str,
        minutes: i64,
    ) -> super::error::AppResult<()> {
        let Some(mailer) = &self.notifier.mailer else {
            return Err(super::error::AppError::Internal(
                "email codes are on but no mailer is configured".into(),
            ));
        };
        let mail = mail(
            to,
            &format!("Kiro Access code: {code}"),
            &[
                format!("Your code for Kiro Access is {code}. It works for {minutes} minutes."),
                "If you did not ask for it, someone typed your address: you can ignore this \
                 mail, nothing happens without the code."
                    .into(),
            ],
        );
        mailer.send(&mail).await.map_err(|e| {
            tracing::warn!(mailer = %mailer.name(), "could not send a code");
            super::error::AppError::Dependency(e)
        })
    }
}

/// The requester's mail for the record as it stands (settled or not).
fn decision_mail(record: &DecisionRecord, group: &str) -> Mail {
    let email = &record.email;
    let approved = record.settlement.as_ref().is_some_and(|s| s.approved);
    let (subject, paragraphs): (&str, Vec<String>) = match (record.verdict, &record.settlement) {
        // An approval is on record only once its grant went through.
        _ if record.verdict == Verdict::Granted || approved => (
            "Kiro Pro: granted",
            granted_paragraphs(
                format!("Your request for Kiro Pro was granted: {email} is now in the {group} group."),
                email,
            ),
        ),
        (Verdict::Review, Some(settled)) => (
            "Kiro Pro: not granted",
            vec![
                format!("An administrator looked at your request for Kiro Pro for {email} and did not grant it."),
                settled.note.clone().map_or_else(
                    || "If you think this is wrong, ask an administrator.".into(),
                    |note| format!("Their note: {note}"),
                ),
            ],
        ),
        (Verdict::Review, None) => (
            "Kiro Pro: your request is waiting for an administrator",
            vec![
                format!("Your request for Kiro Pro for {email} needs a person to look at it: {}", record.message),
                "An administrator will look at your screenshot and decide. You will get another \
                 mail when they do; there is no need to send it again."
                    .into(),
            ],
        ),
        (Verdict::Granted | Verdict::Denied | Verdict::AlreadyPro, _) => (
            "Kiro Pro: not granted",
            vec![
                format!("Your request for Kiro Pro for {email} was not granted: {}", record.message),
                format!(
                    "What to do: once your free credits are used up, take a screenshot of the \
                     whole Kiro usage page while signed in as {email}, and send it again. If you \
                     think this is wrong, ask an administrator."
                ),
            ],
        ),
    };
    mail(email, subject, &paragraphs)
}

/// The news of a seat, after `lead`: how to start, and how long it can take.
fn granted_paragraphs(lead: String, email: &str) -> Vec<String> {
    vec![
        lead,
        format!(
            "To start, open Kiro and sign in with your organization's IAM Identity Center \
             (not a personal AWS Builder ID), as {email}."
        ),
        "A new membership can take up to 24 hours to become an active Kiro Pro subscription. \
         If Kiro still shows the free plan, sign out and in again later."
            .into(),
    ]
}

impl Services {
    /// Tells a person an administrator put them in the group (nothing when they already were).
    /// A failure is logged; the administrator's action stands.
    pub(super) async fn notify_added_by_admin(&self, email: &str) {
        let Some(mailer) = &self.notifier.mailer else {
            return;
        };
        let group = &self.group_name;
        let mail = mail(
            email,
            "Kiro Pro: granted",
            &granted_paragraphs(
                format!("An administrator gave you Kiro Pro: {email} is now in the {group} group."),
                email,
            ),
        );
        if let Err(e) = mailer.send(&mail).await {
            tracing::warn!(
                cause = %super::error::CauseChain(&e),
                mailer = %mailer.name(),
                to = %email,
                "could not tell a user an administrator added them"
            );
        }
    }
}

impl Services {
    /// Asks a member whose seat ends soon to renew it. A failure is the step's: the sweep tries
    /// again next run. Without a mailer there is nobody to tell, and the step is done.
    pub(super) async fn send_renew_reminder(
        &self,
        seat: &super::ports::Seat,
    ) -> super::error::AppResult<()> {
        let Some(mailer) = &self.notifier.mailer else {
            return Ok(());
        };
        let ends = seat.ends.as_deref().unwrap_or("soon");
        let mail = mail(
            &seat.email,
            "Kiro Pro: renew your seat",
            &[
                format!(
                    "Your {} seat for {} ends at {ends} (UTC).",
                    self.group_name, seat.email
                ),
                format!(
                    "To renew: send this month's usage page. Once this month's free credits are \
                     used up, take a screenshot of the whole Kiro usage page and send it on Kiro \
                     Access{}. Your seat then runs on.",
                    self.notifier
                        .notices
                        .public_url
                        .as_deref()
                        .map_or_else(String::new, |url| format!(" ({url})"))
                ),
            ],
        );
        mailer
            .send(&mail)
            .await
            .map_err(super::error::AppError::Dependency)
    }

    /// Tells a member their seat ended. A failure is logged: the seat is back either way.
    pub(super) async fn notify_seat_ended(&self, seat: &super::ports::Seat) {
        let Some(mailer) = &self.notifier.mailer else {
            return;
        };
        let mail = mail(
            &seat.email,
            "Kiro Pro: your seat has ended",
            &[
                format!(
                    "Your {} seat for {} ended; the account stays.",
                    self.group_name, seat.email
                ),
                "To get Kiro Pro again, send a new screenshot of your Kiro usage page once this \
                 month's free credits are used up."
                    .into(),
            ],
        );
        if let Err(e) = mailer.send(&mail).await {
            tracing::warn!(cause = %super::error::CauseChain(&e), to = %seat.email, "could not tell a member their seat ended");
        }
    }
}

/// An administrator's mail about a request that waits for them.
fn review_waiting_mail(admin: &str, record: &DecisionRecord, notices: &Notices) -> Mail {
    let link = notices.public_url.as_deref().map_or_else(
        || "Open /admin on Kiro Access to see it.".to_owned(),
        |url| format!("See it at {}/admin", url.trim_end_matches('/')),
    );
    mail(
        admin,
        &format!("Kiro Pro request waiting for review: {}", record.email),
        &[
            format!(
                "A request for Kiro Pro from {} waits for an administrator: {}",
                record.email, record.message
            ),
            link,
        ],
    )
}

/// The paragraphs as plain text and as escaped HTML, signed.
fn mail(to: &str, subject: &str, paragraphs: &[String]) -> Mail {
    let signed: Vec<&str> = paragraphs
        .iter()
        .map(String::as_str)
        .chain(["— Kiro Access"])
        .collect();
    Mail {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text: signed.join("\n\n") + "\n",
        html: signed
            .iter()
            .map(|p| format!("<p>{}</p>", escape(p)))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let m = mail("a@example.com", "s", &["<b>&\"".into()]);
        assert!(m.html.contains("<p>&lt;b&gt;&amp;&quot;</p>"), "{}", m.html);
        assert!(m.text.starts_with("<b>&\"\n\n— Kiro Access"), "{}", m.text);
    }
}
