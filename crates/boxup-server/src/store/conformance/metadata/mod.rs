//! Metadata-store conformance suite: one `check_*` per contract clause of
//! [`MetadataStore`], stamped into one `#[tokio::test]` per check by
//! [`metadata_conformance!`](crate::metadata_conformance).
//!
//! Every check creates its own users (logins with a random suffix) and its
//! own object keys, so checks do not see each other's items. The checks of
//! `expire_sessions` and the garbage queue assert exact counts, so the
//! factory must give each check a fresh, empty store.
//!
//! Readings of the contract that the suite pins down (beyond the trait
//! docs): a listing orders names case-insensitively; a file id is not a
//! parent folder; renaming a file to its own name in another case is not a
//! conflict; a committed session keeps its parts listable until deleted.

use crate::service::policy::{self, FileAttributes, NoneMatch, Preconditions};
use crate::store::*;

mod commit;
mod credentials;
mod files;
mod housekeeping;
mod sessions;
mod tree;
mod users_items;

pub use commit::*;
pub use credentials::*;
pub use files::*;
pub use housekeeping::*;
pub use sessions::*;
pub use tree::*;
pub use users_items::*;

/// The `now` of most calls; sessions created here expire at `LATER`.
const NOW: i64 = 1_700_000_000;
const LATER: i64 = NOW + 7 * 24 * 3600;
/// An id that no store hands out in these checks (of any kind).
const MISSING: i64 = i64::MAX - 7;

/// Stamps one `#[tokio::test]` per check of the metadata conformance suite.
///
/// `$factory` is an expression evaluating to a future of `(store, guard)`:
/// `store` is a fresh, empty `impl MetadataStore`, `guard` is anything that
/// must live as long as the test (a `tempfile::TempDir`, a server handle,
/// or `()`). It is evaluated once per test.
///
/// ```text
/// boxup_server::metadata_conformance!(async {
///     let dir = tempfile::tempdir().unwrap();
///     let store = SqliteMetadataStore::open(&dir.path().join("meta.db")).unwrap();
///     (store, dir)
/// });
/// ```
#[macro_export]
macro_rules! metadata_conformance {
    ($factory:expr) => {
        $crate::__metadata_checks!(metadata_conformance { @checks $factory; });
    };
    (@checks $factory:expr; $($check:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let (store, _guard) = $factory.await;
                $crate::store::conformance::metadata::$check(&store).await;
            }
        )*
    };
    (@list $($check:ident),* $(,)?) => {
        vec![$((
            stringify!($check),
            (|store| ::std::boxed::Box::pin($crate::store::conformance::metadata::$check(store)))
                as $crate::store::conformance::metadata::Check,
        )),*]
    };
}

/// The suite's checks, named once: calls `$crate::$then! { ARGS check, … }`.
#[doc(hidden)]
#[macro_export]
macro_rules! __metadata_checks {
    ($then:ident { $($args:tt)* }) => {
        $crate::$then! { $($args)*
            check_ensure_user_idempotent,
            check_ensure_user_concurrent,
            check_folder_create_get,
            check_list_items_order_and_paging,
            check_name_conflict_case_insensitive,
            check_find_by_name,
            check_parent_not_found,
            check_owner_scoping,
            check_create_file_and_objects,
            check_add_version,
            check_add_version_rename,
            check_delete_file_garbage,
            check_concurrent_create_same_name,
            check_session_create_get,
            check_insert_part_existing,
            check_list_parts_paging,
            check_insert_part_rejected,
            check_concurrent_insert_part,
            check_advance_frontier_cas,
            check_insert_hashed_part_and_frontier_step,
            check_commit_new_file,
            check_commit_new_version,
            check_commit_preconditions,
            check_commit_name_conflict,
            check_commit_rejected,
            check_concurrent_commit,
            check_delete_session_open,
            check_delete_session_committed,
            check_expire_sessions,
            check_garbage_forget,
            check_is_object_known,
            check_unknown_objects_in_one_page,
            check_leases,
            check_list_items_by_marker,
            check_update_file,
            check_update_folder_and_cycles,
            check_delete_folder,
            check_copy_file_shares_objects,
            check_copy_folder_tree,
            check_space_used,
            check_tokens,
            check_users_and_quotas,
        }
    };
}

/// One check of the suite, as a function a harness can call.
pub type Check = for<'a> fn(&'a dyn MetadataStore) -> futures::future::BoxFuture<'a, ()>;

/// A page by offset, in brief: `(total, items)`.
pub async fn listed(
    store: &(impl MetadataStore + ?Sized),
    owner: UserId,
    parent: FolderId,
    offset: u64,
    limit: u64,
) -> (u64, Vec<ItemRef>) {
    let chunk = store
        .list_items(owner, parent, ItemsPage::Offset { offset, limit })
        .await
        .unwrap();
    (
        chunk.total,
        chunk.items.iter().map(ItemRecord::brief).collect(),
    )
}

/// Every check of the suite with its name, for a harness that builds its
/// own tests (the PostgreSQL one, which marks them ignored without a server).
pub fn checks() -> Vec<(&'static str, Check)> {
    crate::__metadata_checks!(metadata_conformance { @list })
}

// ---- helpers ----

fn random_hex(len: usize) -> String {
    let n: u128 = rand::random();
    format!("{n:032x}")[..len].to_owned()
}

/// A new user with a unique login.
async fn user(store: &dyn MetadataStore, tag: &str) -> UserId {
    let login = format!("{tag}-{}@example.com", random_hex(12));
    store.ensure_user(&login, tag).await.unwrap().id
}

/// A unique object key.
fn key(tag: &str) -> String {
    format!("test/{tag}/{}", random_hex(16))
}

fn sha(n: u64) -> String {
    format!("{n:040x}")
}

/// Objects of `sizes`, laid out back to back.
fn objects(sizes: &[u64]) -> Vec<ObjectRef> {
    let mut offset = 0;
    sizes
        .iter()
        .map(|&size| {
            let o = ObjectRef {
                key: key("obj"),
                offset,
                size,
            };
            offset += size;
            o
        })
        .collect()
}

fn content(sizes: &[u64], n: u64) -> NewContent {
    NewContent {
        size: sizes.iter().sum(),
        sha1: sha(n),
        objects: objects(sizes),
    }
}

fn new_folder(owner: UserId, parent: FolderId, name: &str) -> NewFolder {
    NewFolder {
        owner_id: owner,
        parent_id: parent,
        name: name.to_owned(),
        now: NOW,
    }
}

/// A new file with the service's defaults, dated `NOW`.
fn new_file(owner: UserId, parent: FolderId, name: &str) -> FileChange {
    new_file_with(owner, parent, name, &FileAttributes::default())
}

fn new_file_with(
    owner: UserId,
    parent: FolderId,
    name: &str,
    attributes: &FileAttributes,
) -> FileChange {
    FileChange {
        owner_id: owner,
        write: FileWrite::Create {
            parent_id: parent,
            values: policy::new_file(name, attributes, NOW),
        },
        content: content(&[4, 3], 1),
    }
}

/// A new version under `If-Match: if_match`, dated `NOW + 10`.
fn new_version(owner: UserId, file_id: FileId, if_match: Option<i64>, n: u64) -> FileChange {
    version_change(owner, file_id, None, FileAttributes::default(), if_match, n)
}

fn version_change(
    owner: UserId,
    file_id: FileId,
    rename: Option<&str>,
    attributes: FileAttributes,
    if_match: Option<i64>,
    n: u64,
) -> FileChange {
    let rename = rename.map(str::to_owned);
    FileChange {
        owner_id: owner,
        write: FileWrite::NewVersion {
            file_id,
            decide: policy::new_version(
                rename,
                attributes,
                Preconditions::if_match(if_match),
                NOW + 10,
            ),
        },
        content: content(&[5], n),
    }
}

/// The service's rule for `DELETE` with `If-Match: if_match`.
fn delete_if(if_match: Option<i64>) -> DeleteDecision {
    policy::delete_file(Preconditions::if_match(if_match))
}

fn folder_ref(f: &FolderRecord) -> ItemRef {
    ItemRef {
        id: ItemId::Folder(f.id),
        name: f.name.clone(),
        etag: f.etag,
        version: None,
    }
}

fn file_ref(f: &FileRecord) -> ItemRef {
    ItemRef {
        id: ItemId::File(f.id),
        name: f.name.clone(),
        etag: f.etag,
        version: Some(ItemVersion {
            id: f.version.id,
            sha1: f.version.sha1.clone(),
            size: f.version.size,
        }),
    }
}

/// An open session of `file_size` bytes in parts of 10 bytes.
fn session(owner: UserId, target: SessionTarget, file_size: u64) -> SessionRecord {
    SessionRecord {
        id: SessionId(random_hex(32).to_uppercase()),
        owner_id: owner,
        target,
        file_size,
        part_size: 10,
        total_parts: file_size.div_ceil(10) as u32,
        num_parts: 0,
        state: SessionState::Open,
        created_at: NOW,
        expires_at: LATER,
        frontier: Frontier::default(),
        committed: None,
    }
}

fn to_file(folder_id: FolderId, name: &str) -> SessionTarget {
    SessionTarget::NewFile {
        folder_id,
        name: name.to_owned(),
    }
}

fn part(s: &SessionRecord, index: u32) -> PartRecord {
    let offset = u64::from(index) * s.part_size;
    PartRecord {
        session_id: s.id.clone(),
        index,
        part_id: random_hex(8).to_uppercase(),
        offset,
        size: s.part_size.min(s.file_size.saturating_sub(offset)),
        sha1: sha(u64::from(index) + 100),
        object_key: key("part"),
    }
}

/// Creates `s` and stores all its parts (last first); returns them in order.
async fn session_with_parts(store: &dyn MetadataStore, s: &SessionRecord) -> Vec<PartRecord> {
    store.create_session(s).await.unwrap();
    let parts: Vec<_> = (0..s.total_parts).map(|i| part(s, i)).collect();
    for p in parts.iter().rev() {
        assert_eq!(store.insert_part(p).await.unwrap(), PartInsert::Inserted);
    }
    parts
}

/// The service's commit of `s` by its owner, dated `NOW + 1`.
fn commit(s: &SessionRecord, n: u64) -> CommitSession {
    commit_as(
        s,
        n,
        s.owner_id,
        FileAttributes::default(),
        Preconditions::default(),
    )
}

fn commit_as(
    s: &SessionRecord,
    n: u64,
    caller: UserId,
    attributes: FileAttributes,
    preconditions: Preconditions,
) -> CommitSession {
    CommitSession {
        session_id: s.id.clone(),
        sha1: sha(n),
        decide: policy::commit(caller, attributes, preconditions, NOW + 1),
    }
}

fn part_objects(parts: &[PartRecord]) -> Vec<ObjectRef> {
    parts
        .iter()
        .map(|p| ObjectRef {
            key: p.object_key.clone(),
            offset: p.offset,
            size: p.size,
        })
        .collect()
}

#[track_caller]
fn err<T: std::fmt::Debug>(r: StoreResult<T>) -> StoreError {
    match r {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e,
    }
}

async fn state(store: &dyn MetadataStore, id: &SessionId) -> Option<SessionState> {
    store.get_session(id).await.unwrap().map(|s| s.state)
}

async fn in_garbage(store: &dyn MetadataStore, key: &str) -> bool {
    store
        .garbage(u64::MAX)
        .await
        .unwrap()
        .iter()
        .any(|k| k == key)
}

/// Whether a part, version or garbage row names `key`.
async fn is_known(store: &dyn MetadataStore, key: &str) -> bool {
    let unknown = store.unknown_objects(&[key.to_owned()]).await.unwrap();
    unknown.is_empty()
}
