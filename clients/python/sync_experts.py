#!/usr/bin/env python3
"""Pushes a management system's changed experts to its Liên thông node.

What a department's .NET or Java subsystem does to keep its node current,
here over a SQLite table shaped like theirs (``chuyen_gia``):

- rows marked ``can_dong_bo = 1`` (changed since the last push) are sent,
  each with ``phien_ban_nut``, the node's version the system last saw, as the
  expected version (0 for a row never pushed);
- deleted rows (``da_xoa = 1``) are sent as deletions;
- a row the node took gets the node's new version, and is marked pushed
  unless it was edited while the push ran (``phien_ban_ht``, the system's
  own row version, moved): then it is pushed again next time;
- each batch's answers are recorded before the next batch goes, so a push
  cut short keeps what it did;
- a row the node refused stays marked and is reported: a conflict means the
  record changed at the node since (someone else wrote it); an invalid row
  names the field to fix.

Exits 0 when every row went through, 3 when some were refused, 2 on a call
the node refused as a whole. Prints a JSON summary.

    python3 sync_experts.py --target 127.0.0.1:7101 --ca ca.crt \\
        --cert erp.crt --key erp.key --node hung-yen --database erp.sqlite3
"""

import argparse
import json
import sqlite3
import sys

from lienthong_ingest import IngestClient, IngestError

DEGREES = {
    "TSKH": "DEGREE_DOCTOR_OF_SCIENCE",
    "TS": "DEGREE_DOCTOR",
    "THS": "DEGREE_MASTER",
    "KS": "DEGREE_ENGINEER",
    "CN": "DEGREE_BACHELOR",
    "BS": "DEGREE_MEDICAL_DOCTOR",
}


def expert_record(node, row):
    expert = {
        "meta": {
            "id": f"{node}:expert:{row['ma']}",
            "visibility": "VISIBILITY_FEDERATION" if row["chia_se"] else "VISIBILITY_INTERNAL",
            "classification": "CLASSIFICATION_NORMAL",
        },
        "fullName": row["ho_ten"],
    }
    degree = DEGREES.get((row["hoc_vi"] or "").replace(".", "").upper())
    if degree:
        expert["degree"] = degree
    if row["don_vi"]:
        expert["organizationName"] = row["don_vi"]
    if row["email"]:
        expert["contact"] = {"email": row["email"]}
    return {"expert": expert}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="the node's gRPC address, HOST:PORT")
    parser.add_argument("--ca", required=True, help="the federation CA bundle (PEM)")
    parser.add_argument("--cert", required=True, help="this system's certificate (system:<name>)")
    parser.add_argument("--key", required=True, help="its private key")
    parser.add_argument("--node", required=True, help="the node's id, e.g. hung-yen")
    parser.add_argument("--database", required=True, help="the management system's SQLite file")
    parser.add_argument("--server-name", help="the name in the node's certificate, if not the target's host")
    args = parser.parse_args()

    db = sqlite3.connect(args.database)
    db.row_factory = sqlite3.Row
    rows = db.execute(
        "SELECT * FROM chuyen_gia WHERE can_dong_bo = 1 ORDER BY ma"
    ).fetchall()
    live = [row for row in rows if not row["da_xoa"]]
    # A row deleted before it was ever pushed has nothing at the node.
    never_pushed = [row for row in rows if row["da_xoa"] and not row["phien_ban_nut"]]
    gone = [row for row in rows if row["da_xoa"] and row["phien_ban_nut"]]

    client = IngestClient(args.target, args.ca, args.cert, args.key, server_name=args.server_name)
    summary = {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0, "conflicts": [], "invalid": []}
    seen = {row["ma"]: row["phien_ban_ht"] for row in rows}

    def record(pushed, results, deleting):
        with db:
            for row, result in zip(pushed, results):
                outcome = client.outcome_name(result).lower()
                # Deleted at the node already (by this push cut short, or by
                # someone else): nothing is left to do.
                if deleting and (outcome == "not_found" or (outcome == "conflict" and result.version == 0)):
                    outcome = "deleted"
                if outcome in ("created", "updated", "unchanged", "deleted"):
                    summary[outcome] += 1
                    db.execute(
                        "UPDATE chuyen_gia SET phien_ban_nut = ?, "
                        "can_dong_bo = CASE WHEN phien_ban_ht = ? THEN 0 ELSE 1 END WHERE ma = ?",
                        (result.version, seen[row["ma"]], row["ma"]),
                    )
                elif outcome == "conflict":
                    summary["conflicts"].append({"id": result.id, "current_version": result.version})
                else:
                    summary["invalid"].append({"id": result.id, "outcome": outcome, "message": result.message})

    try:
        with db:
            for row in never_pushed:
                db.execute("UPDATE chuyen_gia SET can_dong_bo = 0 WHERE ma = ? AND phien_ban_ht = ?",
                           (row["ma"], row["phien_ban_ht"]))
        by_id = {f"{args.node}:expert:{row['ma']}": row for row in live + gone}
        upserts = [(expert_record(args.node, row), row["phien_ban_nut"]) for row in live]
        for batch, results in client.upsert_batches(upserts):
            record([by_id[record_["expert"]["meta"]["id"]] for record_, _ in batch], results, False)
        deletes = [(f"{args.node}:expert:{row['ma']}", row["phien_ban_nut"]) for row in gone]
        for batch, results in client.delete_batches(deletes):
            record([by_id[record_id] for record_id, _ in batch], results, True)
    except IngestError as error:
        print(json.dumps({"error": error.code, "message": error.message, "done": summary},
                         ensure_ascii=False))
        return 2
    finally:
        client.close()

    print(json.dumps(summary, ensure_ascii=False))
    return 3 if summary["conflicts"] or summary["invalid"] else 0


if __name__ == "__main__":
    sys.exit(main())
