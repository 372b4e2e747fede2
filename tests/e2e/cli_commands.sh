# End-to-end: the command line's dispatch and conventions -- an unknown
# sub-command is named with the list of commands (and a hint), a word that
# is a file or ends in .json still runs as a scenario, `version`, --version
# on every command, `help COMMAND`, `suite --help` lists its options,
# --color=auto|always|never and NO_COLOR on the summary.
set -e
. "$(dirname "$0")/lib.sh"
S="$CR_SRC/tests/e2e/scenarios"

# Every visible command, from `chaosrun --help`'s Commands block.
"$CHAOSRUN" --help >"$E2E_TMP/help"
cmds=$(sed -n '/^Commands/,/^$/p' "$E2E_TMP/help" | awk 'NR > 1 && NF { print $1 }')
expect_true "--help lists commands" test -n "$cmds"
for c in run suite validate list init report proxy cleanup version help; do
    expect_true "--help lists $c" grep -qx "$c" <<<"$cmds"
done

# An unknown word: exit 2, named, with the commands and a hint.
set +e
"$CHAOSRUN" init2 >"$E2E_TMP/u.out" 2>"$E2E_TMP/u.err"; rc=$?
set -e
expect_eq "unknown command exits 2" 2 "$rc"
expect_true "unknown command is named" grep -q "'init2' is neither a command nor a scenario file" "$E2E_TMP/u.err"
expect_true "... with a hint" grep -q "did you mean 'init'" "$E2E_TMP/u.err"
expect_true "... and the list of commands" grep -q "^commands: run suite shrink explore validate" "$E2E_TMP/u.err"
expect_true "... not as a scenario read" sh -c "! grep -q 'reading scenario' '$E2E_TMP/u.err'"
# A word ending in .json is a scenario even when missing (the run says so).
set +e
"$CHAOSRUN" "$E2E_TMP/missing.json" 2>"$E2E_TMP/m.err"; rc=$?
set -e
expect_eq "missing FILE.json exits 2" 2 "$rc"
expect_true "missing FILE.json is read as a scenario" grep -q "reading scenario" "$E2E_TMP/m.err"
# An existing file without the extension runs too.
cp "$S/tiny.json" "$E2E_TMP/tiny-scenario"
set +e
(cd "$E2E_TMP" && "$CHAOSRUN" --dry-run tiny-scenario >"$E2E_TMP/d.out" 2>&1); rc=$?
set -e
expect_eq "an existing file without .json runs" 0 "$rc"

# version, --version anywhere, help COMMAND.
v=$("$CHAOSRUN" --version)
expect_true "--version prints the version ($v)" grep -qE '^chaosrun [0-9]+\.[0-9]+\.[0-9]+$' <<<"$v"
"$CHAOSRUN" version >"$E2E_TMP/version"
expect_eq "version's first line" "$v" "$(head -1 "$E2E_TMP/version")"
expect_true "version names the helper directory" grep -q "^helpers: $CR_BIN\$" "$E2E_TMP/version"
for c in $cmds; do
    expect_eq "chaosrun $c --version" "$v" "$("$CHAOSRUN" "$c" --version)"
    set +e
    "$CHAOSRUN" help "$c" >"$E2E_TMP/h.$c" 2>&1; rc=$?
    set -e
    expect_eq "chaosrun help $c exits 0" 0 "$rc"
    expect_true "chaosrun help $c prints a usage" grep -qi "usage" "$E2E_TMP/h.$c"
done
# Without a build-time helper directory override, version finds the
# helpers through the compiled-in relative path: the build's bin/.
expect_eq "helper directory from the build tree" "helpers: $(cd "$CR_BIN" && pwd -P)" \
    "$(env -u CHAOSRUN_BINDIR "$CHAOSRUN" version | sed -n 2p)"

# suite --help lists its options.
"$CHAOSRUN" suite --help >"$E2E_TMP/suite.help"
for o in --out --jobs --seed --quiet --no-status --color --dry-run --help; do
    expect_true "suite --help lists $o" grep -q -- "$o" "$E2E_TMP/suite.help"
done
"$CHAOSRUN" report --help >"$E2E_TMP/report.help"
expect_true "report --help documents --fail-on" grep -q -- "--fail-on WHEN" "$E2E_TMP/report.help"

# Colour of the summary: never in a pipe by default, with --color=always,
# never with --color=never, NO_COLOR or TERM=dumb unless always.
esc=$(printf '\033[')
summary() { "$CHAOSRUN" -q --no-status --out "$E2E_TMP/run.$1" "${@:2}" "$S/tiny.json" 2>/dev/null; }
summary a >"$E2E_TMP/c.auto"
expect_true "auto in a pipe: no colour" sh -c "! grep -qF '$esc' '$E2E_TMP/c.auto'"
expect_true "the run passed" grep -q "PASS" "$E2E_TMP/c.auto"
summary b --color=always >"$E2E_TMP/c.always"
expect_true "--color=always: PASS in green" grep -qF "${esc}32mPASS" "$E2E_TMP/c.always"
NO_COLOR=1 summary c --color always >"$E2E_TMP/c.nc_always"
expect_true "--color always wins over NO_COLOR" grep -qF "${esc}32m" "$E2E_TMP/c.nc_always"
summary d --color=never >"$E2E_TMP/c.never"
expect_true "--color=never: no colour" sh -c "! grep -qF '$esc' '$E2E_TMP/c.never'"
set +e
"$CHAOSRUN" --color=sometimes "$S/tiny.json" >/dev/null 2>"$E2E_TMP/c.err"; rc=$?
set -e
expect_eq "--color=sometimes is a usage error" 2 "$rc"
# auto on a terminal: script(1) gives the run a pseudo-terminal.
if command -v script >/dev/null; then
    tty_run() { script -qec "$1" /dev/null </dev/null | tr -d '\r'; }
    tty_run "'$CHAOSRUN' -q --out '$E2E_TMP/run.e' '$S/tiny.json'" >"$E2E_TMP/c.tty"
    expect_true "auto on a terminal: colour" grep -qF "${esc}32mPASS" "$E2E_TMP/c.tty"
    tty_run "env NO_COLOR=1 '$CHAOSRUN' -q --out '$E2E_TMP/run.f' '$S/tiny.json'" >"$E2E_TMP/c.tty_nc"
    expect_true "auto on a terminal with NO_COLOR: none" sh -c "! grep -qF '${esc}32m' '$E2E_TMP/c.tty_nc'"
    tty_run "env TERM=dumb '$CHAOSRUN' -q --out '$E2E_TMP/run.g' '$S/tiny.json'" >"$E2E_TMP/c.tty_dumb"
    expect_true "auto on a terminal with TERM=dumb: none" sh -c "! grep -qF '${esc}32m' '$E2E_TMP/c.tty_dumb'"
else
    echo "note: script(1) missing: auto on a terminal not tested"
fi
finish
