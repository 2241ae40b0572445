//! Bulk key generation, for creating many accounts at once.
//!
//! [`PrivateKey::generate`] followed by [`PrivateKey::address`] goes
//! through `k256::PublicKey::from_secret_scalar`, which multiplies the
//! generator as an arbitrary point (no precomputed table) and then pays a
//! full field inversion to reach affine coordinates, per key. Here each
//! public key comes from k256's precomputed generator table
//! (`mul_by_generator`, constant time, behind the `precomputed-tables`
//! feature), and the whole batch is brought to affine coordinates with one
//! inversion (Montgomery's trick, `BatchNormalize`). The keys, public keys
//! and addresses are exactly those of the one-at-a-time path.

use k256::elliptic_curve::BatchNormalize;
use k256::elliptic_curve::ops::MulByGenerator;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::{AffinePoint, ProjectivePoint};
use rand_core::CryptoRngCore;

use crate::account::Address;
use crate::secret::PrivateKey;

/// A fresh key with its public key and address already derived.
#[derive(Debug, Clone)]
pub struct GeneratedKey {
    pub key: PrivateKey,
    /// The 65-byte uncompressed SEC1 public key, `0x04 || x || y`.
    pub public_key: [u8; 65],
    pub address: Address,
}

/// `n` new keys from `rng`, with their public keys and addresses. Draws
/// from `rng` exactly as `n` calls of [`PrivateKey::generate`] would, so a
/// seeded RNG gives the same keys on both paths.
pub fn generate_batch(rng: &mut impl CryptoRngCore, n: usize) -> Vec<GeneratedKey> {
    derive_batch((0..n).map(|_| k256::SecretKey::random(rng)).collect())
}

/// Public keys and addresses of the given secret keys, in order.
pub fn derive_batch(secrets: Vec<k256::SecretKey>) -> Vec<GeneratedKey> {
    // k256's batch inversion panics on an empty batch.
    if secrets.is_empty() {
        return Vec::new();
    }
    let points: Vec<ProjectivePoint> = secrets
        .iter()
        .map(|secret| ProjectivePoint::mul_by_generator(&*secret.to_nonzero_scalar()))
        .collect();
    // A non-zero scalar never gives the identity, so every z is non-zero and
    // the batch inversion covers every point.
    let affine: Vec<AffinePoint> =
        <ProjectivePoint as BatchNormalize<[ProjectivePoint]>>::batch_normalize(&points);
    secrets
        .into_iter()
        .zip(affine)
        .map(|(secret, point)| {
            let mut public_key = [0u8; 65];
            public_key.copy_from_slice(point.to_encoded_point(false).as_bytes());
            GeneratedKey {
                key: PrivateKey::from_secret_key(secret),
                address: Address::from_uncompressed_point(&public_key),
                public_key,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A deterministic CSPRNG for tests, seeded by a number.
    fn seeded_rng(seed: u64) -> rand_chacha::ChaCha20Rng {
        <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(seed)
    }

    fn assert_matches_default_path(generated: &GeneratedKey) {
        let key = &generated.key;
        assert_eq!(generated.public_key, key.public_key_uncompressed());
        assert_eq!(generated.address, key.address());
    }

    #[test]
    fn private_key_one_has_the_known_address() {
        let mut bytes = [0u8; 32];
        bytes[31] = 1;
        let secret = k256::SecretKey::from_slice(&bytes).expect("1 is a valid scalar");
        let batch = derive_batch(vec![secret]);
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].address.to_string(), "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
        assert_eq!(batch[0].public_key[0], 0x04);
        assert_matches_default_path(&batch[0]);
    }

    #[test]
    fn a_seeded_batch_equals_one_at_a_time_generation() {
        let batch = generate_batch(&mut seeded_rng(0), 50);
        let mut rng = seeded_rng(0);
        assert_eq!(batch.len(), 50);
        for generated in &batch {
            let single = PrivateKey::generate(&mut rng);
            assert_eq!(*generated.key.reveal_bytes(), *single.reveal_bytes());
            assert_eq!(generated.public_key, single.public_key_uncompressed());
            assert_eq!(generated.address, single.address());
        }
    }

    #[test]
    fn empty_and_single_batches() {
        assert!(generate_batch(&mut seeded_rng(7), 0).is_empty());
        let one = generate_batch(&mut seeded_rng(7), 1);
        assert_eq!(one.len(), 1);
        assert_matches_default_path(&one[0]);
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let generated = generate_batch(&mut seeded_rng(3), 1).remove(0);
        let shown = format!("{generated:?}");
        assert!(shown.contains("[REDACTED]"), "{shown}");
        assert!(!shown.contains(&generated.key.reveal_hex()[2..]), "{shown}");
    }

    proptest! {
        #[test]
        fn random_keys_agree_with_the_default_path(scalars in proptest::collection::vec(any::<[u8; 32]>(), 1..8)) {
            let secrets: Vec<k256::SecretKey> =
                scalars.iter().filter_map(|bytes| k256::SecretKey::from_slice(bytes).ok()).collect();
            prop_assume!(!secrets.is_empty());
            let expected: Vec<([u8; 65], Address)> = secrets
                .iter()
                .map(|secret| {
                    let key = PrivateKey::from_secret_key(secret.clone());
                    (key.public_key_uncompressed(), key.address())
                })
                .collect();
            let batch = derive_batch(secrets);
            prop_assert_eq!(batch.len(), expected.len());
            for (generated, (public_key, address)) in batch.iter().zip(expected) {
                prop_assert_eq!(generated.public_key, public_key);
                prop_assert_eq!(generated.address, address);
            }
        }
    }
}
