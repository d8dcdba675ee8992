#!/usr/bin/env bash
# Checks pc-fake from the outside, as a newcomer and an independent checker
# would: the curl walkthrough of the pc-fake issue (with size=0, the App-only
# 403 and finding the customer by name), then schemathesis against the
# running fake over every operation of spec/partner-center.yaml. Expects
# target/debug/pc-fake and the venv of .ci/run (target/ci-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

customer=4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04
log=$(mktemp)
target/debug/pc-fake --users 1000 --port 0 --app-only-token app-only >"$log" 2>&1 &
fake=$!
trap 'kill $fake 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  grep -q 'pc-fake: ready' "$log" && break
  sleep 0.1
done
base=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n 1)
[ -n "$base" ] || { cat "$log"; echo "pc-fake did not start" >&2; exit 1; }
users="$base/v1/customers/$customer/users"
echo "pc-fake at $base"

# No token: 401 with an ApiFault.
status=$(curl -s -o /tmp/pc-fake-401.json -w '%{http_code}' "$users")
[ "$status" = 401 ] || { echo "no token: expected 401, got $status" >&2; exit 1; }
python3 -c 'import json,sys; f=json.load(open("/tmp/pc-fake-401.json")); assert "code" in f and "description" in f, f'
# size=501: 400. 500 is the fake's maximum (--max-page-size), its own
# choice: the service documents no maximum.
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer t' "$users?size=501")
[ "$status" = 400 ] || { echo "size=501: expected 400, got $status" >&2; exit 1; }
# size=0: the default page of 100 (what the .NET SDK sends); size=-1: 400.
python3 - "$users" <<'PY'
import json, subprocess, sys
def get(url, token="t"):
    out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "-H", f"Authorization: Bearer {token}", url],
                         check=True, capture_output=True, text=True).stdout
    body, status = out.rsplit("\n", 1)
    return int(status), json.loads(body)
status, page = get(sys.argv[1] + "?size=0")
assert status == 200 and len(page["items"]) == 100, (status, len(page.get("items", [])))
status, fault = get(sys.argv[1] + "?size=-1")
assert status == 400 and fault["code"] == 800002, (status, fault)
# An App-only token: 403 without a code (the notes give none) on users.
status, fault = get(sys.argv[1], "app-only")
assert status == 403 and "code" not in fault, (status, fault)
assert fault["description"] == "This resource can't be accessed by application credentials.", fault
print("size=0, size=-1 and the App-only 403: as documented")
PY
# The customer by name, as a caller who knows nothing else would find it
# (an App-only token may list customers).
python3 - "$base" "$customer" <<'PY'
import json, subprocess, sys, urllib.parse
base, customer = sys.argv[1], sys.argv[2]
flt = urllib.parse.quote(json.dumps({"Field": "CompanyName", "Value": "contoso", "Operator": "starts_with"}))
out = subprocess.run(["curl", "-sf", "-H", "Authorization: Bearer app-only", f"{base}/v1/customers?filter={flt}"],
                     check=True, capture_output=True).stdout
items = json.loads(out)["items"]
assert [c["id"] for c in items] == [customer], items
assert items[0]["companyProfile"]["companyName"] == "Contoso Ltd.", items
print("customer found by name:", items[0]["companyProfile"]["companyName"])
PY
# With a token: 100 users and a next link; following the next links with
# their headers reaches exactly 1000 distinct users.
python3 - "$base" "$users" <<'PY'
import json, subprocess, sys
base, url = sys.argv[1], sys.argv[2]
headers, seen, pages = ["-H", "Authorization: Bearer t"], set(), 0
while True:
    body = subprocess.run(["curl", "-sf", *headers, url], check=True, capture_output=True).stdout
    page = json.loads(body)
    if pages == 0:
        assert len(page["items"]) == 100 and "next" in page["links"], "first page"
    pages += 1
    for user in page["items"]:
        assert user["id"] not in seen, "duplicate user"
        seen.add(user["id"])
    nxt = page["links"].get("next")
    if not nxt:
        break
    url = base + "/v1" + nxt["uri"]
    headers = ["-H", "Authorization: Bearer t"]
    for h in nxt["headers"]:
        headers += ["-H", f'{h["key"]}: {h["value"]}']
assert len(seen) == 1000, len(seen)
print(f"curl walkthrough: {len(seen)} distinct users in {pages} pages")
PY

# schemathesis, an independent checker, over every operation of the spec,
# with every check but two the spec cannot express: `ignored_auth` (the fake
# accepts any bearer token; it has no identity provider, and its 401s are
# checked above) and `positive_data_acceptance` (schema-valid input the
# service refuses too: an unknown continuation token, a user filter other
# than UserState, a customer filter operator other than starts_with, 400;
# an unknown customer, user or role id, 404; and a size above the fake's
# maximum, 400, the one refusal that is the fake's choice).
target/ci-venv/bin/schemathesis run spec/partner-center.yaml \
  --url "$base" \
  -H 'Authorization: Bearer schemathesis' \
  --checks all \
  --exclude-checks ignored_auth,positive_data_acceptance \
  --max-examples 100 \
  --seed 1 \
  --no-color \
  --generation-database none
