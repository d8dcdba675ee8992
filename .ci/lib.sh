# Sourced by the .ci scripts: starting pc-fake on a free port.
# Expects `pids` (an array the caller's EXIT trap kills) and a writable
# directory in `work` for the logs.

# start_fake VAR ARGS...: starts target/debug/pc-fake ARGS on a free port
# and sets VAR to its base URL.
start_fake() {
  local var=$1
  shift
  local log
  log=$(mktemp -p "$work" fake-XXXXXX.log)
  target/debug/pc-fake "$@" --port 0 >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q 'pc-fake: ready' "$log" && break
    sleep 0.1
  done
  local url
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n 1)
  [ -n "$url" ] || { cat "$log"; echo "pc-fake $* did not start" >&2; exit 1; }
  printf -v "$var" '%s' "$url"
}
