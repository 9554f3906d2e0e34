//! Stage 2: YAML loading into span trees.

pub mod load;
pub mod tree;

pub use load::{load, Comment, LoadedDoc, LoadedFile, YamlError};
pub use tree::{Entry, Kind, Node, Scalar, Style};
