//! A token that expires during an upload: the client asks its
//! `TokenProvider` to refresh once per 401 and sends the request again,
//! as the official SDKs do; a provider that cannot refresh lets the 401
//! stand, after one request.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use boxup_client::{BaseUrls, BoxClient, TokenProvider, UploadOptions};
use boxup_e2e::server::{PART, TEST_TOKEN, fast_retry};
use boxup_e2e::{FaultProxy, TestServer, pattern, sha1_hex};
use futures::future::BoxFuture;

/// Hands out the good token for `valid_for` requests, then an expired one
/// until refreshed; refreshing restores the good token for good.
struct ExpiringToken {
    current: Mutex<String>,
    handed_out: AtomicUsize,
    valid_for: usize,
    refreshes: AtomicUsize,
    can_refresh: bool,
}

impl ExpiringToken {
    fn new(valid_for: usize, can_refresh: bool) -> Arc<Self> {
        Arc::new(ExpiringToken {
            current: Mutex::new(TEST_TOKEN.to_owned()),
            handed_out: AtomicUsize::new(0),
            valid_for,
            refreshes: AtomicUsize::new(0),
            can_refresh,
        })
    }
}

impl TokenProvider for ExpiringToken {
    fn token(&self) -> BoxFuture<'_, boxup_client::Result<String>> {
        let mut current = self.current.lock().unwrap();
        if self.handed_out.fetch_add(1, Ordering::SeqCst) == self.valid_for {
            *current = "expired".to_owned();
        }
        Box::pin(std::future::ready(Ok(current.clone())))
    }

    fn refresh<'a>(&'a self, rejected: &'a str) -> BoxFuture<'a, boxup_client::Result<bool>> {
        let mut current = self.current.lock().unwrap();
        let refreshed = if *current != rejected {
            true // another request already refreshed it
        } else if self.can_refresh {
            self.refreshes.fetch_add(1, Ordering::SeqCst);
            *current = TEST_TOKEN.to_owned();
            true
        } else {
            false
        };
        Box::pin(std::future::ready(Ok(refreshed)))
    }
}

fn client(origin: &str, provider: Arc<ExpiringToken>) -> BoxClient {
    BoxClient::builder()
        .token_provider(provider)
        .base_urls(BaseUrls::single_origin(origin))
        .retry(fast_retry())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_token_expiring_mid_upload_is_refreshed_and_the_upload_completes() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::transparent(server.addr).await;
    // Create the session and send three parts, then the token expires
    // while four parts are in flight.
    let provider = ExpiringToken::new(4, true);
    let data = pattern(24 * PART as usize, 91);
    let options = UploadOptions::new().with_parallelism(4);
    let file = client(&proxy.origin(), provider.clone())
        .chunked_uploads()
        .upload_big_file_with(&data[..], "expiring.bin", data.len() as u64, "0", &options)
        .await
        .unwrap();
    assert_eq!(file.sha1.as_deref(), Some(sha1_hex(&data).as_str()));
    assert_eq!(server.download(&file.id).await, data);
    assert_eq!(
        provider.refreshes.load(Ordering::SeqCst),
        1,
        "parallel 401s for one expired token share one refresh"
    );
    let rejected = proxy
        .log()
        .iter()
        .filter(|l| l.upstream_status == Some(401))
        .count();
    assert!(rejected >= 1, "the expired token was sent and rejected");
}

#[tokio::test]
async fn a_401_the_provider_cannot_refresh_surfaces_after_one_request() {
    let server = TestServer::start_small().await;
    let proxy = FaultProxy::transparent(server.addr).await;
    let provider = ExpiringToken::new(0, false);
    let err = client(&proxy.origin(), provider.clone())
        .chunked_uploads()
        .create_file_upload_session("0", 3 * PART, "never.bin", None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert_eq!(err.code(), Some("unauthorized"));
    assert!(!err.is_retryable());
    assert_eq!(provider.refreshes.load(Ordering::SeqCst), 0);
    assert_eq!(proxy.log().len(), 1, "a 401 is not retried blindly");
}
