//! Stage 2: YAML loading into span trees.

pub mod load;
pub mod path;
pub mod tree;

pub use load::{load, load_in, Comment, LoadedDoc, LoadedFile, YamlError};
pub use path::{path_string, Seg, Target};
pub use tree::{Entry, Kind, Node, Scalar, Style, Tag};

/// The first document of `text`, for unit tests (panics when there is none).
#[cfg(test)]
pub fn first_root(text: &str) -> Node {
    load(0, text).docs.remove(0).root
}
