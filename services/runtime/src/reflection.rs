//! gRPC server reflection, v1 and v1alpha, over the descriptor sets a server
//! serves, so that grpcurl and other tools can list and call its services.

use tonic_reflection::server::{v1, v1alpha};

/// Both versions of the reflection service for `descriptor_sets`.
pub fn services(
    descriptor_sets: &[&'static [u8]],
) -> Result<
    (
        v1::ServerReflectionServer<impl v1::ServerReflection>,
        v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection>,
    ),
    String,
> {
    let builder = || {
        descriptor_sets.iter().fold(
            tonic_reflection::server::Builder::configure(),
            |builder, set| builder.register_encoded_file_descriptor_set(set),
        )
    };
    let v1 = builder()
        .build_v1()
        .map_err(|error| format!("reflection: {error}"))?;
    let v1alpha = builder()
        .build_v1alpha()
        .map_err(|error| format!("reflection: {error}"))?;
    Ok((v1, v1alpha))
}
