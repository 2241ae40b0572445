//! EIP-712 typed data on arbitrary bytes: the parser must return, never
//! panic, and whatever it accepts must sign.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rossignol_core::sign::{self, Payload, TypedData};
use rossignol_core::{KeyMaterial, PrivateKey};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let Ok(typed) = TypedData::from_json(&value, "typed_data") else { return };
    let Ok(key) = PrivateKey::from_bytes(&[0x46; 32]) else { return };
    let signed = sign::sign(&KeyMaterial::Secp256k1(key), &Payload::TypedData(Box::new(typed)), "");
    assert!(signed.is_ok(), "accepted typed data must sign");
});
