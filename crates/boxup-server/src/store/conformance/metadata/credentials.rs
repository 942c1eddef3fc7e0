//! Conformance checks of the credentials ([`CredentialStore`]): tokens by
//! the hash of their secret, per-user listing, revocation, quotas.

use super::*;

/// A random stand-in for a secret's SHA-256 (64 hex digits).
fn sha256_hex() -> String {
    format!("{}{}", random_hex(32), random_hex(32))
}

fn token(id: &str, user: UserId, created_at: i64, expires_at: Option<i64>) -> TokenRecord {
    TokenRecord {
        id: id.to_owned(),
        user,
        label: format!("label of {id}"),
        created_at,
        expires_at,
    }
}

pub async fn check_tokens(store: &dyn MetadataStore) {
    let ada = user(store, "tokens-ada").await;
    let bob = user(store, "tokens-bob").await;
    let (a1, a2, b1) = (
        format!("tok_a1{}", random_hex(6)),
        format!("tok_a2{}", random_hex(6)),
        format!("tok_b1{}", random_hex(6)),
    );
    let (h1, h2, h3) = (sha256_hex(), sha256_hex(), sha256_hex());
    let first = token(&a1, ada, NOW, None);
    let second = token(&a2, ada, NOW + 1, Some(LATER));
    let bobs = token(&b1, bob, NOW + 2, None);
    store.insert_token(&h1, &first).await.unwrap();
    store.insert_token(&h2, &second).await.unwrap();
    store.insert_token(&h3, &bobs).await.unwrap();

    let ada_user = store.get_user(ada).await.unwrap().unwrap();
    let bob_user = store.get_user(bob).await.unwrap().unwrap();
    assert_eq!(
        store.find_token(&h1).await.unwrap(),
        Some((first.clone(), ada_user.clone()))
    );
    assert_eq!(
        store.find_token(&h2).await.unwrap(),
        Some((second.clone(), ada_user.clone()))
    );
    assert_eq!(store.find_token(&sha256_hex()).await.unwrap(), None);
    // The id is public, not a secret: it finds nothing.
    assert_eq!(store.find_token(&a1).await.unwrap(), None);
    // The same secret hash, or the same id, cannot be recorded twice.
    assert!(
        store
            .insert_token(&h1, &token("tok_other", ada, NOW, None))
            .await
            .is_err()
    );
    assert!(store.insert_token(&sha256_hex(), &first).await.is_err());

    assert_eq!(
        store.list_tokens(Some(ada)).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        store.list_tokens(Some(bob)).await.unwrap(),
        vec![bobs.clone()]
    );
    let all = store.list_tokens(None).await.unwrap();
    for t in [&first, &second, &bobs] {
        assert!(all.contains(t), "{t:?} missing from {all:?}");
    }

    assert!(store.revoke_token(&a1).await.unwrap());
    assert!(!store.revoke_token(&a1).await.unwrap(), "revoked twice");
    assert_eq!(store.find_token(&h1).await.unwrap(), None);
    assert_eq!(store.list_tokens(Some(ada)).await.unwrap(), vec![second]);
    assert_eq!(
        store.find_token(&h3).await.unwrap(),
        Some((bobs.clone(), bob_user.clone()))
    );

    // An expiry can be set, moved and lifted; the record shows it.
    assert!(store.set_token_expiry(&b1, Some(NOW + 5)).await.unwrap());
    let (cut, _) = store.find_token(&h3).await.unwrap().unwrap();
    assert_eq!(cut.expires_at, Some(NOW + 5));
    assert!(cut.is_live(NOW + 4) && !cut.is_live(NOW + 5));
    assert!(store.set_token_expiry(&b1, None).await.unwrap());
    assert_eq!(store.find_token(&h3).await.unwrap(), Some((bobs, bob_user)));
    assert!(
        !store.set_token_expiry(&a1, Some(NOW)).await.unwrap(),
        "a revoked token"
    );
}

pub async fn check_users_and_quotas(store: &dyn MetadataStore) {
    let login = format!("quota-{}@example.com", random_hex(12));
    assert_eq!(store.find_user(&login).await.unwrap(), None);
    let ada = store.ensure_user(&login, "Ada").await.unwrap();
    assert_eq!(store.find_user(&login).await.unwrap(), Some(ada.clone()));
    assert!(store.list_users().await.unwrap().contains(&ada));

    assert_eq!(
        store.space_amount(ada.id).await.unwrap(),
        None,
        "unlimited by default"
    );
    assert!(store.set_space_amount(ada.id, Some(1 << 40)).await.unwrap());
    assert_eq!(store.space_amount(ada.id).await.unwrap(), Some(1 << 40));
    assert!(store.set_space_amount(ada.id, Some(0)).await.unwrap());
    assert_eq!(store.space_amount(ada.id).await.unwrap(), Some(0));
    assert!(store.set_space_amount(ada.id, None).await.unwrap());
    assert_eq!(store.space_amount(ada.id).await.unwrap(), None);
    assert!(
        !store
            .set_space_amount(UserId(MISSING), Some(1))
            .await
            .unwrap()
    );
    assert_eq!(store.space_amount(UserId(MISSING)).await.unwrap(), None);
}
