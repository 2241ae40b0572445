#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every key use (reveal, sign, export) reads the record, then writes the
//! access trail and opens the key at the same time: two round trips, and
//! the key is used only when both succeeded.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rand_core::{OsRng, RngCore as _};
use rossignol_core::access::{AccessRecord, AccessTrail, RunRecord};
use rossignol_core::seal::{LocalSealer, SealContext, Sealer};
use rossignol_core::sign::Payload;
use rossignol_core::store::embedded::EmbeddedStore;
use rossignol_core::{Address, Custodian, Error, Requester, Result};
use tokio::sync::Barrier;
use zeroize::Zeroizing;

/// A seal whose opens first meet the trail at `gate`, so an open can only
/// finish while a trail write is in flight too, and which counts them.
#[derive(Debug)]
struct GatedSeal {
    inner: LocalSealer,
    gate: Option<Arc<Barrier>>,
    opened: AtomicUsize,
}

#[async_trait]
impl Sealer for GatedSeal {
    fn id(&self) -> &str {
        self.inner.id()
    }

    async fn seal_secret(&self, ctx: SealContext<'_>, secret: &Zeroizing<[u8; 32]>) -> Result<Vec<u8>> {
        self.inner.seal_secret(ctx, secret).await
    }

    async fn open_secret(
        &self,
        ctx: SealContext<'_>,
        seal: &str,
        blob: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>> {
        if let Some(gate) = &self.gate {
            gate.wait().await;
        }
        let opened = self.inner.open_secret(ctx, seal, blob).await;
        self.opened.fetch_add(1, Ordering::SeqCst);
        opened
    }
}

/// A trail in front of the embedded one that meets the seal at `gate`, and
/// can be told to fail.
#[derive(Debug)]
struct GatedTrail {
    inner: Arc<EmbeddedStore>,
    gate: Option<Arc<Barrier>>,
    fail: bool,
}

#[async_trait]
impl AccessTrail for GatedTrail {
    fn name(&self) -> &str {
        "gated trail"
    }

    async fn append(&self, record: &AccessRecord) -> Result<()> {
        if let Some(gate) = &self.gate {
            gate.wait().await;
        }
        if self.fail {
            return Err(Error::Service { service: "test", operation: "append", message: "refused".into() });
        }
        self.inner.append(record).await
    }

    async fn latest(&self, address: &Address, limit: usize) -> Result<Vec<AccessRecord>> {
        self.inner.latest(address, limit).await
    }

    async fn append_run(&self, run: &RunRecord) -> Result<()> {
        self.inner.append_run(run).await
    }

    async fn latest_runs(&self, limit: usize) -> Result<Vec<RunRecord>> {
        self.inner.latest_runs(limit).await
    }

    async fn init(&self) -> Result<bool> {
        self.inner.init().await
    }
}

struct Setup {
    custodian: Custodian,
    seal: Arc<GatedSeal>,
    store: Arc<EmbeddedStore>,
    _dir: tempfile::TempDir,
}

/// An embedded store whose trail and seal meet at one barrier when
/// `gated`, and whose trail fails when `trail_fails`.
async fn setup(gated: bool, trail_fails: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(&dir.path().join("accounts.redb"), "key_use").unwrap());
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    let gate = gated.then(|| Arc::new(Barrier::new(2)));
    let seal = Arc::new(GatedSeal {
        inner: LocalSealer::from_key(&key),
        gate: gate.clone(),
        opened: AtomicUsize::new(0),
    });
    let trail = Arc::new(GatedTrail { inner: Arc::clone(&store), gate, fail: trail_fails });
    let custodian = Custodian::new(store.clone(), seal.clone(), trail);
    Setup { custodian, seal, store, _dir: dir }
}

fn requester() -> Requester {
    Requester::operator("test-reveal", "tester")
}

/// Fails instead of hanging if the trail and the open ever run one after
/// the other again (each would wait for the other at the barrier).
async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), future).await.unwrap_or_else(|_| {
        panic!("{what} never finished: the trail write and the open did not run together")
    })
}

#[tokio::test]
async fn the_trail_write_and_the_open_run_together() {
    let s = setup(true, false).await;
    let record = s.custodian.create("test").await.unwrap();
    let (_, key) = within("reveal", s.custodian.reveal(&record.address, &requester())).await.unwrap();
    assert_eq!(key.reveal_text().as_str().len(), 66);
    let payload = Payload::Message(b"hello".to_vec());
    within("sign", s.custodian.sign(&record.address, &payload, &requester())).await.unwrap();
    assert_eq!(s.seal.opened.load(Ordering::SeqCst), 2);
    assert_eq!(s.store.latest(&record.address, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_key_opened_while_the_trail_failed_is_never_used() {
    let s = setup(true, true).await;
    let record = s.custodian.create("test").await.unwrap();
    let revealed = within("reveal", s.custodian.reveal(&record.address, &requester())).await;
    assert!(matches!(revealed, Err(Error::AccessTrail { .. })), "{revealed:?}");
    let payload = Payload::Message(b"hello".to_vec());
    let signed = within("sign", s.custodian.sign(&record.address, &payload, &requester())).await;
    assert!(matches!(signed, Err(Error::AccessTrail { .. })), "{signed:?}");
    let passphrase = Zeroizing::new(b"correct horse".to_vec());
    let exported =
        within("export", s.custodian.export_keystore(&record.address, passphrase, &requester())).await;
    assert!(matches!(exported, Err(Error::AccessTrail { .. })), "{exported:?}");
    // The opens ran (that is what makes it two round trips), and their keys
    // were dropped: the answers above carry no key and no signature.
    assert_eq!(s.seal.opened.load(Ordering::SeqCst), 3);
    assert!(s.store.latest(&record.address, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_open_that_fails_after_the_trail_wrote_is_an_error_and_stays_recorded() {
    let s = setup(false, false).await;
    let record = s.custodian.create("test").await.unwrap();
    // The same record under another seal's key: the open fails, the trail
    // records the attempt.
    let mut other = [0u8; 32];
    OsRng.fill_bytes(&mut other);
    let stranger =
        Custodian::new(s.store.clone(), Arc::new(LocalSealer::from_key(&other)), s.custodian.trail().clone());
    let revealed = stranger.reveal(&record.address, &requester()).await;
    assert!(matches!(revealed, Err(Error::Unseal { .. })), "{revealed:?}");
    assert_eq!(s.store.latest(&record.address, 10).await.unwrap().len(), 1);
}
