//! Compiles `lienthong/v1/*.proto` in pure Rust (protox), so that a fresh machine
//! needs nothing but cargo. Writes the descriptor set for server reflection and
//! the serde impls that follow the protobuf JSON mapping.

use std::path::PathBuf;

use prost::Message;

const PROTOS: &[&str] = &[
    "lienthong/v1/records.proto",
    "lienthong/v1/node.proto",
    "lienthong/v1/federation.proto",
    "lienthong/v1/ingest.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }

    let descriptors = protox::compile(PROTOS, ["."])?;
    let descriptor_bytes = descriptors.encode_to_vec();
    std::fs::write(out_dir.join("lienthong_descriptor.bin"), &descriptor_bytes)?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;

    pbjson_build::Builder::new()
        .register_descriptors(&descriptor_bytes)?
        .build(&[".lienthong.v1"])?;
    Ok(())
}
