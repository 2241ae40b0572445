//! Tests of typed data: EIP-712's Mail example byte for byte, ethers v6's
//! digests, refusals by path, and properties.

use super::*;
use crate::PrivateKey;
use crate::account::keccak256;
use proptest::prelude::*;
use serde_json::json;

/// EIP-712's own example, as ethers and viem send it.
fn mail() -> Value {
    json!({
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"}
            ],
            "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
            "Mail": [
                {"name": "from", "type": "Person"},
                {"name": "to", "type": "Person"},
                {"name": "contents", "type": "string"}
            ]
        },
        "primaryType": "Mail",
        "domain": {
            "name": "Ether Mail",
            "version": "1",
            "chainId": 1,
            "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
        },
        "message": {
            "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
            "contents": "Hello, Bob!"
        }
    })
}

/// Typed data whose message is one field `v` of type `kind`.
fn one_field(kind: &str, value: Value) -> Value {
    json!({
        "types": {"T": [{"name": "v", "type": kind}]},
        "primaryType": "T",
        "domain": {},
        "message": {"v": value}
    })
}

/// `T0 { T1 next }`, …, `T{levels} { uint8 v }`: levels + 1 structs deep.
fn chain(levels: usize) -> Value {
    let mut types = Map::new();
    let mut message = json!({"v": 1});
    for i in (0..levels).rev() {
        types.insert(format!("T{i}"), json!([{"name": "next", "type": format!("T{}", i + 1)}]));
        message = json!({"next": message});
    }
    types.insert(format!("T{levels}"), json!([{"name": "v", "type": "uint8"}]));
    json!({"types": types, "primaryType": "T0", "domain": {}, "message": message})
}

fn parse(value: &Value) -> TypedData {
    TypedData::from_json(value, "typed_data").unwrap_or_else(|e| panic!("{e}"))
}

fn refused(value: &Value) -> InvalidField {
    match TypedData::from_json(value, "typed_data") {
        Ok(typed) => panic!("accepted, digest {}", hex::encode(typed.signing_hash())),
        Err(e) => e,
    }
}

fn with(mut value: Value, pointer: &str, new: Value) -> Value {
    *value.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer}")) = new;
    value
}

fn insert(mut value: Value, object: &str, key: &str, new: Value) -> Value {
    let fields = value.pointer_mut(object).and_then(Value::as_object_mut);
    fields.unwrap_or_else(|| panic!("no object at {object}")).insert(key.to_owned(), new);
    value
}

fn without(mut value: Value, object: &str, key: &str) -> Value {
    let fields = value.pointer_mut(object).and_then(Value::as_object_mut);
    fields.unwrap_or_else(|| panic!("no object at {object}")).remove(key);
    value
}

fn hex32(bytes: [u8; 32]) -> String {
    format!("0x{}", hex::encode(bytes))
}

#[test]
fn eip712s_mail_example_hashes_and_signs_byte_for_byte() {
    let typed = parse(&mail());
    assert_eq!(
        hex32(typed.domain_separator()),
        "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"
    );
    assert_eq!(
        hex32(typed.struct_hash()),
        "0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e"
    );
    let digest = typed.signing_hash();
    assert_eq!(hex32(digest), "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2");

    let key = PrivateKey::from_bytes(&keccak256(b"cow")).unwrap_or_else(|e| panic!("{e}"));
    let signature = key.sign_prehash(&digest).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(27 + signature.recovery_id, 28);
    assert_eq!(hex32(signature.r), "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d");
    assert_eq!(hex32(signature.s), "0x07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562");

    // ethers and viem send a string; EIP712Domain in `types` is optional.
    assert_eq!(parse(&Value::String(mail().to_string())), typed);
    assert_eq!(parse(&without(mail(), "/types", "EIP712Domain")), typed);

    assert_eq!(typed.primary_type(), "Mail");
    assert_eq!(typed.chain_id(), Some(1));
    assert_eq!(typed.domain_name(), Some("Ether Mail"));
    assert_eq!(typed.domain_version(), Some("1"));
    assert_eq!(
        typed.verifying_contract().map(|address| address.to_storage()).as_deref(),
        Some("0xcccccccccccccccccccccccccccccccccccccccc")
    );
    assert_eq!(
        typed.message(),
        &json!({
            "from": {"name": "Cow", "wallet": "0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826"},
            "to": {"name": "Bob", "wallet": "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
            "contents": "Hello, Bob!"
        })
    );
}

#[test]
fn every_ethers_vector_hashes_the_same() {
    let vectors: Value =
        serde_json::from_str(include_str!("../../../tests/vectors/typed-data/ethers-v6.json"))
            .unwrap_or_else(|e| panic!("{e}"));
    let cases = vectors["cases"].as_array().cloned().unwrap_or_default();
    assert_eq!(cases.len(), 150);
    for case in &cases {
        let name = case["name"].as_str().unwrap_or_default();
        let raw = &case["raw"];
        for (variant, input) in [
            ("payload", case["payload"].clone()),
            ("raw", raw.clone()),
            ("raw as a string", Value::String(raw.to_string())),
        ] {
            let typed = TypedData::from_json(&input, "typed_data")
                .unwrap_or_else(|e| panic!("{name} ({variant}): {e}"));
            assert_eq!(
                Value::from(hex32(typed.domain_separator())),
                case["domainSeparator"],
                "{name} ({variant})"
            );
            assert_eq!(Value::from(hex32(typed.struct_hash())), case["structHash"], "{name} ({variant})");
            assert_eq!(Value::from(hex32(typed.signing_hash())), case["digest"], "{name} ({variant})");
            // ethers' normalized message is the same canonical form.
            assert_eq!(typed.message(), &case["payload"]["message"], "{name} ({variant})");
        }
    }
}

#[test]
fn integers_are_numbers_decimal_or_hex_and_range_checked() {
    let digest = |kind: &str, value: Value| parse(&one_field(kind, value)).signing_hash();
    let positive = digest("int16", json!(123));
    for spelling in [json!("123"), json!("0x7b"), json!("0X7B"), json!("0x007b")] {
        assert_eq!(digest("int16", spelling), positive);
    }
    let negative = digest("int16", json!(-123));
    for spelling in [json!("-123"), json!("-0x7b")] {
        assert_eq!(digest("int16", spelling), negative);
    }
    assert_eq!(digest("uint8", json!("-0")), digest("uint8", json!(0)));

    for (kind, value) in [
        ("uint8", json!(255)),
        ("int8", json!(-128)),
        ("int8", json!("0x7f")),
        ("uint64", json!(u64::MAX)),
        ("int64", json!(i64::MIN)),
        ("int128", json!(u64::MAX)),
        ("uint256", json!(format!("0x{}", "f".repeat(64)))),
        ("int256", json!(format!("-0x8{}", "0".repeat(63)))),
        ("int256", json!(format!("0x7{}", "f".repeat(63)))),
    ] {
        let typed = parse(&one_field(kind, value.clone()));
        let canonical = &typed.message()["v"];
        assert!(canonical.is_string(), "{kind} {value} became {canonical}");
    }
    assert_eq!(parse(&one_field("int8", json!("-0x80"))).message()["v"], json!("-128"));
}

#[test]
fn every_refusal_names_the_bad_field() {
    let cycle = json!({
        "types": {"A": [{"name": "b", "type": "B"}], "B": [{"name": "a", "type": "A[]"}]},
        "primaryType": "A", "domain": {}, "message": {"b": {"a": []}}
    });
    let self_cycle = json!({
        "types": {"Node": [{"name": "children", "type": "Node[]"}]},
        "primaryType": "Node", "domain": {}, "message": {"children": []}
    });
    let deep_json = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let cases = [
        // Types.
        (with(mail(), "/types/Person/1/type", json!("adress")), "typed_data.types.Person[1].type"),
        (one_field("uint", json!(1)), "typed_data.types.T[0].type"),
        (one_field("int", json!(1)), "typed_data.types.T[0].type"),
        (one_field("bytes33", json!("0x00")), "typed_data.types.T[0].type"),
        (one_field("uint7", json!(1)), "typed_data.types.T[0].type"),
        (one_field("int264", json!(1)), "typed_data.types.T[0].type"),
        (one_field("uint8[0]", json!([])), "typed_data.types.T[0].type"),
        (one_field("uint8[01]", json!([1])), "typed_data.types.T[0].type"),
        (one_field("uint8[", json!([1])), "typed_data.types.T[0].type"),
        (one_field("uint8 ", json!(1)), "typed_data.types.T[0].type"),
        (one_field(&format!("uint8{}", "[1]".repeat(33)), json!(1)), "typed_data.types.T[0].type"),
        (with(mail(), "/types/Person/1/name", json!("wal let")), "typed_data.types.Person[1].name"),
        (with(mail(), "/types/Person/1/name", json!("name")), "typed_data.types.Person[1].name"),
        (insert(mail(), "/types/Person/1", "kind", json!(1)), "typed_data.types.Person[1].kind"),
        (insert(mail(), "/types", "uint256", json!([])), "typed_data.types.uint256"),
        (insert(mail(), "/types", "A$", json!([])), "typed_data.types.A$"),
        (with(mail(), "/types/Person", json!({})), "typed_data.types.Person"),
        (cycle.clone(), "typed_data.types.A"),
        (self_cycle, "typed_data.types.Node"),
        (chain(32), "typed_data.types.T0"),
        // Top level and domain.
        (with(mail(), "/primaryType", json!("Letter")), "typed_data.primaryType"),
        (without(mail(), "", "primaryType"), "typed_data.primaryType"),
        (insert(mail(), "", "extra", json!(1)), "typed_data.extra"),
        (insert(mail(), "/domain", "chainID", json!(1)), "typed_data.domain.chainID"),
        (insert(mail(), "/domain", "salt", Value::Null), "typed_data.domain.salt"),
        (insert(mail(), "/domain", "salt", json!("0x01")), "typed_data.domain.salt"),
        (with(mail(), "/domain/chainId", json!("0x10000000000000000")), "typed_data.domain.chainId"),
        (with(mail(), "/domain/verifyingContract", json!("0x12")), "typed_data.domain.verifyingContract"),
        (without(mail(), "/domain", "chainId"), "typed_data.types.EIP712Domain"),
        (
            with(
                mail(),
                "/types/EIP712Domain",
                json!([
                    {"name": "version", "type": "string"},
                    {"name": "name", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"}
                ]),
            ),
            "typed_data.types.EIP712Domain",
        ),
        (with(mail(), "/types/EIP712Domain/2/type", json!("uint64")), "typed_data.types.EIP712Domain"),
        (Value::String("{\"types\": ".into()), "typed_data"),
        (Value::String(deep_json), "typed_data"),
        (json!([mail()]), "typed_data"),
        // Values.
        (without(mail(), "/message/to", "wallet"), "typed_data.message.to.wallet"),
        (insert(mail(), "/message/to", "walet", json!("0x00")), "typed_data.message.to.walet"),
        (without(mail(), "", "message"), "typed_data.message"),
        (
            with(mail(), "/message/from/wallet", json!("0xcD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826")),
            "typed_data.message.from.wallet",
        ),
        (with(mail(), "/message/contents", json!(5)), "typed_data.message.contents"),
        (one_field("uint8", json!(256)), "typed_data.message.v"),
        (one_field("uint8", json!(-1)), "typed_data.message.v"),
        (one_field("int8", json!(-129)), "typed_data.message.v"),
        (one_field("int8", json!(128)), "typed_data.message.v"),
        (one_field("int8", json!("-0x81")), "typed_data.message.v"),
        (one_field("uint256", json!(format!("0x1{}", "0".repeat(64)))), "typed_data.message.v"),
        (one_field("uint256", json!(1.5)), "typed_data.message.v"),
        (one_field("uint256", json!(1e3)), "typed_data.message.v"),
        (one_field("uint256", json!("1e3")), "typed_data.message.v"),
        (one_field("uint256", json!(" 1")), "typed_data.message.v"),
        (one_field("uint256", json!("0x")), "typed_data.message.v"),
        (one_field("uint256", json!("--1")), "typed_data.message.v"),
        (one_field("bytes4", json!("0x010203")), "typed_data.message.v"),
        (one_field("bytes", json!("0xabc")), "typed_data.message.v"),
        (one_field("bytes", json!("abcd")), "typed_data.message.v"),
        (one_field("bytes", json!([1, 2])), "typed_data.message.v"),
        (one_field("bool", json!("true")), "typed_data.message.v"),
        (one_field("uint8[2]", json!([1, 2, 3])), "typed_data.message.v"),
        (one_field("uint8[]", json!([1, 300])), "typed_data.message.v[1]"),
        (one_field("uint8[][2]", json!([[1], [2, "x"]])), "typed_data.message.v[1][1]"),
    ];
    for (input, field) in cases {
        let error = refused(&input);
        assert_eq!(error.field, field, "{error}");
        assert!(!error.reason.is_empty() && !error.reason.contains('\n'), "{error}");
    }

    // The cycle names its types; the prefix is the caller's.
    let error = refused(&cycle);
    assert!(error.reason.contains("A → B → A"), "{error}");
    let error = TypedData::from_json(&one_field("uint8", json!(256)), "params[1]").err();
    assert_eq!(error.map(|e| e.field).as_deref(), Some("params[1].message.v"));
}

#[test]
fn nesting_and_size_stop_at_their_limits() {
    parse(&chain(31));
    parse(&one_field(&format!("uint8{}", "[1]".repeat(31)), (0..31).fold(json!(1), |v, _| json!([v]))));
    let huge = one_field("uint8[]", Value::Array(vec![json!(0); MAX_VALUES]));
    let error = refused(&huge);
    assert!(error.field.starts_with("typed_data.message.v["), "{error}");
}

#[test]
fn the_domain_may_be_the_primary_type() {
    let domain = mail()["domain"].clone();
    let input = json!({
        "types": {"EIP712Domain": mail()["types"]["EIP712Domain"].clone()},
        "primaryType": "EIP712Domain",
        "domain": domain,
        "message": domain
    });
    let typed = parse(&input);
    let mut preimage = vec![0x19, 0x01];
    preimage.extend_from_slice(&typed.domain_separator());
    assert_eq!(typed.signing_hash(), keccak256(&preimage));
    assert_eq!(typed.struct_hash(), typed.domain_separator());

    let other = with(input, "/message/name", json!("Other Mail"));
    assert_eq!(refused(&other).field, "typed_data.message");
}

/// Alloy's own deserializer, fed the canonical payload of `typed`.
fn alloy_signing_hash(typed: &TypedData, input: &Value) -> [u8; 32] {
    let input = match input {
        Value::String(text) => serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}")),
        other => other.clone(),
    };
    let payload = json!({
        "types": input["types"],
        "primaryType": typed.primary_type(),
        "domain": typed.domain.to_json(),
        "message": typed.message(),
    });
    let alloy: alloy_dyn_abi::TypedData = serde_json::from_value(payload).unwrap_or_else(|e| panic!("{e}"));
    alloy.eip712_signing_hash().unwrap_or_else(|e| panic!("{e}")).0
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(Value),
    Remove(usize),
    Insert(String, Value),
}

fn key() -> impl Strategy<Value = String> {
    const KNOWN: &[&str] = &[
        "name",
        "type",
        "wallet",
        "from",
        "to",
        "contents",
        "types",
        "primaryType",
        "domain",
        "message",
        "version",
        "chainId",
        "verifyingContract",
        "salt",
        "EIP712Domain",
        "Person",
        "Mail",
    ];
    prop_oneof![prop::sample::select(KNOWN).prop_map(str::to_owned), "[a-zA-Z_$:]{1,8}"]
}

fn json_value() -> impl Strategy<Value = Value> {
    const TEXTS: &[&str] = &[
        "uint256",
        "int8",
        "bytes32",
        "string",
        "address",
        "bool",
        "uint",
        "Person",
        "Person[]",
        "Person[2]",
        "Mail",
        "EIP712Domain",
        "0x",
        "0xabc",
        "0x00",
        "-1",
        "-0x80",
        "255",
        "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826",
        "0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(TEXTS).prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        json_value().prop_map(Mutation::Replace),
        any::<usize>().prop_map(Mutation::Remove),
        (key(), json_value()).prop_map(|(key, value)| Mutation::Insert(key, value)),
    ]
}

/// Walks down `steps` (each picks a child, modulo the count) as far as
/// it can, then applies `mutation` there.
fn mutate(value: &mut Value, steps: &[usize], mutation: &Mutation) {
    let child = match (steps.split_first(), &mut *value) {
        (Some((step, _)), Value::Object(fields)) if !fields.is_empty() => {
            let count = fields.len();
            fields.values_mut().nth(step % count)
        }
        (Some((step, _)), Value::Array(items)) if !items.is_empty() => {
            let count = items.len();
            items.get_mut(step % count)
        }
        _ => None,
    };
    if let Some(child) = child {
        return mutate(child, &steps[1..], mutation);
    }
    match (mutation, value) {
        (Mutation::Replace(new), value) => *value = new.clone(),
        (Mutation::Remove(i), Value::Object(fields)) if !fields.is_empty() => {
            let key = fields.keys().nth(i % fields.len()).cloned().unwrap_or_default();
            fields.remove(&key);
        }
        (Mutation::Remove(i), Value::Array(items)) if !items.is_empty() => {
            items.remove(i % items.len());
        }
        (Mutation::Insert(key, new), Value::Object(fields)) => {
            fields.insert(key.clone(), new.clone());
        }
        (Mutation::Insert(_, new), Value::Array(items)) => items.push(new.clone()),
        (_, value) => *value = Value::Null,
    }
}

/// An integer as a JSON number, a decimal string or 0x hex.
fn spelled(negative: bool, magnitude: u64, spelling: u8) -> Value {
    let sign = if negative && magnitude != 0 { "-" } else { "" };
    match spelling % 3 {
        0 if !negative || magnitude <= i64::MAX as u64 => {
            if sign.is_empty() {
                json!(magnitude)
            } else {
                json!(-(magnitude as i64))
            }
        }
        1 => json!(format!("{sign}0x{magnitude:x}")),
        _ => json!(format!("{sign}{magnitude}")),
    }
}

/// Mixed-case 0x hex, as wallets and dapps write it.
fn mixed_hex(bytes: &[u8], upper: bool) -> Value {
    let digits = if upper { hex::encode_upper(bytes) } else { hex::encode(bytes) };
    json!(format!("0x{digits}"))
}

prop_compose! {
    /// Valid typed data of every atomic kind, an array of structs and a
    /// fixed array, with any subset of the domain.
    fn valid_typed_data()(
        small in any::<u8>(),
        signed in any::<i64>(),
        big in any::<[u8; 32]>(),
        bytes in prop::collection::vec(any::<u8>(), 0..40),
        word in any::<[u8; 4]>(),
        flag in any::<bool>(),
        text in ".{0,20}",
        wallet in any::<[u8; 20]>(),
        inner in prop::collection::vec((any::<i8>(), any::<[u8; 32]>()), 0..3),
        pair in any::<[u16; 2]>(),
        spellings in any::<[u8; 6]>(),
        upper in any::<bool>(),
        subset in 0u8..32,
        chain_id in any::<u64>(),
        declare_domain in any::<bool>(),
    ) -> Value {
        let domain_values = [
            json!(text.clone()),
            json!("1"),
            spelled(false, chain_id, spellings[0]),
            mixed_hex(&wallet, !upper),
            mixed_hex(&big, upper),
        ];
        let mut domain = Map::new();
        let mut domain_type = Vec::new();
        for (i, ((name, kind), value)) in DOMAIN_FIELDS.iter().zip(domain_values).enumerate() {
            if subset & (1 << i) != 0 {
                domain.insert((*name).to_owned(), value);
                domain_type.push(json!({"name": name, "type": kind}));
            }
        }
        let mut types = json!({
            "Inner": [{"name": "x", "type": "int8"}, {"name": "y", "type": "bytes32"}],
            "T": [
                {"name": "a", "type": "uint8"}, {"name": "b", "type": "int256"},
                {"name": "c", "type": "uint256"}, {"name": "d", "type": "bytes"},
                {"name": "e", "type": "bytes4"}, {"name": "f", "type": "bool"},
                {"name": "g", "type": "string"}, {"name": "h", "type": "address"},
                {"name": "i", "type": "Inner[]"}, {"name": "j", "type": "uint16[2]"}
            ]
        });
        if declare_domain {
            types["EIP712Domain"] = Value::Array(domain_type);
        }
        let inner: Vec<_> = inner
            .iter()
            .map(|(x, y)| {
                let x = spelled(*x < 0, x.unsigned_abs().into(), spellings[1]);
                json!({"x": x, "y": mixed_hex(y, upper)})
            })
            .collect();
        json!({
            "types": types,
            "primaryType": "T",
            "domain": domain,
            "message": {
                "a": spelled(false, small.into(), spellings[2]),
                "b": spelled(signed < 0, signed.unsigned_abs(), spellings[3]),
                "c": mixed_hex(&big, !upper),
                "d": mixed_hex(&bytes, upper),
                "e": mixed_hex(&word, upper),
                "f": flag,
                "g": text,
                "h": mixed_hex(&wallet, upper),
                "i": inner,
                "j": [
                    spelled(false, pair[0].into(), spellings[4]),
                    spelled(false, pair[1].into(), spellings[5]),
                ],
            }
        })
    }
}

proptest! {
    #[test]
    fn json_ish_text_is_refused_or_parsed_without_panic(text in r#"[\[\]{}":,0-9a-zA-Z_ .x-]{0,160}"#) {
        let _ = TypedData::from_json(&Value::String(text), "typed_data");
    }

    #[test]
    fn mutated_mail_is_refused_or_hashed_as_alloy_does(
        steps in prop::collection::vec(any::<usize>(), 0..6),
        mutation in mutation(),
    ) {
        let mut input = mail();
        mutate(&mut input, &steps, &mutation);
        let parsed = TypedData::from_json(&input, "typed_data");
        if input.is_object() {
            // The string form is the same typed data.
            let text = TypedData::from_json(&Value::String(input.to_string()), "typed_data");
            prop_assert_eq!(&parsed, &text);
        }
        if let Ok(typed) = parsed {
            prop_assert_eq!(typed.signing_hash(), alloy_signing_hash(&typed, &input));
        }
    }

    #[test]
    fn valid_typed_data_parses_and_hashes_as_alloy_does(input in valid_typed_data()) {
        let typed = TypedData::from_json(&input, "typed_data");
        prop_assert!(typed.is_ok(), "{:?}", typed.err());
        if let Ok(typed) = typed {
            prop_assert_eq!(typed.signing_hash(), alloy_signing_hash(&typed, &input));
        }
    }
}
