//! Unit tests of `client.rs`: default hosts, endpoint building, the
//! builder's checks and what clones share.

use super::*;

#[test]
fn defaults_are_box_hosts_without_2_0() {
    let c = BoxClient::new("t").unwrap();
    assert_eq!(c.base_urls().base_url, "https://api.box.com");
    assert_eq!(c.base_urls().upload_url, "https://upload.box.com/api");
    assert_eq!(
        c.upload_endpoint(&["files", "upload_sessions"]).as_str(),
        "https://upload.box.com/api/2.0/files/upload_sessions"
    );
}

#[test]
fn endpoints_escape_ids_and_tolerate_trailing_slashes() {
    let c = BoxClient::builder()
        .token("t")
        .base_urls(BaseUrls::single_origin("http://127.0.0.1:9/"))
        .build()
        .unwrap();
    assert_eq!(c.base_urls().upload_url, "http://127.0.0.1:9/api");
    let url = c.upload_endpoint(&["files", "a/b c", "upload_sessions"]);
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:9/api/2.0/files/a%2Fb%20c/upload_sessions"
    );
    let other = c
        .with_base_urls(BaseUrls::single_origin("http://h"))
        .unwrap();
    assert_eq!(other.upload_endpoint(&["x"]).as_str(), "http://h/api/2.0/x");
    assert!(Arc::ptr_eq(&c.inner.auth, &other.inner.auth));
}

#[test]
fn build_rejects_bad_settings() {
    assert!(matches!(
        BoxClient::builder().build(),
        Err(Error::InvalidInput(_))
    ));
    let bad = BoxClient::builder()
        .token("t")
        .upload_url("not a url")
        .build();
    assert!(matches!(bad, Err(Error::InvalidInput(m)) if m.contains("upload_url")));
    let ftp = BoxClient::builder().token("t").base_url("ftp://h").build();
    assert!(matches!(ftp, Err(Error::InvalidInput(_))));
    let zero = BoxClient::builder()
        .token("t")
        .retry(RetryConfig {
            max_attempts: 0,
            ..RetryConfig::default()
        })
        .build();
    assert!(zero.is_err());
}

#[test]
fn clones_share_the_pool_and_settings() {
    let a = BoxClient::new("t").unwrap();
    let b = a.clone();
    assert!(Arc::ptr_eq(&a.inner, &b.inner));
    assert!(!format!("{a:?}").contains("\"t\""));
}
