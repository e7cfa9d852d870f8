//! One person, one address: what a `+tag` in an address means, per domain
//! (`KIRO_SUBADDRESSES`). `ada+1@corp.com` reaches Ada's mailbox, so by default it *is* Ada.

use crate::api::Evidence;
use crate::domain::{AllowedDomains, EmailAddress};

/// What an address's `+tag` does at a domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlusTag {
    /// `ada+1@corp.com` is read as `ada@corp.com`: its code, seat, claims and likeness are Ada's.
    Fold,
    /// An address with a `+tag` is refused; Ada asks as `ada@corp.com`.
    Refuse,
    /// The domain's mail gives `+` no meaning: `ada+1` is another mailbox, another person.
    Keep,
}

impl PlusTag {
    fn parse(word: &str) -> Result<Self, String> {
        match word.trim().to_ascii_lowercase().as_str() {
            "fold" => Ok(Self::Fold),
            "refuse" => Ok(Self::Refuse),
            "keep" => Ok(Self::Keep),
            other => Err(format!("{other:?} is not fold, refuse or keep")),
        }
    }
}

/// `KIRO_SUBADDRESSES`: a rule for every domain (`fold`, the default), and rules for named ones
/// (`refuse, lab.example.com=keep`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubAddresses {
    every: PlusTag,
    domains: Vec<(String, PlusTag)>,
}

impl Default for SubAddresses {
    fn default() -> Self {
        Self {
            every: PlusTag::Fold,
            domains: Vec::new(),
        }
    }
}

impl SubAddresses {
    /// Comma-separated: a bare `fold|refuse|keep` is the rule for every domain; `domain=rule`
    /// names one. Empty is the default (fold everywhere).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut rules = Self::default();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item.split_once('=') {
                None => rules.every = PlusTag::parse(item)?,
                Some((domain, rule)) => rules
                    .domains
                    .push((AllowedDomains::domain(domain)?, PlusTag::parse(rule)?)),
            }
        }
        Ok(rules)
    }

    fn rule(&self, domain: &str) -> PlusTag {
        self.domains
            .iter()
            .find(|(d, _)| d == domain)
            .map_or(self.every, |(_, rule)| *rule)
    }

    /// The person an address someone typed stands for: folded, or refused (the message says
    /// which address to use instead), or as typed.
    pub fn person(&self, email: EmailAddress) -> Result<EmailAddress, String> {
        let Some(base) = without_tag(email.as_str()) else {
            return Ok(email);
        };
        match self.rule(email.domain()) {
            PlusTag::Keep => Ok(email),
            PlusTag::Fold => EmailAddress::parse(&base).or(Ok(email)),
            PlusTag::Refuse => Err(format!(
                "Addresses with a +tag are not accepted at {}: ask as {base}.",
                email.domain()
            )),
        }
    }

    /// An address read off a screenshot, as the person it belongs to: the account
    /// `ada+kiro@corp.com` on the page is Ada's wherever a `+tag` is not another mailbox.
    pub fn fold_seen(&self, seen: &str) -> String {
        let domain = seen.rsplit_once('@').map_or("", |(_, d)| d);
        match (self.rule(&domain.to_ascii_lowercase()), without_tag(seen)) {
            (PlusTag::Fold | PlusTag::Refuse, Some(base)) => base,
            _ => seen.to_owned(),
        }
    }

    /// The emails on a page read as people (`fold_seen`), for the rules to compare with the
    /// requester; what was read is recorded as read.
    pub fn fold_evidence(&self, evidence: &Evidence) -> Evidence {
        let fold = |emails: &[String]| emails.iter().map(|e| self.fold_seen(e)).collect();
        Evidence {
            account_email: evidence.account_email.as_deref().map(|e| self.fold_seen(e)),
            emails_seen: fold(&evidence.emails_seen),
            uncertain_emails: fold(&evidence.uncertain_emails),
            ..evidence.clone()
        }
    }
}

/// `ada@corp.com` of `ada+1@corp.com`; None without a tag (or with nothing before the `+`).
fn without_tag(email: &str) -> Option<String> {
    let (local, domain) = email.rsplit_once('@')?;
    let (base, _tag) = local.split_once('+')?;
    (!base.is_empty()).then(|| format!("{base}@{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(e: &str) -> EmailAddress {
        EmailAddress::parse(e).unwrap()
    }

    #[test]
    fn by_default_a_tag_folds_to_the_person() {
        let rules = SubAddresses::default();
        assert_eq!(
            rules.person(email("Ada+1@Corp.com")),
            Ok(email("ada@corp.com"))
        );
        assert_eq!(
            rules.person(email("ada+a+b@corp.com")),
            Ok(email("ada@corp.com"))
        );
        assert_eq!(
            rules.person(email("ada@corp.com")),
            Ok(email("ada@corp.com"))
        );
        // Nothing before the `+`: there is no person to fold to; the address stands.
        assert_eq!(rules.person(email("+1@corp.com")), Ok(email("+1@corp.com")));
        assert_eq!(rules.fold_seen("ada+kiro@corp.com"), "ada@corp.com");
    }

    #[test]
    fn each_domain_can_fold_refuse_or_keep() {
        let rules = SubAddresses::parse("refuse, lab.example.com=keep, @corp.com = fold").unwrap();
        let refused = rules.person(email("ada+1@example.com")).unwrap_err();
        assert!(refused.contains("ask as ada@example.com"), "{refused}");
        assert_eq!(
            rules.person(email("ada@example.com")),
            Ok(email("ada@example.com"))
        );
        assert_eq!(
            rules.person(email("ada+1@lab.example.com")),
            Ok(email("ada+1@lab.example.com"))
        );
        assert_eq!(
            rules.person(email("ada+1@corp.com")),
            Ok(email("ada@corp.com"))
        );
        // What a page shows is the person's wherever a tag is not another mailbox.
        assert_eq!(rules.fold_seen("ada+k@example.com"), "ada@example.com");
        assert_eq!(
            rules.fold_seen("ada+k@lab.example.com"),
            "ada+k@lab.example.com"
        );
        assert_eq!(rules.fold_seen("no-at-sign"), "no-at-sign");
    }

    #[test]
    fn a_rule_that_is_not_one_is_refused() {
        assert!(SubAddresses::parse("ignore").is_err());
        assert!(SubAddresses::parse("corp.com=maybe").is_err());
        assert!(SubAddresses::parse("not a domain=fold").is_err());
        assert_eq!(SubAddresses::parse("").unwrap(), SubAddresses::default());
    }
}
