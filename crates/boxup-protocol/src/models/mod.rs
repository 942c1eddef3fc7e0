//! Wire models, one module per API area.

mod items;
mod requests;
mod sessions;

pub use items::*;
pub use requests::*;
pub use sessions::*;
