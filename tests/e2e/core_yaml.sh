# End-to-end: a YAML scenario validates and runs exactly like its JSON
# twin.  tiny.yaml is tiny.json in YAML, kill-restart.yaml (scenarios/
# examples/) is kill-restart.json: same validation, same resolved
# timeline, same document in the journal, same verdicts; a mistake in a
# YAML file is reported at its YAML line and column with exit status 2;
# `suite DIR` picks up .yaml files.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"
EX="$CR_SRC/scenarios/examples"

"$CHAOSRUN" validate "$EX/kill-restart.yaml" "$S/tiny.yaml" >"$E2E_TMP/v.out" 2>&1 && rc=0 || rc=$?
expect_eq "validate the YAML scenarios" 0 "$rc"
"$CHAOSRUN" --dry-run "$EX/kill-restart.json" >"$E2E_TMP/dj.out" 2>&1
"$CHAOSRUN" --dry-run "$EX/kill-restart.yaml" >"$E2E_TMP/dy.out" 2>&1
expect_true "the same resolved timeline (--dry-run)" \
    diff <(sed 's/kill-restart\.json/X/g' "$E2E_TMP/dj.out") <(sed 's/kill-restart\.yaml/X/g' "$E2E_TMP/dy.out")

run_chaosrun "$E2E_TMP/j" "$S/tiny.json"
rcj=$RC
run_chaosrun "$E2E_TMP/y" "$S/tiny.yaml"
expect_eq "the YAML run exits as the JSON run" "$rcj" "$RC"
expect_eq "and passes" 0 "$RC"
expect_eq "the journal holds the same document" \
    "$(jq -cS .scenario "$E2E_TMP/j/journal.json")" "$(jq -cS .scenario "$E2E_TMP/y/journal.json")"
expect_eq "the same verdicts" \
    "$(jq -c '[.expectations[] | [.name, .verdict]]' "$E2E_TMP/j/journal.json")" \
    "$(jq -c '[.expectations[] | [.name, .verdict]]' "$E2E_TMP/y/journal.json")"
expect_eq "the same timeline" \
    "$(jq -cS .timeline "$E2E_TMP/j/journal.json")" "$(jq -cS .timeline "$E2E_TMP/y/journal.json")"
expect_true "the reproduce line names the YAML file" \
    grep -q 'tiny\.yaml$' <<<"$(jq -r .reproduce "$E2E_TMP/y/journal.json")"

# A mistake: at its YAML position, exit 2, nothing started.
cat >"$E2E_TMP/bad.yaml" <<'YAML'
name: bad
duration_s: 1
services:
  - name: s
    cmd: [sleep, "100"]
    restart: always
    restrat_delay_s: 1
YAML
"$CHAOSRUN" validate "$E2E_TMP/bad.yaml" >"$E2E_TMP/bad.out" 2>&1 && rc=0 || rc=$?
expect_eq "an invalid YAML scenario exits 2" 2 "$rc"
expect_true "reported at FILE:7:5" grep -qF "$E2E_TMP/bad.yaml:7:5: services[0]: unknown key \"restrat_delay_s\" (did you mean \"restart_delay_s\"?)" "$E2E_TMP/bad.out"
run_chaosrun "$E2E_TMP/b" "$E2E_TMP/bad.yaml"
expect_eq "running it exits 2 too" 2 "$RC"

# suite DIR: the .yaml file is part of it.
mkdir "$E2E_TMP/suite"
cp "$S/tiny.yaml" "$E2E_TMP/suite/"
"$CHAOSRUN" suite --no-status --out "$E2E_TMP/so" "$E2E_TMP/suite" >"$E2E_TMP/suite.out" 2>&1 && rc=0 || rc=$?
expect_eq "suite runs a directory of YAML" 0 "$rc"
expect_true "its JUnit names the scenario" grep -q 'name="tiny"' "$E2E_TMP/so/junit.xml"
expect_true "no leftover process" test -z "$(procs_of_run "$E2E_TMP/j")$(procs_of_run "$E2E_TMP/y")"
finish
