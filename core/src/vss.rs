//! Feldman verifiable secret sharing of secp256k1 keys: the maths of
//! sharded custody (issue #11), kept small and apart, on `vsss-rs`.
//!
//! A key is split into `count` shares, any `threshold` of which rebuild it
//! (Shamir over the secp256k1 scalar field, a random polynomial of degree
//! `threshold - 1` whose constant term is the key). The Feldman commitments
//! are the polynomial's coefficients times the generator; the first one is
//! the public key itself, so a share can be checked on its own, against
//! public data, without rebuilding anything. Share `i` is the polynomial
//! at `x = i` (1-based: provider slot 0 holds share 1).
//!
//! Shares are secrets: zeroized on drop, never shown by `Debug`.

use std::fmt;

use k256::elliptic_curve::PrimeField as _;
use k256::elliptic_curve::group::GroupEncoding as _;
use k256::elliptic_curve::ops::MulByGenerator as _;
use k256::{ProjectivePoint, Scalar};
use rand_core::CryptoRngCore;
use vsss_rs::{
    DefaultShare, IdentifierPrimeField, ReadableShareSet as _, Share as _, ShareVerifierGroup, feldman,
};
use zeroize::{Zeroize as _, Zeroizing};

use crate::account::Address;
use crate::secret::PrivateKey;

type KeyShare = DefaultShare<IdentifierPrimeField<Scalar>, IdentifierPrimeField<Scalar>>;
type Verifier = ShareVerifierGroup<ProjectivePoint>;

/// The most shares a key is split into: one per provider.
pub const MAX_SHARES: u8 = 16;

/// Why shares could not be made, checked or combined. Never holds a share.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VssError {
    #[error(
        "a threshold of {threshold} of {count} shares cannot be: the threshold must be at least 2 and at most the number of shares ({MAX_SHARES} at most)"
    )]
    Parameters { threshold: u8, count: u8 },
    #[error("share {index} does not verify against the commitments")]
    InvalidShare { index: u8 },
    #[error("{valid} valid distinct share(s) were given; {threshold} are needed")]
    TooFew { valid: usize, threshold: usize },
    #[error("the commitments are malformed: {0}")]
    MalformedCommitments(&'static str),
    #[error("the shares combined to a key that is not the committed one")]
    WrongKey,
}

/// One share: its index (1..=count) and its value, a scalar.
#[derive(Clone, PartialEq, Eq)]
pub struct Share {
    index: u8,
    value: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Share {{ index: {}, value: [REDACTED] }}", self.index)
    }
}

impl Share {
    /// A share as stored: its index and its 32-byte big-endian value.
    pub fn from_parts(index: u8, value: Zeroizing<[u8; 32]>) -> Self {
        Share { index, value }
    }

    pub fn index(&self) -> u8 {
        self.index
    }

    /// The value's bytes, for sealing. A secret: zeroize what is made of it.
    pub fn reveal_value(&self) -> &Zeroizing<[u8; 32]> {
        &self.value
    }

    fn scalar(&self) -> Option<Scalar> {
        Option::from(Scalar::from_repr((*self.value).into()))
    }

    fn to_vsss(&self) -> Option<KeyShare> {
        let index = IdentifierPrimeField(Scalar::from(u64::from(self.index)));
        Some(KeyShare::with_identifier_and_value(index, IdentifierPrimeField(self.scalar()?)))
    }
}

/// The Feldman commitments of one split: `threshold` compressed points,
/// the first of which is the public key. Public data.
#[derive(Clone)]
pub struct Commitments {
    bytes: Vec<[u8; 33]>,
    /// The points, decompressed once (when first checked).
    points: std::sync::OnceLock<Vec<Verifier>>,
}

impl PartialEq for Commitments {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for Commitments {}

impl fmt::Debug for Commitments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Commitments").field(&self.bytes.iter().map(hex::encode).collect::<Vec<_>>()).finish()
    }
}

impl Commitments {
    pub fn threshold(&self) -> usize {
        self.bytes.len()
    }

    /// The committed key's address: the constant commitment is the public key.
    pub fn address(&self) -> Result<Address, VssError> {
        let key = k256::PublicKey::from_sec1_bytes(&self.bytes[0])
            .map_err(|_| VssError::MalformedCommitments("the first one is not a public key"))?;
        Ok(Address::from_public_key(&key))
    }

    /// Each commitment as 33 bytes (SEC1 compressed), in order.
    pub fn to_bytes(&self) -> Vec<[u8; 33]> {
        self.bytes.clone()
    }

    fn new(bytes: Vec<[u8; 33]>) -> Self {
        Commitments { bytes, points: std::sync::OnceLock::new() }
    }

    pub fn from_bytes(points: Vec<[u8; 33]>) -> Result<Self, VssError> {
        if points.len() < 2 || points.len() > usize::from(MAX_SHARES) {
            return Err(VssError::MalformedCommitments("there must be between 2 and 16 of them"));
        }
        let commitments = Commitments::new(points);
        commitments.points()?;
        Ok(commitments)
    }

    /// The decompressed points, computed once per value.
    fn points(&self) -> Result<&[Verifier], VssError> {
        if let Some(points) = self.points.get() {
            return Ok(points);
        }
        let points = self
            .bytes
            .iter()
            .map(|bytes| {
                let mut repr =
                    <ProjectivePoint as k256::elliptic_curve::group::GroupEncoding>::Repr::default();
                repr.copy_from_slice(bytes);
                Option::<ProjectivePoint>::from(ProjectivePoint::from_bytes(&repr))
                    .map(Verifier::from)
                    .ok_or(VssError::MalformedCommitments("one is not a point of secp256k1"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.points.get_or_init(|| points))
    }

    /// Whether `share` lies on the committed polynomial.
    ///
    /// Feldman's check, `y·G = Σ C_j·i^j`, with the right side by Horner's
    /// rule: `i` is a small public index, so each step is a few doublings
    /// and additions instead of a full scalar multiplication, and only the
    /// secret side takes one (by the generator, in constant time).
    pub fn verify(&self, share: &Share) -> bool {
        let (Ok(points), Some(value)) = (self.points(), share.scalar()) else { return false };
        if share.index == 0 {
            return false;
        }
        let mut sum = ProjectivePoint::IDENTITY;
        for point in points.iter().rev() {
            sum = times_small(sum, share.index) + point.0;
        }
        let mut value = value;
        let committed = ProjectivePoint::mul_by_generator(&value) == sum;
        value.zeroize();
        committed
    }
}

/// `point · x` for a small public `x`, by doubling and adding.
fn times_small(point: ProjectivePoint, x: u8) -> ProjectivePoint {
    let mut product = ProjectivePoint::IDENTITY;
    for bit in (0..8).rev() {
        product = product.double();
        if (x >> bit) & 1 == 1 {
            product += point;
        }
    }
    product
}

/// Splits `key` into `count` shares, any `threshold` of which rebuild it.
pub fn split(
    key: &PrivateKey,
    threshold: u8,
    count: u8,
    rng: &mut impl CryptoRngCore,
) -> Result<(Vec<Share>, Commitments), VssError> {
    if threshold < 2 || threshold > count || count > MAX_SHARES {
        return Err(VssError::Parameters { threshold, count });
    }
    let secret = key.reveal_bytes();
    let mut secret = IdentifierPrimeField(
        Option::<Scalar>::from(Scalar::from_repr((*secret).into())).ok_or(VssError::WrongKey)?,
    );
    let split = feldman::split_secret(usize::from(threshold), usize::from(count), &secret, None, rng);
    secret.0.zeroize();
    let (shares, verifiers): (Vec<KeyShare>, Vec<Verifier>) =
        split.map_err(|_| VssError::Parameters { threshold, count })?;
    let shares = shares
        .iter()
        .zip(1..=count)
        .map(|(share, index)| Share { index, value: Zeroizing::new(share.value().0.to_repr().into()) })
        .collect();
    // Skip the generator vsss-rs keeps in front.
    let commitments = verifiers[1..].iter().map(commitment_bytes).collect();
    Ok((shares, Commitments::new(commitments)))
}

fn commitment_bytes(point: &Verifier) -> [u8; 33] {
    let mut out = [0u8; 33];
    out.copy_from_slice(point.0.to_bytes().as_slice());
    out
}

/// Rebuilds the key from any `threshold` valid shares among `shares`:
/// each is verified against `commitments` first, so a wrong or corrupted
/// share is skipped and named, never combined. The result must derive the
/// committed address.
pub fn combine(shares: &[Share], commitments: &Commitments) -> Result<(PrivateKey, Vec<u8>), VssError> {
    let threshold = commitments.threshold();
    let mut valid: Vec<Share> = Vec::with_capacity(threshold);
    let mut rejected = Vec::new();
    for share in shares {
        if valid.iter().any(|v| v.index == share.index) {
            continue;
        }
        if commitments.verify(share) {
            valid.push(share.clone());
        } else {
            rejected.push(share.index);
        }
        if valid.len() == threshold {
            break;
        }
    }
    Ok((combine_verified(&valid, commitments)?, rejected))
}

/// Like [`combine`], for shares the caller has verified against
/// `commitments` already (the custody verifies each as it opens it): the
/// first `threshold` distinct ones are combined, and the result must
/// still derive the committed address.
pub fn combine_verified(shares: &[Share], commitments: &Commitments) -> Result<PrivateKey, VssError> {
    let threshold = commitments.threshold();
    let mut distinct: Vec<&Share> = Vec::with_capacity(threshold);
    for share in shares {
        if distinct.len() < threshold && !distinct.iter().any(|d| d.index == share.index) {
            distinct.push(share);
        }
    }
    if distinct.len() < threshold {
        return Err(VssError::TooFew { valid: distinct.len(), threshold });
    }
    let set: Vec<KeyShare> = distinct.iter().filter_map(|share| share.to_vsss()).collect();
    let mut secret = set.combine().map_err(|_| VssError::TooFew { valid: set.len(), threshold })?;
    let bytes = Zeroizing::new(<[u8; 32]>::from(secret.0.to_repr()));
    secret.0.zeroize();
    let key = PrivateKey::from_bytes(bytes.as_slice()).map_err(|_| VssError::WrongKey)?;
    if key.address() != commitments.address()? {
        return Err(VssError::WrongKey);
    }
    Ok(key)
}

/// The share at `index` of the polynomial that `threshold` valid shares
/// among `shares` lie on (Lagrange interpolation at `index`), without
/// rebuilding the key: how a lost provider's share is made again.
pub fn share_at(shares: &[Share], commitments: &Commitments, index: u8) -> Result<Share, VssError> {
    if index == 0 || index > MAX_SHARES {
        return Err(VssError::InvalidShare { index });
    }
    let threshold = commitments.threshold();
    let mut valid: Vec<(Scalar, Scalar)> = shares
        .iter()
        .filter(|share| commitments.verify(share))
        .filter_map(|share| Some((Scalar::from(u64::from(share.index)), share.scalar()?)))
        .take(threshold)
        .collect();
    if valid.len() < threshold {
        return Err(VssError::TooFew { valid: valid.len(), threshold });
    }
    let x = Scalar::from(u64::from(index));
    let mut value = Scalar::ZERO;
    for (i, (xi, yi)) in valid.iter().enumerate() {
        let mut basis = Scalar::ONE;
        for (j, (xj, _)) in valid.iter().enumerate() {
            if i != j {
                let denominator =
                    Option::<Scalar>::from((*xi - xj).invert()).ok_or(VssError::InvalidShare { index })?;
                basis *= (x - xj) * denominator;
            }
        }
        value += *yi * basis;
    }
    let share = Share { index, value: Zeroizing::new(value.to_repr().into()) };
    value.zeroize();
    for (_, y) in &mut valid {
        y.zeroize();
    }
    if commitments.verify(&share) { Ok(share) } else { Err(VssError::InvalidShare { index }) }
}

/// New shares of the same key (proactive refresh): each share plus a
/// random polynomial whose constant term is zero, evaluated at its index,
/// and the commitments to match (the first, the public key, unchanged).
/// Every share must verify; the key is never rebuilt, and a share of the
/// old polynomial says nothing about the new one.
pub fn refresh(
    shares: &[Share],
    commitments: &Commitments,
    rng: &mut impl CryptoRngCore,
) -> Result<(Vec<Share>, Commitments), VssError> {
    if let Some(bad) = shares.iter().find(|share| !commitments.verify(share)) {
        return Err(VssError::InvalidShare { index: bad.index });
    }
    let points = commitments.points()?;
    let mut coefficients: Vec<Scalar> =
        (1..points.len()).map(|_| <Scalar as k256::elliptic_curve::Field>::random(&mut *rng)).collect();
    let mut refreshed = Vec::with_capacity(shares.len());
    for share in shares {
        let mut value = share.scalar().ok_or(VssError::InvalidShare { index: share.index })?;
        let x = Scalar::from(u64::from(share.index));
        let mut power = x;
        for coefficient in &coefficients {
            value += *coefficient * power;
            power *= x;
        }
        refreshed.push(Share { index: share.index, value: Zeroizing::new(value.to_repr().into()) });
        value.zeroize();
    }
    let mut updated = vec![commitments.bytes[0]];
    for (point, coefficient) in points[1..].iter().zip(&coefficients) {
        updated.push(commitment_bytes(&Verifier::from(point.0 + ProjectivePoint::GENERATOR * coefficient)));
    }
    for coefficient in &mut coefficients {
        coefficient.zeroize();
    }
    let updated = Commitments::new(updated);
    if refreshed.iter().all(|share| updated.verify(share)) {
        Ok((refreshed, updated))
    } else {
        Err(VssError::WrongKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_core::SeedableRng as _;

    fn rng(seed: u64) -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(seed)
    }

    #[test]
    fn the_constant_commitment_is_the_public_key_and_every_share_verifies() {
        let key = PrivateKey::generate(&mut rng(1));
        let (shares, commitments) = split(&key, 2, 3, &mut rng(2)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(commitments.address(), Ok(key.address()));
        assert_eq!(shares.iter().map(Share::index).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(shares.iter().all(|share| commitments.verify(share)));
        assert!(!format!("{shares:?}").contains(&hex::encode(*shares[0].value)));
        let restored = Commitments::from_bytes(commitments.to_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(restored, commitments);
    }

    #[test]
    fn a_corrupted_or_moved_share_is_refused_and_the_others_combine() {
        let key = PrivateKey::generate(&mut rng(3));
        let (mut shares, commitments) = split(&key, 2, 3, &mut rng(4)).unwrap_or_else(|e| panic!("{e}"));
        let mut flipped = *shares[0].value;
        flipped[31] ^= 1;
        shares[0] = Share::from_parts(1, Zeroizing::new(flipped));
        assert!(!commitments.verify(&shares[0]));
        // A share given another slot's index does not verify either.
        assert!(!commitments.verify(&Share::from_parts(3, shares[1].value.clone())));
        let (combined, rejected) = combine(&shares, &commitments).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(combined.address(), key.address());
        assert_eq!(rejected, [1]);
        assert_eq!(
            combine(&shares[..2], &commitments).err(),
            Some(VssError::TooFew { valid: 1, threshold: 2 })
        );
        // Another key's commitments refuse these shares.
        let (_, other) =
            split(&PrivateKey::generate(&mut rng(5)), 2, 3, &mut rng(6)).unwrap_or_else(|e| panic!("{e}"));
        assert!(shares.iter().all(|share| !other.verify(share)));
    }

    #[test]
    fn bad_parameters_are_refused() {
        let key = PrivateKey::generate(&mut rng(7));
        for (k, n) in [(1, 3), (4, 3), (2, 17), (0, 0)] {
            assert_eq!(
                split(&key, k, n, &mut rng(8)).err(),
                Some(VssError::Parameters { threshold: k, count: n })
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_threshold_of_the_shares_rebuilds_the_key(
            seed in any::<u64>(), threshold in 2u8..=5, extra in 0u8..=3, pick in any::<u64>(),
        ) {
            let count = threshold + extra;
            let key = PrivateKey::generate(&mut rng(seed));
            let (shares, commitments) = split(&key, threshold, count, &mut rng(seed ^ 1)).unwrap();
            // A pseudo-random subset of `threshold` shares, in any order.
            let mut chosen: Vec<Share> = shares.clone();
            let mut state = pick;
            for i in (1..chosen.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                chosen.swap(i, (state >> 33) as usize % (i + 1));
            }
            chosen.truncate(usize::from(threshold));
            let (combined, rejected) = combine(&chosen, &commitments).unwrap();
            prop_assert_eq!(combined.address(), key.address());
            prop_assert!(rejected.is_empty());
            // Any missing share is made again from the chosen ones, exactly.
            for share in &shares {
                prop_assert_eq!(&share_at(&chosen, &commitments, share.index()).unwrap(), share);
            }
        }

        #[test]
        fn fewer_than_the_threshold_do_not_determine_the_key(seed in any::<u64>(), threshold in 2u8..=5) {
            let key = PrivateKey::generate(&mut rng(seed));
            let (shares, commitments) = split(&key, threshold, threshold + 1, &mut rng(seed ^ 2)).unwrap();
            let few = &shares[..usize::from(threshold) - 1];
            let refused = matches!(combine(few, &commitments), Err(VssError::TooFew { .. }));
            prop_assert!(refused, "fewer shares than the threshold must not combine");
            // Those shares fit a polynomial through any other key as well:
            // split a different key and graft the few shares' values onto
            // it; the interpolation is as consistent as the real one, so
            // they carry no information about which key it is.
            let other = PrivateKey::generate(&mut rng(seed ^ 3));
            let mut forged: Vec<Share> = few.to_vec();
            let (others, _) = split(&other, threshold, threshold + 1, &mut rng(seed ^ 4)).unwrap();
            forged.push(others[usize::from(threshold)].clone());
            let set: Vec<KeyShare> = forged.iter().filter_map(Share::to_vsss).collect();
            let secret = set.combine().unwrap();
            prop_assert_ne!(<[u8; 32]>::from(secret.0.to_repr()), *key.reveal_bytes());
        }
    }

    #[test]
    fn a_refresh_keeps_the_key_and_changes_every_share() {
        let key = PrivateKey::generate(&mut rng(21));
        let (shares, commitments) = split(&key, 3, 5, &mut rng(22)).unwrap_or_else(|e| panic!("{e}"));
        let (fresh, renewed) = refresh(&shares, &commitments, &mut rng(23)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(renewed.address(), Ok(key.address()), "the public key is kept");
        assert_ne!(renewed, commitments);
        for (old, new) in shares.iter().zip(&fresh) {
            assert_eq!(old.index(), new.index());
            assert_ne!(old.reveal_value(), new.reveal_value(), "share {} changed", old.index());
            assert!(renewed.verify(new) && !renewed.verify(old) && !commitments.verify(new));
        }
        let (combined, _) = combine(&fresh[2..], &renewed).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(combined.reveal_bytes(), key.reveal_bytes());
        // Old and new shares never combine to the key.
        let mixed = [shares[0].clone(), fresh[1].clone(), fresh[2].clone()];
        assert!(matches!(combine(&mixed, &renewed), Err(VssError::TooFew { valid: 2, threshold: 3 })));
        let mut bad = shares.clone();
        bad[4] = Share::from_parts(5, Zeroizing::new([7; 32]));
        assert_eq!(
            refresh(&bad, &commitments, &mut rng(24)).unwrap_err(),
            VssError::InvalidShare { index: 5 }
        );
    }
}
