//! The StratusLab image metadata document.
//!
//! This crate knows the *format*: the RDF/XML document that describes one
//! virtual-machine image (its size, checksums, operating system, locations and
//! the endorsement of whoever vouches for it). It turns bytes into a typed
//! [`Metadata`] value ([`parse()`]), reports every problem a document has with
//! the element and rule it breaks ([`Problem`]), writes new documents
//! ([`write::to_xml`]), converts between SHA-1 checksums and image
//! identifiers ([`identifier`]) and gives the coordinates that name an entry
//! their types ([`Identifier`], [`Email`], [`Created`]).
//!
//! It knows nothing about signatures or certificates: that is the job of the
//! `marketplace-trust` crate, which strips and checks the `ds:Signature`
//! before and after this crate reads the rest.

mod build;
mod compat;
pub mod coordinates;
pub mod datetime;
pub mod edit;
mod graph;
pub mod identifier;
pub mod limits;
mod lines;
pub mod markup;
pub mod model;
pub mod ns;
pub mod parse;
pub mod problem;
pub mod rdfjson;
pub mod status;
mod terms;
pub mod write;

pub use coordinates::{CoordinateError, Created, Email, Identifier};
pub use limits::{FIELD_LIMITS, FieldLimit};
pub use model::{Algorithm, Checksum, Endorsement, Endorser, Metadata};
pub use parse::{MAX_DOCUMENT_BYTES, MAX_NOTES, MAX_PROBLEMS, ParsedDocument, parse};
pub use problem::{Note, Problem, Rule};
pub use status::Status;
pub use terms::is_valid_email;
