//! Source trees moved into builds instead of copied. Once a build applies an object, rules read
//! the applied object and never its source document, so a linting run has no use for a second
//! copy of it. Before rendering, the index hands the trees of its objects over; the first build
//! that applies an object takes the tree as it is. A later build applying the same object (a base
//! shared by overlays), or any other reader, gets the tree read again from the file's text:
//! loading is deterministic, so it is the same tree, and each file is read again at most once.
//! After rendering, the trees of objects that no build applied go back to the index.

use std::sync::{Mutex, OnceLock};

use crate::model::{Doc, DocId, Role};
use crate::source::SourceMap;
use crate::yaml::{self, Kind, Node};

const NOT_HANDED: u32 = u32::MAX;

#[derive(Debug)]
pub struct Handover {
    /// Per document: its position in `slots`, or `NOT_HANDED`.
    slot_of: Vec<u32>,
    /// Trees no build has taken yet.
    slots: Vec<Mutex<Option<Node>>>,
    /// Per file: its documents (position in the file, tree), loaded again, for readers that
    /// come after the first take.
    reread: Vec<OnceLock<Vec<(usize, Node)>>>,
}

impl Handover {
    /// Takes the trees of the objects a build may apply out of `docs`, leaving an empty mapping
    /// with the same span in their place. Root Flux Kustomizations stay: rules read them as the
    /// owners of what they build.
    pub fn take_from(docs: &mut [Doc], files: usize, roots: &[(DocId, u32)]) -> Handover {
        let mut slot_of = vec![NOT_HANDED; docs.len()];
        let mut is_root = vec![false; docs.len()];
        for &(r, _) in roots {
            if let Some(x) = is_root.get_mut(r as usize) {
                *x = true;
            }
        }
        let mut slots = Vec::new();
        for ((doc, slot), &root) in docs.iter_mut().zip(slot_of.iter_mut()).zip(&is_root) {
            if doc.role != Role::Object || root {
                continue;
            }
            *slot = u32::try_from(slots.len()).unwrap_or(NOT_HANDED);
            if *slot == NOT_HANDED {
                continue;
            }
            let empty = placeholder(&doc.root);
            slots.push(Mutex::new(Some(std::mem::replace(&mut doc.root, empty))));
        }
        Handover {
            slot_of,
            slots,
            reread: (0..files).map(|_| OnceLock::new()).collect(),
        }
    }

    fn slot(&self, d: DocId) -> Option<&Mutex<Option<Node>>> {
        let s = *self.slot_of.get(d as usize)?;
        self.slots.get(s as usize)
    }

    pub fn is_handed(&self, d: DocId) -> bool {
        self.slot_of
            .get(d as usize)
            .is_some_and(|&s| s != NOT_HANDED)
    }

    /// The tree of a handed-over document, for a build to own: the original the first time,
    /// a copy of the re-read one after that.
    pub fn take(&self, d: DocId, doc: &Doc, sources: &SourceMap) -> Option<Node> {
        let taken = self.slot(d).and_then(|m| {
            m.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take()
        });
        taken.or_else(|| self.read(doc, sources).cloned())
    }

    /// The tree of a handed-over document, to read.
    pub fn read<'h>(&'h self, doc: &Doc, sources: &SourceMap) -> Option<&'h Node> {
        let roots = self.reread.get(doc.file as usize)?.get_or_init(|| {
            let text = sources.get(doc.file).map_or("", |f| f.text.as_str());
            yaml::load(doc.file, text)
                .docs
                .into_iter()
                .map(|d| (d.index, d.root))
                .collect()
        });
        let at = roots.binary_search_by_key(&doc.index, |(i, _)| *i).ok()?;
        roots.get(at).map(|(_, root)| root)
    }

    /// Puts back the trees of handed-over documents for which `keep_out` is false (objects no
    /// build applied), untouched or read again. The others stay handed over: whatever reads
    /// them later (a `render` of a directory) reads them again from their file.
    pub fn give_back(
        &mut self,
        docs: &mut [Doc],
        sources: &SourceMap,
        keep_out: impl Fn(DocId) -> bool,
    ) {
        for d in 0..self.slot_of.len() {
            let s = self.slot_of.get(d).copied().unwrap_or(NOT_HANDED);
            if s == NOT_HANDED || keep_out(d as DocId) {
                continue;
            }
            let Some(doc) = docs.get(d) else { continue };
            let kept = self.slots.get(s as usize).and_then(|m| {
                m.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take()
            });
            if let Some(root) = kept.or_else(|| self.read(doc, sources).cloned()) {
                if let Some(doc) = docs.get_mut(d) {
                    doc.root = root;
                    if let Some(slot) = self.slot_of.get_mut(d) {
                        *slot = NOT_HANDED;
                    }
                }
            }
        }
        // Every slot is empty now: applied objects were taken, the others given back.
        self.slots = Vec::new();
    }
}

/// What stays in the index for a tree that was handed over.
fn placeholder(root: &Node) -> Node {
    Node {
        span: root.span,
        tag: None,
        kind: Kind::Map(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Header;
    use crate::source::SourceFile;

    const TEXT: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n---\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n";

    fn setup() -> (SourceMap, Vec<Doc>) {
        let mut sources = SourceMap::with_capacity(1);
        let file = sources.add(SourceFile::new(
            "x.yaml".into(),
            "x.yaml".into(),
            TEXT.into(),
        ));
        let docs = yaml::load(file, TEXT)
            .docs
            .into_iter()
            .map(|d| Doc {
                file,
                index: d.index,
                header: Header::read(&d.root).map(Box::new),
                root: d.root,
                role: Role::Object,
                nodes: 0,
            })
            .collect();
        (sources, docs)
    }

    #[test]
    fn first_take_moves_later_takes_read_again() {
        let (sources, mut docs) = setup();
        let original: Vec<Node> = docs.iter().map(|d| d.root.clone()).collect();
        let h = Handover::take_from(&mut docs, sources.len(), &[(1, 0)]);
        // Objects are handed over; the root Flux Kustomization stays for rules to read.
        assert!(h.is_handed(0) && h.is_handed(2) && !h.is_handed(1));
        assert_eq!(docs[0].root.as_map().map(<[_]>::len), Some(0));
        assert_eq!(docs[1].root, original[1]);
        // The third document sits after an empty one: its position in the file is 3.
        assert_eq!(docs[2].index, 3);
        for _ in 0..3 {
            assert_eq!(h.take(2, &docs[2], &sources).as_ref(), Some(&original[2]));
        }
        assert_eq!(h.read(&docs[0], &sources), Some(&original[0]));
    }

    #[test]
    fn gives_back_what_no_build_kept() {
        let (sources, mut docs) = setup();
        let original: Vec<Node> = docs.iter().map(|d| d.root.clone()).collect();
        let mut h = Handover::take_from(&mut docs, sources.len(), &[]);
        let _ = h.take(0, &docs[0], &sources);
        let _ = h.take(2, &docs[2], &sources);
        // Document 0 was applied; document 2 was taken by a build that dropped it.
        h.give_back(&mut docs, &sources, |d| d == 0);
        assert_eq!(docs[0].root.as_map().map(<[_]>::len), Some(0));
        // Document 1 was handed over too (no roots), and no build took it.
        assert_eq!(docs[1].root, original[1]);
        assert_eq!(docs[2].root, original[2]);
        assert!(h.is_handed(0) && !h.is_handed(1) && !h.is_handed(2));
        assert_eq!(h.read(&docs[0], &sources), Some(&original[0]));
    }
}
