//! OAI-PMH 2.0 as a node serves it: reading requests ([`request`]), the
//! protocol's errors ([`error`]), the response envelope ([`response`]), the
//! sets ([`sets`]) and the metadata formats a record is disseminated in
//! ([`formats`]): Dublin Core (`oai_dc`) and the OpenAIRE Guidelines for CRIS
//! Managers 1.2 (`oai_cerif_openaire`). It knows nothing of databases or
//! HTTP; the node's harvesting endpoint puts it to work.

#![forbid(unsafe_code)]

pub mod error;
pub mod formats;
pub mod request;
pub mod response;
pub mod sets;
pub mod xml;

pub use error::{ErrorCode, OaiError};
pub use request::{Datestamp, ListSelection, Request, Verb};
