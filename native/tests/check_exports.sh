#!/usr/bin/env bash
# check_exports.sh HEADER SHARED STATIC OBJDUMP
# The shared library exports exactly the functions the public header declares with NKL_API,
# nothing else; the static library exports none of them (so a program or DLL that links it does
# not re-export the API): ELF objects mark them .hidden, PE objects carry no -export directive.
set -euo pipefail
header=$1 shared=$2 static=$3 objdump=$4

want=$(sed -n 's/^NKL_API .*[ *]\(nkl_[a-z0-9_]*\)(.*/\1/p' "$header" | sort)
[ -n "$want" ] || { echo "no NKL_API declarations found in $header"; exit 1; }

format=$("$objdump" -f "$shared" | sed -n 's/.*file format \(.*\)$/\1/p')
case "$format" in
  pe-*|pei-*)
    # The export table of `objdump -p`: "[   0] nkl_active_isa" lines.
    got=$("$objdump" -p "$shared" | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/s/^\s*\[ *[0-9]*\] \(\S*\)$/\1/p' | sort)
    leaked=$("$objdump" -s -j .drectve "$static" 2>/dev/null | grep -c 'export' || true)
    ;;
  *)
    got=$("$objdump" -T "$shared" | awk '$2 == "g" && $4 != "*UND*" && $NF !~ /^_/ && $3 ~ /F/ { print $NF }' | sort)
    leaked=$("$objdump" -t "$static" | awk '$2 == "g" && $4 != "*UND*" && $NF ~ /^nkl_/ && $(NF-1) != ".hidden"' | wc -l)
    ;;
esac

status=0
if [ "$got" != "$want" ]; then
  echo "the shared library's exports differ from the header's NKL_API functions ($format):"
  diff <(echo "$want") <(echo "$got") | sed 's/^/  /' || true
  status=1
fi
if [ "$leaked" -ne 0 ]; then
  echo "the static library exports $leaked symbol(s) or directive(s) of its own ($format)"
  status=1
fi
if [ $status -eq 0 ]; then
  echo "exports: $(echo "$want" | wc -l) functions, exactly the header's; the static library exports none ($format)"
fi
exit $status
