//! Signing for an account without revealing its key: EIP-191 personal
//! messages, EIP-155 and EIP-1559 transactions, and ed25519 messages for
//! the Node service's legacy accounts.
//!
//! The request shape (`{"address", "message" | "transaction"}`) is parsed
//! here, once, for the Lambda and the CLI; every refusal names the field.

mod preview;
mod request;
mod transaction;

use crate::account::keccak256;
use crate::error::{Error, Result};
use crate::secret::{KeyMaterial, RecoverableSignature};
use crate::store::Scheme;

pub use request::{InvalidField, MAX_BODY_BYTES, SignRequest, parse_message};
pub use transaction::{AccessListEntry, Fees, Transaction};

/// What to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Raw message bytes: EIP-191 `personal_sign` for secp256k1 accounts,
    /// plain ed25519 for legacy ones.
    Message(Vec<u8>),
    Transaction(Transaction),
}

impl Payload {
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::Message(_) => "message",
            Payload::Transaction(_) => "transaction",
        }
    }

    /// The keccak-256 of exactly the bytes an account of `scheme` signs for
    /// this payload (see [`Signed::digest`]), known before any key is
    /// opened, so the access trail can be written first. Refuses what the
    /// scheme cannot sign.
    pub fn digest(&self, scheme: Scheme) -> Result<[u8; 32]> {
        match (scheme, self) {
            (Scheme::Secp256k1, Payload::Message(message)) => Ok(eip191_digest(message)),
            (Scheme::Secp256k1, Payload::Transaction(tx)) => Ok(keccak256(&tx.signing_payload())),
            (Scheme::Ed25519, Payload::Message(message)) => Ok(keccak256(message)),
            (Scheme::Ed25519, Payload::Transaction(_)) => Err(ed25519_cannot_sign_transactions()),
        }
    }
}

/// A signature and what it covers. Public data only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signed {
    /// 65 bytes `r ‖ s ‖ v`, v = 27 or 28.
    Message { signature: Vec<u8>, digest: [u8; 32] },
    /// A legacy account's 64-byte ed25519 signature of the message.
    Ed25519Message { signature: Vec<u8>, digest: [u8; 32] },
    /// The signed transaction, ready for `eth_sendRawTransaction`, and its hash.
    Transaction { raw: Vec<u8>, hash: [u8; 32], digest: [u8; 32] },
}

impl Signed {
    /// The keccak-256 of exactly the bytes that were signed (the EIP-191
    /// prefixed message, the transaction's signing payload, or the ed25519
    /// message). The access trail keeps this, never the payload.
    pub fn digest(&self) -> [u8; 32] {
        match self {
            Signed::Message { digest, .. }
            | Signed::Ed25519Message { digest, .. }
            | Signed::Transaction { digest, .. } => *digest,
        }
    }
}

/// The EIP-191 (version 0x45, `personal_sign`) digest of `message`.
pub fn eip191_digest(message: &[u8]) -> [u8; 32] {
    let mut prefixed = format!("\x19Ethereum Signed Message:\n{}", message.len()).into_bytes();
    prefixed.extend_from_slice(message);
    keccak256(&prefixed)
}

/// Signs `payload` with `key`. The key has already been checked against
/// its account's address by the caller.
pub fn sign(key: &KeyMaterial, payload: &Payload, address: &str) -> Result<Signed> {
    match (key, payload) {
        (KeyMaterial::Secp256k1(key), Payload::Message(message)) => {
            let digest = eip191_digest(message);
            let signature = key.sign_prehash(&digest).map_err(|e| Error::Seal(e.to_string()))?;
            Ok(Signed::Message { signature: rsv(&signature, 27), digest })
        }
        (KeyMaterial::Secp256k1(key), Payload::Transaction(tx)) => {
            let preimage = tx.signing_payload();
            let digest = keccak256(&preimage);
            let signature = key.sign_prehash(&digest).map_err(|e| Error::Seal(e.to_string()))?;
            let raw = tx.encode_signed(&signature);
            Ok(Signed::Transaction { hash: keccak256(&raw), raw, digest })
        }
        (KeyMaterial::LegacyEd25519(key), Payload::Message(message)) => {
            let signature = key
                .sign(message)
                .map_err(|reason| Error::Integrity { address: address.to_owned(), reason })?;
            Ok(Signed::Ed25519Message { signature: signature.to_vec(), digest: keccak256(message) })
        }
        (KeyMaterial::LegacyEd25519(_), Payload::Transaction(_)) => Err(ed25519_cannot_sign_transactions()),
    }
}

fn ed25519_cannot_sign_transactions() -> Error {
    Error::InvalidRequest(InvalidField {
        field: "transaction".into(),
        reason:
            "cannot be signed by a legacy ed25519 account, which signs messages only; send `message` instead"
                .into(),
    })
}

/// `r ‖ s ‖ (recovery id + v_base)`.
fn rsv(signature: &RecoverableSignature, v_base: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(65);
    out.extend_from_slice(&signature.r);
    out.extend_from_slice(&signature.s);
    out.push(v_base + signature.recovery_id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PrivateKey;

    fn key(hex_key: &str) -> PrivateKey {
        PrivateKey::from_bytes(&hex::decode(hex_key).unwrap_or_default()).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn eip191_prefixes_the_length_in_decimal() {
        // web3.js documents this digest for `accounts.hashMessage("Hello World")`.
        assert_eq!(
            hex::encode(eip191_digest(b"Hello World")),
            "a1de988600a42c4b4ab089b619297c17d53cffae5d5120d82d8a92d0bb3b78f2"
        );
    }

    #[test]
    fn a_message_signature_is_rsv_with_v_27_or_28() {
        // web3.js documents this signature for `accounts.sign('Some data', key)`.
        let key = key("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
        let signed = sign(&KeyMaterial::Secp256k1(key), &Payload::Message(b"Some data".to_vec()), "")
            .unwrap_or_else(|e| panic!("{e}"));
        let Signed::Message { signature, digest } = signed else { panic!("not a message signature") };
        assert_eq!(hex::encode(digest), "1da44b586eb0729ff70a73c326926f6ed5a25f5b056e7f47fbc6e58d86871655");
        assert_eq!(
            hex::encode(signature),
            "b91467e570a6466aa9e9876cbcd013baba02900b8979d43fe208a4a4f339f5fd\
             6007e74cd82e037b800186422fc2da167c747ef045e5d18a5f5d4300f8e1a029\
             1c"
        );
    }
}
