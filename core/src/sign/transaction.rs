//! Ethereum transactions: EIP-155 legacy and EIP-1559 (type 2), their
//! signing payloads and their signed RLP encodings.

use alloy_rlp::{BufMut, Encodable, Header};
use ruint::aliases::U256;

use crate::account::Address;
use crate::secret::RecoverableSignature;

/// EIP-2718 type byte of an EIP-1559 transaction.
const EIP1559_TYPE: u8 = 0x02;

/// How the transaction pays for gas, which also picks its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fees {
    /// A legacy transaction, replay-protected by EIP-155.
    Legacy { gas_price: U256 },
    /// An EIP-1559 transaction.
    Eip1559 { max_fee_per_gas: U256, max_priority_fee_per_gas: U256 },
}

/// One EIP-2930 access list entry (EIP-1559 transactions only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessListEntry {
    pub address: Address,
    pub storage_keys: Vec<[u8; 32]>,
}

impl Encodable for AccessListEntry {
    fn encode(&self, out: &mut dyn BufMut) {
        let address = self.address.as_bytes();
        Header { list: true, payload_length: address.length() + self.storage_keys.length() }.encode(out);
        address.encode(out);
        self.storage_keys.encode(out);
    }
}

/// An unsigned transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub chain_id: u64,
    pub nonce: u64,
    pub fees: Fees,
    pub gas: u64,
    /// `None` creates a contract.
    pub to: Option<Address>,
    pub value: U256,
    pub data: Vec<u8>,
    pub access_list: Vec<AccessListEntry>,
}

/// A field that is a byte string: the recipient, or empty for creation.
struct To<'a>(&'a Option<Address>);

impl Encodable for To<'_> {
    fn encode(&self, out: &mut dyn BufMut) {
        match self.0 {
            Some(address) => address.as_bytes().encode(out),
            None => [0u8; 0].encode(out),
        }
    }
}

/// The RLP list of `fields`.
fn rlp_list<'a>(fields: impl Iterator<Item = &'a &'a dyn Encodable> + Clone) -> Vec<u8> {
    let payload_length = fields.clone().map(|field| field.length()).sum();
    let mut out = Vec::with_capacity(payload_length + 9);
    Header { list: true, payload_length }.encode(&mut out);
    for field in fields {
        field.encode(&mut out);
    }
    out
}

impl Transaction {
    /// The bytes whose keccak-256 is signed.
    pub fn signing_payload(&self) -> Vec<u8> {
        match self.fees {
            // EIP-155: the chain id and two zeros stand where v, r, s go.
            Fees::Legacy { .. } => self.encode_with(&[&self.chain_id, &0u8, &0u8]),
            Fees::Eip1559 { .. } => self.encode_with(&[]),
        }
    }

    /// The signed transaction as sent to a node.
    pub fn encode_signed(&self, signature: &RecoverableSignature) -> Vec<u8> {
        // r and s are quantities: RLP drops their leading zeros.
        let r = U256::from_be_bytes(signature.r);
        let s = U256::from_be_bytes(signature.s);
        match self.fees {
            Fees::Legacy { .. } => {
                // EIP-155: v = recovery id + chain id * 2 + 35, which can
                // exceed 64 bits for very large chain ids.
                let v =
                    U256::from(self.chain_id) * U256::from(2u8) + U256::from(35u8 + signature.recovery_id);
                self.encode_with(&[&v, &r, &s])
            }
            Fees::Eip1559 { .. } => self.encode_with(&[&signature.recovery_id, &r, &s]),
        }
    }

    /// The transaction's fields followed by `tail`, as its type encodes them.
    fn encode_with(&self, tail: &[&dyn Encodable]) -> Vec<u8> {
        let to = To(&self.to);
        let data = &self.data.as_slice();
        match &self.fees {
            Fees::Legacy { gas_price } => {
                let fields: [&dyn Encodable; 6] = [&self.nonce, gas_price, &self.gas, &to, &self.value, data];
                rlp_list(fields.iter().chain(tail))
            }
            Fees::Eip1559 { max_fee_per_gas, max_priority_fee_per_gas } => {
                let fields: [&dyn Encodable; 9] = [
                    &self.chain_id,
                    &self.nonce,
                    max_priority_fee_per_gas,
                    max_fee_per_gas,
                    &self.gas,
                    &to,
                    &self.value,
                    data,
                    &self.access_list,
                ];
                let mut out = vec![EIP1559_TYPE];
                out.extend(rlp_list(fields.iter().chain(tail)));
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PrivateKey;
    use crate::account::keccak256;

    /// The example of EIP-155 itself.
    fn eip155_example() -> Transaction {
        Transaction {
            chain_id: 1,
            nonce: 9,
            fees: Fees::Legacy { gas_price: U256::from(20_000_000_000u64) },
            gas: 21_000,
            to: Some(Address::from_bytes([0x35; 20])),
            value: U256::from(1_000_000_000_000_000_000u64),
            data: Vec::new(),
            access_list: Vec::new(),
        }
    }

    #[test]
    fn the_eip155_example_signs_as_the_eip_says() {
        let tx = eip155_example();
        let payload = tx.signing_payload();
        assert_eq!(
            hex::encode(&payload),
            "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080"
        );
        let digest = keccak256(&payload);
        assert_eq!(hex::encode(digest), "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
        let key = PrivateKey::from_bytes(&[0x46; 32]).unwrap_or_else(|_| unreachable!());
        let signature = key.sign_prehash(&digest).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            hex::encode(tx.encode_signed(&signature)),
            "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"
        );
    }

    #[test]
    fn contract_creation_encodes_an_empty_recipient() {
        let tx = Transaction { to: None, data: vec![0x60, 0x00], ..eip155_example() };
        let payload = tx.signing_payload();
        // gas 21000 (825208), then 0x80 (the empty string) for `to`, value, data.
        assert!(hex::encode(&payload).contains("82520880880de0b6b3a7640000826000"));
    }
}
