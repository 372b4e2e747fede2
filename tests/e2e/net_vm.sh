# netem on a real kernel: tests/vm/run.sh boots Debian's stock kernel under
# qemu (TCG) and runs cr_vm_netem inside (delay, jitter, loss, duplicate,
# corrupt, reorder, rate observed as requested; the tc commands of netem on
# ssh nodes delay only the node they aim at and are undone).  Skipped (77) with the
# reason when qemu, busybox-static or the kernel package are unavailable.
# e2e-netns: caller (it fetches the kernel from the Debian archive)
set -u
exec bash "${CR_SRC:?}/tests/vm/run.sh" "${CR_BIN:?}"
