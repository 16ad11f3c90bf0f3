"""Walks a Liên thông node's OAI-PMH endpoint with Sickle, an off-the-shelf
harvester, in every metadata format it offers, and prints a JSON summary.

    python sickle_harvest.py https://127.0.0.1:8443/oai path/to/ca.crt

Used by the demo test (services/cli/tests/demo.rs); needs `pip install sickle`.
"""

import json
import sys

from sickle import Sickle


def main(base_url: str, ca: str) -> None:
    sickle = Sickle(base_url, verify=ca, max_retries=2)
    identify = sickle.Identify()
    formats = [f.metadataPrefix for f in sickle.ListMetadataFormats()]
    sets = [s.setSpec for s in sickle.ListSets()]
    summary = {
        "repositoryName": identify.repositoryName,
        "deletedRecord": identify.deletedRecord,
        "formats": formats,
        "sets": sets,
        "records": {},
        "deleted": {},
    }
    for prefix in formats:
        seen = set()
        deleted = 0
        for record in sickle.ListRecords(metadataPrefix=prefix):
            identifier = record.header.identifier
            if identifier in seen:
                raise SystemExit(f"{prefix}: {identifier} delivered twice")
            seen.add(identifier)
            if record.header.deleted:
                deleted += 1
            elif not record.metadata:
                raise SystemExit(f"{prefix}: {identifier} has no metadata")
        summary["records"][prefix] = len(seen)
        summary["deleted"][prefix] = deleted
    headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc"))
    summary["identifiers"] = len(headers)
    live = next(header for header in headers if not header.deleted)
    record = sickle.GetRecord(identifier=live.identifier, metadataPrefix="oai_cerif_openaire")
    summary["getRecord"] = record.header.identifier
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
