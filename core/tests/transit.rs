//! The OpenBao transit seal against a real OpenBao dev server (started by
//! `scripts/test`): round trips, the binding of a key or a share to its
//! record and slot, tampering, `init`'s checks, a refused token, a server
//! that is not there, and where the token comes from.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rossignol_core::audit::{self, AuditOptions, Progress};
use rossignol_core::seal::{self, SealContext, Sealer, ShareBinding, TransitSealer};
use rossignol_core::store::embedded::EmbeddedStore;
use rossignol_core::store::{CheckStatus, StoredKey};
use rossignol_core::{Address, Custodian, Error, KeyMaterial, PrivateKey, Requester};
use support::{BAO_ADDR, BAO_TOKEN, DYNAMODB_ENDPOINT, random_suffix, server};
use zeroize::Zeroizing;

/// The dev server's address and root token.
struct Bao {
    url: String,
    token: String,
}

impl Bao {
    fn running() -> Option<Self> {
        let url = server(BAO_ADDR, "OpenBao (transit)")?;
        let token =
            std::env::var(BAO_TOKEN).unwrap_or_else(|_| panic!("{BAO_ADDR} is set but {BAO_TOKEN} is not"));
        Some(Bao { url, token })
    }

    fn sealer(&self, key: &str) -> TransitSealer {
        TransitSealer::with_token(&self.url, None, key, Zeroizing::new(self.token.clone())).unwrap()
    }

    /// The raw API, as an operator's `bao` would use it (not through the
    /// seal), on a blocking thread: `(status, body)`.
    async fn raw(&self, method: &'static str, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
        let (url, token, body) =
            (format!("{}/v1/{path}", self.url), self.token.clone(), body.map(str::to_owned));
        tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
            let mut response = match body {
                Some(body) => agent.post(&url).header("X-Vault-Token", &token).send(body),
                None if method == "DELETE" => agent.delete(&url).header("X-Vault-Token", &token).call(),
                None => agent.get(&url).header("X-Vault-Token", &token).call(),
            }
            .unwrap();
            let text = response.body_mut().read_to_string().unwrap();
            (response.status().as_u16(), serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
        })
        .await
        .unwrap()
    }
}

/// An OpenBao dev server of the test's own, which it may seal without
/// disturbing the shared one; stopped on drop.
struct OwnServer {
    bao: Bao,
    child: std::process::Child,
}

impl OwnServer {
    /// Starts `bao` (on PATH wherever `scripts/test` ran) and waits until
    /// it reports itself unsealed and active.
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let token = random_suffix();
        let child = std::process::Command::new("bao")
            .args(["server", "-dev", "-dev-no-store-token"])
            .arg(format!("-dev-root-token-id={token}"))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("`bao` runs (scripts/test installs it with pip)");
        let mut own = OwnServer { bao: Bao { url: format!("http://127.0.0.1:{port}"), token }, child };
        let health = format!("{}/v1/sys/health", own.bao.url);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let health = health.clone();
            let status = tokio::task::spawn_blocking(move || {
                ureq::get(&health).call().ok().map(|r| r.status().as_u16())
            })
            .await
            .unwrap();
            if status == Some(200) {
                return own;
            }
            assert!(own.child.try_wait().unwrap().is_none(), "bao exited during startup");
            assert!(std::time::Instant::now() < deadline, "bao did not become ready");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn key_name() -> String {
    format!("rossignol-test-{}", random_suffix())
}

/// A fresh key made by `init`, and a sealer over it.
async fn fresh() -> Option<(Bao, TransitSealer, String)> {
    let bao = Bao::running()?;
    let key = key_name();
    let sealer = bao.sealer(&key);
    let report = sealer.set_up().await.unwrap();
    assert!(report.created, "{report:?}");
    Some((bao, sealer, key))
}

/// The record every sealed sample is bound to.
const SAMPLE: Address = Address::from_bytes([0x30; 20]);

/// A fresh key, and a whole secret of `byte`s sealed under it for
/// [`SAMPLE`] in table `t`.
async fn fresh_sample(byte: u8) -> Option<(Bao, TransitSealer, String, Vec<u8>)> {
    let (bao, sealer, key) = fresh().await?;
    let blob =
        sealer.seal_secret(SealContext::record(&SAMPLE, "t"), &Zeroizing::new([byte; 32])).await.unwrap();
    Some((bao, sealer, key, blob))
}

/// Seals a secret of `byte`s for [`SAMPLE`] and opens it again.
async fn round_trip(sealer: &TransitSealer, byte: u8) -> Vec<u8> {
    let ctx = SealContext::record(&SAMPLE, "t");
    let secret = Zeroizing::new([byte; 32]);
    let blob = sealer.seal_secret(ctx, &secret).await.unwrap();
    assert_eq!(*sealer.open_secret(ctx, sealer.id(), &blob).await.unwrap(), *secret);
    blob
}

const COMMITMENTS: &str = "0x5e5f7a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddee";

#[tokio::test]
async fn a_whole_key_and_a_share_round_trip_as_vault_ciphertexts() {
    let Some((_, sealer, key_name)) = fresh().await else { return };
    assert_eq!(sealer.id(), format!("transit:{key_name}"));
    let key = PrivateKey::generate_os();
    let address = key.address();

    let ctx = SealContext::record(&address, "rossignol_test");
    let blob = sealer.seal(ctx, &key).await.unwrap();
    let text = std::str::from_utf8(&blob).unwrap();
    assert!(text.starts_with("vault:v1:"), "{text}");
    assert_eq!(seal::check_shape(sealer.id(), &blob), Ok(()));
    let secret = key.reveal_bytes();
    let raw = BASE64.decode(&text["vault:v1:".len()..]).unwrap();
    assert!(!raw.windows(32).any(|w| w == secret.as_slice()), "the raw ciphertext holds the key");
    assert!(!text.contains(&BASE64.encode(secret.as_slice())[..40]));
    assert!(!text.contains(&hex::encode(secret.as_slice())[..40]));
    let opened = sealer.open(ctx, sealer.id(), &blob).await.unwrap();
    assert_eq!(*opened.reveal_bytes(), *secret);

    let share = Zeroizing::new([0x42u8; 32]);
    let ctx = SealContext::share(
        &address,
        "rossignol_test",
        ShareBinding { index: 2, epoch: 7, commitments: COMMITMENTS },
    );
    let blob = sealer.seal_secret(ctx, &share).await.unwrap();
    assert!(blob.starts_with(b"vault:v1:"));
    assert_eq!(*sealer.open_secret(ctx, sealer.id(), &blob).await.unwrap(), *share);
}

#[tokio::test]
async fn every_change_of_binding_is_refused() {
    let Some((_, sealer, _)) = fresh().await else { return };
    let address = Address::from_bytes([0x31; 20]);
    let other = Address::from_bytes([0x32; 20]);
    let binding = ShareBinding { index: 2, epoch: 7, commitments: COMMITMENTS };
    let share = Zeroizing::new([0x42u8; 32]);
    let blob = sealer.seal_secret(SealContext::share(&address, "t", binding), &share).await.unwrap();

    let moved = [
        ("another address", SealContext::share(&other, "t", binding)),
        ("another table", SealContext::share(&address, "t2", binding)),
        ("another share index", SealContext::share(&address, "t", ShareBinding { index: 3, ..binding })),
        ("another epoch", SealContext::share(&address, "t", ShareBinding { epoch: 8, ..binding })),
        (
            "other commitments",
            SealContext::share(&address, "t", ShareBinding { commitments: "0x00", ..binding }),
        ),
        ("the whole key's context", SealContext::record(&address, "t")),
    ];
    for (what, ctx) in moved {
        let err = sealer.open_secret(ctx, sealer.id(), &blob).await.unwrap_err();
        assert!(matches!(err, Error::Unseal { .. }), "{what}: {err}");
        assert!(err.to_string().contains("OpenBao refused it"), "{what}: {err}");
    }

    // And the other way: a whole key does not open as a share.
    let whole = sealer.seal_secret(SealContext::record(&address, "t"), &share).await.unwrap();
    let err = sealer
        .open_secret(SealContext::share(&address, "t", binding), sealer.id(), &whole)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("belongs to another record or slot"), "{err}");

    // A blob under another seal is not sent to OpenBao at all.
    let err = sealer.open_secret(SealContext::record(&address, "t"), "local:0011223344556677", &whole).await;
    assert!(err.unwrap_err().to_string().contains("configure the key that sealed it"));
}

#[tokio::test]
async fn a_flipped_ciphertext_byte_is_refused() {
    let Some((_, sealer, _, blob)) = fresh_sample(7).await else { return };
    let ctx = SealContext::record(&SAMPLE, "t");
    let text = std::str::from_utf8(&blob).unwrap();
    let (prefix, encoded) = text.split_at("vault:v1:".len());
    let raw = BASE64.decode(encoded).unwrap();
    // The nonce, the ciphertext, the tag.
    for index in [0, 20, raw.len() - 1] {
        let mut flipped = raw.clone();
        flipped[index] ^= 0x01;
        let tampered = format!("{prefix}{}", BASE64.encode(&flipped));
        let err = sealer.open_secret(ctx, sealer.id(), tampered.as_bytes()).await.unwrap_err();
        assert!(matches!(err, Error::Unseal { .. }), "byte {index}: {err}");
        assert!(err.to_string().contains("the sealed key was altered"), "byte {index}: {err}");
    }
}

#[tokio::test]
async fn init_creates_a_derived_key_once_and_checks_it() {
    let Some(bao) = Bao::running() else { return };
    let key = key_name();
    let (status, _) = bao.raw("GET", &format!("transit/keys/{key}"), None).await;
    assert_eq!(status, 404, "the key does not exist yet");

    let sealer = bao.sealer(&key);
    let first = sealer.set_up().await.unwrap();
    assert!(first.created);
    assert!(first.is_healthy(), "{first:?}");
    for setting in ["type", "derived", "deletion_allowed", "exportable", "allow_plaintext_backup"] {
        let check = first.checks.iter().find(|c| c.setting == setting).unwrap();
        assert_eq!(check.status, CheckStatus::Ok, "{check:?}");
    }
    // What OpenBao itself says, not what the seal parsed.
    let (status, body) = bao.raw("GET", &format!("transit/keys/{key}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["derived"], true);
    assert_eq!(body["data"]["type"], "aes256-gcm96");
    assert_eq!(body["data"]["deletion_allowed"], false);
    assert_eq!(body["data"]["exportable"], false);

    let again = sealer.set_up().await.unwrap();
    assert!(!again.created, "a second init creates nothing");
    assert!(again.is_healthy(), "{again:?}");
    let (_, after) = bao.raw("GET", &format!("transit/keys/{key}"), None).await;
    assert_eq!(after["data"]["keys"], body["data"]["keys"], "the key was not rotated or replaced");
}

#[tokio::test]
async fn a_non_derived_or_deletable_key_is_reported_wrong_and_never_sealed_with() {
    let Some(bao) = Bao::running() else { return };
    let key = key_name();
    let (status, _) = bao
        .raw("POST", &format!("transit/keys/{key}"), Some(r#"{"type":"aes256-gcm96","derived":false}"#))
        .await;
    assert!(status == 200 || status == 204, "{status}");
    let (status, _) =
        bao.raw("POST", &format!("transit/keys/{key}/config"), Some(r#"{"deletion_allowed":true}"#)).await;
    assert!(status == 200 || status == 204, "{status}");

    let sealer = bao.sealer(&key);
    let report = sealer.set_up().await.unwrap();
    assert!(!report.created);
    assert!(!report.is_healthy());
    let derived = report.checks.iter().find(|c| c.setting == "derived").unwrap();
    assert_eq!(derived.status, CheckStatus::Wrong);
    assert!(derived.detail.contains("cannot bind shares"), "{derived:?}");
    let deletion = report.checks.iter().find(|c| c.setting == "deletion_allowed").unwrap();
    assert_eq!(deletion.status, CheckStatus::Wrong);
    assert!(deletion.detail.contains(&format!("bao write transit/keys/{key}/config deletion_allowed=false")));
    let (_, body) = bao.raw("GET", &format!("transit/keys/{key}"), None).await;
    assert_eq!(body["data"]["derived"], false, "init changes no existing key");

    let address = Address::from_bytes([0x34; 20]);
    let err =
        sealer.seal_secret(SealContext::record(&address, "t"), &Zeroizing::new([1u8; 32])).await.unwrap_err();
    assert!(matches!(err, Error::Seal(_)), "{err}");
    assert!(err.to_string().contains("is not derived"), "{err}");
}

#[tokio::test]
async fn a_missing_key_says_to_run_init_and_is_not_created_by_sealing() {
    let Some((bao, _, _, blob)) = fresh_sample(2).await else { return };
    let ctx = SealContext::record(&SAMPLE, "t");

    let missing = key_name();
    let absent = bao.sealer(&missing);
    let err = absent.seal_secret(ctx, &Zeroizing::new([2u8; 32])).await.unwrap_err();
    assert!(matches!(err, Error::Seal(_)), "{err}");
    assert!(err.to_string().contains("run `rossignol init`"), "{err}");
    let (status, _) = bao.raw("GET", &format!("transit/keys/{missing}"), None).await;
    assert_eq!(status, 404, "sealing did not create the key on the fly");

    let err = absent.open_secret(ctx, absent.id(), &blob).await.unwrap_err();
    assert!(matches!(err, Error::Unseal { .. }), "{err}");
    assert!(err.to_string().contains("run `rossignol init`"), "{err}");
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_no_token_is_shown() {
    let Some((bao, sealer, key, blob)) = fresh_sample(3).await else { return };
    let ctx = SealContext::record(&SAMPLE, "t");

    let wrong_token = format!("s.wrong{}", random_suffix());
    let wrong = TransitSealer::with_token(&bao.url, None, &key, Zeroizing::new(wrong_token.clone())).unwrap();
    let sealed = wrong.seal_secret(ctx, &Zeroizing::new([3u8; 32])).await.unwrap_err();
    let opened = wrong.open_secret(ctx, wrong.id(), &blob).await.unwrap_err();
    let setup = wrong.set_up().await.unwrap_err();
    assert!(matches!(opened, Error::Unseal { .. }), "{opened}");
    for err in [&sealed, &opened, &setup] {
        let text = err.to_string();
        assert!(text.contains("refused the token"), "{text}");
        assert!(!text.contains(&wrong_token) && !text.contains(&bao.token), "{text}");
        assert!(!format!("{err:?}").contains(&wrong_token), "{err:?}");
    }
    for debug in [format!("{wrong:?}"), format!("{sealer:?}")] {
        assert!(debug.contains(&key), "{debug}");
        assert!(!debug.contains(&wrong_token) && !debug.contains(&bao.token), "{debug}");
    }
}

#[tokio::test]
async fn a_server_that_is_not_there_is_a_retryable_error_naming_it() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let sealer = TransitSealer::with_token(&url, None, "k", Zeroizing::new("token".into())).unwrap();
    let address = Address::from_bytes([0x37; 20]);
    let ctx = SealContext::record(&address, "t");

    let sealed = sealer.seal_secret(ctx, &Zeroizing::new([4u8; 32])).await.unwrap_err();
    let blob = format!("vault:v1:{}", BASE64.encode([0u8; 60]));
    let opened = sealer.open_secret(ctx, sealer.id(), blob.as_bytes()).await.unwrap_err();
    let setup = sealer.set_up().await.unwrap_err();
    for err in [sealed, opened, setup] {
        assert!(matches!(err, Error::Unavailable { service: "OpenBao", .. }), "{err}");
        assert!(err.is_transient(), "{err}");
        assert!(err.to_string().contains(&url), "{err}");
    }
}

#[tokio::test]
async fn another_server_at_the_address_is_not_taken_for_openbao() {
    // DynamoDB Local answers every path, as some proxies do: its 400 is
    // no refusal of OpenBao's, and a bare 404 would be no missing key.
    let Some(url) = server(DYNAMODB_ENDPOINT, "DynamoDB Local") else { return };
    let sealer = TransitSealer::with_token(&url, None, "k", Zeroizing::new("token".into())).unwrap();
    let address = Address::from_bytes([0x3a; 20]);
    let err =
        sealer.seal_secret(SealContext::record(&address, "t"), &Zeroizing::new([8u8; 32])).await.unwrap_err();
    assert!(err.to_string().contains("not as OpenBao does"), "{err}");
    let err = sealer.set_up().await.unwrap_err();
    assert!(err.to_string().contains("check that `transit_url` is the OpenBao server's address"), "{err}");
}

#[tokio::test]
async fn a_sealed_server_is_a_retryable_error_naming_it() {
    if Bao::running().is_none() {
        return;
    }
    let own = OwnServer::start().await;
    let bao = &own.bao;
    let (status, _) = bao.raw("POST", "sys/mounts/transit", Some(r#"{"type":"transit"}"#)).await;
    assert!(status == 200 || status == 204, "{status}");
    let sealer = bao.sealer("k");
    assert!(sealer.set_up().await.unwrap().created);
    let blob = round_trip(&sealer, 9).await;

    let (status, _) = bao.raw("POST", "sys/seal", Some("{}")).await;
    assert!(status == 200 || status == 204, "{status}");
    let ctx = SealContext::record(&SAMPLE, "t");
    let sealed = sealer.seal_secret(ctx, &Zeroizing::new([9u8; 32])).await.unwrap_err();
    let opened = sealer.open_secret(ctx, sealer.id(), &blob).await.unwrap_err();
    let setup = sealer.set_up().await.unwrap_err();
    for err in [sealed, opened, setup] {
        assert!(matches!(err, Error::Unavailable { service: "OpenBao", .. }), "{err}");
        assert!(err.is_transient(), "{err}");
        assert!(err.to_string().contains(&bao.url) && err.to_string().contains("sealed"), "{err}");
    }
}

#[tokio::test]
async fn a_token_file_works_and_no_token_at_all_is_a_clear_error() {
    let err = TransitSealer::find_token(|_| None, None).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    assert!(err.to_string().contains("BAO_TOKEN") && err.to_string().contains("transit_token_file"), "{err}");

    let Some(bao) = Bao::running() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bao-token");
    std::fs::write(&path, format!("  {}\n", bao.token)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let token = TransitSealer::find_token(|_| None, Some(&path)).unwrap();
    assert_eq!(token.as_str(), bao.token, "trimmed");

    let key = key_name();
    let sealer = TransitSealer::with_token(&bao.url, None, &key, token).unwrap();
    assert!(sealer.set_up().await.unwrap().created);
    round_trip(&sealer, 5).await;

    // A token file others can read is refused, as key files are.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = TransitSealer::find_token(|_| None, Some(&path)).unwrap_err();
    assert!(err.to_string().contains("chmod 600"), "{err}");
    assert!(!err.to_string().contains(&bao.token));
}

#[tokio::test]
async fn another_mount_is_named_in_the_id_and_a_missing_one_says_how_to_enable_it() {
    let Some(bao) = Bao::running() else { return };
    let mount = format!("custody-{}", random_suffix());
    let sealer =
        TransitSealer::with_token(&bao.url, Some(&mount), "k", Zeroizing::new(bao.token.clone())).unwrap();
    assert_eq!(sealer.id(), format!("transit:{mount}/k"));
    let err = sealer.set_up().await.unwrap_err();
    assert!(err.to_string().contains(&format!("bao secrets enable -path={mount} transit")), "{err}");

    let (status, _) = bao.raw("POST", &format!("sys/mounts/{mount}"), Some(r#"{"type":"transit"}"#)).await;
    assert!(status == 200 || status == 204, "{status}");
    assert!(sealer.set_up().await.unwrap().created);
    let blob = round_trip(&sealer, 6).await;
    // The same key name under the default mount is another key and seal.
    let default = bao.sealer("k");
    let err = default.open_secret(SealContext::record(&SAMPLE, "t"), sealer.id(), &blob).await.unwrap_err();
    assert!(err.to_string().contains("configure the key that sealed it"), "{err}");
    let (status, _) = bao.raw("DELETE", &format!("sys/mounts/{mount}"), None).await;
    assert!(status == 200 || status == 204, "{status}");
}

#[tokio::test]
async fn a_custodian_sealed_with_transit_creates_opens_and_audits_keys() {
    let Some((_, sealer, key)) = fresh().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(&dir.path().join("accounts.redb"), "rossignol_test").unwrap());
    let custodian = Custodian::new(store.clone(), Arc::new(sealer), store);
    let mut created = Vec::new();
    for _ in 0..3 {
        created.push(custodian.create("test").await.unwrap());
    }
    for record in &created {
        let StoredKey::Sealed { seal, blob } = &record.key else { panic!("sealed") };
        assert_eq!(seal, &format!("transit:{key}"));
        assert!(blob.starts_with(b"vault:v1:"));
        let (_, opened) = custodian.open_unrecorded(&record.address).await.unwrap();
        let KeyMaterial::Secp256k1(opened) = opened else { panic!("secp256k1") };
        assert_eq!(opened.address(), record.address);
    }
    let (tx, _) = tokio::sync::watch::channel(Progress::default());
    let requester = Requester::operator("test-transit", "tests");
    let options = AuditOptions { deep: true, segments: 2 };
    let report =
        audit::run(&custodian, options, &requester, tx, Arc::new(AtomicBool::new(false))).await.unwrap();
    assert_eq!((report.checked, report.ok), (3, 3), "{:?}", report.findings);
    assert_eq!(report.seals.get(&format!("transit:{key}")), Some(&3));
}
