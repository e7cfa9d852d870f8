//! An in-memory directory with the Identity Store's rules (case-insensitive unique names, one
//! membership per pair).

use super::{Failure, Failures, Rendezvous};
use app::ssr::ports::{Directory, NewUser, PortError, PortResult, UserProfile};
use async_trait::async_trait;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// The directory's operations, to tell one to fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DirectoryOp {
    FindUser,
    CreateUser,
    FindGroup,
    CreateGroup,
    IsMember,
    AddMember,
    MemberIds,
    DescribeUser,
    RemoveMember,
}

#[derive(Debug, Default)]
struct State {
    /// Lower-cased user name → user id.
    users: HashMap<String, String>,
    /// Lower-cased email → user id, for users whose user name is something else.
    emails: HashMap<String, String>,
    /// Lower-cased display name → group id.
    groups: HashMap<String, String>,
    /// User id → what DescribeUser answers.
    profiles: HashMap<String, UserProfile>,
    memberships: HashSet<(String, String)>,
    /// How many times a Conflict was answered (tests check races took that branch).
    conflicts: usize,
}

#[derive(Debug)]
pub struct MemoryDirectory {
    state: Mutex<State>,
    failures: Failures<DirectoryOp>,
    rendezvous: Rendezvous<DirectoryOp>,
}

impl Default for MemoryDirectory {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            failures: Failures::new("the directory"),
            rendezvous: Rendezvous::default(),
        }
    }
}

impl MemoryDirectory {
    /// Makes `op` fail from now on (`None`: work again).
    pub fn fail(&self, op: DirectoryOp, failure: Option<Failure>) {
        self.failures.set(op, 0, failure);
    }

    /// Lets `op` succeed `successes` more times, then fail.
    pub fn fail_after(&self, op: DirectoryOp, successes: usize, failure: Failure) {
        self.failures.set(op, successes, Some(failure));
    }

    /// Makes the next `callers` calls of `op` wait for each other (up to 5 s) before they act,
    /// so concurrent requests really race inside it.
    pub fn rendezvous(&self, op: DirectoryOp, callers: usize) {
        self.rendezvous.set(op, callers);
    }

    pub fn user_count(&self) -> usize {
        self.lock().users.len()
    }

    pub fn membership_count(&self) -> usize {
        self.lock().memberships.len()
    }

    pub fn conflicts(&self) -> usize {
        self.lock().conflicts
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Directory for MemoryDirectory {
    async fn find_user(&self, user_name: &str) -> PortResult<Option<String>> {
        self.failures.check(DirectoryOp::FindUser).await?;
        let state = self.lock();
        let key = user_name.to_lowercase();
        Ok(state.users.get(&key).or(state.emails.get(&key)).cloned())
    }

    async fn create_user(&self, user: &NewUser) -> PortResult<String> {
        self.failures.check(DirectoryOp::CreateUser).await?;
        self.rendezvous.meet(DirectoryOp::CreateUser).await;
        let key = user.user_name.to_lowercase();
        let mut state = self.lock();
        if state.users.contains_key(&key) {
            state.conflicts += 1;
            return Err(PortError::Conflict);
        }
        let id = uuid::Uuid::new_v4().to_string();
        state.users.insert(key, id.clone());
        state.profiles.insert(
            id.clone(),
            UserProfile {
                user_id: id.clone(),
                user_name: user.user_name.clone(),
                email: user.email.clone(),
                display_name: user.display_name.clone(),
            },
        );
        state
            .emails
            .entry(user.email.to_lowercase())
            .or_insert_with(|| id.clone());
        Ok(id)
    }

    async fn find_group(&self, display_name: &str) -> PortResult<Option<String>> {
        self.failures.check(DirectoryOp::FindGroup).await?;
        Ok(self
            .lock()
            .groups
            .get(&display_name.to_lowercase())
            .cloned())
    }

    async fn create_group(&self, display_name: &str) -> PortResult<String> {
        self.failures.check(DirectoryOp::CreateGroup).await?;
        let key = display_name.to_lowercase();
        let mut state = self.lock();
        if state.groups.contains_key(&key) {
            state.conflicts += 1;
            return Err(PortError::Conflict);
        }
        let id = uuid::Uuid::new_v4().to_string();
        state.groups.insert(key, id.clone());
        Ok(id)
    }

    async fn is_member(&self, group_id: &str, user_id: &str) -> PortResult<bool> {
        self.failures.check(DirectoryOp::IsMember).await?;
        let pair = (group_id.to_owned(), user_id.to_owned());
        Ok(self.lock().memberships.contains(&pair))
    }

    async fn add_member(&self, group_id: &str, user_id: &str) -> PortResult<()> {
        self.failures.check(DirectoryOp::AddMember).await?;
        self.rendezvous.meet(DirectoryOp::AddMember).await;
        let pair = (group_id.to_owned(), user_id.to_owned());
        let mut state = self.lock();
        if !state.memberships.insert(pair) {
            state.conflicts += 1;
            return Err(PortError::Conflict);
        }
        Ok(())
    }

    async fn member_ids(&self, group_id: &str) -> PortResult<Vec<String>> {
        self.failures.check(DirectoryOp::MemberIds).await?;
        let state = self.lock();
        let mut ids: Vec<String> = state
            .memberships
            .iter()
            .filter(|(g, _)| g == group_id)
            .map(|(_, u)| u.clone())
            .collect();
        ids.sort();
        Ok(ids)
    }

    async fn describe_user(&self, user_id: &str) -> PortResult<Option<UserProfile>> {
        self.failures.check(DirectoryOp::DescribeUser).await?;
        Ok(self.lock().profiles.get(user_id).cloned())
    }

    async fn remove_member(&self, group_id: &str, user_id: &str) -> PortResult<bool> {
        self.failures.check(DirectoryOp::RemoveMember).await?;
        let pair = (group_id.to_owned(), user_id.to_owned());
        Ok(self.lock().memberships.remove(&pair))
    }
}
