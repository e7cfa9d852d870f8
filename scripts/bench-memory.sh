#!/usr/bin/env bash
# Peak memory of the release server (VmHWM from /proc; Tesseract runs in its own processes and
# is not counted): idle after start, after one 3.6 MB 2560×1600 PNG sent as JSON, and after 8
# uploads of 4 MB PNGs sent at once (with the default analysis slots: one per core). Run by
# scripts/bench.sh; needs a release build (the musl one CI makes, or target/release).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dir=${KIRO_SERVER_DIR:-target/x86_64-unknown-linux-musl/release}
[ -x "$dir/server" ] || dir=target/release
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Screenshot-sized PNGs that do not compress away: white, with bands of noise sized so that the
# file is the given size.
python3 - "$work" <<'EOF'
import os, struct, sys, zlib
work = sys.argv[1]
def png(path, width, height, target):
    white = b"\x00" + b"\xff" * (width * 3)
    noisy = lambda: b"\x00" + os.urandom(width * 3)
    # Each noisy row adds about width*3 bytes; the white ones almost nothing.
    noisy_rows = min(height, target // (width * 3))
    every = max(1, height // max(1, noisy_rows))
    raw = b"".join(noisy() if y % every == 0 and y // every < noisy_rows else white for y in range(height))
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    body = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    body += chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
    open(path, "wb").write(body)
png(f"{work}/one.png", 2560, 1600, 3_600_000)
png(f"{work}/four.png", 2560, 1600, 3_950_000)
EOF

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
KIRO_DATA_DIR="$work/data" KIRO_MEMBER_KEYS=bench-member KIRO_ADMIN_KEYS=bench-admin \
  KIRO_RATE_PER_SECOND=1000 KIRO_RATE_BURST=1000 KIRO_MAILER=off KIRO_VERIFY_EMAIL=off RUST_LOG=error \
  KIRO_ANALYZER=tesseract \
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=kiro-access \
  "$dir/server" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
peak() { awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$server_pid/status"; }
body() { # email, png -> JSON body file
  python3 -c 'import base64, json, sys; print(json.dumps({"email": sys.argv[1], "image": base64.b64encode(open(sys.argv[2], "rb").read()).decode()}))' "$1" "$2" >"$work/$1.json"
}
ask() { # email -> HTTP status
  curl -s -o /dev/null -w '%{http_code}\n' -X POST "http://127.0.0.1:$port/check-credits" \
    -H 'content-type: application/json' -H 'x-api-key: bench-member' --data-binary "@$work/$1.json"
}

echo "server memory ($dir/server; sizes: one $(stat -c %s "$work/one.png") B, each of eight $(stat -c %s "$work/four.png") B)"
echo "  idle after start, peak RSS: $(peak)"
body one@example.com "$work/one.png"
status=$(ask one@example.com)
echo "  one 3.6 MB PNG as JSON (HTTP $status), peak RSS: $(peak)  (target <= 64 MB)"
for i in $(seq 8); do body "eight$i@example.com" "$work/four.png"; done
statuses=$(for i in $(seq 8); do ask "eight$i@example.com" & done; wait)
echo "  8 concurrent 4 MB uploads (HTTP: $(echo "$statuses" | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')), peak RSS: $(peak)"
