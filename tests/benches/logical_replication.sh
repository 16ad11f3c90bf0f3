#!/usr/bin/env bash
# The baseline of the catalog-sync benchmark: PostgreSQL logical replication
# of N completed-task rows of about 1.4 KB (the initial copy of a
# subscription) between two clusters started on this machine for the run.
# Needs root (to run the clusters as the postgres user) and PostgreSQL's
# server binaries. Prints one Markdown table row.
#
#   tests/benches/logical_replication.sh 200000
set -euo pipefail
N=${1:-200000}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
WORK=$(mktemp -d /tmp/lienthong-logical.XXXXXX)
chown postgres "$WORK"
as_postgres() { su postgres -s /bin/bash -c "$*"; }
stop() {
  as_postgres "$BIN/pg_ctl -D $WORK/pub stop -m fast" >/dev/null 2>&1 || true
  as_postgres "$BIN/pg_ctl -D $WORK/sub stop -m fast" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap stop EXIT
for cluster in pub sub; do
  as_postgres "$BIN/initdb -D $WORK/$cluster -A trust -U postgres" >/dev/null
done
as_postgres "$BIN/pg_ctl -D $WORK/pub -l $WORK/pub.log -w start -o '-p 5441 -k $WORK -c listen_addresses=127.0.0.1 -c wal_level=logical'" >/dev/null
as_postgres "$BIN/pg_ctl -D $WORK/sub -l $WORK/sub.log -w start -o '-p 5442 -k $WORK -c listen_addresses=127.0.0.1'" >/dev/null
pub() { psql -qAt -h 127.0.0.1 -p 5441 -U postgres -d postgres -c "$1"; }
sub() { psql -qAt -h 127.0.0.1 -p 5442 -U postgres -d postgres -c "$1"; }
TABLE="CREATE TABLE tasks (id text PRIMARY KEY, version bigint NOT NULL, body jsonb NOT NULL)"
pub "$TABLE"
sub "$TABLE"
pub "INSERT INTO tasks SELECT 'nam-dinh:project:P' || g, 1, jsonb_build_object(
  'title', 'Nghiên cứu chọn tạo giống lúa chịu mặn phù hợp vùng ven biển, mã số T' || g,
  'status', 'PROJECT_STATUS_COMPLETED',
  'hostOrganizationName', 'Trung tâm Ứng dụng tiến bộ KH&CN Nam Định',
  'objectives', repeat('Chọn tạo được 02 giống lúa chịu mặn, năng suất đạt 6 tấn/ha trở lên, chất lượng gạo khá, thích ứng với điều kiện xâm nhập mặn vùng ven biển; ', 3),
  'summary', repeat('Đề tài đánh giá nguồn vật liệu khởi đầu, lai tạo và chọn lọc các dòng lúa triển vọng, khảo nghiệm tác giả tại ba huyện ven biển; ', 2),
  'keywords', jsonb_build_array('lúa chịu mặn', 'giống lúa', 'ven biển'))
  FROM generate_series(0, $N - 1) AS g"
pub "CREATE PUBLICATION tasks FOR TABLE tasks"
SIZE=$(pub "SELECT round(avg(octet_length(body::text))) FROM tasks")
START=$(date +%s.%N)
sub "CREATE SUBSCRIPTION tasks CONNECTION 'host=127.0.0.1 port=5441 user=postgres dbname=postgres' PUBLICATION tasks"
until [ "$(sub "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")" = 0 ] \
  && [ "$(sub "SELECT count(*) FROM pg_subscription_rel")" != 0 ]; do
  sleep 0.05
done
END=$(date +%s.%N)
COPIED=$(sub "SELECT count(*) FROM tasks")
[ "$COPIED" = "$N" ] || { echo "copied $COPIED of $N" >&2; exit 1; }
awk -v n="$N" -v s="$START" -v e="$END" -v size="$SIZE" 'BEGIN {
  t = e - s; printf "| PostgreSQL logical replication (initial copy) | %d | %d B (JSON) | | %.1f s | **%.0f** | | | |\n", n, size, t, n / t }'
