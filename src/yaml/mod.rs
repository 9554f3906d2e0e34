//! YAML span trees: every node keeps the span where it was written, so that findings on rendered
//! objects point into the files. Loading, the tree, and paths into it.

pub mod load;
pub mod path;
pub mod tree;

pub use load::{load, load_in, Comment, LoadedFile};
pub use path::{path_string, Seg, Target};
pub use tree::{Entry, Kind, Node, Scalar, Style, Tag};

/// The first document of `text`, for unit tests (panics when there is none).
#[cfg(test)]
pub fn first_root(text: &str) -> Node {
    load(0, text).docs.remove(0).root
}
