//! Stage 3, model: the written repository (`repo`), its documents (`doc`), typed read-only views
//! over them (`cnpg`, `flux`, `object`, `value`, `quantity`, and `refs`: what they name) and infrastructure facts (`infra`).

pub mod cnpg;
pub mod doc;
pub mod flux;
pub mod infra;
pub mod object;
pub mod quantity;
pub mod refs;
pub mod repo;
pub mod value;

pub use doc::{Doc, DocId, Role};
pub use object::{marked, Header, Kind, NameVal};
pub use value::Val;
