//! Stage 3: typed, read-only views over loaded documents.

pub mod cnpg;
pub mod flux;
pub mod object;
pub mod quantity;
pub mod value;

pub use object::{marked, Header, Kind, NameVal};
pub use value::Val;
