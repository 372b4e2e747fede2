#!/usr/bin/env bash
# Dependency rule of the harness layout: every `#include "room/..."` in
# harness/, faults/ and reports/ must be allowed by the map in
# harness/README.md (the table between the deps-table markers: room ->
# "may include").  Same-folder includes (no slash) are always allowed.
# Exit 1 naming every forbidden include; 0 otherwise.
set -u
cd "${CR_SRC:?CR_SRC names the source tree}"
readme=harness/README.md
declare -A allow
rows=$(sed -n '/<!-- deps-table: begin -->/,/<!-- deps-table: end -->/p' "$readme" |
       grep '^| `' ) || { echo "no deps table in $readme"; exit 1; }
while IFS= read -r row; do
    room=$(printf '%s' "$row" | cut -d'|' -f2 | tr -d ' `')
    may=$(printf '%s' "$row" | cut -d'|' -f4 | tr -d ' ')
    case "$room" in
        ../faults/) room=faults ;;
        ../reports/) room=reports ;;
        main.c,cr_registry.c) room=top ;;
        */) room=${room%/} ;;
    esac
    allow[$room]=$may
done <<<"$rows"
for r in base scenario events probes checks net proxy engine cli faults reports top; do
    [ -n "${allow[$r]+x}" ] || { echo "$readme: the map has no row for $r"; exit 1; }
done

# The room of a source file.
room_of() {
    case "$1" in
        faults/*) echo faults ;;
        reports/*) echo reports ;;
        harness/*/*) p=${1#harness/}; echo "${p%%/*}" ;;
        harness/*) echo top ;;
    esac
}

bad=0; checked=0
while IFS= read -r f; do
    room=$(room_of "$f")
    [ -n "$room" ] || continue
    may=",${allow[$room]},"
    while IFS= read -r inc; do
        [ -n "$inc" ] || continue
        checked=$((checked + 1))
        case "$inc" in */*) ;; *) continue ;; esac   # same folder
        target=${inc%%/*}
        [ "$target" = "$room" ] && continue
        if [ "$may" = ",all," ] || [[ "$may" == *",$target,"* ]] || [[ "$may" == *",$inc,"* ]]; then
            continue
        fi
        echo "$f: includes \"$inc\": room '$room' may include only: ${allow[$room]}"
        bad=1
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done < <(git ls-files 'harness/*.c' 'harness/*.h' 'faults/*.c' 'faults/*.h' 'reports/*.c' 'reports/*.h')
[ $checked -gt 100 ] || { echo "only $checked includes seen: is the tree there?"; exit 1; }
[ $bad -eq 0 ] && echo "ok: $checked includes follow the map in $readme"
exit $bad
