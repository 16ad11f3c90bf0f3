"""A Python client for a Liên thông node's Ingest API (lienthong.v1.Ingest).

Keeps a node current from a department's own management system: batches of
upserts and deletions over mutual TLS, each record carrying the version the
system last saw, retried safely under an idempotency key.

Needs grpcio and grpcio-tools (``pip install grpcio grpcio-tools``). The
Python stubs are generated from the repository's ``proto/`` on first use into
a cache directory, so they always match the node they were shipped with.

    client = IngestClient("hung-yen.example:7101", ca="ca.pem",
                          cert="erp.pem", key="erp.key")
    results = client.upsert([(expert_dict, 3)])   # record, expected version
"""

from __future__ import annotations

import hashlib
import importlib
import os
import pathlib
import sys
import time
import uuid

PROTO_ROOT = pathlib.Path(__file__).resolve().parents[2] / "proto"
PROTOS = ["records.proto", "node.proto", "ingest.proto"]

# The largest batch a node takes.
MAX_BATCH = 1000
# Codes worth retrying with the same idempotency key: the call may or may not
# have been applied, and the key makes sending it again safe. (INTERNAL is
# not among them: the same batch would fail the same way.)
RETRIABLE = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"}


def load_stubs():
    """Generates (once per proto content) and imports the Python stubs."""
    from grpc_tools import protoc  # imported here: a clear error if missing

    sources = [PROTO_ROOT / "lienthong" / "v1" / name for name in PROTOS]
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]
    cache = pathlib.Path(
        os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")
    ) / "lienthong" / f"python-stubs-{digest}"
    marker = cache / "lienthong" / "v1" / "ingest_pb2_grpc.py"
    if not marker.exists():
        cache.mkdir(parents=True, exist_ok=True)
        arguments = [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"--python_out={cache}",
            f"--grpc_python_out={cache}",
        ] + [f"lienthong/v1/{name}" for name in PROTOS]
        if protoc.main(arguments) != 0:
            raise RuntimeError(f"protoc could not compile {PROTO_ROOT}")
    if str(cache) not in sys.path:
        sys.path.insert(0, str(cache))
    records = importlib.import_module("lienthong.v1.records_pb2")
    ingest = importlib.import_module("lienthong.v1.ingest_pb2")
    ingest_grpc = importlib.import_module("lienthong.v1.ingest_pb2_grpc")
    return records, ingest, ingest_grpc


class IngestError(Exception):
    """A call the node refused as a whole (its gRPC code and message)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class IngestClient:
    """One mTLS channel to a node's Ingest service."""

    def __init__(self, target, ca, cert, key, server_name=None, timeout=30.0, attempts=4):
        import grpc

        self._grpc = grpc
        self.records_pb2, self.ingest_pb2, ingest_grpc = load_stubs()
        credentials = grpc.ssl_channel_credentials(
            root_certificates=pathlib.Path(ca).read_bytes(),
            private_key=pathlib.Path(key).read_bytes(),
            certificate_chain=pathlib.Path(cert).read_bytes(),
        )
        options = [("grpc.max_send_message_length", 16 * 1024 * 1024)]
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        self._channel = grpc.secure_channel(target, credentials, options=options)
        self._stub = ingest_grpc.IngestStub(self._channel)
        self._timeout = timeout
        self._attempts = attempts

    def close(self):
        self._channel.close()

    def upsert(self, items, atomic=False):
        """Writes ``items``, each ``(record, expected_version)``: a record as a
        dict in the protobuf JSON mapping (``{"expert": {...}}``) or a
        ``Record`` message, and the version the system last saw (0: it
        believes there is none; None: no check). Returns one result per item."""
        return [result for _, results in self.upsert_batches(items, atomic) for result in results]

    def upsert_batches(self, items, atomic=False):
        """As ``upsert``, one batch at a time: yields each batch's items and
        results as the node answers, so a caller can record them before the
        next batch is sent."""
        from google.protobuf import json_format

        for batch in _batches(items):
            request = self.ingest_pb2.UpsertRequest(
                idempotency_key=str(uuid.uuid4()), atomic=atomic
            )
            for record, expected in batch:
                item = request.items.add()
                if isinstance(record, dict):
                    json_format.ParseDict(record, item.record)
                else:
                    item.record.CopyFrom(record)
                if expected is not None:
                    item.expected_version = expected
            yield batch, list(self._call(self._stub.Upsert, request).results)

    def delete(self, items, atomic=False):
        """Deletes ``items``, each ``(id, expected_version)``."""
        return [result for _, results in self.delete_batches(items, atomic) for result in results]

    def delete_batches(self, items, atomic=False):
        """As ``delete``, one batch at a time (see ``upsert_batches``)."""
        for batch in _batches(items):
            request = self.ingest_pb2.DeleteRequest(
                idempotency_key=str(uuid.uuid4()), atomic=atomic
            )
            for record_id, expected in batch:
                item = request.items.add(id=record_id)
                if expected is not None:
                    item.expected_version = expected
            yield batch, list(self._call(self._stub.Delete, request).results)

    def _call(self, method, request):
        """Sends ``request``, and sends it again (same key) while the node is
        unreachable or busy: the key makes a repeat write nothing twice."""
        delay = 0.2
        for attempt in range(self._attempts):
            try:
                return method(request, timeout=self._timeout)
            except self._grpc.RpcError as error:
                code = error.code().name
                if code not in RETRIABLE or attempt + 1 == self._attempts:
                    raise IngestError(code, error.details()) from None
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def outcome_name(self, result):
        """``CREATED``, ``CONFLICT``, ... for a result."""
        name = self.ingest_pb2.IngestOutcome.Name(result.outcome)
        return name.removeprefix("INGEST_OUTCOME_")


def _batches(items):
    items = list(items)
    for start in range(0, len(items), MAX_BATCH):
        yield items[start : start + MAX_BATCH]
