//! RESP request framing (`ringkv_server::resp::Parser`) and key → slot
//! lookup: the first two things every request goes through.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringkv_benches::load::encode_command;
use ringkv_server::resp::{Limits, Parsed, Parser};

const LIMITS: Limits = Limits {
    bulk_bytes_max: 512 << 20,
    authenticated: true,
};

/// Frames every request in `input`; returns how many.
fn parse_all(parser: &mut Parser, input: &[u8]) -> usize {
    let mut at = 0;
    let mut n = 0;
    while at < input.len() {
        match parser.parse(&input[at..], LIMITS) {
            Parsed::Command { consumed } => {
                black_box(parser.args(&input[at..]).len());
                at += consumed;
                n += 1;
            }
            Parsed::Empty { consumed } => at += consumed,
            Parsed::Incomplete | Parsed::Error(_) => break,
        }
    }
    n
}

fn resp(c: &mut Criterion) {
    let mut set = Vec::new();
    encode_command(&mut set, &[b"SET", b"key:000000012345", &[b'x'; 64]]);
    let mut pipeline16 = Vec::new();
    for i in 0..16 {
        encode_command(
            &mut pipeline16,
            &[b"SET", format!("key:{i:012}").as_bytes(), &[b'x'; 64]],
        );
    }
    let mut hset = Vec::new();
    let fields: Vec<Vec<u8>> = (0..20).map(|i| format!("field{i}").into_bytes()).collect();
    let mut args: Vec<&[u8]> = vec![b"HSET", b"myhash"];
    args.extend(fields.iter().map(|f| f.as_slice()));
    encode_command(&mut hset, &args);

    let mut g = c.benchmark_group("resp_parse");
    let mut parser = Parser::default();
    g.throughput(Throughput::Elements(1));
    g.bench_function("SET 64B", |b| {
        b.iter(|| parse_all(&mut parser, black_box(&set)))
    });
    g.bench_function("HSET 10 pairs", |b| {
        b.iter(|| parse_all(&mut parser, black_box(&hset)))
    });
    g.bench_function("inline PING", |b| {
        b.iter(|| parse_all(&mut parser, black_box(b"PING\r\n")))
    });
    g.throughput(Throughput::Elements(16));
    g.bench_function("pipeline of 16 SET", |b| {
        b.iter(|| parse_all(&mut parser, black_box(&pipeline16)))
    });
    g.finish();
}

fn slot(c: &mut Criterion) {
    let mut g = c.benchmark_group("key_slot");
    g.bench_function("plain key", |b| {
        b.iter(|| ringkv_engine::slot::key_slot(black_box(b"key:000000012345")))
    });
    g.bench_function("hash tag", |b| {
        b.iter(|| ringkv_engine::slot::key_slot(black_box(b"{user1000}.following")))
    });
    g.finish();
}

criterion_group!(benches, resp, slot);
criterion_main!(benches);
