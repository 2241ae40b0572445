//! EIP-712 typed data, the Mail example of the EIP itself, from the JSON a
//! client sends to a signature: Rossignol's path (strict validation with
//! field paths, then alloy's hashing, then k256), beside alloy's own
//! `TypedData` (its serde and hashing, then the same k256 signature).
//! Interleaved in rounds, so that drift affects both alike.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use rossignol_core::sign::{self, Payload, TypedData};
use rossignol_core::{KeyMaterial, PrivateKey};

use crate::measure::rate;

const ROUNDS: u64 = 10;

/// EIP-712's own example, as a client sends it (the vector the core tests
/// and the criterion bench read too).
fn mail() -> anyhow::Result<serde_json::Value> {
    serde_json::from_str(include_str!("../../core/tests/vectors/typed-data/mail.json"))
        .context("the Mail example vector is not JSON")
}

/// Signatures per second: (Rossignol's, alloy's), `n` of each.
pub fn measure(n: u64) -> anyhow::Result<(f64, f64)> {
    let key = PrivateKey::generate_os();
    let material = KeyMaterial::Secp256k1(key.clone());
    let json = mail()?;
    let round = (n / ROUNDS).max(1);
    let (mut ours, mut alloy) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for _ in 0..round {
            let typed = TypedData::from_json(&json, "typed_data").context("the Mail example is refused")?;
            std::hint::black_box(sign::sign(&material, &Payload::TypedData(Box::new(typed)), "")?);
        }
        ours += started.elapsed();
        let started = Instant::now();
        for _ in 0..round {
            let typed: alloy_dyn_abi::TypedData = serde_json::from_value(json.clone())?;
            let hash = typed.eip712_signing_hash().context("alloy cannot hash the Mail example")?;
            std::hint::black_box(key.sign_prehash(&hash.0)?);
        }
        alloy += started.elapsed();
    }
    Ok((rate(round * ROUNDS, ours), rate(round * ROUNDS, alloy)))
}
