#!/usr/bin/env bash
# Makes TorchSharp-cpu 0.107.0 (libtorch 2.10 CPU) load on Debian 12.
# Its libLibTorchSharp.so asks for libstdc++'s GLIBCXX_3.4.32 (GCC 13) for one symbol only,
# std::ios_base_library_init(). Debian 12 ships GCC 12's libstdc++. This script, idempotently:
#   1. restores TorchSharp-cpu 0.107.0 into the NuGet cache if it is not there,
#   2. marks that version reference weak and drops the symbol's version (keeps a .orig copy),
#   3. builds a tiny shim library defining the symbol.
# It prints the LD_PRELOAD=... to export before running a process that loads TorchSharp:
#   export "$(tools/torchsharp-debian12/torchsharp-debian12.sh)"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/torchsharp-debian12"; mkdir -p "$cache"
pkgs="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
lib="$pkgs/torchsharp/0.107.0/runtimes/linux-x64/native/libLibTorchSharp.so"
if [ ! -f "$lib" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && dotnet new console -o r >/dev/null && cd r && dotnet add package TorchSharp-cpu --version 0.107.0 >/dev/null)
  rm -rf "$tmp"
fi
command -v patchelf >/dev/null || { apt-get update >/dev/null && apt-get install -y patchelf >/dev/null; }
[ -f "$cache/libiosshim.so" ] || g++ -O2 -shared -fPIC "$here/shim.cpp" -o "$cache/libiosshim.so"
# grep reads all of objdump's output: with -q it would exit at the first match, objdump would die of
# SIGPIPE, and under pipefail the test would fail, leaving the library unpatched.
if objdump -T "$lib" | grep 'GLIBCXX_3.4.32' >/dev/null; then
  cp -n "$lib" "$lib.orig" || true
  python3 "$here/weakver.py" "$lib" GLIBCXX_3.4.32 >/dev/null
  patchelf --clear-symbol-version _ZSt21ios_base_library_initv "$lib"
fi
echo "LD_PRELOAD=$cache/libiosshim.so"
