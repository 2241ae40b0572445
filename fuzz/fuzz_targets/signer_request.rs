//! The signer's request parser on arbitrary bytes: it must return, never
//! panic. Whatever parses is also signed with a fixed key, so the RLP
//! encoding of every transaction it accepts is exercised too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rossignol_core::sign::{self, SignRequest};
use rossignol_core::{KeyMaterial, PrivateKey};

fuzz_target!(|data: &[u8]| {
    let Ok(request) = SignRequest::parse(data) else { return };
    let Ok(key) = PrivateKey::from_bytes(&[0x46; 32]) else { return };
    let signed = sign::sign(&KeyMaterial::Secp256k1(key), &request.payload, "");
    assert!(signed.is_ok(), "a parsed request must sign");
});
