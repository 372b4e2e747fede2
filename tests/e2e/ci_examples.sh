# The CI examples of examples/ci/: yamllint (well-formed YAML, sane
# style), then tests/e2e/ci_examples.py: the structure GitHub Actions and
# GitLab CI expect, the JUnit path the suite writes, every command they
# run exists, each chaosrun command passes a --dry-run from the source
# tree.  Skipped (77) without yamllint or python3-yaml (setup.sh installs
# yamllint, which brings both).
set -e
. "$(dirname "$0")/lib.sh"
command -v yamllint >/dev/null || { echo "SKIPPED: yamllint is not installed"; exit 77; }
PY=/usr/bin/python3
[ -x "$PY" ] && "$PY" -c 'import yaml' 2>/dev/null || { echo "SKIPPED: python3-yaml is not installed"; exit 77; }

cfg='{extends: default, rules: {line-length: {max: 120}, document-start: disable, truthy: {check-keys: false}}}'
for f in "$CR_SRC"/examples/ci/*.yml; do
    if yamllint -s -d "$cfg" "$f" >"$E2E_TMP/lint" 2>&1; then
        pass "yamllint $(basename "$f")"
    else
        fail "yamllint $(basename "$f"): $(cat "$E2E_TMP/lint")"
    fi
done
if "$PY" "$CR_SRC/tests/e2e/ci_examples.py" >"$E2E_TMP/py.out" 2>&1; then
    pass "ci_examples.py: $(grep -c '^ok:' "$E2E_TMP/py.out") checks"
else
    cat "$E2E_TMP/py.out"
    fail "ci_examples.py"
fi
finish
