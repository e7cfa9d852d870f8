//! The directory contract, against SQLite, the in-memory fake and the Identity Store (moto).

use crate::common::{moto, new_user};
use app::ssr::ports::{Directory, PortError};
use server::adapters::aws::IdentityStoreDirectory;
use server::adapters::memory::MemoryDirectory;
use server::adapters::SqliteDirectory;

/// Where an adapter's stand-in is known to differ from the real service.
#[derive(Clone, Copy)]
struct Quirks {
    /// moto accepts a duplicate membership (real AWS answers ConflictException; that answer is
    /// checked at the wire in `aws::a_duplicate_membership_is_a_conflict_as_aws_answers_it`).
    refuses_duplicate_membership: bool,
    /// SQLite and the fake match user and group names in any letter case; moto does not, and
    /// the Identity Store does not document it (the workflow always sends lower case).
    names_ignore_case: bool,
}

const LOCAL: Quirks = Quirks {
    refuses_duplicate_membership: true,
    names_ignore_case: true,
};

async fn directory_contract(dir: &dyn Directory, quirks: Quirks) {
    // Users: found by name, unique by name.
    assert_eq!(dir.find_user("ada@example.com").await.unwrap(), None);
    let ada = dir.create_user(&new_user("ada@example.com")).await.unwrap();
    assert_eq!(
        dir.find_user("ada@example.com").await.unwrap(),
        Some(ada.clone())
    );
    assert!(matches!(
        dir.create_user(&new_user("ada@example.com")).await,
        Err(PortError::Conflict)
    ));
    if quirks.names_ignore_case {
        assert_eq!(
            dir.find_user("ADA@Example.com").await.unwrap(),
            Some(ada.clone())
        );
        assert!(matches!(
            dir.create_user(&new_user("Ada@Example.COM")).await,
            Err(PortError::Conflict)
        ));
    }
    assert_eq!(dir.find_user("bob@example.com").await.unwrap(), None);

    // Someone made by hand, whose user name is not their email: found by the email, so a
    // request grants that person instead of making a second identity.
    let mut grace = new_user("grace@example.com");
    grace.user_name = "ghopper".into();
    let grace_id = dir.create_user(&grace).await.unwrap();
    assert_eq!(
        dir.find_user("grace@example.com").await.unwrap(),
        Some(grace_id)
    );

    // Groups: likewise by display name.
    assert_eq!(dir.find_group("Kiro Pro").await.unwrap(), None);
    let pro = dir.create_group("Kiro Pro").await.unwrap();
    assert_eq!(dir.find_group("Kiro Pro").await.unwrap(), Some(pro.clone()));
    assert!(matches!(
        dir.create_group("Kiro Pro").await,
        Err(PortError::Conflict)
    ));
    if quirks.names_ignore_case {
        assert!(matches!(
            dir.create_group("kiro pro").await,
            Err(PortError::Conflict)
        ));
    }
    let other = dir.create_group("Other").await.unwrap();

    // Memberships: one per pair.
    assert!(!dir.is_member(&pro, &ada).await.unwrap());
    dir.add_member(&pro, &ada).await.unwrap();
    assert!(dir.is_member(&pro, &ada).await.unwrap());
    assert!(!dir.is_member(&other, &ada).await.unwrap());
    if quirks.refuses_duplicate_membership {
        assert!(matches!(
            dir.add_member(&pro, &ada).await,
            Err(PortError::Conflict)
        ));
    }
    assert!(dir.is_member(&pro, &ada).await.unwrap());
    let bob = dir.create_user(&new_user("bob@example.com")).await.unwrap();
    assert!(!dir.is_member(&pro, &bob).await.unwrap());

    // Listing: every member once, over several pages (the Identity Store adapter under test
    // lists two at a time), and what DescribeUser says of each.
    let mut members = vec![ada.clone()];
    for name in ["cy", "dee", "eve", "fay"] {
        let id = dir
            .create_user(&new_user(&format!("{name}@example.com")))
            .await
            .unwrap();
        dir.add_member(&pro, &id).await.unwrap();
        members.push(id);
    }
    dir.add_member(&other, &bob).await.unwrap();
    let mut listed = dir.member_ids(&pro).await.unwrap();
    listed.sort();
    members.sort();
    assert_eq!(listed, members);
    let profile = dir.describe_user(&ada).await.unwrap().unwrap();
    assert_eq!(
        (profile.user_id.as_str(), profile.user_name.as_str()),
        (ada.as_str(), "ada@example.com")
    );
    assert_eq!(profile.email, "ada@example.com");
    assert_eq!(
        profile.display_name,
        new_user("ada@example.com").display_name
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(dir.describe_user(&unknown).await.unwrap(), None);

    // Revoking: the membership ends, the user stays; a second revoke finds nothing.
    assert!(dir.remove_member(&pro, &ada).await.unwrap());
    assert!(!dir.is_member(&pro, &ada).await.unwrap());
    assert_eq!(
        dir.find_user("ada@example.com").await.unwrap(),
        Some(ada.clone())
    );
    assert!(!dir.member_ids(&pro).await.unwrap().contains(&ada));
    assert_eq!(dir.member_ids(&pro).await.unwrap().len(), members.len() - 1);
    assert!(!dir.remove_member(&pro, &ada).await.unwrap());
    assert!(!dir.remove_member(&pro, &bob).await.unwrap());
    assert!(dir.is_member(&other, &bob).await.unwrap());
    // And the seat can be given again.
    dir.add_member(&pro, &ada).await.unwrap();
    assert!(dir.is_member(&pro, &ada).await.unwrap());
}

#[tokio::test]
async fn sqlite_keeps_the_directory_contract() {
    let data = tempfile::tempdir().unwrap();
    let dir = SqliteDirectory::open(&data.path().join("directory.sqlite")).unwrap();
    directory_contract(&dir, LOCAL).await;
}

#[tokio::test]
async fn the_in_memory_fake_keeps_the_directory_contract() {
    directory_contract(&MemoryDirectory::default(), LOCAL).await;
}

#[tokio::test]
async fn the_identity_store_keeps_the_directory_contract() {
    let sdk = crate::aws::sdk(&moto::endpoint()).await;
    let store_id = format!("d-{}", uuid::Uuid::new_v4().simple());
    let dir = IdentityStoreDirectory::new(aws_sdk_identitystore::Client::new(&sdk), store_id)
        .with_page_size(2);
    directory_contract(
        &dir,
        Quirks {
            refuses_duplicate_membership: false,
            names_ignore_case: false,
        },
    )
    .await;
}
