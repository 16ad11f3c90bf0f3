//! `lienthong.v1.Ingest`: a department's own management system keeps its
//! node current (docs/ingest.md). Served over gRPC and, for systems that
//! cannot speak it, as JSON on the HTTPS listener ([`http`]); both go
//! through [`Writer`].
//!
//! What a call costs before it is let in: the peer gate refuses any caller
//! whose certificate is not a `system:` one before the request body is read
//! (the only service whose requests may be large); the policy then needs an
//! "ingest" grant for every record kind in the batch, from grants that name
//! "ingest" (kinds granted for reading do not carry over).

pub mod batch_gate;
pub mod http;

use lienthong_proto::v1 as pb;
use lienthong_proto::v1::ingest_server;
use lienthong_records::{AnyRecord, RecordId, RecordKind};
use lienthong_runtime::telemetry;
use lienthong_store::{
    Idempotency, IngestBatch, IngestDelete, IngestOutcome, IngestResult, IngestUpsert,
    IngestWrites, Store,
};
use prost::Message;
use tonic::{Code, Request, Response, Status};

use crate::access::{Access, Admitted};
use crate::policy::Operation;
use crate::status::to_status;

/// The gRPC service path; the peer gate keeps it to `system:` callers.
pub const SERVICE_PATH: &str = "/lienthong.v1.Ingest/";
/// Records (or ids) in one call.
pub const MAX_BATCH: usize = 1_000;
/// Longest idempotency key.
pub const MAX_KEY_CHARS: usize = 128;

/// A decoded request, for [`Writer::apply`].
pub enum Call {
    Upsert(pb::UpsertRequest),
    Delete(pb::DeleteRequest),
}

/// Checks a batch and writes it; shared by both forms of the API.
#[derive(Clone)]
pub struct Writer {
    store: Store,
}

impl Writer {
    pub fn new(store: Store) -> Writer {
        Writer { store }
    }

    /// Applies an admitted call as its caller; returns the answer and the
    /// ids written.
    pub async fn apply(
        &self,
        admitted: &Admitted,
        call: Call,
    ) -> Result<(pb::IngestResponse, Vec<String>), Status> {
        let caller = admitted.caller().to_owned();
        match call {
            Call::Upsert(request) => self.upsert(admitted, &caller, request).await,
            Call::Delete(request) => self.delete(admitted, &caller, request).await,
        }
    }

    /// Applies an admitted upsert call; returns the answer and the ids written.
    pub async fn upsert(
        &self,
        admitted: &Admitted,
        caller: &str,
        request: pb::UpsertRequest,
    ) -> Result<(pb::IngestResponse, Vec<String>), Status> {
        check_batch(request.items.len())?;
        let idempotency = idempotency(caller, &request.idempotency_key, "upsert", &request)?;
        let mut upserts = Vec::with_capacity(request.items.len());
        for (index, item) in request.items.into_iter().enumerate() {
            let Some(record) = item.record.filter(|record| record.record.is_some()) else {
                return Err(Status::invalid_argument(format!(
                    "items[{index}].record: missing; send one of expert, project, publication \
                     or organization"
                )));
            };
            let mut record = AnyRecord::try_from(record).map_err(|error| {
                Status::invalid_argument(format!("items[{index}].record: {error}"))
            })?;
            permit_kind(admitted, record.kind())?;
            // The node numbers versions (what the sender believes is in
            // expected_version) and stamps the times.
            let meta = record.meta_mut();
            meta.version = 0;
            meta.created_at.clear();
            meta.updated_at.clear();
            upserts.push(IngestUpsert {
                record,
                expected_version: item.expected_version,
            });
        }
        self.write(IngestWrites::Upsert(upserts), request.atomic, idempotency)
            .await
    }

    /// Applies an admitted delete call.
    pub async fn delete(
        &self,
        admitted: &Admitted,
        caller: &str,
        request: pb::DeleteRequest,
    ) -> Result<(pb::IngestResponse, Vec<String>), Status> {
        check_batch(request.items.len())?;
        let idempotency = idempotency(caller, &request.idempotency_key, "delete", &request)?;
        let mut deletes = Vec::with_capacity(request.items.len());
        for item in request.items {
            // A malformed id is the record's own failure (INVALID), answered
            // by the store; a well-formed one must be of a granted kind.
            if let Ok(id) = item.id.parse::<RecordId>() {
                permit_kind(admitted, id.kind)?;
            }
            deletes.push(IngestDelete {
                id: item.id,
                expected_version: item.expected_version,
            });
        }
        self.write(IngestWrites::Delete(deletes), request.atomic, idempotency)
            .await
    }

    async fn write(
        &self,
        writes: IngestWrites,
        atomic: bool,
        idempotency: Option<Idempotency>,
    ) -> Result<(pb::IngestResponse, Vec<String>), Status> {
        let answer = self
            .store
            .ingest(IngestBatch {
                writes,
                atomic,
                idempotency,
            })
            .await
            .map_err(to_status)?;
        let written = if answer.replayed {
            Vec::new()
        } else {
            answer
                .results
                .iter()
                .filter(|result| !result.outcome.is_failure())
                .filter(|result| result.outcome != IngestOutcome::Unchanged)
                .map(|result| result.id.clone())
                .collect()
        };
        let response = pb::IngestResponse {
            results: answer.results.into_iter().map(result_to_proto).collect(),
            replayed: answer.replayed,
        };
        record_metrics(&response);
        Ok((response, written))
    }
}

fn check_batch(items: usize) -> Result<(), Status> {
    if items == 0 {
        return Err(Status::invalid_argument("items: the batch is empty"));
    }
    if items > MAX_BATCH {
        return Err(Status::invalid_argument(format!(
            "items: {items} in one call, over the limit of {MAX_BATCH}; split the batch"
        )));
    }
    Ok(())
}

fn permit_kind(admitted: &Admitted, kind: RecordKind) -> Result<(), Status> {
    admitted
        .disclosure
        .permit(Operation::Ingest, Some(kind))
        .map_err(|denial| Status::permission_denied(denial.0))
}

/// The idempotency of a call: none without a key; with one, the key checked
/// and the request's digest (over the call's name and its encoding, so the
/// same key on an upsert and a delete are two requests).
fn idempotency(
    caller: &str,
    key: &str,
    call: &str,
    request: &impl Message,
) -> Result<Option<Idempotency>, Status> {
    if key.is_empty() {
        return Ok(None);
    }
    if key.chars().count() > MAX_KEY_CHARS || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Status::invalid_argument(format!(
            "idempotency_key: 1 to {MAX_KEY_CHARS} printable ASCII characters without spaces \
             (a UUID serves)"
        )));
    }
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(call.as_bytes());
    context.update(&[0]);
    context.update(&request.encode_to_vec());
    let digest = context
        .finish()
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Ok(Some(Idempotency {
        caller: caller.to_owned(),
        key: key.to_owned(),
        request_digest: digest,
    }))
}

/// What of a request the audit log keeps: its key and size, not the records.
pub trait IngestArguments: serde::Serialize {
    fn audited(&self) -> Vec<(String, String)>;
}

impl IngestArguments for pb::UpsertRequest {
    fn audited(&self) -> Vec<(String, String)> {
        arguments(&self.idempotency_key, self.items.len(), self.atomic)
    }
}

impl IngestArguments for pb::DeleteRequest {
    fn audited(&self) -> Vec<(String, String)> {
        arguments(&self.idempotency_key, self.items.len(), self.atomic)
    }
}

fn arguments(key: &str, items: usize, atomic: bool) -> Vec<(String, String)> {
    vec![
        ("idempotency_key".to_owned(), key.to_owned()),
        ("items".to_owned(), items.to_string()),
        ("atomic".to_owned(), atomic.to_string()),
    ]
}

fn result_to_proto(result: IngestResult) -> pb::IngestResult {
    use pb::IngestOutcome as P;
    let (outcome, code) = match result.outcome {
        IngestOutcome::Created => (P::Created, Code::Ok),
        IngestOutcome::Updated => (P::Updated, Code::Ok),
        IngestOutcome::Unchanged => (P::Unchanged, Code::Ok),
        IngestOutcome::Deleted => (P::Deleted, Code::Ok),
        IngestOutcome::Conflict => (P::Conflict, Code::Aborted),
        IngestOutcome::NotApplied => (P::NotApplied, Code::Aborted),
        IngestOutcome::Invalid => (P::Invalid, Code::InvalidArgument),
        IngestOutcome::NotFound => (P::NotFound, Code::NotFound),
    };
    pb::IngestResult {
        id: result.id,
        outcome: outcome as i32,
        code: code as i32,
        version: result.version,
        message: result.message,
    }
}

fn record_metrics(response: &pb::IngestResponse) {
    if response.replayed {
        telemetry::record_ingest_replayed();
        return;
    }
    for result in &response.results {
        let outcome = result.outcome().as_str_name();
        let outcome = outcome
            .strip_prefix("INGEST_OUTCOME_")
            .unwrap_or(outcome)
            .to_ascii_lowercase();
        telemetry::record_ingest_outcome(&outcome);
    }
}

/// Runs a write and its audit entry to the end even if the caller goes
/// away (a cancelled call, a deadline): a batch is never written without
/// its entry.
pub async fn detached<T: Send + 'static>(
    work: impl Future<Output = Result<T, Status>> + Send + 'static,
) -> Result<T, Status> {
    tokio::spawn(work).await.unwrap_or_else(|error| {
        tracing::error!(%error, "ingest task failed");
        Err(Status::internal(
            "internal error; the node's log has the details",
        ))
    })
}

/// The gRPC form.
pub struct IngestService {
    writer: Writer,
    access: Access,
}

impl IngestService {
    pub fn new(writer: Writer, access: Access) -> IngestService {
        IngestService { writer, access }
    }
}

impl IngestService {
    /// Admits `request` as `action`, then writes it and audits the outcome
    /// to the end (see [`detached`]).
    async fn handle<Req>(
        &self,
        request: Request<Req>,
        action: &'static str,
        call: fn(Req) -> Call,
    ) -> Result<Response<pb::IngestResponse>, Status>
    where
        Req: IngestArguments + Send + 'static,
    {
        let admitted = self
            .access
            .admit_summarized(
                &request,
                &request.get_ref().audited(),
                action,
                Operation::Ingest,
                None,
            )
            .await?;
        let (writer, access) = (self.writer.clone(), self.access.clone());
        let call = call(request.into_inner());
        detached(async move {
            let result = writer.apply(&admitted, call).await;
            access.finish(admitted, result).await.map(Response::new)
        })
        .await
    }
}

#[tonic::async_trait]
impl ingest_server::Ingest for IngestService {
    async fn upsert(
        &self,
        request: Request<pb::UpsertRequest>,
    ) -> Result<Response<pb::IngestResponse>, Status> {
        self.handle(request, "IngestUpsert", Call::Upsert).await
    }

    async fn delete(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::IngestResponse>, Status> {
        self.handle(request, "IngestDelete", Call::Delete).await
    }
}
