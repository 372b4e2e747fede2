#!/usr/bin/env bash
# Style gate: every tracked C source and header is formatted as
# .clang-format says.  Skipped (77) when clang-format or git is missing.
set -u
cd "${CR_SRC:?CR_SRC names the source tree}"
command -v clang-format >/dev/null || { echo "SKIPPED: clang-format not installed"; exit 77; }
[ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1 || { echo "SKIPPED: not a git checkout"; exit 77; }
mapfile -t files < <(git ls-files '*.c' '*.h')
[ ${#files[@]} -gt 0 ] || { echo "no C files tracked"; exit 1; }
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/cr-format.$$; then
    grep -oE '^[^: ]+\.[ch]:' /tmp/cr-format.$$ | sed 's/:$//' | sort -u | sed 's/^/not formatted: /'
    echo "fix with: clang-format -i \$(git ls-files '*.c' '*.h')"
    rm -f /tmp/cr-format.$$
    exit 1
fi
rm -f /tmp/cr-format.$$
echo "ok: ${#files[@]} files formatted"
