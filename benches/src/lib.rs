//! ringkv-benches: the side-by-side harness against redis-server, and
//! micro-benchmarks. Nothing here is linked into the server.
