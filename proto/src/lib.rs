//! The gRPC contract of Liên thông: records, the province node service, the
//! federation gateway service, and the encoded descriptor set that server
//! reflection serves.
//!
//! Generated code lives in `OUT_DIR` and is never edited by hand; change the
//! `.proto` files instead.

#![forbid(unsafe_code)]

/// Package `lienthong.v1`.
#[allow(clippy::all, missing_docs)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/lienthong.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/lienthong.v1.serde.rs"));
}

/// Encoded `FileDescriptorSet` of every lienthong `.proto` file, for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/lienthong_descriptor.bin"));
