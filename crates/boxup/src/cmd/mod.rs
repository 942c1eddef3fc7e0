//! One module per subcommand, plus what the client subcommands share.

pub(crate) mod admin;
pub(crate) mod chunked;
pub(crate) mod common;
pub(crate) mod conn;
pub(crate) mod download;
pub(crate) mod items;
pub(crate) mod journal;
pub(crate) mod memory;
pub(crate) mod notices;
pub(crate) mod progress;
pub(crate) mod serve;
pub(crate) mod session;
pub(crate) mod tree;
pub(crate) mod upload;
