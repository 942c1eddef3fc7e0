//! One module per subcommand, plus what the client subcommands share.

pub mod chunked;
pub mod common;
pub mod conn;
pub mod download;
pub mod items;
pub mod journal;
pub mod notices;
pub mod progress;
pub mod serve;
pub mod session;
pub mod upload;
