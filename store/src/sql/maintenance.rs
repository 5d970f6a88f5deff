//! `maintenance_store!`: [`crate::Maintenance`] on SQL, expanded once per backend (see [`super::writer`] for
//! why a macro): which database this is, health checks, snapshots and cache release.

macro_rules! maintenance_store {
    ($store:ident, $db:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl Maintenance for $store {
            fn backend(&self) -> Backend {
                $backend
            }

            async fn snapshot_into(&self, path: &std::path::Path) -> Result<(), StoreError> {
                self.snapshot(path).await
            }

            async fn release_memory(&self) -> Result<usize, StoreError> {
                self.shrink().await
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query::<$db>(queries::PING).execute(&self.pool).await.map_err(Self::err)?;
                Ok(())
            }
        }
    };
}

pub(super) use maintenance_store;
