//! Why a federated request failed, and the one place such failures become
//! gRPC statuses (the HTTP API renders those statuses as JSON in turn).

use tonic::Status;

/// A failed request. Per-node failures that leave the request answerable are
/// not errors: they are reported in the response's node statuses.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The request is malformed; the message says what to fix.
    #[error("{0}")]
    InvalidArgument(String),
    /// The request asks for more than the gateway allows.
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    NotFound(String),
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// The user's role does not allow the operation.
    #[error("{0}")]
    PermissionDenied(String),
    /// The user is over their request budget.
    #[error("{0}")]
    RateLimited(String),
    /// Nodes the request needs did not answer.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    DeadlineExceeded(String),
    /// A node refused the request itself (a bad query, an unknown id): every
    /// node would say the same, so the caller gets the node's answer.
    #[error("node {node}: {}", refusal.message())]
    RefusedByNode { node: String, refusal: Status },
}

impl From<RequestError> for Status {
    fn from(error: RequestError) -> Status {
        let message = error.to_string();
        match error {
            RequestError::InvalidArgument(_) => Status::invalid_argument(message),
            RequestError::LimitExceeded(_) => Status::resource_exhausted(message),
            RequestError::NotFound(_) => Status::not_found(message),
            RequestError::Unauthenticated(_) => Status::unauthenticated(message),
            RequestError::PermissionDenied(_) => Status::permission_denied(message),
            RequestError::RateLimited(_) => Status::resource_exhausted(message),
            RequestError::Unavailable(_) => Status::unavailable(message),
            RequestError::DeadlineExceeded(_) => Status::deadline_exceeded(message),
            RequestError::RefusedByNode { refusal, .. } => Status::new(refusal.code(), message),
        }
    }
}
