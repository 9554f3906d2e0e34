//! The YAML loader on arbitrary text: it must return documents and errors, never panic, and
//! every span it gives must lie inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = cnpg_lint::internals::load_yaml(0, text);
    for d in &loaded.docs {
        let mut stack = vec![&d.root];
        while let Some(n) = stack.pop() {
            assert!(n.span.end as usize <= text.len() && n.span.start <= n.span.end);
            match &n.kind {
                cnpg_lint::internals::Kind::Scalar(_) => {}
                cnpg_lint::internals::Kind::Seq(items) => stack.extend(items.iter()),
                cnpg_lint::internals::Kind::Map(entries) => {
                    for e in entries {
                        stack.push(&e.key);
                        stack.push(&e.value);
                    }
                }
            }
        }
    }
    for e in &loaded.errors {
        assert!(e.span.end as usize <= text.len());
    }
});
