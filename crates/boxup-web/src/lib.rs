//! The page `boxup serve` shows at `/`: upload (resumable, parallel parts,
//! folders, drag and drop), browse, download, rename and delete.
//!
//! Its source is TypeScript in `web/` at the top of the repository; the
//! bundle built from it is committed here, in `assets/`, and compiled into
//! the binary with `include_bytes!`. So building boxup needs no Node.js, and
//! a fresh `cargo run -- serve` shows the page. After changing `web/`,
//! rebuild the bundle with `npm --prefix web ci && npm --prefix web run
//! build`; CI rebuilds it from the lockfile and fails if the result differs
//! byte for byte from what is committed here (`web/check.sh`).
//!
//! This crate only holds bytes; how they are served (headers, the
//! Content-Security-Policy, ETags) is the server's business.

/// One file of the page.
#[derive(Debug)]
pub struct Asset {
    /// The file's name: served as `/web/<name>`, except `index.html` at `/`.
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../assets/", $name)),
        }
    };
}

/// Every file of the bundle.
pub const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("hash-worker.js", "text/javascript; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("folder.svg", "image/svg+xml"),
    asset!("file.svg", "image/svg+xml"),
];

/// The page itself.
pub const INDEX: &Asset = &ASSETS[0];

/// The file named `name`, if the bundle has it. Names are compared
/// exactly; nothing is ever looked up on disk.
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file added to the build but not listed here would be missing
    /// from the binary; one listed but no longer built would be stale.
    #[test]
    fn every_built_file_is_embedded_and_nothing_else() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let mut built: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        built.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|a| a.name.to_owned()).collect();
        listed.sort();
        assert_eq!(built, listed);
    }

    #[test]
    fn the_page_loads_its_script_and_styles_from_the_bundle() {
        let html = std::str::from_utf8(INDEX.bytes).unwrap();
        assert_eq!(INDEX.name, "index.html");
        for name in ["app.js", "app.css"] {
            assert!(
                html.contains(&format!("/web/{name}")),
                "index.html lacks {name}"
            );
            assert!(asset(name).is_some());
        }
        // No inline script or style: the CSP would block it.
        assert!(!html.contains("<script>") && !html.contains("<style") && !html.contains("style="));
    }

    #[test]
    fn lookups_are_exact() {
        assert!(asset("app.js").is_some());
        for name in ["../app.js", "APP.JS", "app.js/", "", "assets/app.js"] {
            assert!(asset(name).is_none(), "{name}");
        }
    }
}
