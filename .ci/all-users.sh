#!/usr/bin/env bash
# The all_users example as a process: its output contract (JSON lines, CSV,
# the summary, exit statuses 0, 3 and 1), then `kill -9` at random moments
# and a rerun with the same output and checkpoint, TRIALS times (default
# 20): each time the output ends with every user exactly once.
# Usage: .ci/all-users.sh [TRIALS]. Builds the example and pc-fake (debug:
# the run waits on the fake's budget, not on the CPU, and CI saves a release
# build of every dependency).
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-20}

cargo build --locked -q -p pc-fake --example all_users
cargo build --locked -q -p pc-fake
all_users=target/debug/examples/all_users
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

source .ci/lib.sh

# check_json FILE TOTAL: every line is {"customerId": ..., "user": {...}},
# TOTAL lines, no (customer, user) twice.
check_json() {
  python3 - "$1" "$2" <<'PY'
import json, sys
path, total = sys.argv[1], int(sys.argv[2])
seen = set()
with open(path) as f:
    for n, line in enumerate(f, 1):
        row = json.loads(line)
        assert set(row) == {"customerId", "user"}, (n, row.keys())
        user = row["user"]
        assert isinstance(user, dict) and user.get("id") and "userPrincipalName" in user, (n, user)
        assert not any("_" in k for k in user), ("camelCase", n, list(user))
        key = (row["customerId"], user["id"])
        assert key not in seen, ("twice", n, key)
        seen.add(key)
assert len(seen) == total, (len(seen), total)
PY
}

echo "== the embedded fake, JSON lines: exit 0"
set +e
"$all_users" >"$work/embedded.jsonl" 2>"$work/embedded.err"
status=$?
set -e
[ "$status" = 0 ] || { cat "$work/embedded.err"; echo "expected exit 0, got $status" >&2; exit 1; }
total=$(grep -o '[0-9]* users;' "$work/embedded.err" | grep -o '[0-9]*')
check_json "$work/embedded.jsonl" "$total"
grep -q '100 customers listed, 0 failed' "$work/embedded.err"
echo "   $total users of 100 customers, each once"

echo "== a partner with failing customers, CSV, PC_BASE_URL + PC_ACCESS_TOKEN: exit 3"
start_fake partner --customers 40 --seed 7 --no-relationship 2 --deleted 1
set +e
PC_BASE_URL=$partner PC_ACCESS_TOKEN=token "$all_users" --csv --concurrency 4 >"$work/partner.csv" 2>"$work/partner.err"
status=$?
set -e
[ "$status" = 3 ] || { cat "$work/partner.err"; echo "expected exit 3, got $status" >&2; exit 1; }
grep -q '37 customers listed, 3 failed' "$work/partner.err" || { cat "$work/partner.err"; exit 1; }
[ "$(grep -c 'failed: .*(status 403, fault code 20002)' "$work/partner.err")" = 2 ]
[ "$(grep -c 'failed: .*(status 404, fault code 60003)' "$work/partner.err")" = 1 ]
grep -Eq '[0-9]+ requests, [0-9]+ answered 429' "$work/partner.err"
python3 - "$work/partner.csv" "$work/partner.err" <<'PY'
import csv, re, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
header = rows[0]
assert header[:3] == ["customerId", "id", "userPrincipalName"], header
assert all(len(r) == len(header) for r in rows), "ragged rows"
users = int(re.search(r"(\d+) users;", open(sys.argv[2]).read()).group(1))
keys = {(r[0], r[1]) for r in rows[1:]}
assert len(rows) - 1 == users == len(keys), (len(rows) - 1, users, len(keys))
PY
echo "   3 customers failed and were named; the other 37 listed, each user once"

echo "== a service that cannot be reached: exit 1"
set +e
PC_BASE_URL=http://127.0.0.1:9 PC_ACCESS_TOKEN=token "$all_users" >/dev/null 2>"$work/down.err"
status=$?
set -e
[ "$status" = 1 ] || { cat "$work/down.err"; echo "expected exit 1, got $status" >&2; exit 1; }
echo "   exit 1"

echo "== kill -9 at random moments, then resume: $trials trials"
start_fake big --customers 150 --seed 11 --partner-rate 400
PC_BASE_URL=$big PC_ACCESS_TOKEN=token "$all_users" --page-size 100 >"$work/clean.jsonl" 2>"$work/clean.err"
total=$(wc -l <"$work/clean.jsonl")
check_json "$work/clean.jsonl" "$total"
kills=0
for trial in $(seq "$trials"); do
  out="$work/run-$trial.jsonl"
  checkpoint="$work/run-$trial.checkpoint"
  runs=0
  while :; do
    runs=$((runs + 1))
    [ "$runs" -le 30 ] || { echo "trial $trial: no end after 30 runs" >&2; exit 1; }
    PC_BASE_URL=$big PC_ACCESS_TOKEN=token "$all_users" --page-size 100 --concurrency 6 \
      --output "$out" --checkpoint "$checkpoint" >/dev/null 2>>"$work/run-$trial.err" &
    pid=$!
    # Kill at a random moment in the first ~1.5 s; the last run goes on.
    if [ "$runs" -le 3 ]; then
      sleep "0.$((RANDOM % 6))$((RANDOM % 10))"
      if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
    fi
    set +e
    { wait "$pid"; } 2>/dev/null
    status=$?
    set -e
    [ "$status" = 0 ] && break
    [ "$status" = 137 ] || { cat "$work/run-$trial.err"; echo "trial $trial: exit $status" >&2; exit 1; }
  done
  check_json "$out" "$total"
done
resumed=$(cat "$work"/run-*.err | grep -c 'continuing from' || true)
cut=$(cat "$work"/run-*.err | grep 'continuing from' | grep -vc ', 0 cut)' || true)
echo "   $trials trials, $kills runs killed with SIGKILL, $resumed reruns from a checkpoint ($cut of them cut output written after the last commit); every output $total users each once"
[ "$resumed" -gt 0 ] || { echo "no rerun continued from a checkpoint: the kills came too early or too late" >&2; exit 1; }
