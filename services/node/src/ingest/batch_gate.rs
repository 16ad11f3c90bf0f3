//! Counts an ingest request's items in its wire bytes before anything is
//! decoded. Decoding makes structs of messages, and an empty item is two
//! bytes on the wire but a few hundred in memory: a request of 16 MiB of
//! empty items would decode into gigabytes. A request over [`MAX_BATCH`]
//! items, or not well-formed, is refused here; the rest decode as usual.
//!
//! The same count guards the JSON form ([`json_items`]).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body_util::BodyExt;
use tonic::Status;
use tonic::body::Body;
use tonic::server::NamedService;
use tower::Service;

use super::MAX_BATCH;

/// The `items` field of both requests.
const ITEMS_FIELD: u64 = 2;

/// Wraps the Ingest service.
#[derive(Clone)]
pub struct BatchGate<S> {
    inner: S,
    max_bytes: usize,
}

impl<S> BatchGate<S> {
    /// `max_bytes`: the largest request message (`ingest.max_request_bytes`).
    pub fn new(inner: S, max_bytes: usize) -> BatchGate<S> {
        BatchGate { inner, max_bytes }
    }
}

impl<S: NamedService> NamedService for BatchGate<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<Body>> for BatchGate<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // The clone that was polled ready serves this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        // The gRPC frame header (5 bytes) on top of the message.
        let limit = self.max_bytes.saturating_add(5);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let bytes = match http_body_util::Limited::new(body, limit).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => {
                    return Ok(Status::resource_exhausted(format!(
                        "the request is over {limit} bytes (ingest.max_request_bytes); send \
                         fewer records per call"
                    ))
                    .into_http());
                }
            };
            if let Err(status) = check_frames(&bytes) {
                return Ok(status.into_http());
            }
            let request =
                http::Request::from_parts(parts, Body::new(http_body_util::Full::new(bytes)));
            inner.call(request).await
        })
    }
}

/// Every gRPC frame of the body: uncompressed, and at most [`MAX_BATCH`]
/// items.
fn check_frames(mut bytes: &[u8]) -> Result<(), Status> {
    while !bytes.is_empty() {
        let malformed =
            || Status::invalid_argument("the request is not a well-formed gRPC message");
        let (header, rest) = bytes.split_at_checked(5).ok_or_else(malformed)?;
        if header[0] != 0 {
            return Err(Status::unimplemented(
                "compressed requests are not accepted; send them uncompressed",
            ));
        }
        let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let (message, rest) = rest.split_at_checked(length).ok_or_else(malformed)?;
        count_items(message)?;
        bytes = rest;
    }
    Ok(())
}

/// Walks the top-level fields of an encoded request, counting its items.
fn count_items(message: &[u8]) -> Result<usize, Status> {
    let malformed =
        || Status::invalid_argument("the request is not a well-formed protobuf message");
    let mut at = 0usize;
    let mut items = 0usize;
    while at < message.len() {
        let (tag, used) = varint(&message[at..]).ok_or_else(malformed)?;
        at += used;
        match tag & 7 {
            0 => at += varint(&message[at..]).ok_or_else(malformed)?.1,
            1 => at += 8,
            2 => {
                let (length, used) = varint(&message[at..]).ok_or_else(malformed)?;
                at = at
                    .checked_add(used)
                    .and_then(|at| at.checked_add(usize::try_from(length).ok()?))
                    .ok_or_else(malformed)?;
                if tag >> 3 == ITEMS_FIELD {
                    items += 1;
                    if items > MAX_BATCH {
                        return Err(too_many());
                    }
                }
            }
            5 => at += 4,
            _ => return Err(malformed()),
        }
        if at > message.len() {
            return Err(malformed());
        }
    }
    Ok(items)
}

fn too_many() -> Status {
    Status::invalid_argument(format!(
        "items: over the limit of {MAX_BATCH} in one call; split the batch"
    ))
}

/// A protobuf varint and the bytes it took.
fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (index, byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Some((value, index + 1));
        }
    }
    None
}

/// The JSON form's check: at most [`MAX_BATCH`] items, counted without
/// building them.
pub fn json_items(body: &[u8]) -> Result<(), Status> {
    use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};

    /// The items, counted and dropped.
    struct Count;
    impl<'de> serde::Deserialize<'de> for Count {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Count, D::Error> {
            struct Counting;
            impl<'de> Visitor<'de> for Counting {
                type Value = Count;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a list of items")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                    let mut count = 0;
                    while seq.next_element::<IgnoredAny>()?.is_some() {
                        count += 1;
                        if count > MAX_BATCH {
                            return Err(serde::de::Error::custom("too many items"));
                        }
                    }
                    Ok(Count)
                }
                fn visit_unit<E>(self) -> Result<Count, E> {
                    Ok(Count)
                }
            }
            deserializer.deserialize_any(Counting)
        }
    }
    #[derive(serde::Deserialize)]
    struct Items {
        #[serde(default, rename = "items")]
        _items: Option<Count>,
    }
    match serde_json::from_slice::<Items>(body) {
        Ok(_) => Ok(()),
        Err(error) if error.to_string().starts_with("too many items") => Err(too_many()),
        // Not JSON of the right shape: the full parse says how.
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lienthong_proto::v1 as pb;
    use prost::Message;

    fn framed(message: &impl Message) -> Vec<u8> {
        let encoded = message.encode_to_vec();
        let mut framed = vec![0];
        framed.extend((encoded.len() as u32).to_be_bytes());
        framed.extend(encoded);
        framed
    }

    #[test]
    fn items_are_counted_in_the_wire_bytes() {
        let request = |n: usize| pb::UpsertRequest {
            idempotency_key: "k".into(),
            items: vec![pb::UpsertItem::default(); n],
            atomic: true,
        };
        assert!(check_frames(&framed(&request(MAX_BATCH))).is_ok());
        let refused = check_frames(&framed(&request(MAX_BATCH + 1))).expect_err("1,001");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        // A message whose tail does not parse is refused, not passed on.
        let mut message = request(3).encode_to_vec();
        message.extend([0x12, 0xff]);
        let mut broken = vec![0];
        broken.extend((message.len() as u32).to_be_bytes());
        broken.extend(message);
        assert!(check_frames(&broken).is_err());
        let json = format!("{{\"items\": [{}]}}", vec!["{}"; MAX_BATCH + 1].join(","));
        assert!(json_items(json.as_bytes()).is_err());
        assert!(json_items(b"{\"items\": [{}, {}]}").is_ok());
    }
}
