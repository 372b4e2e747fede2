#!/usr/bin/env bash
# Doc test: every `file: function` pair in sample_pipeline/README.md names a
# function (or table) that is defined in that file, every `crp_*.c`/`.h`
# the README names exists, and every prototype in crp_stage.h annotated
# with its file (`int crp_x_main(crp_ctx *x); /* crp_x.c */`) is defined
# there.  A pair is written
#   `crp_x.c: name`            or, for more names of the same file,
#   `crp_x.c: name`, `other`, `third`
# A definition is a line that starts in column 0 (not a comment, not a
# preprocessor line) and has `name(` or `name[` in it, e.g.
#   static int batch(worker *w)
#   static const crp_brk_state table[CRP_BRK_NSTATES][BE_N] = {
# Usage: check_readme_map.sh [SAMPLE_PIPELINE_DIR]  (default: next to it)
set -u
dir=${1:-$(cd "$(dirname "$0")/.." && pwd)}
readme="$dir/README.md"
[ -f "$readme" ] || { echo "check_readme_map: no $readme" >&2; exit 2; }
bad=0 n=0
# One "file name" pair per line: the first name after "file: ", then each
# `name` that follows as ", `name`".
pairs=$(grep -o '`crp_[a-z0-9_]*\.[ch]: [A-Za-z_][A-Za-z0-9_]*`\(, `[A-Za-z_][A-Za-z0-9_]*`\)*' "$readme" |
    sed -e 's/`//g' -e 's/: /:/' |
    awk -F'[:,] *' '{ for (i = 2; i <= NF; i++) print $1, $i }' | sort -u)
while read -r file name; do
    [ -n "$file" ] || continue
    n=$((n + 1))
    if [ ! -f "$dir/$file" ]; then
        echo "README.md: \`$file: $name\`: no file sample_pipeline/$file"
        bad=$((bad + 1))
        continue
    fi
    if ! grep -Eq "^[A-Za-z_].*\\b$name[[:space:]]*[(\[]" "$dir/$file"; then
        where=$(grep -El "^[A-Za-z_].*\\b$name[[:space:]]*[(\[]" "$dir"/crp_*.c 2>/dev/null |
            xargs -r -n1 basename | tr '\n' ' ')
        echo "README.md: \`$file: $name\`: $name is not defined in $file${where:+ (it is in: $where)}"
        bad=$((bad + 1))
    fi
done <<<"$pairs"
# every file the README names exists
for f in $(grep -o '`crp_[a-z0-9_]*\.[ch][`:]' "$readme" | tr -d '`:' | sort -u); do
    n=$((n + 1))
    if [ ! -f "$dir/$f" ]; then
        echo "README.md: names $f: no file sample_pipeline/$f"
        bad=$((bad + 1))
    fi
done
# crp_stage.h: each entry point says where it is defined
while read -r name file; do
    n=$((n + 1))
    if ! grep -Eq "^[A-Za-z_].*\b$name[[:space:]]*\(" "$dir/$file" 2>/dev/null; then
        where=$(grep -El "^[A-Za-z_].*\b$name[[:space:]]*\(" "$dir"/crp_*.c 2>/dev/null |
            xargs -r -n1 basename | tr '\n' ' ')
        echo "crp_stage.h: $name is said to be in $file${where:+, it is in: $where}"
        bad=$((bad + 1))
    fi
done < <(sed -n 's|^[a-z].*\b\(crp_[a-z0-9_]*\)(.*/\* \(crp_[a-z0-9_]*\.c\)[ :].*|\1 \2|p' "$dir/crp_stage.h")
if [ "$n" -eq 0 ]; then
    echo "check_readme_map: no \`file: function\` pair found in $readme" >&2
    exit 1
fi
echo "checked $n file: function pairs, $bad wrong"
[ "$bad" -eq 0 ]
