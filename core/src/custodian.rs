//! The service both faces use: create sealed accounts, read them, and open
//! their keys with verification. Handlers and commands stay thin over it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use zeroize::Zeroizing;

use crate::access::{AccessRecord, AccessTrail, Identity};
use crate::account::Address;
use crate::custody::{Custody, NewAccount, Provider, ProviderInit, SingleCustody};
use crate::error::{Error, Result};
use crate::identity::AwsIdentity;
use crate::keygen::GeneratedKey;
use crate::policy::{Policy, PolicyBook};
use crate::seal::Sealer;
use crate::secret::{KeyMaterial, LegacyKey, PrivateKey};
use crate::sign::{self, Payload, Signed};
use crate::store::record::{self, Disabled};
use crate::store::{AccountRecord, AccountStore, Cursor, InitOutcome, Page, Scheme, StoredKey};

/// Where the environment's keys are held (one [`Custody`]: a single store,
/// or shares across providers), who may sign what, and the trail every
/// key use is written to first.
#[derive(Clone)]
pub struct Custodian {
    custody: Arc<dyn Custody>,
    /// In an AWS environment: who the credentials are, for the trail.
    identity: Option<Arc<AwsIdentity>>,
    /// What each caller may sign, checked before anything is opened.
    policies: Arc<PolicyBook>,
}

impl Requester {
    /// An operator's request from this machine (CLI, console), with a fresh
    /// random request id.
    pub fn operator(action: impl Into<String>, actor: impl Into<String>) -> Self {
        Requester {
            action: action.into(),
            request_id: hex::encode(crate::secret::random_bytes::<8>()),
            actor: Some(actor.into()),
            ..Requester::default()
        }
    }
}

/// What `init` did for an environment: its first provider's table and
/// trail and, when sharded, every provider's.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EnvironmentInit {
    pub accounts: InitOutcome,
    pub access_trail: String,
    pub access_trail_created: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seal: Option<crate::seal::SealInit>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<ProviderInit>,
}

/// Who is asking to use a key, for the access trail.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    /// What is using the key: `getter`, `signer`, `cli-reveal`, `console-sign`, ...
    pub action: String,
    pub request_id: String,
    pub api_key_id: Option<String>,
    pub source_ip: Option<String>,
    pub actor: Option<String>,
    /// Whether the caller's credential was checked; claimed by default.
    pub identity: Identity,
}

impl fmt::Debug for Custodian {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Custodian")
            .field("custody", &self.custody)
            .field("identity", &self.identity)
            .field("policies", &self.policies)
            .finish()
    }
}

impl Custodian {
    /// Keys held whole in `store`, sealed by `sealer`.
    pub fn new(store: Arc<dyn AccountStore>, sealer: Arc<dyn Sealer>, trail: Arc<dyn AccessTrail>) -> Self {
        let name = store.table().to_owned();
        Self::with_custody(Arc::new(SingleCustody::new(Provider { name, store, sealer, trail })))
    }

    pub fn with_custody(custody: Arc<dyn Custody>) -> Self {
        Custodian { custody, identity: None, policies: Arc::default() }
    }

    pub fn custody(&self) -> &Arc<dyn Custody> {
        &self.custody
    }

    /// Signs only what `policies` allows, per caller (by API key id).
    pub fn with_policies(mut self, policies: PolicyBook) -> Self {
        self.policies = Arc::new(policies);
        self
    }

    /// The policy that applies to `requester`.
    pub fn policy_for(&self, requester: &Requester) -> &Policy {
        self.policies.for_caller(requester.api_key_id.as_deref())
    }

    /// Records the caller's AWS identity beside every access record; key
    /// use then fails closed when it cannot be resolved.
    pub fn with_aws_identity(mut self, identity: Option<Arc<AwsIdentity>>) -> Self {
        self.identity = identity;
        self
    }

    /// The caller's AWS identity (an ARN) in an AWS environment, resolved
    /// once; `None` where there is none to ask (embedded, local endpoints).
    pub async fn aws_identity(&self) -> Result<Option<String>> {
        match &self.identity {
            Some(identity) => Ok(Some(identity.arn().await?.to_owned())),
            None => Ok(None),
        }
    }

    /// The first provider: a single-store environment's only one.
    fn primary(&self) -> &Provider {
        &self.custody.providers()[0]
    }

    /// The first provider's trail (see [`Custodian::latest_access`] for
    /// an account's whole trail).
    pub fn trail(&self) -> &Arc<dyn AccessTrail> {
        &self.primary().trail
    }

    /// The first provider's store: a single-store environment's only one.
    pub fn store(&self) -> &Arc<dyn AccountStore> {
        &self.primary().store
    }

    /// The first provider's sealer: a single-store environment's only one.
    pub fn sealer(&self) -> &Arc<dyn Sealer> {
        &self.primary().sealer
    }

    pub fn table(&self) -> &str {
        self.custody.table()
    }

    /// The account's latest access records, newest first, from every
    /// provider that keeps them.
    pub async fn latest_access(&self, address: &Address, limit: usize) -> Result<Vec<AccessRecord>> {
        self.custody.latest_access(address, limit).await
    }

    /// Up to `limit` account items after `after`, for listings.
    pub async fn page(&self, after: Option<&Cursor>, limit: usize) -> Result<Page> {
        self.custody.page(after, limit).await
    }

    /// Creates an account with a fresh key from the OS CSPRNG.
    pub async fn create(&self, created_by: &str) -> Result<AccountRecord> {
        self.create_with_key(PrivateKey::generate_os(), created_by).await
    }

    /// Seals `key` for its address and writes the record, never over an
    /// existing one.
    pub async fn create_with_key(&self, key: PrivateKey, created_by: &str) -> Result<AccountRecord> {
        // One point multiplication serves both the address and the record.
        let public_key = key.public_key_uncompressed();
        let address = Address::from_uncompressed_point(&public_key);
        self.create_generated(GeneratedKey { key, public_key, address }, created_by).await
    }

    /// Creates `count` accounts with `concurrency` writes in flight. Keys
    /// come from the OS CSPRNG in batches ([`crate::keygen::generate_batch`]),
    /// ahead of the writes; results arrive as the writes finish. Once `stop`
    /// is set no new write starts, and the stream ends when the writes in
    /// flight have finished, so that none of their results is lost.
    pub fn create_many(
        &self,
        count: u64,
        created_by: &str,
        concurrency: usize,
        stop: Arc<AtomicBool>,
    ) -> impl futures::Stream<Item = Result<AccountRecord>> + Send + 'static {
        use futures::StreamExt as _;
        const KEY_BATCH: u64 = 64;
        let custodian = self.clone();
        let created_by: std::sync::Arc<str> = created_by.into();
        futures::stream::iter((0..count).step_by(KEY_BATCH as usize))
            .flat_map(move |start| {
                let n = (count - start).min(KEY_BATCH) as usize;
                futures::stream::iter(crate::keygen::generate_batch(&mut rand_core::OsRng, n))
            })
            .take_while(move |_| std::future::ready(!stop.load(Ordering::SeqCst)))
            .map(move |generated| {
                let custodian = custodian.clone();
                let created_by = std::sync::Arc::clone(&created_by);
                async move { custodian.create_generated(generated, &created_by).await }
            })
            .buffer_unordered(concurrency.max(1))
    }

    /// Like [`Custodian::create_with_key`], for a key whose public key and
    /// address are already derived (by [`crate::keygen::generate_batch`],
    /// which derives a whole batch for less).
    pub async fn create_generated(&self, generated: GeneratedKey, created_by: &str) -> Result<AccountRecord> {
        self.create_generated_through(generated, created_by, None).await
    }

    /// Creates an account for a caller of the setter, recording its API
    /// key id on the account (see `accounts = "created_by_key"` in
    /// [`crate::policy`]).
    pub async fn create_through_key(
        &self,
        created_by: &str,
        api_key_id: Option<&str>,
    ) -> Result<AccountRecord> {
        let key = PrivateKey::generate_os();
        let public_key = key.public_key_uncompressed();
        let address = Address::from_uncompressed_point(&public_key);
        self.create_generated_through(GeneratedKey { key, public_key, address }, created_by, api_key_id).await
    }

    async fn create_generated_through(
        &self,
        generated: GeneratedKey,
        created_by: &str,
        api_key_id: Option<&str>,
    ) -> Result<AccountRecord> {
        self.custody
            .create(NewAccount {
                generated,
                created_by: created_by.to_owned(),
                created_api_key: api_key_id.map(str::to_owned),
            })
            .await
    }

    /// The record at `address`, or `NotFound`.
    pub async fn get(&self, address: &Address) -> Result<AccountRecord> {
        self.custody
            .get(address)
            .await?
            .ok_or_else(|| Error::NotFound { address: address.to_string(), table: self.table().to_owned() })
    }

    /// Opens the record's key and checks that it derives the record's
    /// address (and public key). A mismatch is an integrity error. A
    /// migrated Node-era row opens to its original base64 key pair.
    pub async fn open(&self, record: &AccountRecord) -> Result<KeyMaterial> {
        self.custody.open(record).await
    }

    /// Creates (or checks) the accounts table and the access trail at
    /// every provider.
    pub async fn init(&self) -> Result<EnvironmentInit> {
        let providers = self.custody.init().await?;
        let first = providers[0].clone();
        Ok(EnvironmentInit {
            accounts: first.accounts,
            access_trail: first.access_trail,
            access_trail_created: first.access_trail_created,
            seal: first.seal,
            providers: if providers.len() > 1 { providers } else { Vec::new() },
        })
    }

    /// Reads the account, then appends who asked to the access trail and
    /// opens its key at the same time ([`Custodian::recorded_open`]). Fails
    /// closed: if the trail cannot be written, the key is dropped unused and
    /// the error is [`Error::AccessTrail`]. A disabled account is refused
    /// with [`Error::Disabled`].
    pub async fn reveal(
        &self,
        address: &Address,
        requester: &Requester,
    ) -> Result<(AccountRecord, KeyMaterial)> {
        let record = self.get(address).await?;
        record.ensure_enabled()?;
        let key = self.recorded_open(&record, requester, None).await?;
        Ok((record, key))
    }

    /// Signs `payload` with the account's key, which never leaves this
    /// process. The caller's signing policy is checked first: a refusal is
    /// written to the access trail and nothing is opened
    /// ([`Error::Refused`]). Otherwise the access trail gets the digest of
    /// what is signed before the key is used, and signing fails closed
    /// like a reveal.
    pub async fn sign(
        &self,
        address: &Address,
        payload: &Payload,
        requester: &Requester,
    ) -> Result<(AccountRecord, Signed)> {
        let record = self.get(address).await?;
        record.ensure_enabled()?;
        let digest = payload.digest(record.scheme)?;
        let digest_hex = format!("0x{}", hex::encode(digest));
        if let Err(refusal) =
            self.policy_for(requester).check(payload, &record, requester.api_key_id.as_deref())
        {
            self.append_access(&record.address, requester, Some(digest_hex), None, Some(refusal.rule))
                .await?;
            return Err(Error::Refused(refusal));
        }
        let key = self.recorded_open(&record, requester, Some(digest_hex)).await?;
        let signed = sign::sign(&key, payload, &record.address.to_string())?;
        debug_assert_eq!(signed.digest(), digest);
        Ok((record, signed))
    }

    /// The account as a Web3 Secret Storage (V3) keystore, encrypted under
    /// `passphrase` with scrypt (n = 2^18). Recorded in the access trail
    /// first, like a reveal; legacy ed25519 accounts have no V3 form and are
    /// refused before anything is recorded.
    pub async fn export_keystore(
        &self,
        address: &Address,
        passphrase: zeroize::Zeroizing<Vec<u8>>,
        requester: &Requester,
    ) -> Result<String> {
        let record = self.get(address).await?;
        if record.scheme != Scheme::Secp256k1 {
            return Err(Error::InvalidRequest(crate::sign::InvalidField {
                field: "address".into(),
                reason: format!(
                    "names a legacy {} account; only secp256k1 accounts have a V3 keystore form",
                    record.scheme
                ),
            }));
        }
        let (_, key) = self.reveal(address, requester).await?;
        let KeyMaterial::Secp256k1(key) = key else {
            return Err(record.integrity("a secp256k1 record opened to another kind of key"));
        };
        // scrypt with n = 2^18 takes about a second of CPU: off the executor.
        tokio::task::spawn_blocking(move || crate::keystore::encrypt(&key, &passphrase))
            .await
            .map_err(|e| Error::Seal(format!("the keystore encryption stopped: {e}")))?
            .map_err(Error::from)
    }

    /// Every key use goes through here: both, or nothing. The access record
    /// is written while the key is opened, so a key use costs two round
    /// trips (read the record, then trail and open together) instead of
    /// three. The key is handed out only when both succeeded; if the trail
    /// failed, an opened key is dropped here (zeroized) and never used, and
    /// the caller gets the fail-closed [`Error::AccessTrail`], whatever the
    /// open did.
    ///
    /// A sharded record's entry names the providers that gave no share
    /// when it was read; a share found not to open or verify is named in a
    /// second entry once the key is open (request id `ID#shares`).
    async fn recorded_open(
        &self,
        record: &AccountRecord,
        requester: &Requester,
        digest: Option<String>,
    ) -> Result<KeyMaterial> {
        let unanswered = match &record.key {
            StoredKey::Sharded(set) => set.unanswered(),
            _ => Vec::new(),
        };
        let entry = async {
            let mut access = self.access_record(&record.address, requester).await?;
            access.digest.clone_from(&digest);
            access.providers_failed = providers_failed(&unanswered);
            self.custody.append_access(&access).await
        };
        let (recorded, opened) = futures::future::join(entry, self.custody.open_noting(record)).await;
        recorded?;
        let (key, passed_over) = opened?;
        let late: Vec<(String, String)> =
            passed_over.into_iter().filter(|(p, _)| !unanswered.iter().any(|(u, _)| u == p)).collect();
        if !late.is_empty() {
            self.record_late_failures(record, requester, digest, &late).await;
        }
        Ok(key)
    }

    /// The second entry of a sharded key use whose shares did not all
    /// open: the use itself is already recorded, so a trail that cannot
    /// take this one is a warning, not a refusal.
    async fn record_late_failures(
        &self,
        record: &AccountRecord,
        requester: &Requester,
        digest: Option<String>,
        late: &[(String, String)],
    ) {
        let noted = async {
            let mut access = self.access_record(&record.address, requester).await?;
            access.request_id = format!("{}#shares", requester.request_id);
            access.digest = digest;
            access.providers_failed = providers_failed(late);
            self.custody.append_access(&access).await
        };
        if let Err(e) = noted.await {
            tracing::warn!(address = %record.address, "the trail could not name the shares passed over: {e}");
        }
    }

    /// Appends one access record for `address`, with the caller's AWS
    /// identity; fails closed (no identity or no record: an error).
    pub(crate) async fn append_access(
        &self,
        address: &Address,
        requester: &Requester,
        digest: Option<String>,
        target_seal: Option<String>,
        refused: Option<&str>,
    ) -> Result<()> {
        let access = AccessRecord {
            digest,
            target_seal,
            refused: refused.map(str::to_owned),
            ..self.access_record(address, requester).await?
        };
        self.custody.append_access(&access).await
    }

    /// Who asked, when, for `address`: an access record with nothing noted yet.
    async fn access_record(&self, address: &Address, requester: &Requester) -> Result<AccessRecord> {
        Ok(AccessRecord {
            address: *address,
            at: Utc::now(),
            action: requester.action.clone(),
            request_id: requester.request_id.clone(),
            api_key_id: requester.api_key_id.clone(),
            source_ip: requester.source_ip.clone(),
            actor: requester.actor.clone(),
            aws_identity: self.aws_identity().await?,
            digest: None,
            identity: requester.identity,
            target_seal: None,
            refused: None,
            providers_failed: None,
        })
    }

    /// Disables (`by` = Some) or enables (`by` = None) the account with one
    /// conditional write. True if it changed, false if it already was so.
    pub async fn set_disabled(&self, address: &Address, by: Option<&str>) -> Result<bool> {
        let disabled = by.map(|by| Disabled { at: Utc::now(), by: Some(by.to_owned()) });
        self.custody.set_disabled(address, disabled).await
    }

    /// Reads and opens the account at `address` without recording it: for
    /// checks that never let the key leave this process (a deep audit).
    pub async fn open_unrecorded(&self, address: &Address) -> Result<(AccountRecord, KeyMaterial)> {
        let record = self.get(address).await?;
        let key = self.open(&record).await?;
        Ok((record, key))
    }
}

/// The key a record's sealed secret holds, by the record's scheme, checked
/// against its address and stored public key: a secp256k1 scalar, or the
/// seed of a migrated ed25519 key pair.
pub(crate) fn verified_key(record: &AccountRecord, secret: &Zeroizing<[u8; 32]>) -> Result<KeyMaterial> {
    match record.scheme {
        Scheme::Secp256k1 => {
            let key = PrivateKey::from_bytes(secret.as_slice())
                .map_err(|e| Error::Unseal { address: record.address.to_string(), reason: e.to_string() })?;
            let public = key.public_key_uncompressed();
            let derived = Address::from_uncompressed_point(&public);
            if derived != record.address {
                return Err(
                    record.integrity(format!("the sealed key derives {derived}, not the record's address"))
                );
            }
            if record::format_public_key(&public) != record.public_key {
                return Err(record.integrity("the sealed key does not match the stored public key"));
            }
            Ok(KeyMaterial::Secp256k1(key))
        }
        Scheme::Ed25519 => {
            let key = LegacyKey::from_seed(secret);
            verify_legacy(record, &key)?;
            Ok(KeyMaterial::LegacyEd25519(key))
        }
    }
}

/// Checks that a legacy key pair is whole and derives the record's public
/// key and address.
pub(crate) fn verify_legacy(record: &AccountRecord, key: &LegacyKey) -> Result<()> {
    let public = key.verified_public_key().map_err(|reason| record.integrity(reason))?;
    if record::format_legacy_public_key(&public) != record.public_key {
        return Err(record.integrity("the legacy private key does not match the stored public key"));
    }
    let derived = record::legacy_address(&public);
    if derived != record.address {
        return Err(record.integrity(format!("the legacy key derives {derived}, not the record's address")));
    }
    Ok(())
}

/// `pg: timed out; offline: holds no share`, or `None` when every
/// provider gave a share.
fn providers_failed(passed_over: &[(String, String)]) -> Option<String> {
    (!passed_over.is_empty())
        .then(|| passed_over.iter().map(|(p, why)| format!("{p}: {why}")).collect::<Vec<_>>().join("; "))
}
