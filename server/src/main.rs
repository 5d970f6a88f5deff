//! `hcpki`: the hcpki server and admin CLI (the code is the library of the same name, `src/lib.rs`).
#![forbid(unsafe_code)]

// jemalloc, not glibc's malloc: a third less CPU per token exchange and a third of the idle memory, with no
// environment settings (D40, docs/benchmarks.md).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    hcpki::main()
}
