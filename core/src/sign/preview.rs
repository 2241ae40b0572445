//! What a payload will sign, in words an operator checks before confirming:
//! a transaction's type, chain, recipient, value, nonce, gas and fees; a
//! message's text, or a hex preview of its bytes.

use ruint::aliases::U256;

use super::{Fees, Payload, Transaction};

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
    let kind = match tx.fees {
        Fees::Legacy { .. } => "legacy, EIP-155 (type 0)",
        Fees::Eip1559 { .. } => "EIP-1559 (type 2)",
    };
    let mut lines = vec![
        ("type", kind.to_owned()),
        ("chain id", chain(tx.chain_id)),
        ("to", tx.to.as_ref().map_or_else(|| "nobody: creates a contract".to_owned(), ToString::to_string)),
        ("value", amount(tx.value, 18, "ETH", "wei")),
        ("nonce", tx.nonce.to_string()),
        ("gas limit", tx.gas.to_string()),
    ];
    match &tx.fees {
        Fees::Legacy { gas_price } => lines.push(("gas price", amount(*gas_price, 9, "gwei", "wei"))),
        Fees::Eip1559 { max_fee_per_gas, max_priority_fee_per_gas } => {
            lines.push(("max fee per gas", amount(*max_fee_per_gas, 9, "gwei", "wei")));
            lines.push(("max priority fee", amount(*max_priority_fee_per_gas, 9, "gwei", "wei")));
        }
    }
    if !tx.data.is_empty() {
        lines.push(("data", hex_preview(&tx.data)));
    }
    if !tx.access_list.is_empty() {
        let keys: usize = tx.access_list.iter().map(|e| e.storage_keys.len()).sum();
        lines.push(("access list", format!("{} address(es), {keys} storage key(s)", tx.access_list.len())));
    }
    lines
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
            chain_id: 1,
            nonce: 9,
            fees: Fees::Eip1559 {
                max_fee_per_gas: U256::from(30_000_000_000u64),
                max_priority_fee_per_gas: U256::from(1_500_000_000u64),
            },
            gas: 21_000,
            to: Some(Address::parse("0x3535353535353535353535353535353535353535").unwrap()),
            value: U256::from(1_500_000_000_000_000_000u64),
            data: Vec::new(),
            access_list: Vec::new(),
        };
        let lines = Payload::Transaction(tx).preview();
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
}
