#!/usr/bin/env bash
# Leak check of the C# layer's native memory: builds the C core with AddressSanitizer (whose
# LeakSanitizer reports unfreed blocks at exit), runs the stress program against it, and fails if
# any leaked block was allocated through nkl_alloc. Leaks of the .NET runtime itself are ignored.
#   tests/NativeKl.LeakCheck/run.sh [rounds] [--leak-one]   (--leak-one: a positive control that must fail)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build/asan-leakcheck"
cmake -S "$root" -B "$build" -DNKL_SANITIZE=ON -DNKL_BUILD_TESTS=OFF -DNKL_BUILD_BENCH=OFF \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target nativekl >/dev/null
dotnet build "$root/tests/NativeKl.LeakCheck" -c Release -nologo -v quiet >/dev/null
asan=$(gcc -print-file-name=libasan.so)
report=$(mktemp)
set +e
LD_PRELOAD="$asan" ASAN_OPTIONS="detect_leaks=1:leak_check_at_exit=1:allocator_may_return_null=1:log_path=$report" \
  LSAN_OPTIONS="exitcode=0" \
  NATIVEKL_LIBRARY="$build/libnativekl.so" \
  dotnet "$root/tests/NativeKl.LeakCheck/bin/Release/net10.0/NativeKl.LeakCheck.dll" "${@:-20000}"
status=$?
set -e
# one record per "Direct/Indirect leak of N byte(s)" paragraph; ours have nkl_alloc in their stack
records() { cat "$report".* 2>/dev/null | awk -v RS= -v ORS='\n\n' '/(Direct|Indirect) leak of/' ; }
total=$(records | awk -v RS= 'END { print NR }')
leaks=$(records | awk -v RS= '/nkl_alloc/ { n++ } END { print n + 0 }')
rm -f "$report" "$report".*
echo "leak check: program exit $status; LeakSanitizer: $total leak records in the process, $leaks through nkl_alloc"
[ "$status" -eq 0 ] && [ "$leaks" -eq 0 ]
