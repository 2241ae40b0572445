use std::collections::HashSet;

use super::connection::Connection;
use super::*;

#[test]
fn a_url_shows_no_password_wherever_it_is_written() {
    for (url, shown) in [
        ("postgres://alice:s3cret@db:5432/app", "postgres://alice:***@db:5432/app"),
        ("postgresql://alice@db/app", "postgresql://alice@db/app"),
        (
            "postgres://db/app?password=s3cret&sslmode=require",
            "postgres://db/app?password=***&sslmode=require",
        ),
        ("postgres://db/app?pass%77ord=s3cret", "postgres://db/app?pass%77ord=***"),
        // An unencoded `@` in the password: everything before the last `@` goes.
        ("postgres://alice:s3@cret@db/app", "postgres://alice:***@db/app"),
        ("host=db password=s3cret", "(not a postgres:// URL)"),
    ] {
        assert_eq!(redact_url(url), shown);
        assert!(!redact_url(url).contains("s3cret"), "{url}");
        assert!(!redact_url(url).contains("cret"), "{url}");
    }
}

#[test]
fn neither_a_bad_url_nor_the_store_shows_the_password() {
    for url in [
        "postgres://alice:s3cret@db:notaport/app",
        "postgres://alice:s3cret@db/app?nonsense=1",
        "postgres://alice:s3@cret@db/app",
        "postgres://alice:s3cret@db/app?sslmode=sometimes",
        "mysql://alice:s3cret@db/app",
    ] {
        let err = PostgresStore::connect(url, "accounts").expect_err(url);
        let message = err.to_string();
        assert!(matches!(err, Error::Config(_)), "{message}");
        assert!(!message.contains("s3cret") && !message.contains("cret@"), "{message}");
        assert!(message.contains("postgres://USER:PASSWORD@HOST:PORT/DATABASE"), "{message}");
    }
    let err = PostgresStore::connect("postgres://alice:s3cret@db:notaport/app", "t").expect_err("a bad port");
    assert!(err.to_string().contains("invalid value for option `port`"), "{err}");
    let store = PostgresStore::connect("postgres://alice:s3cret@127.0.0.1:6543/app", "accounts")
        .unwrap_or_else(|e| panic!("{e}"));
    let shown = format!("{store:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("127.0.0.1:6543/app") && shown.contains("alice"), "{shown}");
    assert_eq!(store.location(), "127.0.0.1:6543/app");
}

#[test]
fn sslmode_decides_tls_and_a_remote_host_gets_it_by_default() {
    let transport =
        |url: &str| Connection::open(url).map(|c| c.transport).unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(transport("postgres://u@127.0.0.1/db"), connection::Transport::Plain);
    assert_eq!(transport("postgres://u@localhost/db"), connection::Transport::Plain);
    assert_eq!(transport("postgres://u@[::1]:5433/db?sslmode=disable"), connection::Transport::Plain);
    assert_eq!(transport("postgres://u@127.0.0.1/db?sslmode=prefer"), connection::Transport::Prefer);
    assert_eq!(transport("postgres://u@127.0.0.1/db?sslmode=require"), connection::Transport::Tls);
    assert_eq!(transport("postgres://u@127.0.0.1/db?sslmode=verify-full"), connection::Transport::Tls);
    let remote = Connection::open("postgres://u@db.example.internal/db");
    // Without system CA certificates the remote URL is refused clearly instead.
    match remote {
        Ok(c) => assert_eq!(c.transport, connection::Transport::Tls),
        Err(e) => assert!(e.to_string().contains("sslrootcert"), "{e}"),
    }
    let err = Connection::open("postgres://u@127.0.0.1/db?sslmode=require&sslrootcert=/nonexistent/ca.pem")
        .expect_err("a missing CA file");
    assert!(err.to_string().contains("sslrootcert=/nonexistent/ca.pem"), "{err}");
}

#[test]
fn only_plain_identifiers_are_table_names() {
    for good in ["rossignol", "Accounts_2", "_t", &"a".repeat(MAX_TABLE_NAME)] {
        validate_table_name(good).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    for bad in
        ["", "1accounts", "acc-ounts", "a b", "t\"; DROP TABLE x; --", "tä", &"a".repeat(MAX_TABLE_NAME + 1)]
    {
        let err = validate_table_name(bad).expect_err(bad);
        assert!(err.to_string().contains("letters, digits or underscores"), "{err}");
        assert!(PostgresStore::connect("postgres://u@127.0.0.1/db", bad).is_err());
    }
}

#[test]
fn segments_cover_every_address_exactly_once_and_evenly() {
    let addresses: Vec<String> =
        (0u32..4000).map(|i| format!("0x{:040x}", u128::from(i) * 0x9e37_79b9_7f4a_7c15)).collect();
    for total in [1u32, 2, 3, 8, 16] {
        let mut seen = HashSet::new();
        let mut sizes = vec![0usize; total as usize];
        for index in 0..total {
            for address in addresses.iter().filter(|a| segment_of(a, total) == index) {
                assert!(seen.insert(address.clone()), "{address} in two segments of {total}");
                sizes[index as usize] += 1;
            }
        }
        assert_eq!(seen.len(), addresses.len(), "{total} segments miss an address");
        let even = addresses.len() / total as usize;
        assert!(sizes.iter().all(|&n| n > even / 2 && n < even * 2), "{total}: {sizes:?}");
    }
}

#[test]
fn the_segment_hash_is_md5s_first_four_bytes() {
    // psql: SELECT ('x' || left(md5('0xab'), 8))::bit(32)::bigint; -- 1114712975
    // (md5('0xab') = 42712b8f...), the expression the scan query uses.
    assert_eq!(segment_of("0xab", u32::MAX), 1_114_712_975);
    assert_eq!(segment_of("0xab", 1_000), 975);
    assert_eq!(segment_of("0xab", 1), 0);
    assert_eq!(segment_of("0xab", 0), 0, "no segments means one");
}
