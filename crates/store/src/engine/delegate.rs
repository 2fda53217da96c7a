//! The [`crate::Store`] implementation of a back end, written once.

/// Implements [`crate::Store`] for a type that implements
/// [`super::Cached`], by delegating to the functions of [`crate::engine`].
macro_rules! impl_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::Store for $t {
            async fn put(
                &self,
                entry: $crate::NewEntry,
            ) -> Result<$crate::PutOutcome, $crate::StoreError> {
                $crate::engine::observe_write(self, $crate::engine::put(self, entry).await)
            }

            async fn put_many(
                &self,
                entries: Vec<$crate::NewEntry>,
            ) -> Vec<Result<$crate::PutOutcome, $crate::StoreError>> {
                let outcomes = $crate::engine::put_many(self, entries).await;
                if let Some(last) = outcomes.last() {
                    $crate::engine::Cached::caches(self).writes.observe(last);
                }
                outcomes
            }

            async fn get(
                &self,
                key: &$crate::EntryKey,
            ) -> Result<Option<$crate::StoredEntry>, $crate::StoreError> {
                $crate::engine::get(self, key).await
            }

            async fn get_visible(
                &self,
                key: &$crate::EntryKey,
                audience: &$crate::Audience,
            ) -> Result<Option<$crate::StoredEntry>, $crate::StoreError> {
                $crate::engine::get_visible(self, key, audience).await
            }

            async fn search(
                &self,
                query: &$crate::SearchQuery,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<$crate::SearchPage, $crate::StoreError> {
                $crate::engine::search(self, query, now, $crate::SearchOptions::default()).await
            }

            async fn search_with(
                &self,
                query: &$crate::SearchQuery,
                now: chrono::DateTime<chrono::Utc>,
                options: $crate::SearchOptions,
            ) -> Result<$crate::SearchPage, $crate::StoreError> {
                $crate::engine::search(self, query, now, options).await
            }

            async fn history(
                &self,
                query: &$crate::HistoryQuery,
            ) -> Result<Vec<$crate::EntrySummary>, $crate::StoreError> {
                $crate::engine::history(self, query).await
            }

            async fn endorsers(
                &self,
                audience: &$crate::Audience,
            ) -> Result<Vec<$crate::EndorserSummary>, $crate::StoreError> {
                $crate::engine::endorsers(self, None, audience).await
            }

            async fn endorser(
                &self,
                email: &str,
                audience: &$crate::Audience,
            ) -> Result<Vec<$crate::EndorserSummary>, $crate::StoreError> {
                $crate::engine::endorsers(self, Some(email), audience).await
            }

            async fn tags(
                &self,
                email: &str,
                audience: &$crate::Audience,
            ) -> Result<Vec<String>, $crate::StoreError> {
                $crate::engine::tags(self, email, audience).await
            }

            async fn resolve_tag(
                &self,
                email: &str,
                tag: &str,
                audience: &$crate::Audience,
            ) -> Result<Option<$crate::EntryKey>, $crate::StoreError> {
                $crate::engine::resolve_tag(self, email, tag, audience).await
            }

            async fn entries_after(
                &self,
                after: Option<i64>,
                limit: u32,
            ) -> Result<Vec<$crate::StoredEntry>, $crate::StoreError> {
                $crate::engine::entries_after(self, after, limit).await
            }

            async fn rebuild_index(
                &self,
                reindex: &$crate::Reindex<'_>,
            ) -> Result<u64, $crate::StoreError> {
                $crate::engine::observe_write(
                    self,
                    $crate::engine::rebuild_index(self, reindex).await,
                )
            }

            async fn put_pending(
                &self,
                pending: $crate::PendingEntry,
            ) -> Result<(), $crate::StoreError> {
                $crate::engine::observe_write(
                    self,
                    $crate::engine::put_pending(self, pending).await,
                )
            }

            async fn get_pending(
                &self,
                token: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Option<$crate::PendingEntry>, $crate::StoreError> {
                $crate::engine::get_pending(self, token, now).await
            }

            async fn delete_pending(&self, token: &str) -> Result<bool, $crate::StoreError> {
                $crate::engine::observe_write(
                    self,
                    $crate::engine::delete_pending(self, token).await,
                )
            }

            async fn purge_pending(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, $crate::StoreError> {
                $crate::engine::observe_write(self, $crate::engine::purge_pending(self, now).await)
            }

            async fn count(&self) -> Result<u64, $crate::StoreError> {
                $crate::engine::count(self).await
            }

            async fn binding(
                &self,
                email: &str,
            ) -> Result<Option<$crate::EndorserBinding>, $crate::StoreError> {
                $crate::engine::binding(self, email).await
            }

            async fn rebind(
                &self,
                email: &str,
                binding: Option<$crate::EndorserBinding>,
            ) -> Result<Option<$crate::EndorserBinding>, $crate::StoreError> {
                $crate::engine::observe_write(
                    self,
                    $crate::engine::rebind(self, email, binding).await,
                )
            }

            async fn bind_unbound(
                &self,
                binding: $crate::EndorserBinding,
            ) -> Result<bool, $crate::StoreError> {
                $crate::engine::observe_write(
                    self,
                    $crate::engine::bind_unbound(self, binding).await,
                )
            }

            async fn check_integrity(
                &self,
                thorough: bool,
            ) -> Result<Vec<String>, $crate::StoreError> {
                $crate::sql::Db::integrity(self, thorough).await
            }

            async fn last_sequence(&self) -> Result<Option<i64>, $crate::StoreError> {
                $crate::engine::last_sequence(self).await
            }

            fn write_fault(&self) -> Option<String> {
                $crate::engine::Cached::caches(self).writes.fault()
            }

            async fn probe_write(&self) -> Result<(), $crate::StoreError> {
                $crate::engine::observe_write(self, $crate::engine::probe_write(self).await)
            }

            async fn unbound_endorsers(
                &self,
                limit: u32,
            ) -> Result<Vec<$crate::StoredEntry>, $crate::StoreError> {
                $crate::engine::unbound_endorsers(self, limit).await
            }

            async fn log_size(&self) -> Result<u64, $crate::StoreError> {
                $crate::engine::log::log_size(self).await
            }

            async fn log_hashes(
                &self,
                indexes: &[u64],
            ) -> Result<
                std::collections::HashMap<u64, marketplace_log::tree::Hash>,
                $crate::StoreError,
            > {
                $crate::engine::log::log_hashes(self, indexes).await
            }

            async fn log_leaves(
                &self,
                range: std::ops::Range<u64>,
            ) -> Result<Vec<Vec<u8>>, $crate::StoreError> {
                $crate::engine::log::log_leaves(self, range).await
            }

            async fn log_positions(
                &self,
                range: std::ops::Range<u64>,
            ) -> Result<Vec<$crate::LogPosition>, $crate::StoreError> {
                $crate::engine::log::log_positions(self, range).await
            }

            async fn put_logged(
                &self,
                entries: Vec<($crate::NewEntry, $crate::LogPosition)>,
            ) -> Result<(), $crate::StoreError> {
                $crate::engine::observe_write(self, $crate::engine::put_logged(self, entries).await)
            }

            async fn log_position(
                &self,
                key: &$crate::EntryKey,
            ) -> Result<Option<$crate::LogPosition>, $crate::StoreError> {
                $crate::engine::log::log_position(self, key).await
            }

            async fn latest_checkpoint(
                &self,
            ) -> Result<Option<$crate::StoredCheckpoint>, $crate::StoreError> {
                $crate::engine::log::latest_checkpoint(self).await
            }

            async fn record_checkpoint(
                &self,
                size: u64,
                note: &str,
            ) -> Result<$crate::StoredCheckpoint, $crate::StoreError> {
                $crate::engine::log::record_checkpoint(self, size, note).await
            }

            async fn claim_log_key(&self, verifier_key: &str) -> Result<(), $crate::StoreError> {
                $crate::engine::log::claim_log_key(self, verifier_key).await
            }

            async fn record_cosignature(
                &self,
                size: u64,
                witness: &str,
                line: &str,
            ) -> Result<(), $crate::StoreError> {
                $crate::engine::log::record_cosignature(self, size, witness, line).await
            }

            async fn cosignatures(&self, size: u64) -> Result<Vec<String>, $crate::StoreError> {
                $crate::engine::log::cosignatures(self, size).await
            }

            async fn first_cosigned_checkpoint(
                &self,
                index: u64,
            ) -> Result<Option<$crate::StoredCheckpoint>, $crate::StoreError> {
                $crate::engine::log::first_cosigned_checkpoint(self, index).await
            }

            async fn witnessed(
                &self,
                origin: &str,
            ) -> Result<Option<$crate::StoredCheckpoint>, $crate::StoreError> {
                $crate::engine::log::witnessed(self, origin).await
            }

            async fn advance_witnessed(
                &self,
                origin: &str,
                old: u64,
                size: u64,
                note: &str,
            ) -> Result<Option<u64>, $crate::StoreError> {
                $crate::engine::log::advance_witnessed(self, origin, old, size, note).await
            }
        }
    };
}

pub(crate) use impl_store;
