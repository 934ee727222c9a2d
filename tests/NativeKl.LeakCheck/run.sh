#!/usr/bin/env bash
# Leak check of the C# layer: builds the C core with AddressSanitizer (whose LeakSanitizer reports
# unfreed blocks at exit), and runs the stress program (Program.cs) against it for each build of
# the library. A run fails if the program fails (its own check: abandoned NativeBuffers must go
# back to the GC; exit 4), if ASan reports an error in a native call, or if any leaked block has a
# frame in libnativekl. Leaks of the .NET runtime itself are ignored.
#   tests/NativeKl.LeakCheck/run.sh [rounds] [--leak-one | --leak-native] [--build net8.0 | netstandard2.0]
# Without --build both builds run. The positive controls must fail: --leak-one (a buffer's array
# pinned for ever: the managed check) and --leak-native (an nkl_alloc block never freed: LeakSanitizer).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=20000; control=(); builds=(net8.0 netstandard2.0)
while [ $# -gt 0 ]; do
  case "$1" in
    --leak-one|--leak-native) control=("$1") ;;
    --build) builds=("$2"); shift ;;
    *) rounds=$1 ;;
  esac
  shift
done
build="$root/build/asan-leakcheck"
cmake -S "$root" -B "$build" -DNKL_SANITIZE=ON -DNKL_BUILD_TESTS=OFF -DNKL_BUILD_BENCH=OFF \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target nativekl >/dev/null
asan=$(gcc -print-file-name=libasan.so)
failed=0
for b in "${builds[@]}"; do
  case "$b" in
    net8.0) project=NativeKl.LeakCheck ;;
    netstandard2.0) project=NativeKl.LeakCheck.NetStandard ;;
    *) echo "unknown build '$b' (net8.0 or netstandard2.0)" >&2; exit 2 ;;
  esac
  dotnet build "$root/tests/$project" -c Release -nologo -v quiet >/dev/null
  report=$(mktemp)
  set +e
  LD_PRELOAD="$asan" ASAN_OPTIONS="detect_leaks=1:leak_check_at_exit=1:allocator_may_return_null=1:log_path=$report" \
    LSAN_OPTIONS="exitcode=0" \
    NATIVEKL_LIBRARY="$build/libnativekl.so" \
    dotnet "$root/tests/$project/bin/Release/net10.0/$project.dll" "$rounds" "${control[@]}"
  status=$?
  set -e
  # one record per "Direct/Indirect leak of N byte(s)" paragraph; ours have a frame in libnativekl
  records() { cat "$report".* 2>/dev/null | awk -v RS= -v ORS='\n\n' '/(Direct|Indirect) leak of/' ; }
  total=$(records | awk -v RS= 'END { print NR }')
  leaks=$(records | awk -v RS= '/libnativekl|nkl_/ { n++ } END { print n + 0 }')
  errors=$(cat "$report".* 2>/dev/null | grep -c 'ERROR: AddressSanitizer' || true)
  rm -f "$report" "$report".*
  echo "leak check ($b build): program exit $status; AddressSanitizer errors: $errors; LeakSanitizer: $total leak records in the process, $leaks through libnativekl"
  if [ "$status" -ne 0 ] || [ "$leaks" -ne 0 ] || [ "$errors" -ne 0 ]; then failed=1; fi
done
[ "$failed" -eq 0 ]
