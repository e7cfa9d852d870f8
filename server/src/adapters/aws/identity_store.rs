//! The directory in IAM Identity Center's Identity Store: GetUserId / GetGroupId by unique
//! attribute, CreateUser / CreateGroup / CreateGroupMembership (ConflictException = exists),
//! IsMemberInGroups for the "already Pro" check; ListGroupMemberships, DescribeUser and
//! GetGroupMembershipId + DeleteGroupMembership for the members list and revoking a seat.

use super::port_error;
use app::ssr::ports::{Directory, NewUser, PortError, PortResult, UserProfile};
use async_trait::async_trait;
use aws_sdk_identitystore::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_identitystore::types::{AlternateIdentifier, Email, MemberId, Name, UniqueAttribute};
use aws_sdk_identitystore::Client;
use aws_smithy_types::Document;

/// Our name for this port in messages; the SDK's error (which names the service) is the source.
const SERVICE: &str = "the directory";

#[derive(Clone, Debug)]
pub struct IdentityStoreDirectory {
    client: Client,
    store_id: String,
    page_size: i32,
}

impl IdentityStoreDirectory {
    pub fn new(client: Client, store_id: impl Into<String>) -> Self {
        Self {
            client,
            store_id: store_id.into(),
            page_size: 100, // the API's most
        }
    }

    /// Lists in smaller pages (tests: more pages with fewer members).
    pub fn with_page_size(self, page_size: i32) -> Self {
        Self { page_size, ..self }
    }

    fn unique(path: &str, value: &str) -> PortResult<AlternateIdentifier> {
        let attribute = UniqueAttribute::builder()
            .attribute_path(path)
            .attribute_value(Document::String(value.to_owned()))
            .build()
            .map_err(|e| PortError::unavailable(SERVICE, e))?;
        Ok(AlternateIdentifier::UniqueAttribute(attribute))
    }
}

#[async_trait]
impl Directory for IdentityStoreDirectory {
    async fn find_user(&self, email: &str) -> PortResult<Option<String>> {
        // Users this app made have the email as their user name; others (made by hand or by
        // an identity provider) may not, and are found by their email.
        for path in ["userName", "emails.value"] {
            let found = self
                .client
                .get_user_id()
                .identity_store_id(&self.store_id)
                .alternate_identifier(Self::unique(path, email)?)
                .send()
                .await;
            if let Some(out) = unless_not_found(found)? {
                return Ok(Some(out.user_id().to_owned()));
            }
        }
        Ok(None)
    }

    async fn create_user(&self, user: &NewUser) -> PortResult<String> {
        let created = self
            .client
            .create_user()
            .identity_store_id(&self.store_id)
            .user_name(&user.user_name)
            .display_name(&user.display_name)
            .name(
                Name::builder()
                    .given_name(&user.given_name)
                    .family_name(&user.family_name)
                    .build(),
            )
            .emails(
                Email::builder()
                    .value(&user.email)
                    .r#type("work")
                    .primary(true)
                    .build(),
            )
            .send()
            .await;
        match created {
            Ok(out) => Ok(out.user_id().to_owned()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conflict_exception()) =>
            {
                Err(PortError::Conflict)
            }
            Err(e) => Err(port_error(SERVICE, e)),
        }
    }

    async fn find_group(&self, display_name: &str) -> PortResult<Option<String>> {
        let found = self
            .client
            .get_group_id()
            .identity_store_id(&self.store_id)
            .alternate_identifier(Self::unique("displayName", display_name)?)
            .send()
            .await;
        Ok(unless_not_found(found)?.map(|out| out.group_id().to_owned()))
    }

    async fn create_group(&self, display_name: &str) -> PortResult<String> {
        let created = self
            .client
            .create_group()
            .identity_store_id(&self.store_id)
            .display_name(display_name)
            .description("Members get Kiro Pro (managed by Kiro Access)")
            .send()
            .await;
        match created {
            Ok(out) => Ok(out.group_id().to_owned()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conflict_exception()) =>
            {
                Err(PortError::Conflict)
            }
            Err(e) => Err(port_error(SERVICE, e)),
        }
    }

    async fn is_member(&self, group_id: &str, user_id: &str) -> PortResult<bool> {
        let out = self
            .client
            .is_member_in_groups()
            .identity_store_id(&self.store_id)
            .member_id(MemberId::UserId(user_id.to_owned()))
            .group_ids(group_id)
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(out
            .results()
            .iter()
            .any(|r| r.group_id() == Some(group_id) && r.membership_exists()))
    }

    async fn add_member(&self, group_id: &str, user_id: &str) -> PortResult<()> {
        let added = self
            .client
            .create_group_membership()
            .identity_store_id(&self.store_id)
            .group_id(group_id)
            .member_id(MemberId::UserId(user_id.to_owned()))
            .send()
            .await;
        match added {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conflict_exception()) =>
            {
                Err(PortError::Conflict)
            }
            Err(e) => Err(port_error(SERVICE, e)),
        }
    }

    async fn member_ids(&self, group_id: &str) -> PortResult<Vec<String>> {
        let memberships: Vec<_> = self
            .client
            .list_group_memberships()
            .identity_store_id(&self.store_id)
            .group_id(group_id)
            .max_results(self.page_size)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        Ok(memberships
            .iter()
            .filter_map(|m| match m.member_id() {
                Some(MemberId::UserId(id)) => Some(id.clone()),
                _ => None,
            })
            .collect())
    }

    async fn describe_user(&self, user_id: &str) -> PortResult<Option<UserProfile>> {
        let described = self
            .client
            .describe_user()
            .identity_store_id(&self.store_id)
            .user_id(user_id)
            .send()
            .await;
        let Some(user) = unless_not_found(described)? else {
            return Ok(None);
        };
        let emails = user.emails();
        let email = emails
            .iter()
            .find(|e| e.primary())
            .or(emails.first())
            .and_then(|e| e.value())
            .unwrap_or_default();
        Ok(Some(UserProfile {
            user_id: user.user_id().to_owned(),
            user_name: user.user_name().unwrap_or_default().to_owned(),
            email: email.to_owned(),
            display_name: user.display_name().unwrap_or_default().to_owned(),
        }))
    }

    async fn remove_member(&self, group_id: &str, user_id: &str) -> PortResult<bool> {
        let found = self
            .client
            .get_group_membership_id()
            .identity_store_id(&self.store_id)
            .group_id(group_id)
            .member_id(MemberId::UserId(user_id.to_owned()))
            .send()
            .await;
        let Some(found) = unless_not_found(found)? else {
            return Ok(false);
        };
        let deleted = self
            .client
            .delete_group_membership()
            .identity_store_id(&self.store_id)
            .membership_id(found.membership_id())
            .send()
            .await;
        // None: removed by someone else between the two calls.
        Ok(unless_not_found(deleted)?.is_some())
    }
}

/// The answer, or `None` when the Identity Store says ResourceNotFoundException (what every
/// lookup here answers for "no such user, group or membership"); any other error is the port's.
fn unless_not_found<T, E, R>(answer: Result<T, SdkError<E, R>>) -> PortResult<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match answer {
        Ok(out) => Ok(Some(out)),
        Err(e)
            if e.as_service_error().and_then(|s| s.code()) == Some("ResourceNotFoundException") =>
        {
            Ok(None)
        }
        Err(e) => Err(port_error(SERVICE, e)),
    }
}
