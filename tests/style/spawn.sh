#!/usr/bin/env bash
# Spawning rule: cr_spawn (harness/base/cr_spawn.c) is the only fork+exec of
# the harness, the fault kinds and the report writers.  Any other fork(),
# vfork(), clone(), exec*(), posix_spawn*(), system() or popen() in
# harness/, faults/ or reports/ fails, except the exceptions below, each
# with the reason written at the call.
# Exit 1 naming every call; 0 otherwise.
set -u
cd "${CR_SRC:?CR_SRC names the source tree}"

# file:call -> the number of such calls allowed there.
declare -A allowed=(
    # The one spawn routine.
    [harness/base/cr_spawn.c:fork]=1
    [harness/base/cr_spawn.c:execve]=1
    # A suite runs each scenario in a worker process: fork WITHOUT exec,
    # from the single-threaded command line (see the comment there).
    [harness/cli/cr_cli_suite.c:fork]=1
    # explore -j runs each drawn schedule in a worker process that enters
    # a network namespace of its own: fork WITHOUT exec, from the single-
    # threaded command line (see the comment there).
    [harness/cli/cr_cli_explore.c:fork]=1
    # The seccomp backend's check of the kernel (one notified getppid in a
    # forked child that installs the filter and _exits): fork WITHOUT exec.
    [faults/syscall/cr_seccomp.c:fork]=1
)

pat='\b(fork|vfork|clone|clone3|execv|execvp|execvpe|execve|execl|execlp|execle|fexecve|posix_spawn|posix_spawnp|system|popen)[[:space:]]*\('
bad=0; n=0
declare -A seen=()
while IFS= read -r f; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    # Code only: drop // comments and lines inside or starting a /* */
    # comment (block comments in this tree start lines with "/*" or " *").
    while IFS=: read -r line text; do
        call=$(grep -oE "$pat" <<<"$text" | head -1 | sed -E 's/[[:space:](]+$//')
        [ -n "$call" ] || continue
        key="$f:$call"
        seen[$key]=$(( ${seen[$key]:-0} + 1 ))
        if [ "${seen[$key]}" -gt "${allowed[$key]:-0}" ]; then
            echo "$f:$line: $call(): start programs with cr_spawn (base/cr_spawn.h)"
            bad=1
        fi
    done < <(sed -E 's#//.*$##' "$f" | grep -nvE '^[[:space:]]*(/\*|\*)' | grep -E "$pat")
done < <(git ls-files --cached --others --exclude-standard \
           'harness/*.c' 'harness/*.h' 'faults/*.c' 'faults/*.h' 'reports/*.c' 'reports/*.h')
[ $n -gt 50 ] || { echo "only $n files seen: is the tree there?"; exit 1; }
[ "${seen[harness/base/cr_spawn.c:fork]:-0}" -eq 1 ] ||
    { echo "harness/base/cr_spawn.c: no fork() found: has the spawn routine moved?"; exit 1; }
[ $bad -eq 0 ] && echo "ok: $n files, fork+exec only in cr_spawn (and the documented exceptions)"
exit $bad
