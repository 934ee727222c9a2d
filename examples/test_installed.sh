#!/usr/bin/env bash
# The C and C++ examples built as a user builds them: against an installed NativeKl, found
# through find_package (shared and static) and through pkg-config. Run by ctest (CMakeLists.txt
# here) in steps that share one prefix:
#   test_installed.sh install      BUILD_DIR WORK_DIR   cmake --install into WORK_DIR/prefix
#   test_installed.sh find_package BUILD_DIR WORK_DIR   examples/{c,cpp} with find_package
#   test_installed.sh pkg-config   BUILD_DIR WORK_DIR   examples/{c,cpp} with pkg-config
set -euo pipefail
step=$1 build=$2 work=$3
examples=$(cd "$(dirname "$0")" && pwd)
prefix=$work/prefix

# The seed example's values, as PyTorch computes them in float32.
check_seed_output() { # $1: what ran, $2: its output
  local expected
  for expected in 'sum        0.115592' 'batchmean  0.057796' 'mean       0.019265'; do
    if ! grep -qF -- "$expected" <<<"$2"; then
      printf '%s: expected "%s" in its output:\n%s\n' "$1" "$expected" "$2" >&2
      exit 1
    fi
  done
  # the C++ example also distills from the logits (T = 2, batchmean * T^2; exact 0.0751265)
  if [[ "$1" == *cpp* ]] && ! grep -qF -- 'distill    0.07513' <<<"$2"; then
    printf '%s: expected "distill    0.07513" in its output:\n%s\n' "$1" "$2" >&2
    exit 1
  fi
  printf '%s: ok\n%s\n' "$1" "$2"
}

# A statically linked example must not load libnativekl.so; a shared one must.
check_linkage() { # $1: executable, $2: shared|static
  local needed
  needed=$(readelf -d "$1" | grep -c 'NEEDED.*libnativekl' || true)
  if [[ $2 == static && $needed != 0 ]] || [[ $2 == shared && $needed == 0 ]]; then
    echo "$1: linked against libnativekl.so $needed time(s), but it should be $2" >&2
    exit 1
  fi
}

case $step in
install)
  rm -rf "$work"
  cmake --install "$build" --prefix "$prefix"
  for f in include/nativekl.h include/nativekl.hpp lib/libnativekl.a lib/pkgconfig/nativekl.pc \
           lib/cmake/NativeKl/NativeKlConfig.cmake lib/cmake/NativeKl/NativeKlConfigVersion.cmake; do
    [[ -f $prefix/$f ]] || { echo "missing from the installed tree: $f" >&2; exit 1; }
  done
  ls "$prefix"/lib/libnativekl.so* >/dev/null
  ;;
find_package)
  for lang in c cpp; do
    for link in shared static; do
      dir=$work/find_package-$lang-$link
      static=$([[ $link == static ]] && echo ON || echo OFF)
      cmake -S "$examples/$lang" -B "$dir" -DCMAKE_PREFIX_PATH="$prefix" -DNATIVEKL_STATIC=$static \
            -DCMAKE_BUILD_TYPE=Release >/dev/null
      cmake --build "$dir" >/dev/null
      check_linkage "$dir/seed_$lang" $link
      out=$("$dir/seed_$lang")
      check_seed_output "find_package: $lang, $link" "$out"
    done
  done
  # The version file refuses an incompatible request.
  dir=$work/find_package-version
  mkdir -p "$dir"
  printf 'cmake_minimum_required(VERSION 3.16)\nproject(v NONE)\nfind_package(NativeKl 99 CONFIG REQUIRED)\n' \
    >"$dir/CMakeLists.txt"
  if cmake -S "$dir" -B "$dir/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then
    echo "find_package(NativeKl 99) succeeded against version $(grep -o 'PACKAGE_VERSION "[^"]*"' \
      "$prefix/lib/cmake/NativeKl/NativeKlConfigVersion.cmake")" >&2
    exit 1
  fi
  ;;
pkg-config)
  command -v pkg-config >/dev/null || { echo "pkg-config not found (apt-get install pkg-config)" >&2; exit 1; }
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  dir=$work/pkg-config
  mkdir -p "$dir"
  # shellcheck disable=SC2046 # pkg-config's output is a list of flags
  cc -std=c11 -O2 -Wall -Wextra -Wpedantic -Werror "$examples/c/seed.c" -o "$dir/seed_c" $(pkg-config --cflags --libs nativekl) -lm
  # shellcheck disable=SC2046
  c++ -std=c++17 -O2 -Wall -Wextra -Wpedantic -Wconversion -Werror "$examples/cpp/seed.cpp" -o "$dir/seed_cpp" $(pkg-config --cflags --libs nativekl)
  libdir=$(pkg-config --variable=libdir nativekl)
  for lang in c cpp; do
    check_linkage "$dir/seed_$lang" shared
    out=$(LD_LIBRARY_PATH=$libdir "$dir/seed_$lang")
    check_seed_output "pkg-config: $lang" "$out"
  done
  ;;
*)
  echo "unknown step: $step" >&2
  exit 2
  ;;
esac
