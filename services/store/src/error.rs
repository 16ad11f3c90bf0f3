//! The store's error vocabulary. Database errors become [`StoreError::Internal`]
//! here, at the store boundary: their raw text is logged, never shown to callers.

use lienthong_records::RecordError;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A search request that cannot be run as given.
    #[error("{0}")]
    InvalidArgument(String),
    /// A request over a documented limit (query length, page size).
    #[error("{0}")]
    LimitExceeded(String),
    /// A record that fails validation.
    #[error(transparent)]
    InvalidRecord(#[from] RecordError),
    /// No record with this id.
    #[error("no record with id {0}")]
    NotFound(String),
    /// The store cannot work with this configuration or database.
    #[error("{0}")]
    Config(String),
    /// The state changed under the caller (another process); try again.
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    /// A database failure; the details are in the log.
    #[error("internal storage error")]
    Internal,
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(%error, "database unavailable");
                StoreError::Unavailable("the database is not reachable; try again".into())
            }
            error => {
                tracing::error!(%error, "database error");
                StoreError::Internal
            }
        }
    }
}

impl From<prost::DecodeError> for StoreError {
    fn from(error: prost::DecodeError) -> Self {
        tracing::error!(%error, "stored record body does not decode");
        StoreError::Internal
    }
}
