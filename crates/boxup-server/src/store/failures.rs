//! Who is told when a metadata store itself fails (the database is out of
//! reach, full, or refuses a statement), so that the server can count it
//! (`boxup_store_errors_total{store="metadata"}`).
//!
//! Why a hook in the backends rather than a wrapper like the part store's
//! `CountedPartStore`: the metadata trait has dozens of methods, and a
//! wrapper forwarding each would have to remember every method a backend
//! overrides for speed. Each backend already sends every transaction
//! through one or two runners (`read`, `write`, …), which report there.

use std::sync::{Arc, OnceLock};

use super::{StoreError, StoreResult};

/// What a hook is called with: the kind of transaction (`read`, `write`)
/// and the error (domain refusals such as `NotFound` included; the hook
/// picks what it counts).
pub type FailureFn = Box<dyn Fn(&'static str, &StoreError) + Send + Sync>;

/// A store's hook, set at most once; cheap to clone (one `Arc`).
#[derive(Clone, Default)]
pub struct FailureHook(Arc<OnceLock<FailureFn>>);

impl FailureHook {
    /// Sets the hook; false (and `f` dropped) if one was set already.
    pub fn set(&self, f: FailureFn) -> bool {
        self.0.set(f).is_ok()
    }

    /// Tells the hook of `result`'s error, if any, and passes it on.
    pub fn report<T>(&self, op: &'static str, result: StoreResult<T>) -> StoreResult<T> {
        if let (Err(e), Some(f)) = (&result, self.0.get()) {
            f(op, e);
        }
        result
    }
}

impl std::fmt::Debug for FailureHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "FailureHook(set)"
        } else {
            "FailureHook"
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn reports_errors_once_set_and_passes_results_on() {
        let hook = FailureHook::default();
        assert!(
            hook.report("read", Err::<(), _>(StoreError::NotFound))
                .is_err()
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        assert!(hook.set(Box::new(move |op, e| {
            sink.lock().unwrap().push(format!("{op}: {e}"))
        })));
        assert!(!hook.set(Box::new(|_, _| {})), "set once");
        assert_eq!(hook.report("write", Ok::<_, StoreError>(7)).unwrap(), 7);
        let err = hook.report("write", Err::<(), _>(StoreError::backend("disk gone")));
        assert!(err.is_err());
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert!(
            seen[0].starts_with("write: ") && seen[0].contains("disk gone"),
            "{seen:?}"
        );
    }
}
