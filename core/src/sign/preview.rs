//! What a payload will sign, in words an operator checks before confirming:
//! a transaction's type, chain, recipient, value, nonce, gas and fees; typed
//! data's domain and message; an authorization's chain, delegate and nonce;
//! a message's text, or a hex preview of its bytes.

use ruint::aliases::U256;

use super::{Authorization, Fees, Payload, Transaction, TypedData};

/// Bytes of a binary message or of calldata shown before the rest is elided.
const HEX_PREVIEW_BYTES: usize = 32;
/// Characters of a text message shown before the rest is elided.
const TEXT_PREVIEW_CHARS: usize = 240;

impl Payload {
    /// Labelled lines describing exactly what will be signed. Public data
    /// only: nothing here comes from a key.
    pub fn preview(&self) -> Vec<(&'static str, String)> {
        match self {
            Payload::Message(bytes) => message_preview(bytes),
            Payload::Transaction(tx) => transaction_preview(tx),
            Payload::TypedData(typed) => typed_data_preview(typed),
            Payload::Authorization(auth) => authorization_preview(auth),
        }
    }
}

fn message_preview(bytes: &[u8]) -> Vec<(&'static str, String)> {
    let printable = |text: &str| text.chars().all(|c| !c.is_control() || c == '\n' || c == '\t');
    match std::str::from_utf8(bytes) {
        Ok(text) if printable(text) => {
            let shown: String = text.chars().take(TEXT_PREVIEW_CHARS).collect();
            let total = text.chars().count();
            let shown = if total > TEXT_PREVIEW_CHARS {
                format!("{shown}… ({total} characters in all)")
            } else {
                shown
            };
            vec![("message (EIP-191 text)", shown)]
        }
        _ => vec![("message (EIP-191 bytes)", hex_preview(bytes))],
    }
}

fn transaction_preview(tx: &Transaction) -> Vec<(&'static str, String)> {
    let mut lines = vec![
        ("type", tx.tx_type.describe().to_owned()),
        ("chain id", chain(tx.chain_id)),
        ("to", tx.to.as_ref().map_or_else(|| "nobody: creates a contract".to_owned(), ToString::to_string)),
        ("value", amount(tx.value, 18, "ETH", "wei")),
        ("nonce", tx.nonce.to_string()),
        ("gas limit", tx.gas.to_string()),
    ];
    match &tx.fees {
        Fees::GasPrice { gas_price } => lines.push(("gas price", gwei(*gas_price))),
        Fees::Eip1559 { max_fee_per_gas, max_priority_fee_per_gas } => {
            lines.push(("max fee per gas", gwei(*max_fee_per_gas)));
            lines.push(("max priority fee", gwei(*max_priority_fee_per_gas)));
        }
    }
    if !tx.data.is_empty() {
        lines.push(("data", hex_preview(&tx.data)));
    }
    if !tx.access_list.is_empty() {
        let keys: usize = tx.access_list.iter().map(|e| e.storage_keys.len()).sum();
        lines.push(("access list", format!("{} address(es), {keys} storage key(s)", tx.access_list.len())));
    }
    for signed in &tx.authorization_list {
        let auth = &signed.authorization;
        lines.push((
            "authorization",
            format!(
                "code of {} on chain {}, nonce {}",
                auth.delegate,
                chain_or_every(auth.chain_id),
                auth.nonce
            ),
        ));
    }
    lines
}

fn typed_data_preview(typed: &TypedData) -> Vec<(&'static str, String)> {
    let mut lines = vec![("type", format!("EIP-712 typed data: {}", typed.primary_type()))];
    if let Some(name) = typed.domain_name() {
        let version = typed.domain_version().map(|v| format!(", version {v}")).unwrap_or_default();
        lines.push(("domain", format!("{name}{version}")));
    }
    lines.push(("chain id", typed.chain_id().map_or_else(|| "none: valid on any chain".to_owned(), chain)));
    if let Some(contract) = typed.verifying_contract() {
        lines.push(("contract", contract.to_string()));
    }
    let message = typed.message().to_string();
    let shown: String = message.chars().take(TEXT_PREVIEW_CHARS).collect();
    let total = message.chars().count();
    lines.push((
        "message",
        if total > TEXT_PREVIEW_CHARS { format!("{shown}… ({total} characters in all)") } else { shown },
    ));
    lines
}

fn authorization_preview(auth: &Authorization) -> Vec<(&'static str, String)> {
    vec![
        ("type", "EIP-7702 authorization".to_owned()),
        ("chain id", chain_or_every(auth.chain_id)),
        ("delegate", format!("{}: its code runs as this account", auth.delegate)),
        ("nonce", auth.nonce.to_string()),
    ]
}

fn chain_or_every(id: u64) -> String {
    if id == 0 { "0 (every chain)".to_owned() } else { chain(id) }
}

fn gwei(wei: u128) -> String {
    amount(U256::from(wei), 9, "gwei", "wei")
}

fn chain(id: u64) -> String {
    let name = match id {
        1 => " (Ethereum mainnet)",
        10 => " (OP Mainnet)",
        137 => " (Polygon)",
        8453 => " (Base)",
        42161 => " (Arbitrum One)",
        11_155_111 => " (Sepolia)",
        17000 => " (Holesky)",
        _ => "",
    };
    format!("{id}{name}")
}

/// `value` in `unit` (10^`decimals` base units) and in base units:
/// `1.5 ETH (1500000000000000000 wei)`. Exact: no floating point.
fn amount(value: U256, decimals: u32, unit: &str, base: &str) -> String {
    let scale = U256::from(10u64).pow(U256::from(decimals));
    let (whole, fraction) = (value / scale, value % scale);
    let fraction = format!("{fraction:0>width$}", width = decimals as usize);
    let fraction = fraction.trim_end_matches('0');
    let units = if fraction.is_empty() { format!("{whole}") } else { format!("{whole}.{fraction}") };
    format!("{units} {unit} ({value} {base})")
}

/// `0x` and the first bytes in hex, with the length when some are elided.
fn hex_preview(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(HEX_PREVIEW_BYTES)];
    if bytes.len() > HEX_PREVIEW_BYTES {
        format!("0x{}… ({} bytes)", hex::encode(shown), bytes.len())
    } else {
        format!("0x{} ({} bytes)", hex::encode(shown), bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Address;

    fn value(lines: &[(&'static str, String)], label: &str) -> String {
        lines.iter().find(|(l, _)| *l == label).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    #[test]
    fn a_transaction_shows_what_an_operator_checks() {
        let tx = Transaction {
            tx_type: super::super::TxType::DynamicFee,
            chain_id: 1,
            nonce: 9,
            fees: Fees::Eip1559 { max_fee_per_gas: 30_000_000_000, max_priority_fee_per_gas: 1_500_000_000 },
            gas: 21_000,
            to: Some(Address::parse("0x3535353535353535353535353535353535353535").unwrap()),
            value: U256::from(1_500_000_000_000_000_000u64),
            data: Vec::new(),
            access_list: Vec::new(),
            authorization_list: Vec::new(),
        };
        let lines = Payload::Transaction(Box::new(tx)).preview();
        assert_eq!(value(&lines, "type"), "EIP-1559 (type 2)");
        assert_eq!(value(&lines, "chain id"), "1 (Ethereum mainnet)");
        assert_eq!(value(&lines, "to"), "0x3535353535353535353535353535353535353535");
        assert_eq!(value(&lines, "value"), "1.5 ETH (1500000000000000000 wei)");
        assert_eq!(value(&lines, "nonce"), "9");
        assert_eq!(value(&lines, "max fee per gas"), "30 gwei (30000000000 wei)");
        assert_eq!(value(&lines, "max priority fee"), "1.5 gwei (1500000000 wei)");
        assert_eq!(value(&lines, "data"), "");
    }

    #[test]
    fn a_message_shows_its_text_or_a_hex_preview() {
        assert_eq!(
            Payload::Message(b"hello".to_vec()).preview(),
            [("message (EIP-191 text)", "hello".into())]
        );
        let bytes: Vec<u8> = (0..40).collect();
        let shown = value(&Payload::Message(bytes).preview(), "message (EIP-191 bytes)");
        assert!(shown.starts_with("0x000102") && shown.ends_with("… (40 bytes)"), "{shown}");
        assert_eq!(amount(U256::ZERO, 18, "ETH", "wei"), "0 ETH (0 wei)");
    }

    #[test]
    fn typed_data_shows_its_domain_chain_contract_and_message() {
        let typed = TypedData::from_json(
            &serde_json::json!({
                "types": {"Mail": [{"name": "contents", "type": "string"}]},
                "primaryType": "Mail",
                "domain": {"name": "Ether Mail", "version": "1", "chainId": 8453,
                           "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
                "message": {"contents": "Hello, Bob!"}
            }),
            "typed_data",
        )
        .unwrap();
        let lines = Payload::TypedData(Box::new(typed)).preview();
        assert_eq!(value(&lines, "type"), "EIP-712 typed data: Mail");
        assert_eq!(value(&lines, "domain"), "Ether Mail, version 1");
        assert_eq!(value(&lines, "chain id"), "8453 (Base)");
        assert_eq!(value(&lines, "contract"), "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC");
        assert_eq!(value(&lines, "message"), r#"{"contents":"Hello, Bob!"}"#);
        let anywhere = TypedData::from_json(
            &serde_json::json!({"types": {"M": []}, "primaryType": "M", "domain": {}, "message": {}}),
            "typed_data",
        )
        .unwrap();
        assert_eq!(
            value(&Payload::TypedData(Box::new(anywhere)).preview(), "chain id"),
            "none: valid on any chain"
        );
    }

    #[test]
    fn an_authorization_shows_its_delegate_and_every_chain_plainly() {
        let delegate = Address::parse("0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B").unwrap();
        let lines = Payload::Authorization(Authorization { chain_id: 0, delegate, nonce: 4 }).preview();
        assert_eq!(value(&lines, "type"), "EIP-7702 authorization");
        assert_eq!(value(&lines, "chain id"), "0 (every chain)");
        assert_eq!(value(&lines, "delegate"), format!("{delegate}: its code runs as this account"));
        assert_eq!(value(&lines, "nonce"), "4");
        // A type 4 transaction lists the authorizations it carries.
        let tx = Transaction::from_json(
            &serde_json::json!({"chainId": 1, "nonce": 0, "gas": 100000, "maxFeePerGas": 2, "maxPriorityFeePerGas": 1,
                "to": delegate.to_string(), "authorizationList": [{"chainId": 1, "address": delegate.to_string(),
                "nonce": 5, "yParity": 0, "r": "0x1", "s": "0x2"}]}),
            None,
        )
        .unwrap();
        let lines = Payload::Transaction(Box::new(tx)).preview();
        assert_eq!(value(&lines, "type"), "EIP-7702 (type 4)");
        assert_eq!(
            value(&lines, "authorization"),
            format!("code of {delegate} on chain 1 (Ethereum mainnet), nonce 5")
        );
    }
}
