//! Command execution through the engine's dispatch path (spec lookup,
//! slot locks, `ExecCtx::run_at`), as the server runs it, and the AOF
//! encoding of propagated commands.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use ringkv_engine::command::{lowercase_name, CommandSpec, EngineFn};
use ringkv_engine::exec::{ExecCtx, Locks, Propagation};
use ringkv_engine::reply::Protocol;
use ringkv_engine::stats::ThreadStats;
use ringkv_engine::{Keyspace, ReplyWriter};

const NOW_MS: u64 = 1_700_000_000_000;

fn spec(name: &[u8]) -> &'static CommandSpec<EngineFn> {
    let mut buf = [0u8; 32];
    let lower = lowercase_name(name, &mut buf).expect("command names are short");
    ringkv_engine::cmd::all()
        .find(|s| s.name == lower)
        .expect("the command exists")
}

/// What one worker thread keeps between commands.
struct Worker {
    ks: Keyspace,
    stats: ThreadStats,
    prop: Propagation,
    out: ReplyWriter,
}

impl Worker {
    fn new() -> Worker {
        Worker {
            ks: Keyspace::new(16),
            stats: ThreadStats::default(),
            prop: Propagation::default(),
            out: ReplyWriter::new(Protocol::Resp2),
        }
    }

    fn run(&mut self, spec: &'static CommandSpec<EngineFn>, args: &[&[u8]]) -> usize {
        self.out.truncate(0);
        self.prop.clear();
        let locks = Locks::for_command(&self.ks, spec, args);
        let mut ctx = ExecCtx::new(
            &self.ks,
            0,
            &mut self.out,
            &self.stats,
            &mut self.prop,
            locks,
        );
        ctx.run_at(spec, args, NOW_MS);
        drop(ctx);
        self.out.len()
    }
}

fn dispatch(c: &mut Criterion) {
    let (set, get) = (spec(b"SET"), spec(b"GET"));
    let keys: Vec<Vec<u8>> = (0..10_000)
        .map(|i| format!("key:{i:012}").into_bytes())
        .collect();
    let value = [b'x'; 64];
    let mut w = Worker::new();
    for k in &keys {
        w.run(set, &[b"SET", k, &value]);
    }
    let mut g = c.benchmark_group("dispatch");
    let mut i = 0usize;
    g.bench_function("SET 64B (10k keys)", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            w.run(set, black_box(&[b"SET", &keys[i], &value]))
        })
    });
    g.bench_function("GET hit (10k keys)", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            w.run(get, black_box(&[b"GET", &keys[i]]))
        })
    });
    g.bench_function("GET miss", |b| {
        b.iter(|| w.run(get, black_box(&[b"GET", b"nosuchkey"])))
    });
    g.finish();
}

/// redis-benchmark's collection writes on one large key: `ZADD myzset
/// <rand> element:<rand>` and `SADD myset element:<rand>` over 100,000
/// random values, i.e. mostly updates of a member already there.
fn collections(c: &mut Criterion) {
    let (zadd, sadd) = (spec(b"ZADD"), spec(b"SADD"));
    let mut rng = StdRng::seed_from_u64(7);
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..200_000)
        .map(|_| {
            let score = format!("{:012}", rng.gen_range(0..100_000)).into_bytes();
            let member = format!("element:{:012}", rng.gen_range(0..100_000)).into_bytes();
            (score, member)
        })
        .collect();
    let mut w = Worker::new();
    for (score, member) in &pairs {
        w.run(zadd, &[b"ZADD", b"myzset", score, member]);
        w.run(sadd, &[b"SADD", b"myset", member]);
    }
    let mut g = c.benchmark_group("collections");
    let mut i = 0usize;
    g.bench_function("ZADD (100k-member sorted set)", |b| {
        b.iter(|| {
            i = (i + 1) % pairs.len();
            let (score, member) = &pairs[i];
            w.run(zadd, black_box(&[b"ZADD", b"myzset", score, member]))
        })
    });
    g.bench_function("SADD (100k-member set)", |b| {
        b.iter(|| {
            i = (i + 1) % pairs.len();
            w.run(sadd, black_box(&[b"SADD", b"myset", &pairs[i].1]))
        })
    });
    g.finish();
}

fn propagation(c: &mut Criterion) {
    let mut prop = Propagation::default();
    let value = [b'x'; 64];
    let mut g = c.benchmark_group("aof_encode");
    g.bench_function("Propagation::push SET 64B", |b| {
        b.iter(|| {
            prop.clear();
            prop.push(0, black_box(&[b"SET", b"key:000000012345", &value]));
            prop.buf.len()
        })
    });
    g.finish();
}

criterion_group!(benches, dispatch, collections, propagation);
criterion_main!(benches);
