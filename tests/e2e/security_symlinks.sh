# End-to-end (issue 13, "Files: never follow a link out of the run
# directory"): links planted where chaosrun writes or reads never lead it
# out of the run directory.
#   - a non-empty --out is refused (exit 2): a link planted as
#     report.html.tmp, report.md.tmp, junit.xml.tmp, .journal.json.tmp,
#     events.jsonl or ledger no longer overwrites, truncates or appends to
#     its target (it did, with the run's exit 0);
#   - --out as a link to a directory is refused;
#   - --force empties an earlier run without following its links and the
#     run writes regular files (ledger 0600);
#   - `chaosrun report RUN_DIR` replaces its files without following a
#     planted temporary-file link, and reads no log through a link.
set -e
. "$(dirname "$0")/lib.sh"
S=$E2E_TMP/s.json
cat >"$S" <<'EOF'
{"name": "sec", "duration_s": 0.5, "drain_s": 0,
 "services": [{"name": "idle", "cmd": ["sleep", "30"], "stop_timeout_s": 1}],
 "faults": [{"kind": "kill", "target": "idle", "at_s": 0.1, "signal": "SIGKILL"}]}
EOF
V=$E2E_TMP/victim
precious() { printf 'precious\n' >"$V"; }
victim() { head -c 20 "$V" | tr -c 'a-z' .; }

for name in report.html.tmp report.md.tmp junit.xml.tmp .journal.json.tmp events.jsonl ledger; do
    precious
    R=$E2E_TMP/plant$name
    mkdir "$R"
    ln -s "$V" "$R/$name"
    set +e
    "$CHAOSRUN" --no-status --out "$R" "$S" >"$R.out" 2>&1
    rc=$?
    set -e
    expect_eq "link planted as $name: its target is unchanged" precious. "$(victim)"
    expect_eq "link planted as $name: the non-empty --out is refused (exit 2)" 2 "$rc"
    expect_true "link planted as $name: the message says why" grep -q "is not empty" "$R.out"
done

# --out itself a link to an empty directory.
mkdir "$E2E_TMP/elsewhere"
ln -s "$E2E_TMP/elsewhere" "$E2E_TMP/outlink"
set +e
"$CHAOSRUN" --no-status --out "$E2E_TMP/outlink" "$S" >"$E2E_TMP/outlink.out" 2>&1
rc=$?
set -e
expect_eq "--out as a symbolic link is refused (exit 2)" 2 "$rc"
expect_true "and nothing was written through it" test -z "$(ls -A "$E2E_TMP/elsewhere")"

# An earlier run given again: refused, then --force empties it (its
# links removed, never followed) and the run writes regular files.
precious
R=$E2E_TMP/again
run_chaosrun "$R" "$S"
expect_eq "first run passes" 0 "$RC"
for name in report.html.tmp .journal.json.tmp ledger events.jsonl; do
    rm -f "$R/$name"
    ln -s "$V" "$R/$name"
done
run_chaosrun "$R" "$S"
expect_eq "an earlier run directory is refused without --force (exit 2)" 2 "$RC"
set +e
"$CHAOSRUN" --no-status --force --out "$R" "$S" >"$R.force.out" 2>&1
RC=$?
set -e
expect_eq "--force: the run passes" 0 "$RC"
expect_eq "--force: the links' target is unchanged" precious. "$(victim)"
for name in journal.json report.html report.md junit.xml ledger events.jsonl; do
    expect_true "--force: $name is a regular file" test -f "$R/$name" -a ! -L "$R/$name"
done
expect_eq "ledger mode" 600 "$(stat -c %a "$R/ledger")"
expect_eq "run directory mode" 755 "$(stat -c %a "$R")"
expect_true "no temporary file left" test -z "$(find "$R" -name '*.tmp')"
# --force on a directory that is no chaosrun output: refused.
mkdir "$E2E_TMP/home" && echo x >"$E2E_TMP/home/notes.txt"
set +e
"$CHAOSRUN" --no-status --force --out "$E2E_TMP/home" "$S" >"$E2E_TMP/home.out" 2>&1
rc=$?
set -e
expect_eq "--force on a directory without chaosrun output is refused (exit 2)" 2 "$rc"
expect_true "and its files are kept" test -f "$E2E_TMP/home/notes.txt"

# chaosrun report: a planted temporary file; a log that links to a secret.
precious
ln -s "$V" "$R/report.html.tmp"
ln -s "$V" "$R/report.md.tmp"
set +e
"$CHAOSRUN" report "$R" >"$E2E_TMP/report.out" 2>&1
rc=$?
set -e
expect_eq "chaosrun report regenerates the reports" 0 "$rc"
expect_eq "chaosrun report: the planted link's target is unchanged" precious. "$(victim)"
expect_true "chaosrun report: report.html is a regular file" test -f "$R/report.html" -a ! -L "$R/report.html"
printf 'TOPSECRET-LINE\n' >"$E2E_TMP/secret"
R=$E2E_TMP/logrun
run_chaosrun "$R" "$S"
rm -f "$R/logs/idle.0.log"
ln -s "$E2E_TMP/secret" "$R/logs/idle.0.log"
"$CHAOSRUN" report "$R" >"$E2E_TMP/report2.out" 2>&1 || true
expect_true "chaosrun report with a linked log: report.html written" test -s "$R/report.html"
expect_eq "chaosrun report: no log read through a link" 0 "$(cat "$R/report.html" "$R/report.md" | grep -c TOPSECRET)"

# Without --out: new directories under chaosrun-out/, twice in a row.
mkdir "$E2E_TMP/cwd"
(cd "$E2E_TMP/cwd" && "$CHAOSRUN" --no-status -q "$S" >/dev/null 2>&1 && "$CHAOSRUN" --no-status -q "$S" >/dev/null 2>&1)
expect_eq "two runs without --out: two run directories" 2 "$(ls "$E2E_TMP/cwd/chaosrun-out" | wc -l)"
finish
