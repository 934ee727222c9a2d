#!/usr/bin/env bash
# The NativeBuffer lifetime check (Program.cs): forgotten buffers handed straight to KL calls while
# a background thread forces full collections, for a few seconds. It must exit 0; before buffers
# were GC-tracked it died of SIGSEGV (or got a wrong result) within half a second.
#   tests/NativeKl.LifetimeCheck/run.sh coreclr | coreclr-netstandard | aot [seconds (default 5)]
# coreclr: the net8.0 build of the library on CoreCLR with tiered compilation off (optimised code
# from the first call, which ends a local's GC lifetime at its last use); coreclr-netstandard: the
# same against the netstandard2.0 build; aot: the net8.0 build published with NativeAOT.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:?usage: run.sh coreclr|coreclr-netstandard|aot [seconds]}
seconds=${2:-5}
case "$mode" in
  coreclr|coreclr-netstandard)
    project=NativeKl.LifetimeCheck
    [ "$mode" = coreclr-netstandard ] && project=NativeKl.LifetimeCheck.NetStandard
    log=$(dotnet build "$root/tests/$project" -c Release -nologo -v quiet 2>&1) || { echo "$log" | tail -20; echo "build of $project failed"; exit 2; }
    DOTNET_TieredCompilation=0 dotnet "$root/tests/$project/bin/Release/net10.0/$project.dll" "$seconds"
    ;;
  aot)
    out="$root/artifacts/lifetime-aot"
    rm -rf "$out"
    log=$(dotnet publish "$root/tests/NativeKl.LifetimeCheck" -c Release -r linux-x64 -p:NklNativeAot=true \
      -o "$out" -nologo -v quiet 2>&1) || { echo "$log" | tail -20; echo "NativeAOT publish of NativeKl.LifetimeCheck failed"; exit 2; }
    "$out/NativeKl.LifetimeCheck" "$seconds"
    ;;
  *) echo "unknown mode '$mode' (coreclr, coreclr-netstandard or aot)"; exit 2 ;;
esac
status=$?
if [ "$status" -gt 128 ]; then
  echo "lifetime check ($mode): killed by signal $((status - 128)) ($(kill -l $((status - 128)) 2>/dev/null))"
fi
exit "$status"
