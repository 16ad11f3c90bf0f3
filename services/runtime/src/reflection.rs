//! gRPC server reflection, v1 and v1alpha, over the descriptor sets a server
//! serves, so that grpcurl and other tools can list and call its services.

use std::collections::HashSet;

use prost::Message;
use prost_types::FileDescriptorSet;
use tonic_reflection::server::{v1, v1alpha};

/// Both versions of the reflection service for `descriptor_sets`,
/// advertising `served` (fully qualified service names, e.g.
/// `lienthong.v1.ProvinceNode`) and reflection itself, nothing else the
/// descriptor sets happen to hold.
pub fn services(
    descriptor_sets: &[&'static [u8]],
    served: &[&str],
) -> Result<
    (
        v1::ServerReflectionServer<impl v1::ServerReflection>,
        v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection>,
    ),
    String,
> {
    let builder = || {
        let builder = descriptor_sets.iter().fold(
            tonic_reflection::server::Builder::configure(),
            |builder, set| builder.register_encoded_file_descriptor_set(set),
        );
        served
            .iter()
            .copied()
            .chain(REFLECTION_SERVICES)
            .fold(builder, |builder, name| builder.with_service_name(name))
    };
    let v1 = builder()
        .build_v1()
        .map_err(|error| format!("reflection: {error}"))?;
    let v1alpha = builder()
        .build_v1alpha()
        .map_err(|error| format!("reflection: {error}"))?;
    Ok((v1, v1alpha))
}

/// The reflection services' names.
const REFLECTION_SERVICES: [&str; 2] = [
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// The reflection services' own method paths.
const REFLECTION_METHODS: [&str; 2] = [
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// Every method path (`/package.Service/Method`) of the `served` services
/// found in `descriptor_sets`, plus reflection's: the calls a server answers.
/// Anything else is an invented path.
pub fn method_paths(descriptor_sets: &[&[u8]], served: &[&str]) -> Result<HashSet<String>, String> {
    let mut paths: HashSet<String> = REFLECTION_METHODS.iter().map(|p| (*p).to_owned()).collect();
    for set in descriptor_sets {
        let set = FileDescriptorSet::decode(*set)
            .map_err(|error| format!("descriptor set does not decode: {error}"))?;
        for file in set.file {
            let package = file.package.unwrap_or_default();
            for service in file.service {
                let service_name = service.name.unwrap_or_default();
                let qualified = if package.is_empty() {
                    service_name
                } else {
                    format!("{package}.{service_name}")
                };
                if !served.contains(&qualified.as_str()) {
                    continue;
                }
                for method in service.method {
                    paths.insert(format!("/{qualified}/{}", method.name.unwrap_or_default()));
                }
            }
        }
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_paths_list_health_and_reflection() {
        let paths = method_paths(
            &[tonic_health::pb::FILE_DESCRIPTOR_SET],
            &["grpc.health.v1.Health"],
        )
        .unwrap();
        assert!(paths.contains("/grpc.health.v1.Health/Check"), "{paths:?}");
        let none = method_paths(&[tonic_health::pb::FILE_DESCRIPTOR_SET], &[]).unwrap();
        assert!(!none.contains("/grpc.health.v1.Health/Check"), "not served");
        assert!(paths.contains(REFLECTION_METHODS[0]));
        assert!(!paths.contains("/grpc.health.v1.Health/Invented"));
    }
}
