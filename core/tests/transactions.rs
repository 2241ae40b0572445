//! Transactions of types 0, 1 and 2 against ethers.js's published vectors
//! (`vectors/transactions/`), byte for byte: the signing preimage and the
//! signed raw transaction.

use rossignol_core::PrivateKey;
use rossignol_core::sign::{Transaction, TxType};
use serde_json::Value;

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    #[serde(rename = "privateKey")]
    private_key: String,
    #[serde(rename = "type")]
    tx_type: u8,
    tx: Value,
    unsigned: String,
    signed: String,
}

fn bytes(text: &str) -> Vec<u8> {
    hex::decode(text.trim_start_matches("0x")).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn ethers_published_transactions_sign_byte_for_byte() {
    let cases: Vec<Case> = serde_json::from_str(include_str!("vectors/transactions/ethers.json"))
        .unwrap_or_else(|e| panic!("the vector file: {e}"));
    let (mut checked, mut chain_zero) = ([0usize; 3], 0usize);
    for case in &cases {
        let mut tx = case.tx.clone();
        tx["type"] = case.tx_type.into();
        if case.tx["chainId"] == "0" {
            // A transaction valid on every chain: refused by design, by name.
            let refused = Transaction::from_json(&tx, None).expect_err(&case.name);
            assert_eq!(refused.field, "transaction.chainId", "{}", case.name);
            chain_zero += 1;
            continue;
        }
        let parsed = Transaction::from_json(&tx, None)
            .unwrap_or_else(|e| panic!("{} type {}: {e}", case.name, case.tx_type));
        let expected = [TxType::Legacy, TxType::AccessList, TxType::DynamicFee][case.tx_type as usize];
        assert_eq!(parsed.tx_type, expected, "{}", case.name);
        assert_eq!(
            parsed.signing_payload(),
            bytes(&case.unsigned),
            "{} type {}: preimage",
            case.name,
            case.tx_type
        );
        let key = PrivateKey::from_bytes(&bytes(&case.private_key))
            .unwrap_or_else(|_| panic!("{}: key", case.name));
        let signature = key.sign_prehash(&parsed.signing_hash()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            parsed.encode_signed(&signature),
            bytes(&case.signed),
            "{} type {}: signed",
            case.name,
            case.tx_type
        );
        checked[case.tx_type as usize] += 1;
    }
    // Every type is exercised, many times over.
    assert!(checked.iter().all(|&n| n > 100), "checked per type: {checked:?}");
    assert_eq!(checked.iter().sum::<usize>() + chain_zero, cases.len());
}
