//! The checks of a put, apart from the database: given what is stored of
//! a batch's pairs, the outcome of each entry and what the writes must
//! change. A pure function, so that every outcome is tested without a
//! database.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::index::Indexed;
use crate::model::{Continuity, EndorserBinding, NewEntry};
use crate::{PutOutcome, StoreError};

/// How a put keeps the endorser bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bindings {
    /// [`crate::Store::put`]: an entry must continue its e-mail's binding
    /// (and binds an unbound e-mail).
    Enforce,
    /// [`crate::Store::put_many`] (the operator's import): every entry is
    /// kept, and each e-mail is bound to the signer of its newest entry
    /// (a binding made by hand stays).
    Adopt,
}

/// A stored entry of one of a batch's pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StoredRow {
    /// Its sequence.
    pub(super) seq: i64,
    /// The SHA-256 of its document.
    pub(super) sha256: String,
    /// Whether it holds its pair's latest flag.
    pub(super) latest: bool,
}

/// What is stored of a batch's pairs, as the put read it inside its
/// transaction.
#[derive(Debug, Default)]
pub(super) struct Stored {
    /// By (identifier, email, created): the latest entry of each pair, and
    /// any entry with the coordinates of one of the batch's.
    pub(super) rows: HashMap<(String, String, String), StoredRow>,
    /// The bindings of the batch's e-mails, by e-mail in lower case.
    pub(super) bound: HashMap<String, EndorserBinding>,
}

/// What the checks read of an entry's derived fields: the digest of its
/// document (the same bytes are the same entry).
pub(super) trait Digest {
    /// The lowercase hex SHA-256 of the document.
    fn sha256(&self) -> &str;
}

impl Digest for Indexed {
    fn sha256(&self) -> &str {
        &self.document_sha256
    }
}

/// An entry the put stores.
#[derive(Debug)]
pub(super) struct Created<'a, X> {
    /// The entry.
    pub(super) entry: &'a NewEntry,
    /// Its derived fields.
    pub(super) derived: X,
    /// Whether it holds its pair's latest flag once the batch is in.
    pub(super) latest: bool,
}

/// The outcome of a batch's checks.
#[derive(Debug)]
pub(super) struct Decision<'a, X> {
    /// The outcome of each entry, in batch order.
    pub(super) outcomes: Vec<Result<PutOutcome, StoreError>>,
    /// The entries to store, in batch order.
    pub(super) created: Vec<Created<'a, X>>,
    /// The sequences of stored entries whose latest flag an entry of the
    /// batch takes.
    pub(super) displaced: Vec<i64>,
    /// The bindings to write, in e-mail order.
    pub(super) rebound: Vec<EndorserBinding>,
}

/// Where the latest entry of a pair is, while a batch is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Latest {
    /// Stored before, with this sequence.
    Stored(i64),
    /// The batch's entry at this index.
    Batch(usize),
}

/// The checks of [`crate::Store::put`] for each entry of `batch` in order,
/// each seeing the outcome of those before it (see [`Checks::check`]).
/// `batch` pairs each entry with its derived fields (or why they could not
/// be derived: that entry's outcome); `since` is the instant a binding
/// made now records.
pub(super) fn decide<X: Digest>(
    stored: Stored,
    batch: Vec<(&NewEntry, Result<X, StoreError>)>,
    bindings: Bindings,
    since: DateTime<Utc>,
) -> Decision<'_, X> {
    let mut checks = Checks::new(stored, bindings, since);
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut created: Vec<(usize, &NewEntry, X)> = Vec::new();
    for (i, (entry, derived)) in batch.into_iter().enumerate() {
        match derived {
            Err(e) => outcomes.push(Err(e)),
            Ok(derived) => {
                let outcome = checks.check(i, entry, derived.sha256());
                if matches!(outcome, Ok(PutOutcome::Created)) {
                    created.push((i, entry, derived));
                }
                outcomes.push(outcome);
            }
        }
    }
    let created = created
        .into_iter()
        .map(|(i, entry, derived)| Created {
            latest: checks.is_latest(i, entry),
            entry,
            derived,
        })
        .collect();
    let mut rebound: Vec<EndorserBinding> = checks.rebound.into_values().collect();
    rebound.sort_by(|a, b| a.email.cmp(&b.email));
    Decision {
        outcomes,
        created,
        displaced: checks.displaced,
        rebound,
    }
}

/// What the checks of a batch have seen so far: the stored entries and
/// bindings, updated by each entry the batch creates.
struct Checks {
    /// How the bindings are kept.
    bindings: Bindings,
    /// The instant a binding made now records.
    since: DateTime<Utc>,
    /// The binding of each e-mail (lower case).
    bound: HashMap<String, EndorserBinding>,
    /// The bindings made or moved by the batch.
    rebound: HashMap<String, EndorserBinding>,
    /// The `created` of each pair's latest entry, and where it is.
    latest: HashMap<(String, String), (String, Latest)>,
    /// The document digest at each coordinates.
    exact: HashMap<(String, String, String), String>,
    /// The stored entries whose latest flag an entry of the batch takes.
    displaced: Vec<i64>,
}

impl Checks {
    /// The checks of a batch over `stored`.
    fn new(stored: Stored, bindings: Bindings, since: DateTime<Utc>) -> Checks {
        let Stored { rows, bound } = stored;
        let mut latest = HashMap::new();
        let mut exact = HashMap::new();
        for ((identifier, email, created), row) in rows {
            if row.latest {
                latest.insert(
                    (identifier.clone(), email.clone()),
                    (created.clone(), Latest::Stored(row.seq)),
                );
            }
            exact.insert((identifier, email, created), row.sha256);
        }
        Checks {
            bindings,
            since,
            bound,
            rebound: HashMap::new(),
            latest,
            exact,
            displaced: Vec::new(),
        }
    }

    /// The outcome of the batch's entry at index `i`, whose document has
    /// the digest `sha256`: the same document at the same coordinates is
    /// [`PutOutcome::AlreadyPresent`], another document there a
    /// [`StoreError::Conflict`], an entry older than its pair's latest
    /// [`StoreError::OlderThanLatest`], and under [`Bindings::Enforce`] an
    /// entry that breaks its e-mail's binding [`StoreError::EndorserBound`];
    /// otherwise it is [`PutOutcome::Created`] and seen by the checks of
    /// the entries after it.
    fn check(
        &mut self,
        i: usize,
        entry: &NewEntry,
        sha256: &str,
    ) -> Result<PutOutcome, StoreError> {
        let key = &entry.key;
        let coordinates = (
            key.identifier.to_string(),
            key.email.to_string(),
            key.created.to_string(),
        );
        if let Some(sha) = self.exact.get(&coordinates) {
            if sha != sha256 {
                return Err(StoreError::Conflict(key.clone()));
            }
            if self.bindings == Bindings::Adopt {
                adopt(&mut self.bound, &mut self.rebound, entry, self.since);
            }
            return Ok(PutOutcome::AlreadyPresent);
        }
        let pair = (key.identifier.to_string(), key.email.to_string());
        if let Some((newest, _)) = self.latest.get(&pair)
            && newest.as_str() > key.created.as_str()
        {
            return Err(StoreError::OlderThanLatest {
                latest: newest.clone(),
            });
        }
        match self.bindings {
            Bindings::Enforce => {
                enforce(&mut self.bound, &mut self.rebound, entry, self.since)
                    .map_err(StoreError::EndorserBound)?;
            }
            Bindings::Adopt => adopt(&mut self.bound, &mut self.rebound, entry, self.since),
        }
        // Newer than the pair's latest: it takes the flag.
        if let Some((_, Latest::Stored(seq))) = self
            .latest
            .insert(pair, (key.created.to_string(), Latest::Batch(i)))
        {
            self.displaced.push(seq);
        }
        self.exact.insert(coordinates, sha256.to_string());
        Ok(PutOutcome::Created)
    }

    /// Whether the batch's entry at index `i` holds its pair's latest flag
    /// once every entry is checked.
    fn is_latest(&self, i: usize, entry: &NewEntry) -> bool {
        let key = &entry.key;
        self.latest
            .get(&(key.identifier.to_string(), key.email.to_string()))
            .is_some_and(|(_, at)| *at == Latest::Batch(i))
    }
}

/// [`Bindings::Enforce`] for one entry to be created: `Err` with the
/// binding it breaks; a first or renewed binding goes to `rebound`.
fn enforce(
    bound: &mut HashMap<String, EndorserBinding>,
    rebound: &mut HashMap<String, EndorserBinding>,
    entry: &NewEntry,
    since: DateTime<Utc>,
) -> Result<(), Box<EndorserBinding>> {
    let email = entry.key.email.to_ascii_lowercase();
    let continuity = bound
        .get(&email)
        .map(|binding| (binding.continuity(&entry.signer), binding));
    match continuity {
        Some((Continuity::SameKey, _)) => Ok(()),
        Some((Continuity::Broken, binding)) => Err(Box::new(binding.clone())),
        Some((Continuity::Renewed, _)) | None => {
            let binding =
                EndorserBinding::of(&email, &entry.signer, Some(&entry.key.created), since);
            bound.insert(email.clone(), binding.clone());
            rebound.insert(email, binding);
            Ok(())
        }
    }
}

/// [`Bindings::Adopt`] for one entry kept: binds its e-mail to its signer
/// when it is the newest entry seen for the e-mail.
fn adopt(
    bound: &mut HashMap<String, EndorserBinding>,
    rebound: &mut HashMap<String, EndorserBinding>,
    entry: &NewEntry,
    since: DateTime<Utc>,
) {
    let email = entry.key.email.to_ascii_lowercase();
    let newer = match bound.get(&email) {
        None => true,
        Some(binding) => binding
            .created
            .as_deref()
            .is_some_and(|created| created < entry.key.created.as_str()),
    };
    if newer {
        let binding = EndorserBinding::of(&email, &entry.signer, Some(&entry.key.created), since);
        bound.insert(email.clone(), binding.clone());
        rebound.insert(email, binding);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EntryKey, Signer};

    const T0: &str = "2024-01-01T00:00:00Z";
    const T1: &str = "2024-02-01T00:00:00Z";
    const T2: &str = "2024-03-01T00:00:00Z";
    const T3: &str = "2024-04-01T00:00:00Z";
    const IMAGE: &str = "Image1_____________________";
    const EMAIL: &str = "alice@example.org";

    /// The test entries' derived fields are their digests alone.
    impl Digest for &str {
        fn sha256(&self) -> &str {
            self
        }
    }

    fn since() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    /// A self-asserted signer whose key is `key`.
    fn signer(key: &str) -> Signer {
        Signer {
            subject: format!("CN={key}"),
            issuer: "CN=CA".into(),
            key_sha256: key.into(),
            ..Signer::default()
        }
    }

    /// A signer chained to the CA directory, of `subject`, with `key`.
    fn chained(subject: &str, key: &str) -> Signer {
        Signer {
            subject: subject.into(),
            issuer: "CN=CA".into(),
            key_sha256: key.into(),
            chained: true,
            ..Signer::default()
        }
    }

    fn entry(identifier: &str, email: &str, created: &str, signer: Signer) -> NewEntry {
        NewEntry {
            key: EntryKey {
                identifier: identifier.parse().unwrap(),
                email: email.parse().unwrap(),
                created: created.parse().unwrap(),
            },
            document: Vec::new(),
            metadata: Default::default(),
            signer,
        }
    }

    /// `IMAGE` by `EMAIL` at `created`, signed with `k1`.
    fn at(created: &str) -> NewEntry {
        entry(IMAGE, EMAIL, created, signer("k1"))
    }

    /// What is stored: (created, sequence, digest, latest) of `IMAGE` by
    /// `EMAIL`, and the bindings.
    fn stored(rows: &[(&str, i64, &str, bool)], bound: &[EndorserBinding]) -> Stored {
        Stored {
            rows: rows
                .iter()
                .map(|(created, seq, sha, latest)| {
                    let row = StoredRow {
                        seq: *seq,
                        sha256: sha.to_string(),
                        latest: *latest,
                    };
                    ((IMAGE.into(), EMAIL.into(), created.to_string()), row)
                })
                .collect(),
            bound: bound.iter().map(|b| (b.email.clone(), b.clone())).collect(),
        }
    }

    fn binding(signer: &Signer, created: Option<&str>) -> EndorserBinding {
        EndorserBinding::of(EMAIL, signer, created, since())
    }

    fn run<'a>(
        stored: Stored,
        batch: &[(&'a NewEntry, &'static str)],
        bindings: Bindings,
    ) -> Decision<'a, &'static str> {
        let batch = batch.iter().map(|(e, sha)| (*e, Ok(*sha))).collect();
        decide(stored, batch, bindings, since())
    }

    /// The created entries: (created, holds the latest flag).
    fn created(decision: &Decision<'_, &str>) -> Vec<(String, bool)> {
        decision
            .created
            .iter()
            .map(|c| (c.entry.key.created.to_string(), c.latest))
            .collect()
    }

    #[test]
    fn a_first_entry_is_created_latest_and_binds_its_email() {
        let e = entry(IMAGE, "Alice@Example.org", T1, signer("k1"));
        let d = run(Stored::default(), &[(&e, "d1")], Bindings::Enforce);
        assert!(matches!(d.outcomes[..], [Ok(PutOutcome::Created)]));
        assert_eq!(created(&d), [(T1.to_string(), true)]);
        assert!(d.displaced.is_empty());
        // Bound under the e-mail in lower case, to the entry's signer.
        assert_eq!(d.rebound, [binding(&signer("k1"), Some(T1))]);
        assert_eq!(d.rebound[0].email, EMAIL);
    }

    #[test]
    fn a_newer_entry_takes_the_latest_flag_from_the_stored_one() {
        let s = stored(&[(T1, 7, "d1", true)], &[binding(&signer("k1"), Some(T1))]);
        let e = at(T2);
        let d = run(s, &[(&e, "d2")], Bindings::Enforce);
        assert!(matches!(d.outcomes[..], [Ok(PutOutcome::Created)]));
        assert_eq!(created(&d), [(T2.to_string(), true)]);
        assert_eq!(d.displaced, [7]);
        // The same key: the binding stays as it is.
        assert!(d.rebound.is_empty());
    }

    #[test]
    fn the_same_document_again_is_already_present() {
        let s = stored(&[(T1, 7, "d1", true)], &[binding(&signer("k1"), Some(T1))]);
        let e = at(T1);
        let d = run(s, &[(&e, "d1")], Bindings::Enforce);
        assert!(matches!(d.outcomes[..], [Ok(PutOutcome::AlreadyPresent)]));
        assert!(d.created.is_empty());
        assert!(d.displaced.is_empty());
        assert!(d.rebound.is_empty());
    }

    #[test]
    fn a_historical_entry_again_is_already_present_not_older() {
        let s = stored(&[(T1, 7, "d1", false), (T2, 8, "d2", true)], &[]);
        let e = at(T1);
        let d = run(s, &[(&e, "d1")], Bindings::Enforce);
        assert!(matches!(d.outcomes[..], [Ok(PutOutcome::AlreadyPresent)]));
        assert!(d.created.is_empty());
    }

    #[test]
    fn another_document_at_the_same_coordinates_is_a_conflict() {
        let s = stored(&[(T1, 7, "d1", true)], &[]);
        let e = at(T1);
        let d = run(s, &[(&e, "other")], Bindings::Enforce);
        assert!(
            matches!(&d.outcomes[..], [Err(StoreError::Conflict(key))] if *key == e.key),
            "{:?}",
            d.outcomes
        );
        assert!(d.created.is_empty());
        assert!(d.displaced.is_empty());
        assert!(d.rebound.is_empty());
    }

    #[test]
    fn an_entry_older_than_the_latest_is_refused() {
        // The latest is T2; T0 and T1 are not stored, only older.
        let s = stored(&[(T2, 8, "d2", true)], &[]);
        let (old, older) = (at(T1), at(T0));
        let d = run(s, &[(&old, "d1"), (&older, "d0")], Bindings::Adopt);
        for outcome in &d.outcomes {
            assert!(
                matches!(outcome, Err(StoreError::OlderThanLatest { latest }) if latest == T2),
                "{outcome:?}"
            );
        }
        assert!(d.created.is_empty());
        assert!(d.displaced.is_empty());
        assert!(d.rebound.is_empty());
    }

    #[test]
    fn another_key_breaks_the_binding() {
        let bound = binding(&signer("k1"), Some(T1));
        let s = stored(&[(T1, 7, "d1", true)], std::slice::from_ref(&bound));
        let e = entry(IMAGE, EMAIL, T2, signer("k2"));
        let d = run(s, &[(&e, "d2")], Bindings::Enforce);
        assert!(
            matches!(&d.outcomes[..], [Err(StoreError::EndorserBound(b))] if **b == bound),
            "{:?}",
            d.outcomes
        );
        assert!(d.created.is_empty());
        assert!(d.displaced.is_empty());
        assert!(d.rebound.is_empty());
    }

    #[test]
    fn a_subject_that_is_not_chained_breaks_the_binding() {
        // The same subject, but self-asserted: no renewal.
        let bound = binding(&chained("CN=alice", "k1"), Some(T1));
        let s = stored(&[], std::slice::from_ref(&bound));
        let mut unchained = chained("CN=alice", "k2");
        unchained.chained = false;
        let e = entry(IMAGE, EMAIL, T2, unchained);
        let d = run(s, &[(&e, "d2")], Bindings::Enforce);
        assert!(matches!(&d.outcomes[..], [Err(StoreError::EndorserBound(b))] if **b == bound));
    }

    #[test]
    fn a_renewed_certificate_moves_the_binding() {
        let bound = binding(&chained("CN=alice", "k1"), Some(T1));
        let s = stored(&[(T1, 7, "d1", true)], &[bound]);
        let renewed = chained("CN=alice", "k2");
        let e = entry(IMAGE, EMAIL, T2, renewed.clone());
        let d = run(s, &[(&e, "d2")], Bindings::Enforce);
        assert!(matches!(d.outcomes[..], [Ok(PutOutcome::Created)]));
        assert_eq!(d.rebound, [binding(&renewed, Some(T2))]);
    }

    #[test]
    fn a_binding_made_in_the_batch_holds_for_the_rest_of_it() {
        let first = entry(IMAGE, EMAIL, T1, signer("k1"));
        let second = entry(
            "Image2_____________________",
            "ALICE@example.org",
            T1,
            signer("k2"),
        );
        let d = run(
            Stored::default(),
            &[(&first, "d1"), (&second, "d2")],
            Bindings::Enforce,
        );
        let made = binding(&signer("k1"), Some(T1));
        assert!(matches!(d.outcomes[0], Ok(PutOutcome::Created)));
        assert!(
            matches!(&d.outcomes[1], Err(StoreError::EndorserBound(b)) if **b == made),
            "{:?}",
            d.outcomes
        );
        assert_eq!(d.rebound, [made]);
    }

    #[test]
    fn an_import_keeps_every_entry_and_binds_the_newest() {
        let s = stored(&[], &[binding(&signer("k1"), Some(T2))]);
        // Older than the bound entry: kept, the binding stays.
        let old = entry(IMAGE, EMAIL, T1, signer("k2"));
        // Newer, with another key: kept, and the binding moves.
        let new = entry("Image2_____________________", EMAIL, T3, signer("k3"));
        let d = run(s, &[(&old, "d1"), (&new, "d3")], Bindings::Adopt);
        assert!(matches!(
            d.outcomes[..],
            [Ok(PutOutcome::Created), Ok(PutOutcome::Created)]
        ));
        assert_eq!(d.rebound, [binding(&signer("k3"), Some(T3))]);
    }

    #[test]
    fn an_import_leaves_a_binding_made_by_hand() {
        let s = stored(&[], &[binding(&signer("k1"), None)]);
        let e = entry(IMAGE, EMAIL, T3, signer("k2"));
        let d = run(s, &[(&e, "d3")], Bindings::Adopt);
        assert!(matches!(d.outcomes[..], [Ok(PutOutcome::Created)]));
        assert!(d.rebound.is_empty());
    }

    #[test]
    fn an_already_present_entry_binds_on_import_only() {
        let rows = [(T1, 7, "d1", true)];
        let e = entry(IMAGE, EMAIL, T1, signer("k1"));
        let d = run(stored(&rows, &[]), &[(&e, "d1")], Bindings::Adopt);
        assert!(matches!(d.outcomes[..], [Ok(PutOutcome::AlreadyPresent)]));
        assert_eq!(d.rebound, [binding(&signer("k1"), Some(T1))]);
        let d = run(stored(&rows, &[]), &[(&e, "d1")], Bindings::Enforce);
        assert!(matches!(d.outcomes[..], [Ok(PutOutcome::AlreadyPresent)]));
        assert!(d.rebound.is_empty());
    }

    #[test]
    fn a_batch_sees_its_own_entries() {
        let s = stored(&[(T0, 3, "d0", true)], &[]);
        let (first, newer) = (at(T1), at(T2));
        let (again, other, older) = (at(T1), at(T1), at(T0));
        let d = run(
            s,
            &[
                (&first, "d1"),
                (&newer, "d2"),
                (&again, "d1"),
                (&other, "x"),
                (&older, "y"),
            ],
            Bindings::Enforce,
        );
        assert!(matches!(d.outcomes[0], Ok(PutOutcome::Created)));
        assert!(matches!(d.outcomes[1], Ok(PutOutcome::Created)));
        assert!(matches!(d.outcomes[2], Ok(PutOutcome::AlreadyPresent)));
        assert!(matches!(&d.outcomes[3], Err(StoreError::Conflict(key)) if *key == other.key));
        // Stored at T0 with another document: a conflict, not older.
        assert!(matches!(&d.outcomes[4], Err(StoreError::Conflict(key)) if *key == older.key));
        // The newest of the batch holds the flag; the stored latest lost it
        // once.
        assert_eq!(created(&d), [(T1.into(), false), (T2.into(), true)]);
        assert_eq!(d.displaced, [3]);
        let older_than_newer = at(T1);
        let s = stored(&[], &[]);
        let d = run(
            s,
            &[(&newer, "d2"), (&older_than_newer, "d1")],
            Bindings::Enforce,
        );
        assert!(
            matches!(&d.outcomes[1], Err(StoreError::OlderThanLatest { latest }) if latest == T2)
        );
        assert_eq!(created(&d), [(T2.into(), true)]);
    }

    #[test]
    fn an_entry_without_derived_fields_keeps_its_error_and_counts_for_nothing() {
        let (broken, older) = (at(T2), at(T1));
        let batch = vec![
            (&broken, Err(StoreError::InvalidQuery("unreadable".into()))),
            (&older, Ok("d1")),
        ];
        let d = decide(Stored::default(), batch, Bindings::Enforce, since());
        assert!(
            matches!(&d.outcomes[0], Err(StoreError::InvalidQuery(why)) if why == "unreadable")
        );
        // Not older than the entry that failed: that one was never seen.
        assert!(matches!(d.outcomes[1], Ok(PutOutcome::Created)));
        assert_eq!(created(&d), [(T1.into(), true)]);
    }
}
