#!/usr/bin/env bash
# Function length rule of the harness: no function in harness/ (any room)
# longer than 120 lines (from its opening to its closing brace), unless the
# line before its signature says why with a comment containing
# "long on purpose:".
# Exit 1 naming every long function; 0 otherwise.
set -u
cd "${CR_SRC:?CR_SRC names the source tree}"
limit=120
bad=0; n=0
for f in harness/*.c harness/*/*.c; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    out=$(awk -v limit=$limit -v file="$f" '
        # A function: a line at column 0 that is not a comment, a
        # preprocessor line or a declaration, then "{" at column 0.
        /^[A-Za-z_]/ && !/;[[:space:]]*$/ && !/^[A-Za-z_]+:/ { sig = $0; sigline = NR; why = (prev ~ /long on purpose:/) }
        /^\{/ { start = NR; name = sig; nameline = sigline; ok = why }
        /^\}/ { if (start) { len = NR - start + 1
                    if (len > limit && !ok)
                        printf "%s:%d: %d lines: %s\n", file, nameline, len, name
                    start = 0 } }
        { prev = $0 }' "$f")
    if [ -n "$out" ]; then echo "$out"; bad=1; fi
done
[ $n -gt 40 ] || { echo "only $n files seen: is the tree there?"; exit 1; }
[ $bad -eq 0 ] && echo "ok: no function over $limit lines in harness/ ($n files)"
exit $bad
