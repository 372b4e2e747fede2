#!/usr/bin/env python3
"""Checks of examples/ci/ (run by tests/e2e/ci_examples.sh).

For the GitHub Actions workflow and the GitLab CI job: the structure each
CI system expects (on/jobs/runs-on/steps; script/artifacts), actions named
owner/repo@version, the JUnit report and the artifact kept even when the
job fails, the JUnit path is the one the suite writes (<--out>/junit.xml),
and every command the jobs run exists: setup.sh targets from setup.sh's
own case list, chaosrun sub-commands from `chaosrun --help`, other
programs on PATH.  Each chaosrun command is then run from the source tree
with --dry-run (every scenario is loaded and validated, nothing runs).

Prints "ok: ..." / "FAIL: ..." lines; exit 1 on any failure."""
import os
import re
import shlex
import subprocess
import sys

import yaml

SRC = os.environ["CR_SRC"]
BIN = os.environ["CR_BIN"]
fails = 0


def ok(msg):
    print("ok: " + msg)


def bad(msg):
    global fails
    fails += 1
    print("FAIL: " + msg)


def check(cond, msg):
    (ok if cond else bad)(msg)


def setup_targets():
    text = open(os.path.join(SRC, "setup.sh")).read()
    block = text[text.index('case "${1:-}" in'):]
    block = block[: block.index("esac")]
    return set(re.findall(r"^\s+([a-z][a-z0-9_-]*)\)", block, re.M))


def chaosrun_commands():
    out = subprocess.run([os.path.join(BIN, "chaosrun"), "--help"],
                         capture_output=True, text=True, check=True).stdout
    block = out[out.index("\nCommands"):]
    block = block[: block.index("\n\n", 1)]
    return {l.split()[0] for l in block.splitlines()[1:] if l.strip()}


TARGETS = setup_targets()
COMMANDS = chaosrun_commands()
dry_runs = []  # (argv, where)
junit_expected = set()  # <out>/junit.xml of every suite the jobs run


def check_command(line, where):
    """One shell line of a job: each simple command in it exists."""
    for part in re.split(r"&&|\|\||;|\|", line):
        words = shlex.split(part)
        if not words:
            continue
        prog = words[0]
        if prog == "./setup.sh":
            check(len(words) == 2 and words[1] in TARGETS,
                  "%s: `%s` is a setup.sh target (%s)" % (where, " ".join(words), ", ".join(sorted(TARGETS))))
        elif prog.endswith("chaosrun"):
            check(prog in ("build/bin/chaosrun", "chaosrun"), "%s: chaosrun is %s" % (where, prog))
            sub = next((w for w in words[1:] if not w.startswith("-")), None)
            if sub in COMMANDS:
                ok("%s: `chaosrun %s` is a command" % (where, sub))
            else:
                check(sub is not None and sub.endswith(".json"),
                      "%s: `%s` names a command or scenario" % (where, part.strip()))
            if "--out" in words:
                junit_expected.add(words[words.index("--out") + 1].rstrip("/") + "/junit.xml")
            dry_runs.append((words, where))
        else:
            found = subprocess.run(["sh", "-c", "command -v " + shlex.quote(prog)],
                                   capture_output=True).returncode == 0
            check(found, "%s: program %s exists" % (where, prog))


def action(uses):
    return re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+@v?[0-9][A-Za-z0-9_.-]*", uses or "") is not None


def github(path):
    doc = yaml.safe_load(open(path))
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads the key on as true
    check(isinstance(on, dict) and on, "github: has triggers (on)")
    jobs = doc.get("jobs") or {}
    check(len(jobs) >= 1, "github: has jobs")
    perms = doc.get("permissions") or {}
    junit_paths, uploads = [], []
    for name, job in jobs.items():
        check("runs-on" in job, "github: job %s has runs-on" % name)
        steps = job.get("steps") or []
        check(len(steps) >= 4, "github: job %s has steps" % name)
        for i, st in enumerate(steps):
            where = "github %s step %d" % (name, i + 1)
            check(("uses" in st) != ("run" in st), "%s: one of uses/run" % where)
            if "run" in st:
                for line in st["run"].splitlines():
                    check_command(line, where)
                continue
            uses = st["uses"]
            check(action(uses), "%s: action %s is owner/repo@version" % (where, uses))
            w = st.get("with") or {}
            if uses.startswith("mikepenz/action-junit-report@"):
                junit_paths.append(w.get("report_paths"))
                check(st.get("if") == "always()", "%s: JUnit published when the suite fails too" % where)
                check(perms.get("checks") == "write", "github: permission checks: write for the JUnit check run")
            if uses.startswith("actions/upload-artifact@"):
                uploads.append(w.get("path"))
                check(st.get("if") == "always()", "%s: artifact kept when the suite fails too" % where)
    return junit_paths, uploads


def gitlab(path):
    doc = yaml.safe_load(open(path))
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
    check(len(jobs) >= 1, "gitlab: has a job with a script")
    junit_paths, uploads = [], []
    for name, job in jobs.items():
        check(isinstance(job.get("image"), str), "gitlab: job %s has an image" % name)
        for key in ("before_script", "script", "after_script"):
            for line in job.get(key) or []:
                check_command(line, "gitlab %s %s" % (name, key))
        art = job.get("artifacts") or {}
        check(art.get("when") == "always", "gitlab %s: artifacts kept when the suite fails too" % name)
        junit_paths.append((art.get("reports") or {}).get("junit"))
        uploads.extend(art.get("paths") or [])
    return junit_paths, uploads


def main():
    d = os.path.join(SRC, "examples", "ci")
    for kind, fn in (("github-actions.yml", github), ("gitlab-ci.yml", gitlab)):
        junit, uploads = fn(os.path.join(d, kind))
        check(junit and all(p in junit_expected for p in junit),
              "%s: JUnit report %s is the suite's <--out>/junit.xml (%s)" % (kind, junit, sorted(junit_expected)))
        check(any(u and j.startswith(u.rstrip("/") + "/") for u in uploads for j in junit if j),
              "%s: the artifact %s holds the run directories" % (kind, uploads))
    for words, where in dry_runs:
        argv = [os.path.join(BIN, "chaosrun")] + words[1:]
        sub = next((i for i, w in enumerate(argv[1:], 1) if not w.startswith("-")), 1)
        argv.insert(sub + 1 if argv[sub] in COMMANDS else 1, "--dry-run")
        r = subprocess.run(argv, cwd=SRC, capture_output=True, text=True)
        check(r.returncode == 0, "%s: `%s` dry run exits 0%s" % (where, " ".join(words), "" if r.returncode == 0 else ": " + r.stderr[-400:]))
        check("seed" in r.stdout, "%s: the dry run printed timelines" % where)
    check(len(dry_runs) >= 2, "both jobs run chaosrun")
    print("%d failed" % fails)
    return 1 if fails else 0


sys.exit(main())
