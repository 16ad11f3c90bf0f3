#!/usr/bin/env bash
# Ranking quality of two versions of the node side by side, on the same data:
#   tests/relevance/compare.sh OLD_LIENTHONG NEW_LIENTHONG
# Each binary loads the Hưng Yên sample (5,000 experts, seed 2023) into a fresh SQLite
# node of its own, serves it in plaintext on loopback, and answers the judged queries in
# tests/relevance/experts.jsonl; the evaluator prints MRR and nDCG@10 per query class.
set -euo pipefail
cd "$(dirname "$0")/../.."
queries=tests/relevance/experts.jsonl
cargo bench -p lienthong-tests --bench relevance --no-run >/dev/null 2>&1
evaluator=$(ls -t target/release/deps/relevance-* | grep -v '\.d$' | head -1)
port=7190
for binary in "$@"; do
  port=$((port + 1))
  dir=$(mktemp -d)
  cat >"$dir/policy.toml" <<POLICY
[[grant]]
peers = ["insecure-anonymous"]
rpcs = ["info", "search", "get"]
kinds = ["expert", "project", "publication", "organization"]
POLICY
  cat >"$dir/node.toml" <<CONFIG
[node]
id = "hung-yen"
display_name = "Sở KH&CN Hưng Yên"
[database]
url = "sqlite://$dir/node.db"
[sharing]
policy = "$dir/policy.toml"
[grpc]
listen = "127.0.0.1:$port"
[admin]
listen = "127.0.0.1:0"
CONFIG
  "$binary" sample --config "$dir/node.toml" --experts 5000 >/dev/null
  "$binary" node --insecure-plaintext --config "$dir/node.toml" >"$dir/node.log" 2>&1 &
  node=$!
  for _ in $(seq 100); do
    grep -q "node serving" "$dir/node.log" && break
    sleep 0.1
  done
  "$evaluator" evaluate --node "http://127.0.0.1:$port" --queries "$queries" --label "$binary"
  kill "$node"
  wait "$node" 2>/dev/null || true
  rm -rf "$dir"
done
