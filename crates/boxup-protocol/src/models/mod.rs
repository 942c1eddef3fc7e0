//! Wire models, one module per API area.

mod items;
mod plan;
mod requests;
mod sessions;

pub use items::*;
pub use plan::*;
pub use requests::*;
pub use sessions::*;
