//! Micro-benchmarks of the crypto on the account-creation, reveal and
//! signing paths: key generation with address derivation (k256 one at a
//! time, k256 in batches, and libsecp256k1 as the reference rate), local
//! sealing, EIP-55, and EIP-712's Mail example read, hashed and signed (ours,
//! beside alloy's own `TypedData` without our validation). Run with `cargo
//! bench -p rossignol-core --bench crypto`; the last lines print each
//! key-generation path per key and its rate relative to libsecp256k1, and
//! the typed-data signature in µs beside alloy's.
//!
//! All three key-generation paths draw their secret bytes from the OS
//! CSPRNG, so they pay the same for randomness.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use criterion::{BenchmarkId, Criterion, Throughput};
use rand_core::{OsRng, RngCore as _};
use rossignol_core::account::{Address, keccak256};
use rossignol_core::keygen;
use rossignol_core::seal::{LocalSealer, SealContext, Sealer};
use rossignol_core::secret::PrivateKey;

/// Keys per iteration of every key-generation path, so their throughputs
/// compare directly; also the batch size of the batch path.
const KEYS: usize = 64;
const GROUP_KEYGEN: &str = "keygen";
const PATHS: [&str; 3] = ["k256_default", "k256_batch", "libsecp256k1"];

fn configured() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30)
        .configure_from_args()
}

/// A libsecp256k1 key and its address: secret key, uncompressed public key,
/// keccak-256, last 20 bytes.
fn libsecp_key(secp: &secp256k1::Secp256k1<secp256k1::SignOnly>) -> (secp256k1::SecretKey, Address) {
    let secret = loop {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        if let Ok(secret) = secp256k1::SecretKey::from_byte_array(&bytes) {
            break secret;
        }
    };
    let public = secp256k1::PublicKey::from_secret_key(secp, &secret).serialize_uncompressed();
    let hash = keccak256(&public[1..]);
    let mut address = [0u8; 20];
    address.copy_from_slice(&hash[12..]);
    (secret, Address::from_bytes(address))
}

fn keygen_benches(c: &mut Criterion) {
    // Both sides' generator tables are built before timing starts.
    let _ = keygen::generate_batch(&mut OsRng, 1);
    let secp = secp256k1::Secp256k1::signing_only();

    let mut group = c.benchmark_group(GROUP_KEYGEN);
    group.throughput(Throughput::Elements(KEYS as u64));
    group.bench_function(PATHS[0], |b| {
        b.iter(|| {
            for _ in 0..KEYS {
                let key = PrivateKey::generate(&mut OsRng);
                let address = key.address();
                black_box((key, address));
            }
        })
    });
    group.bench_function(PATHS[1], |b| b.iter(|| black_box(keygen::generate_batch(&mut OsRng, KEYS))));
    group.bench_function(PATHS[2], |b| {
        b.iter(|| {
            for _ in 0..KEYS {
                black_box(libsecp_key(&secp));
            }
        })
    });
    group.finish();
}

fn seal_benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let sealer = LocalSealer::from_key(&[7u8; 32]);
    let key = PrivateKey::generate(&mut OsRng);
    let address = key.address();
    let ctx = SealContext::record(&address, "accounts");
    let blob = runtime.block_on(sealer.seal(ctx, &key)).unwrap();

    let mut group = c.benchmark_group("local_seal");
    group.bench_function("seal", |b| b.iter(|| runtime.block_on(sealer.seal(ctx, black_box(&key))).unwrap()));
    group.bench_function("open", |b| {
        b.iter(|| runtime.block_on(sealer.open(ctx, sealer.id(), black_box(&blob))).unwrap())
    });
    group.finish();
}

fn eip55_benches(c: &mut Criterion) {
    let address = Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").unwrap();
    let checksummed = address.to_checksum();
    let lowercase = address.to_storage();

    let mut group = c.benchmark_group("eip55");
    group.bench_function("to_checksum", |b| b.iter(|| black_box(&address).to_checksum()));
    group.bench_with_input(BenchmarkId::new("parse", "checksummed"), &checksummed, |b, text| {
        b.iter(|| Address::parse(black_box(text)).unwrap())
    });
    group.bench_with_input(BenchmarkId::new("parse", "lowercase"), &lowercase, |b, text| {
        b.iter(|| Address::parse(black_box(text)).unwrap())
    });
    group.finish();
}

/// Where criterion keeps its results: `CRITERION_HOME`, else the target
/// directory's `criterion`.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

/// Criterion's estimate of one iteration, in nanoseconds: the slope of
/// its linear fit, as it prints, else the mean. Only estimates written
/// since `since` count, so a filtered run does not report stale figures.
fn estimate_ns(group: &str, id: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_home().join(group).join(id).join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    ["slope", "mean"].iter().find_map(|kind| json.get(kind)?.get("point_estimate")?.as_f64())
}

/// Per-key time of each key-generation path and its rate relative to
/// libsecp256k1, from this run's estimates.
fn print_keygen_summary(since: SystemTime) {
    let per_key: Vec<Option<f64>> =
        PATHS.iter().map(|path| estimate_ns(GROUP_KEYGEN, path, since).map(|ns| ns / KEYS as f64)).collect();
    let Some(reference) = per_key[2] else {
        println!(
            "keygen summary: no libsecp256k1 estimate in {} (filtered out?)",
            criterion_home().display()
        );
        return;
    };
    println!("\nkeygen summary (per key, with address; rate relative to libsecp256k1):");
    for (path, ns) in PATHS.iter().zip(&per_key) {
        if let Some(ns) = ns {
            println!("  {path:<14} {:>9.0} ns/key   {:>5.2}x", ns, reference / ns);
        }
    }
}

const GROUP_TYPED_DATA: &str = "typed_data_mail";

/// EIP-712's own example, as a client sends it.
fn mail() -> serde_json::Value {
    serde_json::from_str(include_str!("../tests/vectors/typed-data/mail.json")).unwrap()
}

/// A typed-data signature from the JSON a client sends: ours (strict
/// validation, then alloy's hashing, then k256) and alloy's `TypedData`
/// alone (its serde and hashing, then the same k256 signature).
fn typed_data_benches(c: &mut Criterion) {
    use rossignol_core::KeyMaterial;
    use rossignol_core::sign::{self, Payload, TypedData};
    let key = PrivateKey::from_bytes(&keccak256(b"cow")).unwrap();
    let material = KeyMaterial::Secp256k1(key.clone());
    let json = mail();
    let mut group = c.benchmark_group(GROUP_TYPED_DATA);
    group.throughput(Throughput::Elements(1));
    group.bench_function("rossignol", |b| {
        b.iter(|| {
            let typed = TypedData::from_json(black_box(&json), "typed_data").unwrap();
            sign::sign(&material, &Payload::TypedData(Box::new(typed)), "").unwrap()
        })
    });
    group.bench_function("alloy", |b| {
        b.iter(|| {
            let typed: alloy_dyn_abi::TypedData = serde_json::from_value(black_box(json.clone())).unwrap();
            key.sign_prehash(&typed.eip712_signing_hash().unwrap().0).unwrap()
        })
    });
    group.finish();
}

fn print_typed_data_summary(since: SystemTime) {
    let ours = estimate_ns(GROUP_TYPED_DATA, "rossignol", since);
    let alloy = estimate_ns(GROUP_TYPED_DATA, "alloy", since);
    if let (Some(ours), Some(alloy)) = (ours, alloy) {
        println!(
            "
typed data (EIP-712 Mail example, read + hash + sign, per signature):"
        );
        println!("  rossignol  {:>7.1} µs   {:>5.2}x alloy's rate", ours / 1000.0, alloy / ours);
        println!("  alloy      {:>7.1} µs", alloy / 1000.0);
    }
}

fn main() {
    let started = SystemTime::now();
    let mut criterion = configured();
    keygen_benches(&mut criterion);
    seal_benches(&mut criterion);
    eip55_benches(&mut criterion);
    typed_data_benches(&mut criterion);
    criterion.final_summary();
    print_keygen_summary(started);
    print_typed_data_summary(started);
}
