#!/usr/bin/env bash
# Checks pc-fake from the outside, as a newcomer and an independent checker
# would: the curl walkthrough of the pc-fake issue (with size=0, the App-only
# 403 and finding the customer by name); signing in at the fake's Entra ID
# token endpoint (rotation, the AADSTS errors, strict auth); a partner at
# scale (generated customers, the 403/404 customers, the partner-wide
# budget's 429s); then schemathesis against a fake with sign-in on over
# every operation of spec/partner-center.yaml. Expects target/debug/pc-fake
# and the venv of .ci/run (target/ci-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

customer=4d3cf487-70f4-4e1e-9ff1-b2bfce8d9f04
pids=()
work=$(mktemp -d)
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

source .ci/lib.sh

start_fake base --users 1000 --app-only-token app-only
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

# Signing in: the fake's Entra ID token endpoint, as a client without
# pc-api would use it. Replies and errors as Entra ID writes them; the API
# accepts only the tokens it issued.
start_fake strict --users 1000 --sign-in
echo "pc-fake with sign-in at $strict"
python3 - "$strict" "$customer" <<'PY'
import json, sys, urllib.error, urllib.parse, urllib.request
base, customer = sys.argv[1], sys.argv[2]
tenant, client_id = "contoso-partner.onmicrosoft.com", "5f1c2a9e-7a3b-4e7c-9d2f-8b6a1c0e3d4f"
secret, refresh = "pc-fake-client-secret", "0.AAAA-pc-fake-initial-refresh-token"
resource = "https://api.partnercenter.microsoft.com"
def call(url, form=None, token=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
token_url = f"{base}/{tenant}/oauth2/v2.0/token"
def exchange(rt, **changes):
    form = {"grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
            "scope": f"{resource}/user_impersonation", "refresh_token": rt}
    form.update(changes)
    return call(token_url, form)
status, text = exchange(refresh)
assert status == 200, (status, text)
assert text.startswith('{"token_type":"Bearer","scope":"%s/user_impersonation","expires_in":3599,"ext_expires_in":3599,"access_token":"' % resource), text
reply = json.loads(text)
rotated, access = reply["refresh_token"], reply["access_token"]
assert rotated != refresh and rotated.startswith("0.A"), rotated
# The rotated refresh token works, and the old one too (not revoked).
assert exchange(rotated)[0] == 200 and exchange(refresh)[0] == 200
for changes, want in [
    ({"client_secret": "wrong"}, (401, "invalid_client", 7000215)),
    ({"client_id": "00000000-0000-4000-8000-000000000000"}, (400, "unauthorized_client", 700016)),
    ({"refresh_token": "0.A-unknown"}, (400, "invalid_grant", 700082)),
]:
    status, text = exchange(refresh, **changes)
    error = json.loads(text)
    assert (status, error["error"], error["error_codes"][0]) == want, (changes, status, error)
    description = error["error_description"]
    assert description.startswith(f"AADSTS{want[2]}: ") and "\r\nTrace ID: " in description, description
    assert "\r\nCorrelation ID: " in description and "\r\nTimestamp: " in description, description
    for key in ("timestamp", "trace_id", "correlation_id", "error_uri"):
        assert key in error, (key, error)
status, text = call(f"{base}/fabrikam.onmicrosoft.com/oauth2/v2.0/token", {"grant_type": "refresh_token"})
assert status == 400 and json.loads(text)["error_codes"] == [90002], (status, text)
users = f"{base}/v1/customers/{customer}/users"
assert call(users, token=access)[0] == 200
status, text = call(users, token="made-up")
assert status == 401 and json.loads(text)["code"] == 400, (status, text)
status, text = call(users)
assert status == 401 and json.loads(text)["code"] == 800001, (status, text)
# App-only: the client credentials grant lists customers, not users.
status, text = call(token_url, {"grant_type": "client_credentials", "client_id": client_id,
                                "client_secret": secret, "scope": f"{resource}/.default"})
app = json.loads(text)
assert status == 200 and "refresh_token" not in app, text
assert call(f"{base}/v1/customers", token=app["access_token"])[0] == 200
status, text = call(users, token=app["access_token"])
assert status == 403 and json.loads(text)["description"] == "This resource can't be accessed by application credentials.", text
print("sign-in: rotation, the AADSTS errors, strict auth and app-only tokens as documented")
PY

# A partner at scale: 300 generated customers (2 without a relationship, 3
# deleted); and a partner-wide budget of 20 requests a second.
start_fake scale --customers 300 --no-relationship 2 --deleted 3
start_fake budget --customers 5 --partner-rate 20
echo "pc-fake with 300 customers at $scale, with a budget at $budget"
python3 - "$scale" "$budget" <<'PY'
import json, sys, threading, urllib.error, urllib.request
base, budget = sys.argv[1], sys.argv[2]
def get(url, headers=()):
    request = urllib.request.Request(url, headers={"Authorization": "Bearer t", **dict(headers)})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()
# Every customer, following the next links (sequentially: within the budget).
customers, url, headers = [], f"{base}/v1/customers?size=100", ()
while url:
    status, _, body = get(url, headers)
    assert status == 200, (status, body)
    page = json.loads(body)
    customers += page["items"]
    nxt = page["links"].get("next")
    url = nxt and base + "/v1" + nxt["uri"]
    headers = [(h["key"], h["value"]) for h in nxt["headers"]] if nxt else ()
ids = [c["id"] for c in customers]
assert len(ids) == 300 == len(set(ids)), len(ids)
assert len({c["companyProfile"]["domain"] for c in customers}) == 300
assert sum(not c["allowDelegatedAccess"] for c in customers) == 2
statuses = {}
for c in customers:
    status, _, body = get(f"{base}/v1/customers/{c['id']}/users?size=1")
    if status != 200:
        statuses.setdefault((status, json.loads(body)["code"]), 0)
        statuses[(status, json.loads(body)["code"])] += 1
assert statuses.get((403, 20002)) == 2 and statuses.get((404, 60003)) == 3, statuses
# Beyond the budget: 60 requests at once; the refused get the documented 429.
answers = []
def one():
    answers.append(get(f"{budget}/v1/customers?size=1"))
threads = [threading.Thread(target=one) for _ in range(60)]
for t in threads: t.start()
for t in threads: t.join()
refused = [a for a in answers if a[0] == 429]
assert refused, "no 429"
for status, headers, body in refused:
    retry = {k.lower(): v for k, v in headers.items()}["retry-after"]
    assert int(retry) >= 1, retry
    assert json.loads(body) == {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {retry} seconds."}, body
print(f"partner scale: 300 customers listed once, 403 20002 and 404 60003 where marked, {len(refused)} of 60 throttled")
PY

# schemathesis, an independent checker, over every operation of the spec,
# against the fake with sign-in on and an access token it issued, with
# every check but one the spec cannot express: `positive_data_acceptance`
# (schema-valid input the service refuses too: an unknown continuation
# token, a user filter other than UserState, a customer filter operator
# other than starts_with, 400; an unknown customer, user or role id, 404;
# and a size above the fake's maximum, 400, the one refusal that is the
# fake's choice). `ignored_auth` holds: without sign-in configured the fake
# accepts any bearer token, with it only its own.
token=$(curl -sf -X POST "$strict/contoso-partner.onmicrosoft.com/oauth2/v2.0/token" \
  -d grant_type=refresh_token -d client_id=5f1c2a9e-7a3b-4e7c-9d2f-8b6a1c0e3d4f \
  -d client_secret=pc-fake-client-secret -d refresh_token=0.AAAA-pc-fake-initial-refresh-token \
  --data-urlencode scope=https://api.partnercenter.microsoft.com/user_impersonation |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
target/ci-venv/bin/schemathesis run spec/partner-center.yaml \
  --url "$strict" \
  -H "Authorization: Bearer $token" \
  --checks all \
  --exclude-checks positive_data_acceptance \
  --max-examples 100 \
  --seed 1 \
  --no-color \
  --generation-database none
