#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Signing and retiring accounts, on every store: the key never leaves
//! the custodian, every signature is in the access trail, and a disabled
//! account neither signs nor reveals.

#[macro_use]
mod support;

use ed25519_dalek::Verifier as _;
use rossignol_core::account::keccak256;
use rossignol_core::sign::{Payload, SignRequest, Signed, eip191_digest};
use rossignol_core::store::record::{DISABLED_AT, DISABLED_BY, LEGACY_PRIVATE_KEY};
use rossignol_core::{Address, Error, PrivateKey, Requester};
use support::{Harness, legacy_item, recover};

for_each_store!(
    a_message_signature_recovers_the_account_and_is_recorded,
    a_transaction_is_signed_and_its_digest_recorded,
    legacy_accounts_sign_messages_with_ed25519_only,
    a_disabled_account_neither_signs_nor_reveals_until_enabled,
    disabling_a_legacy_row_keeps_its_attributes,
);

fn requester(id: &str) -> Requester {
    Requester { action: "signer".into(), request_id: id.into(), ..Default::default() }
}

async fn a_message_signature_recovers_the_account_and_is_recorded(h: &Harness) {
    let record = h.custodian.create("test").await.unwrap();
    let payload = Payload::Message(b"hello".to_vec());
    let (_, signed) = h.custodian.sign(&record.address, &payload, &requester("sig-1")).await.unwrap();
    let Signed::Message { signature, digest } = &signed else { panic!("{signed:?}") };
    assert_eq!(*digest, eip191_digest(b"hello"));
    assert!(matches!(signature[64], 27 | 28));
    assert_eq!(recover(digest, signature), record.address);

    // Deterministic: the same message gives the same signature.
    let (_, again) = h.custodian.sign(&record.address, &payload, &requester("sig-2")).await.unwrap();
    assert_eq!(again, signed);

    let trail = h.custodian.trail().latest(&record.address, 10).await.unwrap();
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[0].request_id, "sig-2");
    assert_eq!(trail[0].action, "signer");
    assert_eq!(trail[0].digest.as_deref(), Some(format!("0x{}", hex::encode(digest)).as_str()));
}

async fn a_transaction_is_signed_and_its_digest_recorded(h: &Harness) {
    let record = h.custodian.create("test").await.unwrap();
    let body = serde_json::json!({"address": record.address.to_string(), "transaction": {
        "chainId": "0x1", "nonce": "7", "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1000000000",
        "gas": 21000, "to": "0x3535353535353535353535353535353535353535", "value": "1"
    }});
    let request = SignRequest::parse(body.to_string().as_bytes()).unwrap();
    let (_, signed) = h.custodian.sign(&request.address, &request.payload, &requester("tx-1")).await.unwrap();
    let Signed::Transaction { raw, hash, digest } = &signed else { panic!("{signed:?}") };
    assert_eq!(raw[0], 0x02, "an EIP-1559 transaction is type 2");
    assert_eq!(*hash, keccak256(raw));
    // The last three fields of this raw transaction are y-parity, r and s
    // (r and s without leading zero bytes, as RLP writes quantities).
    let Payload::Transaction(tx) = &request.payload else { unreachable!() };
    assert_eq!(*digest, keccak256(&tx.signing_payload()));
    let fields = rlp_list_items(&raw[1..]);
    let [parity, r, s] = fields[fields.len() - 3..] else { unreachable!() };
    let rsv = [left_pad_32(r), left_pad_32(s), vec![27 + u8::from(parity == [0x01])]].concat();
    assert_eq!(recover(digest, &rsv), record.address);
    let trail = h.custodian.trail().latest(&record.address, 1).await.unwrap();
    assert_eq!(trail[0].digest.as_deref(), Some(format!("0x{}", hex::encode(digest)).as_str()));
}

/// The payloads of the items of the RLP list `encoded`.
fn rlp_list_items(encoded: &[u8]) -> Vec<&[u8]> {
    let mut rest = encoded;
    let list = alloy_rlp::Header::decode(&mut rest).unwrap();
    assert!(list.list && list.payload_length == rest.len(), "one RLP list");
    let mut items = Vec::new();
    while !rest.is_empty() {
        let header = alloy_rlp::Header::decode(&mut rest).unwrap();
        let (item, after) = rest.split_at(header.payload_length);
        items.push(item);
        rest = after;
    }
    items
}

fn left_pad_32(bytes: &[u8]) -> Vec<u8> {
    let mut padded = vec![0u8; 32 - bytes.len()];
    padded.extend_from_slice(bytes);
    padded
}

async fn legacy_accounts_sign_messages_with_ed25519_only(h: &Harness) {
    let (item, _) = legacy_item([7u8; 32]);
    h.store.create(&item).await.unwrap();
    let address = Address::parse(item.address().unwrap()).unwrap();
    let (_, signed) =
        h.custodian.sign(&address, &Payload::Message(b"hi".to_vec()), &requester("ed-1")).await.unwrap();
    let Signed::Ed25519Message { signature, digest } = signed else { panic!("{signed:?}") };
    assert_eq!(digest, keccak256(b"hi"));
    let verifying = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    verifying.verify(b"hi", &ed25519_dalek::Signature::from_slice(&signature).unwrap()).unwrap();

    let body = serde_json::json!({"address": address.to_string(), "transaction": {
        "chainId": "1", "nonce": "0", "gasPrice": "1", "gas": "21000"
    }});
    let request = SignRequest::parse(body.to_string().as_bytes()).unwrap();
    let err = h.custodian.sign(&address, &request.payload, &requester("ed-2")).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidRequest(field) if field.field == "transaction"), "{err}");
    // Refused before anything was recorded.
    assert_eq!(h.custodian.trail().latest(&address, 10).await.unwrap().len(), 1);
}

async fn a_disabled_account_neither_signs_nor_reveals_until_enabled(h: &Harness) {
    let key = PrivateKey::generate_os();
    let record = h.custodian.create_with_key(key, "test").await.unwrap();
    assert!(h.custodian.set_disabled(&record.address, Some("ops@example")).await.unwrap());
    assert!(!h.custodian.set_disabled(&record.address, Some("again")).await.unwrap(), "already disabled");

    let read = h.custodian.get(&record.address).await.unwrap();
    let disabled = read.disabled.clone().expect("disabled");
    assert_eq!(disabled.by.as_deref(), Some("ops@example"));
    let payload = Payload::Message(b"x".to_vec());
    let err = h.custodian.sign(&record.address, &payload, &requester("d-1")).await.unwrap_err();
    assert!(matches!(err, Error::Disabled { .. }), "{err}");
    assert!(err.to_string().contains("rossignol enable"), "{err}");
    let err = h.custodian.reveal(&record.address, &requester("d-2")).await.unwrap_err();
    assert!(matches!(err, Error::Disabled { .. }), "{err}");
    assert!(h.custodian.trail().latest(&record.address, 10).await.unwrap().is_empty());

    assert!(h.custodian.set_disabled(&record.address, None).await.unwrap());
    let read = h.custodian.get(&record.address).await.unwrap();
    assert!(read.disabled.is_none());
    let raw = h.store.get(&record.address).await.unwrap().unwrap();
    assert!(raw.get(DISABLED_AT).is_none() && raw.get(DISABLED_BY).is_none());
    h.custodian.sign(&record.address, &payload, &requester("d-3")).await.unwrap();

    let nobody = Address::from_bytes([0x44; 20]);
    assert!(matches!(h.custodian.set_disabled(&nobody, Some("x")).await, Err(Error::NotFound { .. })));
}

async fn disabling_a_legacy_row_keeps_its_attributes(h: &Harness) {
    let (item, secret) = legacy_item([8u8; 32]);
    h.store.create(&item).await.unwrap();
    let address = Address::parse(item.address().unwrap()).unwrap();
    h.custodian.set_disabled(&address, Some("ops")).await.unwrap();
    let raw = h.store.get(&address).await.unwrap().unwrap();
    assert_eq!(raw.get(LEGACY_PRIVATE_KEY), item.get(LEGACY_PRIVATE_KEY));
    assert!(raw.get(DISABLED_AT).is_some());
    h.custodian.set_disabled(&address, None).await.unwrap();
    assert_eq!(h.store.get(&address).await.unwrap().unwrap(), item);
    let (_, key) = h.custodian.reveal(&address, &requester("l-1")).await.unwrap();
    assert_eq!(key.reveal_text().as_str(), secret);
}

mod properties {
    use proptest::prelude::*;
    use rossignol_core::KeyMaterial;
    use rossignol_core::sign::{self, Fees, Transaction, TxType};
    use ruint::aliases::U256;

    use super::*;

    fn key_from(bytes: [u8; 32]) -> Option<PrivateKey> {
        PrivateKey::from_bytes(&bytes).ok()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_message_signature_recovers_its_address(bytes in any::<[u8; 32]>(), message in prop::collection::vec(any::<u8>(), 0..300)) {
            let Some(key) = key_from(bytes) else { return Ok(()) };
            let address = key.address();
            let signed = sign::sign(&KeyMaterial::Secp256k1(key), &Payload::Message(message.clone()), "").unwrap();
            let Signed::Message { signature, digest } = signed else { panic!("a message signature") };
            prop_assert_eq!(digest, eip191_digest(&message));
            prop_assert_eq!(recover(&digest, &signature), address);
        }

        #[test]
        fn any_legacy_transaction_signature_recovers_its_address(
            bytes in any::<[u8; 32]>(),
            chain_id in 1u64..=u64::MAX / 4,
            nonce in any::<u64>(),
            gas in any::<u64>(),
            gas_price in any::<u128>(),
            value in any::<[u8; 32]>(),
            data in prop::collection::vec(any::<u8>(), 0..100),
            to in prop::option::of(any::<[u8; 20]>()),
        ) {
            let Some(key) = key_from(bytes) else { return Ok(()) };
            let address = key.address();
            let tx = Transaction {
                tx_type: TxType::Legacy,
                chain_id, nonce, gas, data,
                fees: Fees::GasPrice { gas_price },
                to: to.map(Address::from_bytes),
                value: U256::from_be_bytes(value),
                access_list: Vec::new(),
                authorization_list: Vec::new(),
            };
            let signed = sign::sign(&KeyMaterial::Secp256k1(key), &Payload::Transaction(Box::new(tx.clone())), "").unwrap();
            let Signed::Transaction { raw, digest, .. } = signed else { panic!("a transaction") };
            prop_assert_eq!(digest, keccak256(&tx.signing_payload()));
            // EIP-155: v, r, s close the list; v = chain id * 2 + 35 + parity.
            let (v, r, s) = last_three_quantities(&raw);
            let parity = v - U256::from(chain_id) * U256::from(2u8) - U256::from(35u8);
            prop_assert!(parity <= U256::from(1u8));
            let rsv = [pad32(&r), pad32(&s), vec![27 + u8::try_from(parity).unwrap()]].concat();
            prop_assert_eq!(recover(&digest, &rsv), address);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// What the fuzz target checks, on every CI run: any bytes parse or
        /// are refused with a field named, never a panic; what parses signs.
        #[test]
        fn the_request_parser_never_panics(body in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(request) = SignRequest::parse(&body) {
                let key = PrivateKey::from_bytes(&[0x46; 32]).unwrap();
                prop_assert!(sign::sign(&KeyMaterial::Secp256k1(key), &request.payload, "").is_ok());
            }
        }

        #[test]
        fn mutated_transactions_parse_or_name_a_field(
            field in prop::sample::select(vec!["chainId", "nonce", "gas", "gasPrice", "maxFeePerGas",
                "maxPriorityFeePerGas", "to", "value", "data", "accessList", "type", "from", "bogus"]),
            value in prop_oneof![
                any::<u64>().prop_map(|n| serde_json::json!(n)),
                any::<i64>().prop_map(|n| serde_json::json!(n.to_string())),
                "0x[0-9a-fA-F]{0,70}".prop_map(|s| serde_json::json!(s)),
                ".{0,20}".prop_map(|s| serde_json::json!(s)),
                Just(serde_json::json!(null)),
                Just(serde_json::json!([1, {"a": 2}])),
                any::<f64>().prop_map(|f| serde_json::json!(f)),
            ],
        ) {
            let mut tx = serde_json::json!({"chainId": "1", "nonce": "0", "gas": "21000",
                "maxFeePerGas": "2", "maxPriorityFeePerGas": "1"});
            tx[field] = value;
            let body = serde_json::json!({"address": "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf", "transaction": tx});
            match SignRequest::parse(body.to_string().as_bytes()) {
                Ok(request) => {
                    let key = PrivateKey::from_bytes(&[0x46; 32]).unwrap();
                    prop_assert!(sign::sign(&KeyMaterial::Secp256k1(key), &request.payload, "").is_ok());
                }
                Err(e) => prop_assert!(e.field.starts_with("transaction"), "{}", e),
            }
        }
    }

    /// The last three items of an RLP list, as quantities.
    fn last_three_quantities(raw: &[u8]) -> (U256, Vec<u8>, Vec<u8>) {
        let mut buf = raw;
        let header = alloy_rlp::Header::decode(&mut buf).unwrap();
        assert!(header.list && header.payload_length == buf.len());
        let mut items = Vec::new();
        while !buf.is_empty() {
            items.push(alloy_rlp::Header::decode_bytes(&mut buf, false).unwrap().to_vec());
        }
        assert_eq!(items.len(), 9);
        let s = items.pop().unwrap();
        let r = items.pop().unwrap();
        let v = U256::try_from_be_slice(&items.pop().unwrap()).unwrap();
        (v, r, s)
    }

    fn pad32(bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; 32 - bytes.len()];
        out.extend_from_slice(bytes);
        out
    }
}
