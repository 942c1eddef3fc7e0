//! The metadata conformance suite against `PostgresMetadataStore`, plus what
//! is specific to PostgreSQL: persistence across a reconnect, migrations
//! racing from many replicas, refusal of a newer schema, connection errors.
//! Races between replicas are in `postgres_races.rs`; the per-test schema
//! and connection budget in `pg_support`.

use crate::pg_support::*;

pub(crate) async fn data_survives_dropping_the_pool_and_reconnecting() {
    let guard = SchemaGuard::new(6).await;
    let store = guard.store(4).await;
    let user = store.ensure_user("persist@example.com", "P").await.unwrap();
    let kept = store
        .create_folder(folder(user.id, FolderId::ROOT, "Kept"))
        .await
        .unwrap();
    let f = store
        .write_file(file(user.id, kept.id, "f.txt", "obj/1"))
        .await
        .unwrap();
    let s = session(user.id, "big.bin", 2, NOW + 100);
    store.create_session(&s).await.unwrap();
    let p = part(&s, 0, "keep");
    assert_eq!(store.insert_part(&p).await.unwrap(), PartInsert::Inserted);
    let frontier = Frontier {
        offset: 10,
        state: vec![9; 100],
    };
    assert!(store.advance_frontier(&s.id, 0, &frontier).await.unwrap());
    for id in [user.id.0, kept.id.0, f.id.0, f.version.id.0] {
        assert!((ID_MIN..=ID_MAX).contains(&id), "{id}");
    }
    store.close().await;
    let e = store
        .get_user(user.id)
        .await
        .expect_err("a closed pool fails");
    // A closed pool (the server is stopping): the client should retry,
    // perhaps on another replica.
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    drop(store);

    let store = guard.store(4).await;
    assert_eq!(store.get_user(user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(
        store.get_folder(user.id, kept.id).await.unwrap(),
        Some(kept)
    );
    assert_eq!(
        store.get_file(user.id, f.id).await.unwrap(),
        Some(f.clone())
    );
    let objects = store.version_objects(f.version.id).await.unwrap();
    assert_eq!(objects[0].key, "obj/1");
    let reloaded = store.get_session(&s.id).await.unwrap().unwrap();
    assert_eq!((reloaded.num_parts, reloaded.frontier), (1, frontier));
    assert_eq!(store.get_part(&s.id, 0).await.unwrap(), Some(p));
    let again = store.ensure_user("persist@example.com", "P").await.unwrap();
    assert_eq!(again, user);
    // Reconnecting migrated nothing again.
    assert_eq!(
        schema_versions(&guard).await,
        (1..=SCHEMA_VERSION).collect::<Vec<_>>()
    );
}

pub(crate) async fn eight_replicas_starting_at_once_migrate_once() {
    let guard = SchemaGuard::new(18).await;
    let stores = replicas(&guard, 8).await;
    // Each migration step records its version once (a primary key); a step
    // run twice would have failed on its CREATE TABLE, failing a connect.
    assert_eq!(
        schema_versions(&guard).await,
        (1..=SCHEMA_VERSION).collect::<Vec<_>>()
    );
    let users =
        join_all(stores.iter().enumerate().map(|(i, s)| async move {
            s.ensure_user(&format!("replica{i}@example.com"), "R").await
        }))
        .await;
    for store in &stores {
        for u in &users {
            let u = u.as_ref().unwrap();
            assert_eq!(store.get_user(u.id).await.unwrap().as_ref(), Some(u));
        }
    }
}

pub(crate) async fn refuses_a_database_from_a_newer_schema() {
    let guard = SchemaGuard::new(3).await;
    drop(guard.store(1).await);
    sqlx::query("INSERT INTO boxup_schema (version) VALUES (999)")
        .execute(&mut guard.raw().await)
        .await
        .unwrap();
    let e = PostgresMetadataStore::connect(&guard.url, guard.options(1))
        .await
        .expect_err("a newer schema is refused");
    assert!(
        matches!(&e, StoreError::Backend(m) if m.to_string().contains("999")),
        "{e:?}"
    );
}

pub(crate) async fn connection_failures_are_backend_errors() {
    let options = || PostgresOptions {
        schema: Some("unused".into()),
        max_connections: 1,
    };
    // Port 1: nothing listens, the connect is refused at once.
    for url in ["postgres://postgres@127.0.0.1:1/test", "mysql://nope"] {
        let e = PostgresMetadataStore::connect(url, options())
            .await
            .expect_err(url);
        assert!(matches!(e, StoreError::Backend(_)), "{url}: {e:?}");
    }
    // The message names the server and the cause, never the password.
    let e = PostgresMetadataStore::connect("postgres://ops:s3cret@127.0.0.1:1/meta", options())
        .await
        .expect_err("nothing listens on port 1");
    let chain = boxup_server::error::Chain(&e).to_string();
    assert!(
        chain.starts_with("cannot connect to PostgreSQL at ops@127.0.0.1:1/meta: "),
        "{chain}"
    );
    assert!(chain.to_lowercase().contains("refused"), "{chain}");
    assert!(!chain.contains("s3cret"), "{chain}");
    let no_pool = PostgresOptions {
        max_connections: 0,
        ..options()
    };
    let e = PostgresMetadataStore::connect(&database_url(), no_pool).await;
    assert!(matches!(e, Err(StoreError::Backend(_))), "{e:?}");
}

pub(crate) async fn odd_schema_names_are_quoted_and_debug_shows_no_password() {
    let mut guard = SchemaGuard::new(3).await;
    guard.schema = format!("Boxup \"Odd\" {:08x}", rand::random::<u32>());
    // The URL with a password (trust auth ignores it); Debug must not show it.
    let url = guard.url.clone();
    let (secret, url) = match url.split_once("://").and_then(|(_, r)| r.split_once('@')) {
        Some((userinfo, _)) if userinfo.contains(':') => {
            (userinfo.split_once(':').unwrap().1.to_owned(), url.clone())
        }
        Some((userinfo, rest)) => {
            let secret = "pw-7c1d9e".to_owned();
            let scheme = url.split_once("://").unwrap().0;
            (
                secret.clone(),
                format!("{scheme}://{userinfo}:{secret}@{rest}"),
            )
        }
        None => panic!("the test URL needs a user: {DEFAULT_URL}"),
    };
    let store = guard.store_at(&url, 1).await;
    let debug = format!("{store:?}");
    assert!(!debug.contains(&secret), "{debug}");
    assert!(debug.contains("Odd"), "{debug}");
    let id = user(&store, "odd@example.com").await;
    assert_eq!(store.get_user(id).await.unwrap().unwrap().id, id);
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = $1")
        .bind(&guard.schema)
        .fetch_one(&mut guard.raw().await)
        .await
        .unwrap();
    assert_eq!(
        tables, 13,
        "12 tables and boxup_schema in {:?}",
        guard.schema
    );
}
