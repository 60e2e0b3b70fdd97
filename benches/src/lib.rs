//! ringkv-benches: the side-by-side harness against redis-server, our own
//! load generator, and criterion micro-benchmarks. Nothing here is linked
//! into the server.
//!
//! The library holds what the binaries share: starting and measuring
//! servers ([`server`]), running and parsing `redis-benchmark`
//! ([`redis_benchmark`]), bulk loading ([`load`]), the machine description
//! ([`machine`]), the markdown report ([`report`]) and INFO counters
//! ([`info`]), process memory from /proc ([`procmem`]), PNG charts
//! ([`charts`]) and the scenarios that live outside the harness binary
//! ([`scenario`], with the run context [`scenario::Ctx`]).

pub mod charts;
pub mod info;
pub mod load;
pub mod machine;
pub mod procmem;
pub mod redis_benchmark;
pub mod report;
pub mod scenario;
pub mod server;
pub mod stats;
