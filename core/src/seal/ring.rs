//! Several seals at once, for a rotation: new keys are sealed with the
//! primary; a record opens under whichever member its `seal` names.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use zeroize::Zeroizing;

use super::{SealContext, Sealer};
use crate::error::Result;

/// Seals with `primary`; opens with `primary` or any of `also_open`.
#[derive(Clone)]
pub struct SealRing {
    primary: Arc<dyn Sealer>,
    also_open: Vec<Arc<dyn Sealer>>,
}

impl SealRing {
    pub fn new(primary: Arc<dyn Sealer>, also_open: Vec<Arc<dyn Sealer>>) -> Self {
        SealRing { primary, also_open }
    }

    pub fn primary(&self) -> &Arc<dyn Sealer> {
        &self.primary
    }

    fn members(&self) -> impl Iterator<Item = &Arc<dyn Sealer>> {
        std::iter::once(&self.primary).chain(&self.also_open)
    }

    /// The member configured for `seal_id`, else the first that can try it
    /// (a KMS sealer opens any KMS key it is allowed to use).
    fn opener(&self, seal_id: &str) -> Option<&Arc<dyn Sealer>> {
        self.members()
            .find(|m| m.known_seals().contains(&seal_id))
            .or_else(|| self.members().find(|m| m.can_open(seal_id)))
    }
}

impl fmt::Debug for SealRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealRing")
            .field("primary", &self.primary.id())
            .field("also_open", &self.also_open.iter().map(|m| m.id()).collect::<Vec<_>>())
            .finish()
    }
}

#[async_trait]
impl Sealer for SealRing {
    fn id(&self) -> &str {
        self.primary.id()
    }

    fn known_seals(&self) -> Vec<&str> {
        let mut seals: Vec<&str> = Vec::new();
        for seal in self.members().flat_map(|m| m.known_seals()) {
            if !seals.contains(&seal) {
                seals.push(seal);
            }
        }
        seals
    }

    fn can_open(&self, seal_id: &str) -> bool {
        self.opener(seal_id).is_some()
    }

    async fn seal_secret(&self, ctx: SealContext<'_>, secret: &Zeroizing<[u8; 32]>) -> Result<Vec<u8>> {
        self.primary.seal_secret(ctx, secret).await
    }

    async fn init(&self) -> Result<Option<super::SealInit>> {
        self.primary.init().await
    }

    async fn probe(&self) -> Result<()> {
        self.primary.probe().await
    }

    async fn open_secret(
        &self,
        ctx: SealContext<'_>,
        seal_id: &str,
        blob: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>> {
        match self.opener(seal_id) {
            Some(member) => member.open_secret(ctx, seal_id, blob).await,
            None => Err(ctx.unseal_error(format!(
                "it was sealed by {seal_id}, which this environment neither seals with nor opens ({}); \
                     add that key to the environment's `also_open`",
                self.known_seals().join(", ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::LocalSealer;
    use crate::secret::PrivateKey;

    #[tokio::test]
    async fn seals_with_the_primary_and_opens_with_any_member() {
        let old: Arc<dyn Sealer> = Arc::new(LocalSealer::from_key(&[1u8; 32]));
        let new: Arc<dyn Sealer> = Arc::new(LocalSealer::from_key(&[2u8; 32]));
        let ring = SealRing::new(Arc::clone(&new), vec![Arc::clone(&old)]);
        assert_eq!(ring.id(), new.id());
        assert_eq!(ring.known_seals(), vec![new.id(), old.id()]);

        let key = PrivateKey::generate_os();
        let address = key.address();
        let ctx = SealContext::record(&address, "t");
        let under_old = old.seal(ctx, &key).await.unwrap();
        let under_ring = ring.seal(ctx, &key).await.unwrap();
        assert_eq!(*ring.open(ctx, old.id(), &under_old).await.unwrap().reveal_bytes(), *key.reveal_bytes());
        assert_eq!(*new.open(ctx, new.id(), &under_ring).await.unwrap().reveal_bytes(), *key.reveal_bytes());

        let stranger = LocalSealer::from_key(&[3u8; 32]);
        let blob = stranger.seal(ctx, &key).await.unwrap();
        assert!(!ring.can_open(stranger.id()));
        let err = ring.open(ctx, stranger.id(), &blob).await.unwrap_err();
        assert!(err.to_string().contains("also_open"), "{err}");
        assert!(!format!("{ring:?}").contains("cipher"));
    }
}
