//! The one place where store errors become gRPC statuses. Internal details are
//! logged where they happen and never sent to callers.

use lienthong_store::StoreError;
use tonic::Status;

/// Maps a store error to the status a caller can act on.
pub fn to_status(error: StoreError) -> Status {
    match error {
        StoreError::InvalidArgument(message) => Status::invalid_argument(message),
        StoreError::LimitExceeded(message) => Status::resource_exhausted(message),
        StoreError::InvalidRecord(error) => Status::invalid_argument(error.to_string()),
        StoreError::NotFound(id) => Status::not_found(format!("no record with id {id}")),
        StoreError::Unavailable(message) => Status::unavailable(message),
        StoreError::Conflict(message) => Status::aborted(message),
        StoreError::Config(_) | StoreError::Internal => {
            Status::internal("internal error; the node's log has the details")
        }
    }
}
