//! ringkv-benches: the side-by-side harness against redis-server, our own
//! load generator, and criterion micro-benchmarks. Nothing here is linked
//! into the server.
//!
//! The library holds what the binaries share: starting and measuring
//! servers ([`server`]), running and parsing `redis-benchmark`
//! ([`redis_benchmark`]), bulk loading ([`load`]), the machine description
//! ([`machine`]), the markdown report ([`report`]), INFO counters
//! ([`info`]), and the scenarios kept in their own modules ([`scenario`],
//! with the run context they share).

pub mod info;
pub mod load;
pub mod machine;
pub mod redis_benchmark;
pub mod report;
pub mod scenario;
pub mod server;
pub mod stats;
