//! Real clients against the real binary: the `redis` crate in RESP2 and
//! RESP3 mode, on both io backends.

use std::path::Path;

use redis::{Commands, Value};
use ringkv_testkit::{start_ringkv, ServerProcess};

const BACKENDS: [&str; 2] = ["uring", "epoll"];

fn ringkv(backend: &str) -> ServerProcess {
    start_ringkv(
        Path::new(env!("CARGO_BIN_EXE_ringkv")),
        &["--io-backend", backend],
    )
}

fn connect(server: &ServerProcess, resp3: bool) -> redis::Connection {
    let url = if resp3 {
        format!("{}?protocol=resp3", server.url())
    } else {
        server.url()
    };
    redis::Client::open(url)
        .expect("client")
        .get_connection()
        .expect("connect")
}

#[test]
fn strings_keys_and_expiry_through_the_redis_crate() {
    for backend in BACKENDS {
        let server = ringkv(backend);
        for resp3 in [false, true] {
            let mut con = connect(&server, resp3);
            let _: () = redis::cmd("FLUSHALL").query(&mut con).expect("flushall");
            let _: () = con.set("k", "v").expect("set");
            let v: String = con.get("k").expect("get");
            assert_eq!(v, "v");
            let n: i64 = con.incr("counter", 5).expect("incr");
            assert_eq!(n, 5);
            let _: () = con.set_ex("ttl", "x", 100).expect("setex");
            let ttl: i64 = con.ttl("ttl").expect("ttl");
            assert!((99..=100).contains(&ttl), "ttl {ttl}");
            let vals: Vec<Option<String>> = con.mget(&["k", "missing"]).expect("mget");
            assert_eq!(vals, vec![Some("v".to_string()), None]);
            let err = con
                .incr::<_, _, i64>("k", 1)
                .expect_err("incr on a non-integer");
            assert!(err.to_string().contains("not an integer"), "{err}");
            let n: i64 = redis::cmd("DBSIZE").query(&mut con).expect("dbsize");
            assert_eq!(n, 3);
        }
    }
}

#[test]
fn pipelines_and_transactions() {
    for backend in BACKENDS {
        let server = ringkv(backend);
        let mut con = connect(&server, false);
        let mut pipe = redis::pipe();
        for i in 0..1000 {
            pipe.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
        }
        pipe.cmd("DBSIZE");
        let (n,): (i64,) = pipe.query(&mut con).expect("pipeline");
        assert_eq!(n, 1000);
        let (a, b): (i64, i64) = redis::pipe()
            .atomic()
            .incr("key:1", 10)
            .incr("key:2", 10)
            .query(&mut con)
            .expect("MULTI/EXEC");
        assert_eq!((a, b), (11, 12));
    }
}

#[test]
fn resp3_hello_and_client_setinfo() {
    for backend in BACKENDS {
        let server = ringkv(backend);
        let mut con = connect(&server, true);
        let hello: Value = redis::cmd("HELLO").arg(3).query(&mut con).expect("hello");
        let Value::Map(fields) = hello else {
            panic!("HELLO 3 must reply with a map, got {hello:?}");
        };
        let proto = fields.iter().find_map(|(k, v)| match (k, v) {
            (Value::BulkString(k), Value::Int(p)) if k == b"proto" => Some(*p),
            _ => None,
        });
        assert_eq!(proto, Some(3));
        let ok: String = redis::cmd("CLIENT")
            .arg("SETINFO")
            .arg("LIB-NAME")
            .arg("test-lib")
            .query(&mut con)
            .expect("client setinfo");
        assert_eq!(ok, "OK");
        let _: () = redis::cmd("CLIENT")
            .arg("SETNAME")
            .arg("me")
            .query(&mut con)
            .expect("setname");
        let name: String = redis::cmd("CLIENT")
            .arg("GETNAME")
            .query(&mut con)
            .expect("getname");
        assert_eq!(name, "me");
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query(&mut con)
            .expect("client list");
        assert!(
            list.contains("name=me") && list.contains("resp=3"),
            "{list}"
        );
    }
}

#[test]
fn watch_is_invalidated_by_another_client() {
    for backend in BACKENDS {
        let server = ringkv(backend);
        let mut a = connect(&server, false);
        let mut b = connect(&server, false);
        let _: () = a.set("w", 1).expect("set");
        let _: () = redis::cmd("WATCH").arg("w").query(&mut a).expect("watch");
        let _: () = b.set("w", 2).expect("set from b");
        let _: () = redis::cmd("MULTI").query(&mut a).expect("multi");
        let _: () = redis::cmd("SET")
            .arg("w")
            .arg(3)
            .query(&mut a)
            .expect("queued");
        let r: Value = redis::cmd("EXEC").query(&mut a).expect("exec");
        assert_eq!(
            r,
            Value::Nil,
            "EXEC after a touched WATCH returns a null array"
        );
        let v: i64 = a.get("w").expect("get");
        assert_eq!(v, 2);
    }
}

#[test]
fn requirepass_demands_auth() {
    let server = start_ringkv(
        Path::new(env!("CARGO_BIN_EXE_ringkv")),
        &["--requirepass", "s3cret"],
    );
    let mut con = redis::Client::open(server.url())
        .expect("client")
        .get_connection()
        .expect("connect");
    let err = redis::cmd("GET")
        .arg("x")
        .query::<Value>(&mut con)
        .expect_err("NOAUTH");
    assert!(err.to_string().contains("NOAUTH"), "{err}");
    let err = redis::cmd("AUTH")
        .arg("wrong")
        .query::<Value>(&mut con)
        .expect_err("WRONGPASS");
    assert!(err.to_string().contains("WRONGPASS"), "{err}");
    let ok: String = redis::cmd("AUTH")
        .arg("s3cret")
        .query(&mut con)
        .expect("auth");
    assert_eq!(ok, "OK");
    let v: Option<String> = redis::cmd("GET").arg("x").query(&mut con).expect("get");
    assert_eq!(v, None);
    let url = format!("redis://:s3cret@127.0.0.1:{}/", server.port);
    let mut con = redis::Client::open(url)
        .expect("client")
        .get_connection()
        .expect("connect with password");
    let pong: String = redis::cmd("PING").query(&mut con).expect("ping");
    assert_eq!(pong, "PONG");
}
