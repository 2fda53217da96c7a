//! The transparency log as the server runs it: [`signer`] keeps and signs
//! checkpoints (an upload is answered once one covers its entry),
//! [`routes`] serves the C2SP checkpoint, verifier key and tiles under
//! `/log`, and [`proofs`] runs the tree computations on the store's hashes.
//! [`cosigner`] submits checkpoints to the log's witnesses and keeps their
//! cosignatures, and [`witness`] makes this server a witness of other logs.
//! The JSON views (proofs, receipts) are the API's (`crate::api::log`).

pub(crate) mod cosigner;
pub(crate) mod kept_bodies;
pub mod proofs;
pub(crate) mod routes;
pub mod signer;
pub(crate) mod witness;
