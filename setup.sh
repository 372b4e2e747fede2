#!/usr/bin/env bash
# chaosrun set-up: install what is missing (Debian 12, as root), build, and
# either run the quickstart scenario or run every test.
#
#   ./setup.sh quickstart   install, build, run scenarios/quickstart.json
#   ./setup.sh test         install, build (-Werror), run all tests, then the
#                           unit tests again under ASan+UBSan
#   ./setup.sh deps|build   only that step
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential cmake pkg-config jq
  libjansson-dev libyaml-dev libyajl-dev libzstd-dev zstd libcunit1-dev libnl-3-dev libnl-route-3-dev
  libfiu-dev fiu-utils libcurl4-openssl-dev libmicrohttpd-dev libsqlite3-dev sqlite3 libssl-dev
  nftables iproute2
  libxml2-dev libxml2-utils clang clang-format libclang-rt-14-dev
  busybox-static cpio qemu-system-x86 socat haproxy
  librabbitmq-dev rabbitmq-server stress-ng redis-server
  chromium help2man yamllint
  libseccomp-dev golang-go strace libfaketime
  openssh-server
  podman runc
)

deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Only daemons this invocation's install started: a broker or sshd that
  # was already on the machine is the machine owner's, never touched.
  case " ${missing[*]} " in *" rabbitmq-server "*) quiet_package_broker ;; esac
  case " ${missing[*]} " in *" openssh-server "*) quiet_package_sshd ;; esac
}

# rabbitmq-server's package starts a broker of its own (port 5672, epmd
# 4369) where services can be started (systemd, or sysvinit without a
# policy-rc.d that forbids it).  The tests start private brokers on their
# own ports and data dirs (sample_pipeline/scripts/rabbitmq.sh); stop and
# disable the package's one so it costs nothing and holds no port.
quiet_package_broker() {
  dpkg-query -W -f='${Status}' rabbitmq-server 2>/dev/null | grep -q "install ok installed" || return 0
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
  elif [ -x /etc/init.d/rabbitmq-server ]; then
    update-rc.d rabbitmq-server disable >/dev/null 2>&1 || true
    # only when it runs: the stop script's rabbitmqctl would otherwise
    # start a daemonized epmd of its own
    if pgrep -u rabbitmq -x beam.smp >/dev/null 2>&1; then
      /etc/init.d/rabbitmq-server stop >/dev/null 2>&1 || true
    fi
  fi
}

# openssh-server's package enables a system sshd on port 22.  The tests
# start their own sshd inside network namespaces (tests/e2e/ssh_nodes.sh)
# and need none listening here; when this script installed the package,
# disable and stop the daemon the installation started (an sshd that was
# there before -- perhaps how you reach this machine -- is left alone).
quiet_package_sshd() {
  dpkg-query -W -f='${Status}' openssh-server 2>/dev/null | grep -q "install ok installed" || return 0
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
  elif [ -x /etc/init.d/ssh ]; then
    update-rc.d ssh disable >/dev/null 2>&1 || true
    [ -s /run/sshd.pid ] && /etc/init.d/ssh stop >/dev/null 2>&1 || true
  fi
}

build() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCR_WERROR=ON >/dev/null
  cmake --build build -j"$(nproc)"
}

quickstart() {
  # --force: a second quickstart replaces the first one's output.
  build/bin/chaosrun --force --out chaosrun-out/quickstart scenarios/quickstart.json
  echo "report: $(pwd)/chaosrun-out/quickstart/report.html"
}

run_tests() {
  local rc=0 asan
  # The unit tests run once more under AddressSanitizer + UBSan.  Their
  # build and then their run go on beside the suite at a low CPU priority
  # (nice: they take what the suite leaves idle; the suite's verdicts must
  # hold on a busy machine anyway), so that they cost the run little wall
  # time; their output is printed after the suite's.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCR_SANITIZE=ON -DCR_WERROR=ON \
    -DCR_UNIT_TIMEOUT=1200 >/dev/null
  (
    nice -n 19 cmake --build build-asan -j"$(nproc)" >build-asan/build.log 2>&1 || exit 2
    cd build-asan &&
      ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        nice -n 10 ctest --output-on-failure -L unit -j1 >unit.log 2>&1
  ) &
  asan=$!
  # One test more than there are CPUs: the end-to-end tests mostly wait on
  # their scenarios' timelines (at -j2 on 2 cores, vmstat showed the CPUs
  # 80-87 % idle), and each runs in a network namespace of its own
  # (tests/e2e/watch.bash), so tests with the same fixed ports run side by
  # side.
  (cd build && ctest --output-on-failure --timeout 600 -j"$(($(nproc) + 1))") || rc=1
  local st=0
  wait "$asan" || st=$?
  case $st in
  0) tail -12 build-asan/unit.log ;;
  2)
    tail -40 build-asan/build.log
    echo "setup.sh: the ASan/UBSan build failed (build-asan/build.log)" >&2
    return 1
    ;;
  *)
    cat build-asan/unit.log
    echo "setup.sh: unit tests failed under ASan/UBSan (build-asan/unit.log)" >&2
    rc=1
    ;;
  esac
  return $rc
}

case "${1:-}" in
  deps) deps ;;
  build) deps; build ;;
  quickstart) deps; build; quickstart ;;
  test) deps; build; run_tests ;;
  *) echo "usage: ./setup.sh quickstart|test|deps|build" >&2; exit 2 ;;
esac
