#!/usr/bin/env python3
"""Checks of examples/ci/ (run by tests/e2e/ci_examples.sh).

For the GitHub Actions workflow and the GitLab CI jobs: the structure each
CI system expects (on/jobs/runs-on/steps; script/artifacts), actions named
owner/repo@version, the JUnit report and the artifacts kept even when a
job fails, the JUnit path is the one chaosrun writes (<--out>/junit.xml
of a suite, <OUT>/junit.xml of `report --merge OUT`), and every command
the jobs run exists: setup.sh targets from setup.sh's own case list,
chaosrun sub-commands from `chaosrun --help`, other programs on PATH.

The shard matrix: each job's command is expanded for every job of the
matrix (GitHub `${{ matrix.shard }}`; GitLab `parallel: N`, i.e.
CI_NODE_INDEX 1..N and CI_NODE_TOTAL), the shards are 1..N of one N, the
merge job needs the shard jobs, runs even when they fail, and merges
exactly the shards' --out directories.  Each chaosrun suite command is run
from the source tree with --dry-run; the shards' dry runs together must
name every scenario of the directory exactly once.

Prints "ok: ..." / "FAIL: ..." lines; exit 1 on any failure."""
import fnmatch
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
    return cond


def setup_targets():
    text = open(os.path.join(SRC, "setup.sh")).read()
    block = text[text.index('case "${1:-}" in'):]
    block = block[: block.index("esac")]
    return set(re.findall(r"^\s+([a-z][a-z0-9_-]*)\)", block, re.M))


def chaosrun_help(*args):
    return subprocess.run([os.path.join(BIN, "chaosrun")] + list(args),
                          capture_output=True, text=True, check=True).stdout


def chaosrun_commands():
    out = chaosrun_help("--help")
    block = out[out.index("\nCommands"):]
    block = block[: block.index("\n\n", 1)]
    return {l.split()[0] for l in block.splitlines()[1:] if l.strip()}


TARGETS = setup_targets()
COMMANDS = chaosrun_commands()
REPORT_HELP = chaosrun_help("report", "--help")


class Job:
    """What the commands of one CI file do, for every job of its matrix."""

    def __init__(self, kind):
        self.kind = kind
        self.dry_runs = []  # (argv, where, shard (K, N) or None)
        self.junit_expected = set()  # <out>/junit.xml chaosrun writes
        self.suite_outs = {}  # (K, N) -> --out of the shard's suite
        self.merges = []  # (out, [inputs as written], where)


def expand(line, subst, kind):
    """line with the matrix variables of one job replaced."""
    if kind == "github":
        def one(m):
            key = m.group(1).strip()
            check(key in subst, "github: ${{ %s }} is a matrix variable" % key)
            return str(subst.get(key, ""))
        return re.sub(r"\$\{\{([^}]*)\}\}", one, line)
    return re.sub(r"\$\{?([A-Z_][A-Z0-9_]*)\}?",
                  lambda m: str(subst[m.group(1)]) if m.group(1) in subst else m.group(0), line)


def check_command(line, where, job):
    """One shell line of a job (matrix variables expanded): each simple
    command in it exists; chaosrun's are recorded."""
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
            if sub == "report":
                check("--merge" in words and "--merge" in REPORT_HELP,
                      "%s: `chaosrun report --merge` (in chaosrun report --help)" % where)
                rest = words[words.index("--merge") + 1:]
                rest = [w for w in rest if w != "--force"]
                if check(len(rest) >= 2, "%s: --merge OUT SUITE..." % where):
                    job.junit_expected.add(rest[0].rstrip("/") + "/junit.xml")
                    job.merges.append((rest[0], rest[1:], where))
                continue
            shard = None
            if "--shard" in words:
                k, _, n = words[words.index("--shard") + 1].partition("/")
                if check(k.isdigit() and n.isdigit(), "%s: --shard K/N expanded to numbers (%s/%s)" % (where, k, n)):
                    shard = (int(k), int(n))
            if "--out" in words:
                out = words[words.index("--out") + 1].rstrip("/")
                job.junit_expected.add(out + "/junit.xml")
                if shard:
                    job.suite_outs[shard] = out
            job.dry_runs.append((words, where, shard))
        else:
            found = subprocess.run(["sh", "-c", "command -v " + shlex.quote(prog)],
                                   capture_output=True).returncode == 0
            check(found, "%s: program %s exists" % (where, prog))


def action(uses):
    return re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+@v?[0-9][A-Za-z0-9_.-]*", uses or "") is not None


def github(path, job):
    doc = yaml.safe_load(open(path))
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads the key on as true
    check(isinstance(on, dict) and on, "github: has triggers (on)")
    jobs = doc.get("jobs") or {}
    check(len(jobs) >= 1, "github: has jobs")
    perms = doc.get("permissions") or {}
    junit_paths, uploads, upload_names, downloads = [], [], {}, []
    matrix_jobs = []
    for name, j in jobs.items():
        check("runs-on" in j, "github: job %s has runs-on" % name)
        steps = j.get("steps") or []
        check(len(steps) >= 4, "github: job %s has steps" % name)
        matrix = ((j.get("strategy") or {}).get("matrix") or {})
        variants = [{}]
        if matrix:
            matrix_jobs.append(name)
            check(j["strategy"].get("fail-fast") is False,
                  "github: job %s: fail-fast false (every shard runs to the end)" % name)
            shards = matrix.get("shard") or []
            check(shards == list(range(1, len(shards) + 1)) and len(shards) >= 2,
                  "github: job %s: matrix.shard is 1..N (%s)" % (name, shards))
            variants = [{"matrix.shard": k} for k in shards]
        for i, st in enumerate(steps):
            where = "github %s step %d" % (name, i + 1)
            check(("uses" in st) != ("run" in st), "%s: one of uses/run" % where)
            if "run" in st:
                for v in variants:
                    for line in st["run"].splitlines():
                        check_command(expand(line, v, "github"), where, job)
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
                upload_names[name] = [expand(w.get("name", ""), v, "github") for v in variants]
                check(st.get("if") == "always()", "%s: artifact kept when the suite fails too" % where)
            if uses.startswith("actions/download-artifact@"):
                downloads.append((name, w))
    for name, j in jobs.items():
        if name in matrix_jobs:
            continue
        needs = j.get("needs") or []
        needs = [needs] if isinstance(needs, str) else needs
        for m in matrix_jobs:
            if m in needs:
                check(j.get("if") == "always()", "github: merge job %s runs when a shard failed" % name)
    for name, w in downloads:
        pat = w.get("pattern") or w.get("name")
        for m in matrix_jobs:
            names = upload_names.get(m, [])
            check(names and all(fnmatch.fnmatch(n, pat) for n in names),
                  "github %s: downloads every shard's artifact (%s matches %s)" % (name, pat, names))
        check(w.get("merge-multiple") is True, "github %s: the shards' artifacts into one directory" % name)
    return junit_paths, uploads


def gitlab(path, job):
    doc = yaml.safe_load(open(path))
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
    check(len(jobs) >= 1, "gitlab: has a job with a script")
    junit_paths, uploads = [], []
    parallel_jobs = []
    for name, j in jobs.items():
        check(isinstance(j.get("image"), str), "gitlab: job %s has an image" % name)
        variants = [{}]
        if "parallel" in j:
            n = j["parallel"]
            check(isinstance(n, int) and 2 <= n <= 200, "gitlab: job %s: parallel N (%s)" % (name, n))
            parallel_jobs.append(name)
            variants = [{"CI_NODE_INDEX": k, "CI_NODE_TOTAL": n} for k in range(1, n + 1)]
        for key in ("before_script", "script", "after_script"):
            for line in j.get(key) or []:
                for v in variants:
                    check_command(expand(line, v, "gitlab"), "gitlab %s %s" % (name, key), job)
        art = j.get("artifacts") or {}
        check(art.get("when") == "always", "gitlab %s: artifacts kept when the suite fails too" % name)
        junit = (art.get("reports") or {}).get("junit")
        if junit:
            junit_paths.append(junit)
        uploads.extend(art.get("paths") or [])
    for name, j in jobs.items():
        if name in parallel_jobs:
            continue
        needs = [n if isinstance(n, str) else n.get("job") for n in (j.get("needs") or [])]
        if any(p in needs for p in parallel_jobs):
            check(j.get("when") == "always", "gitlab: merge job %s runs when a shard failed" % name)
    return junit_paths, uploads


def scenario_files(d):
    return sorted(f for f in os.listdir(os.path.join(SRC, d))
                  if f.endswith((".json", ".yaml", ".yml")))


def check_shards(job):
    """The shards are 1..N; their dry runs name every scenario once; the
    merge takes exactly the shards' outputs."""
    if not job.suite_outs:
        return
    ns = {n for _, n in job.suite_outs}
    ks = sorted(k for k, _ in job.suite_outs)
    n = next(iter(ns))
    check(len(ns) == 1 and ks == list(range(1, n + 1)),
          "%s: shards 1..N of one N (%s)" % (job.kind, sorted(job.suite_outs)))
    outs = set(job.suite_outs.values())
    check(len(outs) == len(job.suite_outs), "%s: each shard its own --out" % job.kind)
    check(len(job.merges) >= 1, "%s: a job merges the shards" % job.kind)
    for out, inputs, where in job.merges:
        got = {o for o in outs if any(fnmatch.fnmatch(o, pat.rstrip("/")) for pat in inputs)}
        check(got == outs and all(any(fnmatch.fnmatch(o, p.rstrip("/")) for o in outs) for p in inputs),
              "%s: merges exactly the shards' directories (%s -> %s)" % (where, inputs, sorted(outs)))
        check(out not in outs, "%s: merge output %s is none of the shards'" % (where, out))


def dry_run(words, where, shard, seen):
    argv = [os.path.join(BIN, "chaosrun")] + words[1:]
    sub = next((i for i, w in enumerate(argv[1:], 1) if not w.startswith("-")), 1)
    argv.insert(sub + 1 if argv[sub] in COMMANDS else 1, "--dry-run")
    r = subprocess.run(argv, cwd=SRC, capture_output=True, text=True)
    check(r.returncode == 0, "%s: `%s` dry run exits 0%s" % (where, " ".join(words), "" if r.returncode == 0 else ": " + r.stderr[-400:]))
    check("seed" in r.stdout, "%s: the dry run printed timelines" % where)
    if shard:
        first = r.stdout.splitlines()[0] if r.stdout else ""
        m = re.match(r"shard (\d+)/(\d+): (\d+) of (\d+) scenarios?(?: \(an empty shard\))?:?(.*)$", first)
        if check(m is not None and (int(m.group(1)), int(m.group(2))) == shard,
                 "%s: shard %d/%d names its scenarios (%s)" % (where, shard[0], shard[1], first)):
            seen.setdefault(words[-1].rstrip("/"), []).extend(m.group(5).split())


def main():
    d = os.path.join(SRC, "examples", "ci")
    for kind, fn in (("github-actions.yml", github), ("gitlab-ci.yml", gitlab)):
        job = Job(kind)
        junit, uploads = fn(os.path.join(d, kind), job)
        check(junit and all(p in job.junit_expected for p in junit),
              "%s: JUnit report %s is chaosrun's <out>/junit.xml (%s)" % (kind, junit, sorted(job.junit_expected)))
        check(any(u and j.startswith(u.rstrip("/") + "/") for u in uploads for j in junit if j),
              "%s: the artifact %s holds the run directories" % (kind, uploads))
        check_shards(job)
        seen = {}
        for words, where, shard in job.dry_runs:
            dry_run(words, where, shard, seen)
        for sdir, names in seen.items():
            want = scenario_files(sdir)
            check(sorted(names) == want,
                  "%s: the shards together run every scenario of %s once (%d of %d)"
                  % (kind, sdir, len(names), len(want)))
        check(len(job.dry_runs) >= 1, "%s runs chaosrun" % kind)
    print("%d failed" % fails)
    return 1 if fails else 0


sys.exit(main())
