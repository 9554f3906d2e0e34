#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;

fn main() -> ExitCode {
    cnpg_lint::cli::run()
}

// The run allocates millions of small tree nodes from every worker thread at once; mimalloc measured
// 17 % faster end to end than the system allocator on the 5,000-app benchmark repository.
// It is built without transparent huge pages (feature `no_thp`): a short run touches its
// memory once, and zeroing 2 MiB pages for it cost 23 % of wall time and 30 MB of peak RSS.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
