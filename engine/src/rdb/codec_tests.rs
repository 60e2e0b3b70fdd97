//! Tests of the encoder and decoder together: round trips of every type and
//! encoding across the thresholds, legacy encodings built by hand from the
//! documented formats, and corrupt input (which must be an error with an
//! offset, never a panic or an unbounded allocation).

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use crate::keyspace::{Entry, NO_EXPIRY};
use crate::rdb::crc64::crc64;
use crate::rdb::decoder::{ChecksumStatus, RdbReader};
use crate::rdb::encoder::{EncodingThresholds, RdbWriteOptions, RdbWriter};
use crate::rdb::error::RdbError;
use crate::rdb::string::push_len;
use crate::rdb::{listpack, rdb_type, ziplist, zipmap};
use crate::types::{HashValue, ListValue, SetValue, ZSetValue};
use crate::value::Value;

type Item = (u32, Vec<u8>, Entry);

#[derive(Debug, Clone, PartialEq)]
enum Canon {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    ZSet(Vec<(Vec<u8>, u64)>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
}

fn canon(v: &Value) -> Canon {
    match v {
        Value::Int(i) => Canon::Str(i.to_string().into_bytes()),
        Value::Str(s) => Canon::Str(s.to_vec()),
        Value::List(l) => Canon::List(l.iter().map(|e| e.to_vec()).collect()),
        Value::Set(s) => Canon::Set(s.iter().map(|m| m.to_vec()).collect()),
        // Bit patterns: a score must come back exactly, except that -0 may
        // come back as 0 (a listpack stores it as the integer 0, like Redis).
        Value::ZSet(z) => Canon::ZSet(
            z.iter()
                .map(|(m, s)| (m.to_vec(), (s + 0.0).to_bits()))
                .collect(),
        ),
        Value::Hash(h) => Canon::Hash(h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()),
    }
}

fn canon_items(items: &[Item]) -> BTreeMap<(u32, Vec<u8>), (Canon, u64)> {
    items
        .iter()
        .map(|(db, k, e)| ((*db, k.clone()), (canon(&e.value), e.expire_at_ms)))
        .collect()
}

fn encode(items: &[Item], opts: RdbWriteOptions) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new(), opts).unwrap();
    w.write_aux(b"redis-ver", b"7.0.15").unwrap();
    let dbs: BTreeSet<u32> = items.iter().map(|i| i.0).collect();
    for db in dbs {
        let in_db: Vec<_> = items.iter().filter(|i| i.0 == db).collect();
        let expires = in_db.iter().filter(|i| i.2.has_expiry()).count() as u64;
        w.select_db(db, in_db.len() as u64, expires).unwrap();
        for (_, k, e) in in_db {
            w.write_entry(k, e).unwrap();
        }
    }
    let (out, stats) = w.finish().unwrap();
    assert_eq!(stats.bytes_written, out.len() as u64);
    out
}

fn decode(data: &[u8]) -> Result<Vec<Item>, RdbError> {
    let reader = RdbReader::new(data)?;
    reader.map(|r| r.map(|i| (i.db, i.key, i.entry))).collect()
}

fn decode_types(data: &[u8]) -> Vec<u8> {
    RdbReader::new(data)
        .unwrap()
        .map(|r| r.unwrap().rdb_type)
        .collect()
}

fn entry(value: Value) -> Entry {
    Entry::new(value)
}

fn list_of<I: AsRef<[u8]>>(items: impl IntoIterator<Item = I>) -> Value {
    let mut l = ListValue::new();
    for i in items {
        l.push_back(i.as_ref());
    }
    Value::List(Box::new(l))
}

fn set_of<I: AsRef<[u8]>>(items: impl IntoIterator<Item = I>) -> Value {
    let mut s = SetValue::new();
    for i in items {
        s.insert(i.as_ref());
    }
    Value::Set(s)
}

fn zset_of<I: AsRef<[u8]>>(items: impl IntoIterator<Item = (I, f64)>) -> Value {
    let mut z = ZSetValue::new();
    for (m, s) in items {
        z.insert(m.as_ref(), s);
    }
    Value::ZSet(z)
}

fn hash_of<I: AsRef<[u8]>>(items: impl IntoIterator<Item = (I, I)>) -> Value {
    let mut h = HashValue::new();
    for (f, v) in items {
        h.insert(f.as_ref(), v.as_ref());
    }
    Value::Hash(h)
}

// ---------- encodings chosen at the thresholds ----------

#[test]
fn encodings_switch_at_redis_thresholds() {
    let ints = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
    let items: Vec<Item> = vec![
        (0, b"s512".to_vec(), entry(set_of(ints(512)))),
        (0, b"s513".to_vec(), entry(set_of(ints(513)))),
        (0, b"smixed".to_vec(), entry(set_of(["1", "a"]))),
        (
            0,
            b"z128".to_vec(),
            entry(zset_of(ints(128).into_iter().map(|m| (m, 1.5)))),
        ),
        (
            0,
            b"z129".to_vec(),
            entry(zset_of(ints(129).into_iter().map(|m| (m, 1.5)))),
        ),
        (0, b"z64b".to_vec(), entry(zset_of([(vec![b'm'; 64], 1.0)]))),
        (0, b"z65b".to_vec(), entry(zset_of([(vec![b'm'; 65], 1.0)]))),
        (
            0,
            b"h512".to_vec(),
            entry(hash_of(ints(512).into_iter().map(|f| (f.clone(), f)))),
        ),
        (
            0,
            b"h513".to_vec(),
            entry(hash_of(ints(513).into_iter().map(|f| (f.clone(), f)))),
        ),
        (
            0,
            b"h65v".to_vec(),
            entry(hash_of([(b"f".to_vec(), vec![b'v'; 65])])),
        ),
        (
            0,
            b"h65f".to_vec(),
            entry(hash_of([(vec![b'f'; 65], b"v".to_vec())])),
        ),
        (0, b"l".to_vec(), entry(list_of(["a"]))),
    ];
    let data = encode(&items, RdbWriteOptions::default());
    use rdb_type::*;
    assert_eq!(
        decode_types(&data),
        vec![
            SET_INTSET,
            SET,
            SET,
            ZSET_LISTPACK,
            ZSET_2,
            ZSET_LISTPACK,
            ZSET_2,
            HASH_LISTPACK,
            HASH,
            HASH,
            HASH,
            LIST_QUICKLIST_2
        ]
    );
    assert_eq!(canon_items(&decode(&data).unwrap()), canon_items(&items));

    // Thresholds are configurable, as the *-max-* directives are.
    let opts = RdbWriteOptions {
        thresholds: EncodingThresholds {
            set_max_intset_entries: 1000,
            hash_max_listpack_entries: 0,
            zset_max_listpack_entries: 0,
            ..EncodingThresholds::default()
        },
        ..RdbWriteOptions::default()
    };
    let data = encode(&items[..2], opts);
    assert_eq!(decode_types(&data), vec![SET_INTSET, SET_INTSET]);
}

#[test]
fn quicklist_nodes_follow_the_fill_setting() {
    let elements: Vec<String> = (0..5000).map(|i| format!("e{i:06}")).collect();
    let items = vec![(0, b"l".to_vec(), entry(list_of(&elements)))];
    let node_count = |fill: i64| {
        let opts = RdbWriteOptions {
            compression: false,
            thresholds: EncodingThresholds {
                list_max_listpack_size: fill,
                ..EncodingThresholds::default()
            },
            ..RdbWriteOptions::default()
        };
        let data = encode(&items, opts);
        assert_eq!(canon_items(&decode(&data).unwrap()), canon_items(&items));
        // Node count follows the type byte and the 1-byte key "l" (2 bytes).
        let at = data
            .iter()
            .position(|&b| b == rdb_type::LIST_QUICKLIST_2)
            .unwrap();
        let mut r = data[at + 3..].iter();
        let first = *r.next().unwrap();
        match first >> 6 {
            0 => u64::from(first),
            _ => (u64::from(first & 0x3f) << 8) | u64::from(*r.next().unwrap()),
        }
    };
    // 5000 entries of 9 bytes: 8 KB nodes hold 909 (6 nodes), 4 KB 454 (12),
    // and a fill of 128 gives 40.
    assert_eq!(node_count(-2), 6);
    assert_eq!(node_count(-1), 12);
    assert_eq!(node_count(128), 40);
}

#[test]
fn strings_use_int_lzf_and_raw_forms_like_redis() {
    let items: Vec<Item> = vec![
        (0, b"i".to_vec(), entry(Value::string(b"12345"))),
        (0, b"big".to_vec(), entry(Value::Int(i64::MAX))),
        (0, b"lzf".to_vec(), entry(Value::string(&[b'a'; 100]))),
        (0, b"twenty".to_vec(), entry(Value::string(&[b'b'; 20]))),
    ];
    let data = encode(&items, RdbWriteOptions::default());
    let find = |needle: &[u8]| data.windows(needle.len()).any(|w| w == needle);
    assert!(find(b"\x00\x01i\xc1\x39\x30"), "12345 as int16");
    assert!(
        find(b"\x00\x03big\x139223372036854775807"),
        "i64::MAX as text"
    );
    assert!(find(b"\x00\x03lzf\xc3"), "100 a's compressed");
    assert!(
        find(&[&b"\x00\x06twenty\x14"[..], &[b'b'; 20]].concat()),
        "20 bytes stay raw"
    );
    assert_eq!(canon_items(&decode(&data).unwrap()), canon_items(&items));

    let plain = encode(
        &items,
        RdbWriteOptions {
            compression: false,
            ..RdbWriteOptions::default()
        },
    );
    assert!(!plain.windows(5).any(|w| w == b"\x03lzf\xc3"));
    assert_eq!(canon_items(&decode(&plain).unwrap()), canon_items(&items));
}

#[test]
fn empty_file_matches_redis_layout_and_checksum_can_be_off() {
    let w = RdbWriter::new(Vec::new(), RdbWriteOptions::default()).unwrap();
    let (data, stats) = w.finish().unwrap();
    assert_eq!(&data[..10], b"REDIS0010\xff");
    assert_eq!(stats.checksum, crc64(&data[..10]));
    assert_eq!(&data[10..], &stats.checksum.to_le_bytes());

    let opts = RdbWriteOptions {
        checksum: false,
        ..RdbWriteOptions::default()
    };
    let (data, _) = RdbWriter::new(Vec::new(), opts).unwrap().finish().unwrap();
    assert_eq!(&data[10..], &[0; 8]);
    let mut r = RdbReader::new(&data).unwrap();
    assert!(r.next_item().unwrap().is_none());
    assert_eq!(r.checksum_status(), Some(ChecksumStatus::NotStored));
}

// ---------- round-trip property ----------

fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..24),
        any::<i64>().prop_map(|i| i.to_string().into_bytes()),
        (-200i64..200).prop_map(|i| i.to_string().into_bytes()),
        (0usize..100, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
        proptest::collection::vec(any::<u8>(), 60..70),
    ]
}

fn arb_size() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..8, 100usize..140, 500usize..620]
}

fn arb_score() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-1000i64..1000).prop_map(|i| i as f64),
        any::<f64>().prop_filter("no NaN", |f| !f.is_nan()),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        arb_bytes().prop_map(|b| Value::string(&b)),
        (0usize..3000, any::<u8>()).prop_map(|(n, b)| Value::string(&vec![b; n])),
        arb_size()
            .prop_flat_map(|n| proptest::collection::vec(arb_bytes(), n))
            .prop_map(list_of),
        // Collections dedupe on insert; sizes stay near `n` because most
        // generated elements differ.
        arb_size()
            .prop_flat_map(|n| proptest::collection::vec(
                any::<i64>().prop_map(|i| i.to_string()),
                n
            ))
            .prop_map(set_of),
        arb_size()
            .prop_flat_map(|n| proptest::collection::vec(arb_bytes(), n))
            .prop_map(set_of),
        arb_size()
            .prop_flat_map(|n| proptest::collection::vec((arb_bytes(), arb_score()), n))
            .prop_map(zset_of),
        arb_size()
            .prop_flat_map(|n| proptest::collection::vec((arb_bytes(), arb_bytes()), n))
            .prop_map(hash_of),
    ]
}

fn arb_items() -> impl Strategy<Value = Vec<Item>> {
    proptest::collection::vec(
        (
            0u32..4,
            proptest::collection::vec(any::<u8>(), 0..12),
            arb_value(),
            prop_oneof![Just(NO_EXPIRY), 1u64..u64::MAX / 4],
        ),
        1..6,
    )
    .prop_map(|v| {
        let mut seen = BTreeSet::new();
        let mut items: Vec<Item> = v
            .into_iter()
            .filter(|(db, k, value, _)| value.element_count() > 0 && seen.insert((*db, k.clone())))
            .map(|(db, k, value, expire_at_ms)| {
                (
                    db * 5,
                    k,
                    Entry {
                        value,
                        expire_at_ms,
                    },
                )
            })
            .collect();
        items.sort_by_key(|i| i.0);
        items
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn codec_round_trips(items in arb_items(), compression in any::<bool>(), checksum in any::<bool>()) {
        let opts = RdbWriteOptions { compression, checksum, ..RdbWriteOptions::default() };
        let data = encode(&items, opts);
        let back = decode(&data).unwrap();
        prop_assert_eq!(canon_items(&back), canon_items(&items));
        // Order within the file is the caller's order.
        let keys: Vec<_> = back.iter().map(|i| (i.0, i.1.clone())).collect();
        let expected: Vec<_> = items.iter().map(|i| (i.0, i.1.clone())).collect();
        prop_assert_eq!(keys, expected);
    }

    #[test]
    fn truncation_anywhere_is_an_error(items in arb_items(), cut in any::<proptest::sample::Index>()) {
        let data = encode(&items, RdbWriteOptions::default());
        let len = cut.index(data.len());
        let err = decode(&data[..len]).unwrap_err();
        prop_assert!(err.offset().is_some_and(|o| o <= len as u64), "{}", err);
    }

    #[test]
    fn flipped_bytes_never_panic(items in arb_items(), at in any::<proptest::sample::Index>(), xor in 1u8..=255) {
        let mut data = encode(&items, RdbWriteOptions::default());
        let i = at.index(data.len());
        data[i] ^= xor;
        // With the checksum verified, any change is caught…
        prop_assert!(decode(&data).is_err());
        // …and without it, structural checks must still never panic.
        if let Ok(mut r) = RdbReader::new(&data) {
            r.set_verify_checksum(false);
            for item in r {
                if item.is_err() {
                    break;
                }
            }
        }
    }

    #[test]
    fn garbage_after_the_header_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut data = b"REDIS0011".to_vec();
        data.extend_from_slice(&body);
        let _ = decode(&data);
    }
}

#[test]
fn truncation_at_every_offset_of_a_mixed_file_is_an_error() {
    let items: Vec<Item> = vec![
        (
            0,
            b"s".to_vec(),
            Entry {
                value: Value::string(&[b'x'; 300]),
                expire_at_ms: 5,
            },
        ),
        (
            0,
            b"l".to_vec(),
            entry(list_of((0..200).map(|i| i.to_string()))),
        ),
        (
            0,
            b"z".to_vec(),
            entry(zset_of(
                (0..150).map(|i| (i.to_string(), f64::from(i) / 7.0)),
            )),
        ),
        (
            2,
            b"h".to_vec(),
            entry(hash_of((0..20).map(|i| (i.to_string(), "v".repeat(i))))),
        ),
        (2, b"i".to_vec(), entry(set_of(["1", "2", "3"]))),
    ];
    let data = encode(&items, RdbWriteOptions::default());
    for len in 0..data.len() {
        assert!(
            decode(&data[..len]).is_err(),
            "prefix of {len} bytes decoded"
        );
    }
    assert!(decode(&data).is_ok());
}

// ---------- hand-built files: legacy encodings and opcodes ----------

/// Builds an RDB file byte by byte from the documented format.
struct FileBuilder {
    data: Vec<u8>,
}

impl FileBuilder {
    fn new(version: u32) -> FileBuilder {
        FileBuilder {
            data: format!("REDIS{version:04}").into_bytes(),
        }
    }
    fn byte(&mut self, b: u8) -> &mut Self {
        self.data.push(b);
        self
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.data.extend_from_slice(b);
        self
    }
    fn len(&mut self, n: u64) -> &mut Self {
        push_len(&mut self.data, n);
        self
    }
    fn string(&mut self, s: &[u8]) -> &mut Self {
        self.len(s.len() as u64).bytes(s)
    }
    fn key(&mut self, t: u8, key: &[u8]) -> &mut Self {
        self.byte(t).string(key)
    }
    fn finish(&mut self) -> Vec<u8> {
        self.data.push(0xff);
        let crc = crc64(&self.data);
        self.data.extend_from_slice(&crc.to_le_bytes());
        self.data.clone()
    }
}

fn value_of(items: &[Item], key: &[u8]) -> Canon {
    canon(&items.iter().find(|i| i.1 == key).unwrap().2.value)
}

#[test]
fn legacy_encodings_decode() {
    let zl_list =
        ziplist::build_for_test(&[b"a", b"1", b"300", b"-70000", b"5000000000", &[b'x'; 300]]);
    let zl_zset = ziplist::build_for_test(&[b"m1", b"1", b"m2", b"2.5", b"m3", b"-inf"]);
    let zl_hash = ziplist::build_for_test(&[b"f1", b"v1", b"f2", b"12"]);
    let zm = zipmap::build_for_test(&[(b"foo", b"bar"), (b"n", b"1")]);
    let node1 = ziplist::build_for_test(&[b"q1", b"q2"]);
    let node2 = ziplist::build_for_test(&[b"q3"]);
    let mut set_lp = Vec::new();
    let mut b = listpack::ListpackBuilder::begin(&mut set_lp);
    for m in [&b"a"[..], b"7", b"bee"] {
        b.push(&mut set_lp, m);
    }
    b.finish(&mut set_lp);

    let mut f = FileBuilder::new(9);
    f.byte(0xfe).len(0);
    f.key(rdb_type::LIST, b"list1")
        .len(2)
        .string(b"x")
        .string(b"12");
    f.key(rdb_type::ZSET, b"zset1")
        .len(3)
        .string(b"a")
        .byte(3)
        .bytes(b"1.5")
        .string(b"b")
        .byte(254)
        .string(b"c")
        .byte(255);
    f.key(rdb_type::HASH_ZIPMAP, b"zipmap").string(&zm);
    f.key(rdb_type::LIST_ZIPLIST, b"zl_list").string(&zl_list);
    f.key(rdb_type::ZSET_ZIPLIST, b"zl_zset").string(&zl_zset);
    f.key(rdb_type::HASH_ZIPLIST, b"zl_hash").string(&zl_hash);
    f.key(rdb_type::LIST_QUICKLIST, b"quicklist")
        .len(2)
        .string(&node1)
        .string(&node2);
    f.key(rdb_type::SET_LISTPACK, b"set_lp").string(&set_lp);
    // EXPIRETIME in seconds (int32 LE), IDLE and FREQ apply to the next key only.
    f.byte(0xfd).bytes(&2_000_000_000i32.to_le_bytes());
    f.byte(0xf8).len(77).byte(0xf9).byte(9);
    f.key(rdb_type::STRING, b"old_exp").string(b"v");
    f.key(rdb_type::STRING, b"after").string(b"w");
    // A plain quicklist2 node and a packed one.
    let mut lp = Vec::new();
    let mut b = listpack::ListpackBuilder::begin(&mut lp);
    b.push(&mut lp, b"p2");
    b.finish(&mut lp);
    f.key(rdb_type::LIST_QUICKLIST_2, b"ql2")
        .len(2)
        .len(1)
        .string(b"plain!")
        .len(2)
        .string(&lp);
    let data = f.finish();

    let mut reader = RdbReader::new(&data).unwrap();
    let raw: Vec<_> = (&mut reader).map(|r| r.unwrap()).collect();
    assert_eq!(
        reader
            .checksum_status()
            .map(|s| matches!(s, ChecksumStatus::Verified(_))),
        Some(true)
    );
    let old = raw.iter().find(|i| i.key == b"old_exp").unwrap();
    assert_eq!(old.entry.expire_at_ms, 2_000_000_000_000);
    assert_eq!((old.lru_idle_s, old.lfu_freq), (Some(77), Some(9)));
    let after = raw.iter().find(|i| i.key == b"after").unwrap();
    assert_eq!(
        (after.entry.expire_at_ms, after.lru_idle_s, after.lfu_freq),
        (NO_EXPIRY, None, None)
    );

    let items: Vec<Item> = raw.into_iter().map(|i| (i.db, i.key, i.entry)).collect();
    let strs = |v: &[&[u8]]| v.iter().map(|s| s.to_vec()).collect::<Vec<_>>();
    assert_eq!(
        value_of(&items, b"list1"),
        Canon::List(strs(&[b"x", b"12"]))
    );
    assert_eq!(
        value_of(&items, b"zset1"),
        Canon::ZSet(vec![
            (b"c".to_vec(), f64::NEG_INFINITY.to_bits()),
            (b"a".to_vec(), 1.5f64.to_bits()),
            (b"b".to_vec(), f64::INFINITY.to_bits())
        ])
    );
    assert_eq!(
        value_of(&items, b"zipmap"),
        Canon::Hash(
            [
                (b"foo".to_vec(), b"bar".to_vec()),
                (b"n".to_vec(), b"1".to_vec())
            ]
            .into_iter()
            .collect()
        )
    );
    let mut big = vec![b'x'; 300];
    assert_eq!(
        value_of(&items, b"zl_list"),
        Canon::List(vec![
            b"a".to_vec(),
            b"1".to_vec(),
            b"300".to_vec(),
            b"-70000".to_vec(),
            b"5000000000".to_vec(),
            std::mem::take(&mut big)
        ])
    );
    assert_eq!(
        value_of(&items, b"zl_zset"),
        Canon::ZSet(vec![
            (b"m3".to_vec(), f64::NEG_INFINITY.to_bits()),
            (b"m1".to_vec(), 1f64.to_bits()),
            (b"m2".to_vec(), 2.5f64.to_bits())
        ])
    );
    assert_eq!(
        value_of(&items, b"zl_hash"),
        Canon::Hash(
            [
                (b"f1".to_vec(), b"v1".to_vec()),
                (b"f2".to_vec(), b"12".to_vec())
            ]
            .into_iter()
            .collect()
        )
    );
    assert_eq!(
        value_of(&items, b"quicklist"),
        Canon::List(strs(&[b"q1", b"q2", b"q3"]))
    );
    assert_eq!(
        value_of(&items, b"set_lp"),
        Canon::Set(strs(&[b"7", b"a", b"bee"]).into_iter().collect())
    );
    assert_eq!(
        value_of(&items, b"ql2"),
        Canon::List(strs(&[b"plain!", b"p2"]))
    );
}

#[test]
fn skipped_opcodes_leave_warnings_and_keys_intact() {
    let mut f = FileBuilder::new(10);
    f.byte(0xfa).string(b"redis-ver").string(b"7.0.15");
    f.byte(0xf5)
        .string(b"#!lua name=mylib\nredis.register_function('f', function() return 1 end)");
    // MODULE_AUX: module id, when-opcode UINT(2), when, values (UINT 5, STRING, DOUBLE), EOF.
    f.byte(0xf7).len(0x1234).len(2).len(2);
    f.len(2)
        .len(5)
        .len(5)
        .string(b"abc")
        .len(4)
        .bytes(&1.5f64.to_le_bytes())
        .len(0);
    f.byte(0xfe).len(1).byte(0xfb).len(1).len(0);
    f.byte(0xf4).len(5).len(1).len(0);
    f.key(rdb_type::STRING, b"k").string(b"v");
    // Empty collections are skipped, as Redis does.
    f.key(rdb_type::SET, b"empty").len(0);
    let data = f.finish();
    let mut reader = RdbReader::new(&data).unwrap();
    let items: Vec<_> = (&mut reader).map(|r| r.unwrap()).collect();
    assert_eq!(items.len(), 1);
    assert_eq!((items[0].db, items[0].key.as_slice()), (1, &b"k"[..]));
    assert_eq!(reader.aux_value(b"redis-ver"), Some(&b"7.0.15"[..]));
    assert_eq!(reader.resize_hints().len(), 1);
    let w = reader.warnings().join("\n");
    assert!(w.contains("function library skipped"), "{w}");
    assert!(w.contains("module aux data skipped"), "{w}");
    assert!(w.contains("skipping empty key empty"), "{w}");
}

#[test]
fn streams_modules_and_unknown_types_name_key_and_offset() {
    for (t, expect) in [(19u8, "stream"), (21, "stream"), (7, "module")] {
        let mut f = FileBuilder::new(12);
        f.byte(0xfe).len(0);
        let at = f.data.len();
        f.key(t, b"mystream").len(1);
        let err = decode(&f.finish()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("mystream") && msg.contains(expect), "{msg}");
        assert_eq!(err.offset(), Some(at as u64));
    }
    let mut f = FileBuilder::new(10);
    f.byte(0xfe).len(0).key(42, b"k");
    let err = decode(&f.finish()).unwrap_err();
    assert!(
        matches!(
            err,
            RdbError::UnknownType {
                byte: 42,
                offset: 11,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("\"k\""), "{err}");
    let mut f = FileBuilder::new(12);
    f.byte(0xfe)
        .len(0)
        .key(rdb_type::HASH_LISTPACK_EX, b"ttl_hash");
    let err = decode(&f.finish()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("hash-with-field-expiry") && msg.contains("ttl_hash"),
        "{msg}"
    );
}

#[test]
fn bad_magic_and_versions_are_refused() {
    assert!(matches!(
        RdbReader::new(b"REDIX0010\xff"),
        Err(RdbError::BadMagic)
    ));
    assert!(matches!(RdbReader::new(b"RED"), Err(RdbError::BadMagic)));
    for v in [&b"0000"[..], b"0013", b"abcd"] {
        let data = [&b"REDIS"[..], v, b"\xff"].concat();
        assert!(
            matches!(
                RdbReader::new(&data),
                Err(RdbError::UnsupportedVersion { .. })
            ),
            "{v:?}"
        );
    }
    for v in 1..=12 {
        let data = FileBuilder::new(v).finish();
        let mut r = RdbReader::new(&data).unwrap();
        assert!(r.next_item().unwrap().is_none());
        let expected = if v < 5 {
            ChecksumStatus::NotInVersion
        } else {
            ChecksumStatus::Verified(crc64(&data[..10]))
        };
        assert_eq!(r.checksum_status(), Some(expected));
    }
}

#[test]
fn lying_lengths_are_errors_without_huge_allocations() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("4 GB string", {
            let mut f = FileBuilder::new(10);
            f.byte(0xfe)
                .len(0)
                .byte(0)
                .string(b"k")
                .len(u32::MAX as u64)
                .bytes(b"abc");
            f.finish()
        }),
        ("2^60 set members", {
            let mut f = FileBuilder::new(10);
            f.byte(0xfe)
                .len(0)
                .byte(rdb_type::SET)
                .string(b"k")
                .len(1 << 60);
            f.finish()
        }),
        ("zset_2 count beyond file", {
            let mut f = FileBuilder::new(10);
            f.byte(0xfe)
                .len(0)
                .byte(rdb_type::ZSET_2)
                .string(b"k")
                .len(3)
                .string(b"a")
                .bytes(&[0; 8]);
            f.finish()
        }),
        ("LZF claiming 1 GB from 3 bytes", {
            let mut f = FileBuilder::new(10);
            f.byte(0xfe)
                .len(0)
                .byte(0)
                .string(b"k")
                .byte(0xc3)
                .len(3)
                .len(1 << 30)
                .bytes(&[0, b'a', 0]);
            f.finish()
        }),
        ("LZF shorter than claimed", {
            let mut f = FileBuilder::new(10);
            f.byte(0xfe)
                .len(0)
                .byte(0)
                .string(b"k")
                .byte(0xc3)
                .len(2)
                .len(50)
                .bytes(&[0, b'a']);
            f.finish()
        }),
        ("listpack total lies", {
            let mut f = FileBuilder::new(10);
            f.byte(0xfe)
                .len(0)
                .byte(rdb_type::HASH_LISTPACK)
                .string(b"k")
                .string(b"\xff\x00\x00\x00\x02\x00\x81a\x02\x81b\x02\xff");
            f.finish()
        }),
        ("odd hash listpack", {
            let mut lp = Vec::new();
            let mut b = listpack::ListpackBuilder::begin(&mut lp);
            b.push(&mut lp, b"f");
            b.finish(&mut lp);
            let mut f = FileBuilder::new(10);
            f.byte(0xfe)
                .len(0)
                .byte(rdb_type::HASH_LISTPACK)
                .string(b"k")
                .string(&lp);
            f.finish()
        }),
        (
            "duplicate hash listpack field",
            packed_file(
                rdb_type::HASH_LISTPACK,
                &[b"f", b"1", b"g", b"2", b"f", b"3"],
            ),
        ),
        ("duplicate hash listpack field among many", {
            let mut entries: Vec<Vec<u8>> = Vec::new();
            for i in 0..40 {
                entries.push(format!("f{}", i % 39).into_bytes());
                entries.push(b"v".to_vec());
            }
            let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
            packed_file(rdb_type::HASH_LISTPACK, &refs)
        }),
        (
            "duplicate sorted set listpack member",
            packed_file(
                rdb_type::ZSET_LISTPACK,
                &[b"a", b"1", b"b", b"2", b"a", b"3"],
            ),
        ),
        (
            "sorted set listpack score not a number",
            packed_file(rdb_type::ZSET_LISTPACK, &[b"a", b"x"]),
        ),
        ("duplicate set member", {
            let mut f = FileBuilder::new(10);
            f.byte(0xfe)
                .len(0)
                .byte(rdb_type::SET)
                .string(b"k")
                .len(2)
                .string(b"a")
                .string(b"a");
            f.finish()
        }),
        ("NaN score", {
            let mut f = FileBuilder::new(10);
            f.byte(0xfe)
                .len(0)
                .byte(rdb_type::ZSET_2)
                .string(b"k")
                .len(1)
                .string(b"a")
                .bytes(&f64::NAN.to_le_bytes());
            f.finish()
        }),
        ("bad quicklist container", {
            let mut f = FileBuilder::new(10);
            f.byte(0xfe)
                .len(0)
                .byte(rdb_type::LIST_QUICKLIST_2)
                .string(b"k")
                .len(1)
                .len(3)
                .string(b"x");
            f.finish()
        }),
        ("invalid length prefix", {
            let mut f = FileBuilder::new(10);
            f.byte(0xfe).byte(0x85);
            f.finish()
        }),
        ("bad checksum", {
            let mut data = FileBuilder::new(10).finish();
            data[11] ^= 1;
            data
        }),
    ];
    for (name, data) in cases {
        let err = decode(&data).expect_err(name);
        let offset = err
            .offset()
            .unwrap_or_else(|| panic!("{name}: no offset in {err}"));
        assert!(offset <= data.len() as u64, "{name}: {err}");
        if data.windows(2).any(|w| w == b"\x01k")
            && !matches!(err, RdbError::ChecksumMismatch { .. })
        {
            assert!(
                err.to_string().contains("\"k\""),
                "{name}: key missing from {err}"
            );
        }
    }
}

/// A file holding key `k` of packed type `t` with these listpack entries.
fn packed_file(t: u8, entries: &[&[u8]]) -> Vec<u8> {
    let mut lp = Vec::new();
    let mut b = listpack::ListpackBuilder::begin(&mut lp);
    for e in entries {
        b.push(&mut lp, e);
    }
    b.finish(&mut lp);
    let mut f = FileBuilder::new(10);
    f.byte(0xfe).len(0).byte(t).string(b"k").string(&lp);
    f.finish()
}

#[test]
fn packed_collections_out_of_order_or_past_limits_still_load() {
    // Out of (score, member) order: not copied as is, sorted on insert.
    let items = decode(&packed_file(
        rdb_type::ZSET_LISTPACK,
        &[b"b", b"2", b"a", b"1", b"c", b"1.5"],
    ))
    .unwrap();
    assert_eq!(
        value_of(&items, b"k"),
        canon(&zset_of([("a", 1.0), ("c", 1.5), ("b", 2.0)]))
    );
    // A member longer than zset-max-listpack-value: a skiplist.
    let long = vec![b'm'; 100];
    let items = decode(&packed_file(rdb_type::ZSET_LISTPACK, &[&long, b"1"])).unwrap();
    assert_eq!(
        canon(&items[0].2.value),
        canon(&zset_of([(long.as_slice(), 1.0)]))
    );
    let Value::ZSet(z) = &items[0].2.value else {
        panic!("not a zset")
    };
    assert_eq!(z.encoding(), "skiplist");
    // A hash value longer than hash-max-listpack-value: a hashtable.
    let items = decode(&packed_file(rdb_type::HASH_LISTPACK, &[b"f", &long])).unwrap();
    let Value::Hash(h) = &items[0].2.value else {
        panic!("not a hash")
    };
    assert_eq!(h.encoding(), "hashtable");
    assert_eq!(h.get(b"f"), Some(long.as_slice()));
    // In order and within limits: the listpack form, equal to inserts.
    let items = decode(&packed_file(
        rdb_type::ZSET_LISTPACK,
        &[b"a", b"-1", b"b", b"7"],
    ))
    .unwrap();
    let Value::ZSet(z) = &items[0].2.value else {
        panic!("not a zset")
    };
    assert_eq!(z.encoding(), "listpack");
    assert_eq!(
        canon(&items[0].2.value),
        canon(&zset_of([("a", -1.0), ("b", 7.0)]))
    );
}

#[test]
fn small_collections_are_byte_identical_to_redis_captures() {
    // Blobs captured from a 7.0.15 SAVE (REDIS-PERSISTENCE.md 5.7).
    let items: Vec<Item> = vec![
        (
            0,
            b"zset_small".to_vec(),
            entry(zset_of([("a", 1.0), ("b", 2.5), ("c", f64::NEG_INFINITY)])),
        ),
        (
            0,
            b"hash_small".to_vec(),
            entry(hash_of([("f1", "v1"), ("f2", "2")])),
        ),
        (
            0,
            b"list_small".to_vec(),
            entry(list_of(["a", "b", "1", "2"])),
        ),
        (
            0,
            b"set_intset".to_vec(),
            entry(set_of(["1", "2", "3", "-5", "100000"])),
        ),
    ];
    let data = encode(&items, RdbWriteOptions::default());
    let captures: [&[u8]; 4] = [
        b"\x11\x0azset_small\x1d\x1d\x00\x00\x00\x06\x00\x81c\x02\x84-inf\x05\x81a\x02\x01\x01\x81b\x02\x832.5\x04\xff",
        b"\x10\x0ahash_small\x15\x15\x00\x00\x00\x04\x00\x82f1\x03\x82v1\x03\x82f2\x03\x02\x01\xff",
        b"\x12\x0alist_small\x01\x02\x11\x11\x00\x00\x00\x04\x00\x81a\x02\x81b\x02\x01\x01\x02\x01\xff",
        b"\x0b\x0aset_intset\x1c\x04\x00\x00\x00\x05\x00\x00\x00\xfb\xff\xff\xff\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\xa0\x86\x01\x00",
    ];
    for capture in captures {
        assert!(
            data.windows(capture.len()).any(|w| w == capture),
            "missing {capture:x?}"
        );
    }
}
