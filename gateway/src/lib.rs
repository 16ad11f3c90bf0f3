//! The federation gateway of Liên thông.
//!
//! It will ask every province node in parallel, merge their ranked answers
//! (nodes score hits on a common scale, see `lienthong.v1.HitRank`), and report
//! per node whether it answered. It speaks to nodes only over gRPC, never to
//! their databases. Not yet implemented: this crate reserves its place in the
//! workspace.

#![forbid(unsafe_code)]
