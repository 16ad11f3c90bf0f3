//! Bringing departments' records in. So far: reading the legacy Vietnamese
//! encodings their older files use ([`legacy_encoding`]).

#![forbid(unsafe_code)]

pub mod legacy_encoding;
mod legacy_tables;
