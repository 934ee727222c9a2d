#!/usr/bin/env bash
# The managed backend on linux-arm64 (issue 16): publishes NativeKl.Arm64Check self-contained for
# linux-arm64, without libnativekl, and runs it under qemu-aarch64, where KlIsa.Auto is the 128-bit
# NEON path; every digest of every managed path (Auto, Scalar, Neon) must equal expected.txt, which
# the same program wrote on x64 (`write` mode regenerates it there; the C# suites hold the x64
# managed paths to the native library bit for bit).
#   tests/NativeKl.Arm64Check/run.sh [quick|full|write]
# quick (the default): lengths up to 1000 and the smaller distillation shapes (qemu runs .NET some
# 30-100 times slower than the host); full: every case.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mode=${1:-quick}
if [ "$mode" = write ]; then
  dotnet build "$here" -c Release -nologo -v quiet || exit 2
  exec dotnet "$here/bin/Release/net10.0/NativeKl.Arm64Check.dll" --write "$here/expected.txt"
fi
command -v qemu-aarch64 >/dev/null || { echo "qemu-aarch64 not found (apt-get install qemu-user)"; exit 2; }
out="$root/artifacts/arm64check"
rm -rf "$out"
log=$(dotnet publish "$here" -c Release -r linux-arm64 --self-contained -o "$out" -nologo -v quiet 2>&1) \
  || { echo "$log" | tail -20; echo "publish of NativeKl.Arm64Check for linux-arm64 failed"; exit 2; }
# A linux-arm64 libnativekl would make this a test of the native backend, not of the fallback.
[ ! -e "$out/libnativekl.so" ] && [ -z "$(find "$out" -path '*linux-arm64*' -name 'libnativekl*')" ] \
  || { echo "an arm64 libnativekl was published: this checks the managed fallback"; exit 2; }
flag=--quick
[ "$mode" = full ] && flag=
# W^X off: qemu does not see code .NET writes through the second mapping of a page (crashes).
cd "$out" && DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_EnableWriteXorExecute=0 qemu-aarch64 -L /usr/aarch64-linux-gnu ./NativeKl.Arm64Check --check expected.txt $flag
