#!/bin/sh
# A private RabbitMQ broker in the foreground, for chaosrun scenarios and
# the queue benchmark: its own AMQP port, Erlang distribution port, node
# name and data/log directories under DIR, and the epmd of the caller
# (ERL_EPMD_PORT; start `epmd -port EPMD_PORT` first, as its own service,
# so that no daemonized epmd outlives the run).  The script execs the
# Erlang VM, so the service's pid IS the broker: SIGKILL and SIGSTOP hit
# it, SIGTERM stops it gracefully.
#
#   rabbitmq.sh AMQP_PORT DIST_PORT EPMD_PORT [DIR]
#
# DIR defaults to $CHAOSRUN_RUN_DIR/rabbitmq-AMQP_PORT (it survives the
# broker's restarts within a run: that is where the durable queues are).
#
# CRP_BROKER_BOOT_DELAY_S (seconds, default 0) sleeps before every start
# of the broker: a slow machine's boot, for the tests that show a
# scenario's verdict does not depend on how fast the broker boots
# (tests/e2e/pipeline_rabbitmq_slow.sh).
#
# Debian's /usr/sbin/rabbitmq-server would switch to the rabbitmq user
# and use /var/lib/rabbitmq; the script under /usr/lib/rabbitmq/bin does
# not.  RUNNING_UNDER_SYSTEMD makes it exec the VM instead of keeping a
# shell in front of it (no proxy process between the harness and beam).
set -eu
[ $# -eq 3 ] || [ $# -eq 4 ] || { echo "usage: rabbitmq.sh AMQP_PORT DIST_PORT EPMD_PORT [DIR]" >&2; exit 2; }
port=$1 dist=$2 epmd=$3 dir=${4:-${CHAOSRUN_RUN_DIR:?no DIR and no CHAOSRUN_RUN_DIR}/rabbitmq-$1}
srv=/usr/lib/rabbitmq/bin/rabbitmq-server
[ -x "$srv" ] || { echo "rabbitmq.sh: $srv missing (apt-get install rabbitmq-server)" >&2; exit 3; }
delay=${CRP_BROKER_BOOT_DELAY_S:-0}
case $delay in
    ''|*[!0-9.]*) echo "rabbitmq.sh: CRP_BROKER_BOOT_DELAY_S must be a number of seconds (got '$delay')" >&2; exit 2 ;;
esac
[ "$delay" = 0 ] || { echo "rabbitmq.sh: slow boot: sleeping $delay s first (CRP_BROKER_BOOT_DELAY_S)"; sleep "$delay"; }
mkdir -p "$dir/mnesia" "$dir/log" "$dir/home"
# A fixed cookie of our own: never read or create root's ~/.erlang.cookie.
[ -f "$dir/home/.erlang.cookie" ] || {
    printf 'CRPCOOKIE%s' "$port" > "$dir/home/.erlang.cookie"
    chmod 400 "$dir/home/.erlang.cookie"
}
printf '[].\n' > "$dir/enabled_plugins"
# Loopback only; no disk-space alarm on a busy test disk (1 MB floor);
# guest may log in through the fault proxy (loopback_users = none).
cat > "$dir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$port
disk_free_limit.absolute = 1MB
loopback_users = none
log.file.level = info
log.console = true
log.console.level = warning
CONF
export HOME="$dir/home"
export RABBITMQ_NODENAME="crp$port@localhost"
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$port"
export RABBITMQ_DIST_PORT="$dist"
export ERL_EPMD_PORT="$epmd"
export RABBITMQ_MNESIA_BASE="$dir/mnesia"
export RABBITMQ_LOG_BASE="$dir/log"
export RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
export RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config"
export RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf"
export RABBITMQ_PID_FILE="$dir/broker.pid"
export RABBITMQ_USE_LONGNAME=false
export RUNNING_UNDER_SYSTEMD=true
: > "$dir/rabbitmq-env.conf"
exec "$srv"
