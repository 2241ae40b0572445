//! Signing for an account without revealing its key: EIP-191 personal
//! messages, EIP-712 typed data, transactions of types 0, 1, 2 and 4,
//! EIP-7702 authorizations, and ed25519 messages for the Node service's
//! legacy accounts.
//!
//! Each payload kind has its own place: `transaction.rs`, `typed_data/`
//! (types, domain, message), `authorization.rs`; messages are a byte string. Requests are parsed
//! once, here, for the Lambda, the JSON-RPC surface and the CLI; every
//! refusal names the field.

mod authorization;
mod json;
mod preview;
mod request;
mod transaction;
mod typed_data;

use serde_json::{Value, json};

use crate::account::keccak256;
use crate::error::{Error, Result};
use crate::secret::{KeyMaterial, RecoverableSignature};
use crate::store::Scheme;

pub use authorization::{Authorization, SignedAuthorization};
pub use request::{InvalidField, MAX_BODY_BYTES, SignRequest, parse_document, parse_message};
pub use transaction::{AccessListEntry, Fees, Transaction, TxType};
pub use typed_data::TypedData;

/// What to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Raw message bytes: EIP-191 `personal_sign` for secp256k1 accounts,
    /// plain ed25519 for legacy ones.
    Message(Vec<u8>),
    /// EIP-712 v4 typed data.
    TypedData(Box<TypedData>),
    Transaction(Box<Transaction>),
    /// An EIP-7702 authorization.
    Authorization(Authorization),
}

/// The kinds of payload, as signing policy names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Message,
    TypedData,
    Transaction,
    Authorization,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Message, Kind::TypedData, Kind::Transaction, Kind::Authorization];

    /// The name in requests, policy and the access trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Message => "message",
            Kind::TypedData => "typed_data",
            Kind::Transaction => "transaction",
            Kind::Authorization => "authorization",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Payload {
    pub fn kind(&self) -> Kind {
        match self {
            Payload::Message(_) => Kind::Message,
            Payload::TypedData(_) => Kind::TypedData,
            Payload::Transaction(_) => Kind::Transaction,
            Payload::Authorization(_) => Kind::Authorization,
        }
    }

    /// The keccak-256 of exactly what an account of `scheme` signs for
    /// this payload (see [`Signed::digest`]), known before any key is
    /// opened, so the access trail can be written first. Refuses what the
    /// scheme cannot sign.
    pub fn digest(&self, scheme: Scheme) -> Result<[u8; 32]> {
        match (scheme, self) {
            (Scheme::Secp256k1, Payload::Message(message)) => Ok(eip191_digest(message)),
            (Scheme::Secp256k1, Payload::TypedData(typed)) => Ok(typed.signing_hash()),
            (Scheme::Secp256k1, Payload::Transaction(tx)) => Ok(tx.signing_hash()),
            (Scheme::Secp256k1, Payload::Authorization(auth)) => Ok(auth.signing_hash()),
            (Scheme::Ed25519, Payload::Message(message)) => Ok(keccak256(message)),
            (Scheme::Ed25519, other) => Err(ed25519_signs_messages_only(other.kind())),
        }
    }
}

/// A signature and what it covers. Public data only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signed {
    /// An EIP-191 or EIP-712 signature: 65 bytes `r ‖ s ‖ v`, v = 27 or 28.
    Message { signature: Vec<u8>, digest: [u8; 32] },
    /// A legacy account's 64-byte ed25519 signature of the message.
    Ed25519Message { signature: Vec<u8>, digest: [u8; 32] },
    /// The signed transaction, ready for `eth_sendRawTransaction`, and its hash.
    Transaction { raw: Vec<u8>, hash: [u8; 32], digest: [u8; 32] },
    /// A signed EIP-7702 authorization, ready for a type 4 transaction.
    Authorization { signed: SignedAuthorization, digest: [u8; 32] },
}

impl Signed {
    /// The keccak-256 of exactly what was signed (the EIP-191 prefixed
    /// message, the EIP-712 or transaction signing hash's preimage, the
    /// authorization tuple, or the ed25519 message). The access trail
    /// keeps this, never the payload.
    pub fn digest(&self) -> [u8; 32] {
        match self {
            Signed::Message { digest, .. }
            | Signed::Ed25519Message { digest, .. }
            | Signed::Transaction { digest, .. }
            | Signed::Authorization { digest, .. } => *digest,
        }
    }

    /// The result's fields in Rossignol's JSON (the signer's `data`, the
    /// CLI's `--json`): `signature`; `raw_transaction` and `hash`; or
    /// `authorization`.
    pub fn to_json(&self) -> Value {
        match self {
            Signed::Message { signature, .. } | Signed::Ed25519Message { signature, .. } => {
                json!({ "signature": format!("0x{}", hex::encode(signature)) })
            }
            Signed::Transaction { raw, hash, .. } => json!({
                "raw_transaction": format!("0x{}", hex::encode(raw)),
                "hash": format!("0x{}", hex::encode(hash)),
            }),
            Signed::Authorization { signed, .. } => json!({ "authorization": signed.to_json() }),
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
    let key = match (key, payload) {
        (KeyMaterial::Secp256k1(key), _) => key,
        (KeyMaterial::LegacyEd25519(key), Payload::Message(message)) => {
            let signature = key
                .sign(message)
                .map_err(|reason| Error::Integrity { address: address.to_owned(), reason })?;
            return Ok(Signed::Ed25519Message { signature: signature.to_vec(), digest: keccak256(message) });
        }
        (KeyMaterial::LegacyEd25519(_), other) => return Err(ed25519_signs_messages_only(other.kind())),
    };
    let digest = payload.digest(Scheme::Secp256k1)?;
    let signature = key.sign_prehash(&digest).map_err(|e| Error::Seal(e.to_string()))?;
    Ok(match payload {
        Payload::Message(_) | Payload::TypedData(_) => {
            Signed::Message { signature: rsv(&signature, 27), digest }
        }
        Payload::Transaction(tx) => {
            let raw = tx.encode_signed(&signature);
            Signed::Transaction { hash: keccak256(&raw), raw, digest }
        }
        Payload::Authorization(auth) => Signed::Authorization { signed: auth.signed(&signature), digest },
    })
}

fn ed25519_signs_messages_only(kind: Kind) -> Error {
    Error::InvalidRequest(InvalidField {
        field: kind.as_str().into(),
        reason: format!(
            "cannot be signed by a legacy ed25519 account, which signs messages only; send `message` instead of `{kind}`"
        ),
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
