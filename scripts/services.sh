#!/usr/bin/env bash
# Real services on loopback for development and integration tests (see SERVICES.md).
#   scripts/services.sh up|down|status|env [postgres|redis|kafka|s3|chromium ...]   (default: all five)
#   scripts/services.sh fetch-kafka      fetch the Kafka broker jars into .cache/kafka/libs
#   scripts/services.sh fetch-s3         fetch the s3proxy jars into .cache/s3proxy/libs
# `up` installs what is missing, starts each service on 127.0.0.1 and waits until it answers.
# `down` stops only what `up` started, by the pid recorded under .cache/services/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${SERVICES_STATE_DIR:-$ROOT/.cache/services}"
KAFKA_DIR="$ROOT/scripts/kafka"
KAFKA_LIBS="${KAFKA_LIBS_DIR:-$ROOT/.cache/kafka/libs}"
KAFKA_VERSION="3.9.1"
# s3proxy: an S3-compatible HTTP server (SigV4 auth, buckets on a local directory), Apache-2.0,
# resolved from Maven Central by scripts/s3proxy/pom.xml. Chosen over MinIO built with `go install`
# because it installs in ~11-30 s on a fresh machine against minutes of compiling (see
# packages/storage/README.md for the measurements).
S3PROXY_DIR="$ROOT/scripts/s3proxy"
S3PROXY_LIBS="${S3PROXY_LIBS_DIR:-$ROOT/.cache/s3proxy/libs}"
S3PROXY_VERSION="4.1.0"
TIMEOUT="${SERVICES_TIMEOUT:-90}"

# Fixed ports of the shared services; REDIS_PORT / KAFKA_PORT / KAFKA_CONTROLLER_PORT / S3_PORT and
# SERVICES_STATE_DIR exist only to exercise this script without touching the shared instances.
PG_PORT=5432
REDIS_PORT="${REDIS_PORT:-6379}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
S3_PORT="${S3_PORT:-9400}"
CHROMIUM_BIN=/usr/bin/chromium

DATABASE_URL="postgresql://reco:reco@127.0.0.1:$PG_PORT/reco"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
S3_BUCKET="reco"
S3_ACCESS_KEY_ID="reco"
S3_SECRET_ACCESS_KEY="reco-secret-key"

if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi

say() { printf '[services] %s\n' "$*"; }
fail() {
  printf '[services] ERROR: %s\n' "$*" >&2
  exit 1
}

# Prints the last lines of a log file to stderr, to explain a failed start.
show_log() {
  [[ -f $1 ]] || return 0
  printf '[services] --- last lines of %s ---\n' "$1" >&2
  tail -n 30 "$1" >&2 || true
  printf '[services] ---\n' >&2
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints the pid recorded in a pid file when that process is alive and its command line
# contains the given marker (guards against a recycled pid).
live_pid() {
  local file=$1 marker=$2 pid
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$marker" || return 1
  echo "$pid"
}

# Sends SIGTERM, waits up to $2 seconds, then SIGKILL.
stop_pid() {
  local pid=$1 grace=$2 i
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  say "pid $pid still alive after ${grace}s; sending SIGKILL"
  kill -9 "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- install
pg_version() { find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1; }

ensure_installed() {
  local -a missing=()
  local service
  for service in "$@"; do
    case $service in
      postgres) [[ -n $(pg_version) ]] && command -v pg_ctlcluster >/dev/null || missing+=(postgresql) ;;
      redis) command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server) ;;
      chromium) [[ -x $CHROMIUM_BIN ]] || missing+=(chromium) ;;
      kafka)
        command -v java >/dev/null || missing+=(default-jre-headless)
        kafka_libs_ready || command -v mvn >/dev/null || missing+=(maven)
        ;;
      s3)
        command -v java >/dev/null || missing+=(default-jre-headless)
        s3proxy_libs_ready || command -v mvn >/dev/null || missing+=(maven)
        ;;
    esac
  done
  if ((${#missing[@]} == 0)); then return 0; fi
  say "installing ${missing[*]} (apt-get)"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  say "installed ${missing[*]}"
}

kafka_libs_ready() { [[ -f $KAFKA_LIBS/.complete-$KAFKA_VERSION ]]; }

# Copies the broker jars from Maven Central into $KAFKA_LIBS once; a lock and a marker file
# make concurrent callers (test processes) and interrupted downloads safe.
fetch_kafka() {
  kafka_libs_ready && return 0
  mkdir -p "$(dirname "$KAFKA_LIBS")"
  exec 9>"$(dirname "$KAFKA_LIBS")/.fetch.lock"
  flock 9
  if ! kafka_libs_ready; then
    command -v mvn >/dev/null || ensure_installed kafka
    say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
    local tmp="$KAFKA_LIBS.tmp.$$"
    rm -rf "$tmp"
    mvn -B -Dstyle.color=never -f "$KAFKA_DIR/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$KAFKA_LIBS.fetch.log" 2>&1 || {
      show_log "$KAFKA_LIBS.fetch.log"
      fail "mvn could not fetch the Kafka jars (is Maven Central reachable?)"
    }
    rm -rf "$KAFKA_LIBS"
    mv "$tmp" "$KAFKA_LIBS"
    touch "$KAFKA_LIBS/.complete-$KAFKA_VERSION"
    say "fetched $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars"
  fi
  flock -u 9
}

s3proxy_libs_ready() { [[ -f $S3PROXY_LIBS/.complete-$S3PROXY_VERSION ]]; }

# Same pattern as fetch_kafka: a lock, a temp directory renamed into place, a marker file.
fetch_s3proxy() {
  s3proxy_libs_ready && return 0
  mkdir -p "$(dirname "$S3PROXY_LIBS")"
  exec 8>"$(dirname "$S3PROXY_LIBS")/.fetch.lock"
  flock 8
  if ! s3proxy_libs_ready; then
    command -v mvn >/dev/null || ensure_installed s3
    say "fetching s3proxy $S3PROXY_VERSION jars from Maven Central into $S3PROXY_LIBS"
    local tmp="$S3PROXY_LIBS.tmp.$$"
    rm -rf "$tmp"
    mvn -B -Dstyle.color=never -f "$S3PROXY_DIR/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$S3PROXY_LIBS.fetch.log" 2>&1 || {
      show_log "$S3PROXY_LIBS.fetch.log"
      fail "mvn could not fetch the s3proxy jars (is Maven Central reachable?)"
    }
    rm -rf "$S3PROXY_LIBS"
    mv "$tmp" "$S3PROXY_LIBS"
    touch "$S3PROXY_LIBS/.complete-$S3PROXY_VERSION"
    say "fetched $(find "$S3PROXY_LIBS" -name '*.jar' | wc -l) jars"
  fi
  flock -u 8
}

# ---------------------------------------------------------------- postgres
as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else sudo -u postgres -- "$@"; fi
}

pg_cluster_status() { # prints "online" / "down" / "" (no cluster)
  pg_lsclusters -h 2>/dev/null | awk -v v="$1" '$1 == v && $2 == "main" { print $4 }'
}

postgres_up() {
  local version status pid
  version=$(pg_version)
  [[ -n $version ]] || fail "PostgreSQL is not installed"
  status=$(pg_cluster_status "$version")
  if [[ -z $status ]]; then
    say "postgres: creating cluster $version/main"
    "${SUDO[@]}" pg_createcluster "$version" main --port "$PG_PORT" >/dev/null
    status=down
  fi
  if [[ $status == online* ]]; then
    if [[ -f $STATE/postgres.pid ]]; then
      say "postgres: cluster $version/main already running (pid $(<"$STATE/postgres.pid"), started by services.sh)"
    else
      say "postgres: cluster $version/main already running (not started by services.sh; left running on down)"
    fi
  else
    say "postgres: starting cluster $version/main"
    "${SUDO[@]}" pg_ctlcluster "$version" main start ||
      {
        show_log "/var/log/postgresql/postgresql-$version-main.log"
        fail "postgres did not start"
      }
    pid=$(head -n 1 "/var/lib/postgresql/$version/main/postmaster.pid" 2>/dev/null || true)
    printf '%s\n' "$version" >"$STATE/postgres.version"
    printf '%s\n' "$pid" >"$STATE/postgres.pid"
  fi
  wait_postgres "$version"
  if ! reco_can_log_in; then create_reco_role; fi
  reco_can_log_in || fail "postgres: role reco cannot log in on 127.0.0.1:$PG_PORT (check pg_hba.conf)"
  say "postgres: ready at $DATABASE_URL"
}

reco_can_log_in() { PGPASSWORD=reco psql -q -h 127.0.0.1 -p "$PG_PORT" -U reco -d reco -c 'select 1' >/dev/null 2>&1; }

# Role and database; md5/scram on 127.0.0.1 is Debian's default pg_hba rule.
create_reco_role() {
  say "postgres: creating role and database reco"
  as_postgres psql -q -v ON_ERROR_STOP=1 -d postgres -p "$PG_PORT" <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reco') THEN
    CREATE ROLE reco LOGIN PASSWORD 'reco' CREATEDB;
  ELSE
    ALTER ROLE reco LOGIN PASSWORD 'reco';
  END IF;
END $$;
SELECT 'CREATE DATABASE reco OWNER reco' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'reco')
\gexec
SQL
}

wait_postgres() {
  local i
  for ((i = 0; i < TIMEOUT * 5; i++)); do
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && return 0
    sleep 0.2
  done
  show_log "/var/log/postgresql/postgresql-$1-main.log"
  fail "postgres did not answer on 127.0.0.1:$PG_PORT within ${TIMEOUT}s"
}

postgres_down() {
  local version pid current
  if [[ ! -f $STATE/postgres.pid ]]; then
    say "postgres: not started by services.sh; left as is"
    return 0
  fi
  version=$(<"$STATE/postgres.version")
  pid=$(<"$STATE/postgres.pid")
  current=$(head -n 1 "/var/lib/postgresql/$version/main/postmaster.pid" 2>/dev/null || true)
  if [[ -n $current && $current == "$pid" ]]; then
    say "postgres: stopping cluster $version/main (pid $pid)"
    "${SUDO[@]}" pg_ctlcluster "$version" main stop -m fast
  else
    say "postgres: the cluster started by services.sh is no longer running"
  fi
  rm -f "$STATE/postgres.pid" "$STATE/postgres.version"
}

postgres_status() {
  if pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then
    local owner="not started by services.sh"
    [[ -f $STATE/postgres.pid ]] && owner="pid $(<"$STATE/postgres.pid"), started by services.sh"
    say "postgres: running on 127.0.0.1:$PG_PORT ($owner)"
  else
    say "postgres: not running (port $PG_PORT)"
  fi
}

# ---------------------------------------------------------------- redis
redis_ping() { [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

redis_up() {
  local pid i
  if pid=$(live_pid "$STATE/redis.pid" redis-server); then
    say "redis: already running (pid $pid)"
  elif redis_ping; then
    say "redis: something already answers on 127.0.0.1:$REDIS_PORT (not started by services.sh)"
  else
    say "redis: starting on 127.0.0.1:$REDIS_PORT"
    mkdir -p "$STATE/redis"
    rm -f "$STATE/redis.pid"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir "$STATE/redis" --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" ||
      {
        show_log "$STATE/redis.log"
        fail "redis-server did not start"
      }
  fi
  for ((i = 0; i < TIMEOUT * 10; i++)); do
    if redis_ping; then
      say "redis: ready at $REDIS_URL"
      return 0
    fi
    sleep 0.1
  done
  show_log "$STATE/redis.log"
  fail "redis did not answer PING on 127.0.0.1:$REDIS_PORT within ${TIMEOUT}s"
}

redis_down() {
  local pid
  if pid=$(live_pid "$STATE/redis.pid" redis-server); then
    say "redis: stopping (pid $pid)"
    stop_pid "$pid" 10
  else
    say "redis: not started by services.sh; nothing to stop"
  fi
  rm -f "$STATE/redis.pid"
}

redis_status() {
  local pid
  if redis_ping; then
    if pid=$(live_pid "$STATE/redis.pid" redis-server); then
      say "redis: running on 127.0.0.1:$REDIS_PORT (pid $pid, started by services.sh)"
    else
      say "redis: running on 127.0.0.1:$REDIS_PORT (not started by services.sh)"
    fi
  else
    say "redis: not running (port $REDIS_PORT)"
  fi
}

# ---------------------------------------------------------------- kafka
KAFKA_STATE="$STATE/kafka"

# Launches the broker in the background; kafka_wait then waits for it, so the JVM boots
# while PostgreSQL and Redis start.
kafka_start() {
  local pid cluster_id
  if pid=$(live_pid "$STATE/kafka.pid" kafka.Kafka); then
    say "kafka: already running (pid $pid)"
    return 0
  fi
  if port_open "$KAFKA_PORT"; then
    say "kafka: something already listens on 127.0.0.1:$KAFKA_PORT (not started by services.sh)"
    return 0
  fi
  if port_open "$KAFKA_CONTROLLER_PORT"; then
    fail "kafka: controller port 127.0.0.1:$KAFKA_CONTROLLER_PORT is taken by another process"
  fi
  fetch_kafka
  mkdir -p "$KAFKA_STATE/data"
  sed -e "s|@BROKER_PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@LOG_DIR@|$KAFKA_STATE/data|g" "$KAFKA_DIR/server.properties.template" >"$KAFKA_STATE/server.properties"
  if [[ ! -f $KAFKA_STATE/data/meta.properties ]]; then
    # A Kafka cluster id is 16 random bytes in URL-safe base64 without padding.
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    # One id in 64 starts with "-", which the storage tool would take for an option.
    [[ $cluster_id == -* ]] && cluster_id="A${cluster_id:1}"
    say "kafka: formatting log dir $KAFKA_STATE/data"
    java -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_STATE/server.properties" \
      >"$KAFKA_STATE/format.log" 2>&1 || {
      show_log "$KAFKA_STATE/format.log"
      fail "kafka: formatting the log dir failed"
    }
  fi
  say "kafka: starting on 127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
  setsid nohup java -Xmx512m -Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" -cp "$KAFKA_LIBS/*" \
    kafka.Kafka "$KAFKA_STATE/server.properties" >"$STATE/kafka.log" 2>&1 </dev/null &
  echo $! >"$STATE/kafka.pid"
}

kafka_wait() {
  local rc=0 pid i
  pid=$(live_pid "$STATE/kafka.pid" kafka.Kafka || true)
  node "$KAFKA_DIR/ready.mjs" "$KAFKA_BROKERS" "$((TIMEOUT * 1000))" ${pid:+"$pid"} || rc=$?
  if [[ $rc -eq 3 ]]; then
    # kafkajs is not installed yet (services started before npm install): wait for the log line.
    rc=1
    for ((i = 0; i < TIMEOUT * 5; i++)); do
      if grep -q 'Kafka Server started' "$STATE/kafka.log" 2>/dev/null || { [[ -z $pid ]] && port_open "$KAFKA_PORT"; }; then
        rc=0
        break
      fi
      sleep 0.2
    done
  fi
  if [[ $rc -eq 2 ]]; then
    show_log "$STATE/kafka.log"
    fail "kafka exited during startup (log: $STATE/kafka.log)"
  elif [[ $rc -ne 0 ]]; then
    show_log "$STATE/kafka.log"
    fail "kafka did not answer on $KAFKA_BROKERS within ${TIMEOUT}s (log: $STATE/kafka.log)"
  fi
  say "kafka: ready at $KAFKA_BROKERS"
}

kafka_down() {
  local pid
  if pid=$(live_pid "$STATE/kafka.pid" kafka.Kafka); then
    say "kafka: stopping (pid $pid)"
    stop_pid "$pid" 30
  else
    say "kafka: not started by services.sh; nothing to stop"
  fi
  rm -f "$STATE/kafka.pid"
}

kafka_status() {
  local pid
  if port_open "$KAFKA_PORT"; then
    if pid=$(live_pid "$STATE/kafka.pid" kafka.Kafka); then
      say "kafka: running on 127.0.0.1:$KAFKA_PORT (pid $pid, started by services.sh)"
    else
      say "kafka: running on 127.0.0.1:$KAFKA_PORT (not started by services.sh)"
    fi
  else
    say "kafka: not running (port $KAFKA_PORT)"
  fi
}

# ---------------------------------------------------------------- s3 (s3proxy)
S3_STATE="$STATE/s3"

# Any HTTP answer (403 without credentials) means s3proxy serves; without curl, an open port.
s3_answers() {
  if command -v curl >/dev/null; then
    curl -s -o /dev/null --max-time 2 "$S3_ENDPOINT/" 2>/dev/null
  else
    port_open "$S3_PORT"
  fi
}

s3_start() {
  local pid
  if pid=$(live_pid "$STATE/s3.pid" org.gaul.s3proxy.Main); then
    say "s3: already running (pid $pid)"
    return 0
  fi
  if port_open "$S3_PORT"; then
    say "s3: something already listens on 127.0.0.1:$S3_PORT (not started by services.sh)"
    return 0
  fi
  fetch_s3proxy
  # The filesystem provider maps each directory under basedir to a bucket: this one is the bucket.
  mkdir -p "$S3_STATE/data/$S3_BUCKET"
  cat >"$S3_STATE/s3proxy.conf" <<CONF
s3proxy.endpoint=$S3_ENDPOINT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$S3_ACCESS_KEY_ID
s3proxy.credential=$S3_SECRET_ACCESS_KEY
jclouds.provider=filesystem
jclouds.filesystem.basedir=$S3_STATE/data
CONF
  say "s3: starting s3proxy on $S3_ENDPOINT (bucket $S3_BUCKET in $S3_STATE/data)"
  setsid nohup java -Xmx256m -Xms64m -Djava.awt.headless=true \
    -Dlogback.configurationFile="$S3PROXY_DIR/logback.xml" -cp "$S3PROXY_LIBS/*" \
    org.gaul.s3proxy.Main --properties "$S3_STATE/s3proxy.conf" >"$STATE/s3.log" 2>&1 </dev/null &
  echo $! >"$STATE/s3.pid"
}

s3_wait() {
  local pid i
  pid=$(live_pid "$STATE/s3.pid" org.gaul.s3proxy.Main || true)
  for ((i = 0; i < TIMEOUT * 5; i++)); do
    if s3_answers; then
      say "s3: ready at $S3_ENDPOINT (bucket $S3_BUCKET)"
      return 0
    fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      show_log "$STATE/s3.log"
      fail "s3proxy exited during startup (log: $STATE/s3.log)"
    fi
    sleep 0.2
  done
  show_log "$STATE/s3.log"
  fail "s3 did not answer on $S3_ENDPOINT within ${TIMEOUT}s (log: $STATE/s3.log)"
}

s3_down() {
  local pid
  if pid=$(live_pid "$STATE/s3.pid" org.gaul.s3proxy.Main); then
    say "s3: stopping (pid $pid)"
    stop_pid "$pid" 15
  else
    say "s3: not started by services.sh; nothing to stop"
  fi
  rm -f "$STATE/s3.pid"
}

s3_status() {
  local pid
  if port_open "$S3_PORT"; then
    if pid=$(live_pid "$STATE/s3.pid" org.gaul.s3proxy.Main); then
      say "s3: running on $S3_ENDPOINT (pid $pid, started by services.sh)"
    else
      say "s3: running on 127.0.0.1:$S3_PORT (not started by services.sh)"
    fi
  else
    say "s3: not running (port $S3_PORT)"
  fi
}

# ---------------------------------------------------------------- chromium
chromium_up() {
  [[ -x $CHROMIUM_BIN ]] || fail "chromium: $CHROMIUM_BIN is missing after install"
  say "chromium: present at $CHROMIUM_BIN"
}
chromium_status() {
  if [[ -x $CHROMIUM_BIN ]]; then say "chromium: installed at $CHROMIUM_BIN"; else say "chromium: not installed"; fi
}

# ---------------------------------------------------------------- main
has() {
  local wanted=$1 s
  for s in "${SERVICES[@]}"; do [[ $s == "$wanted" ]] && return 0; done
  return 1
}

usage() {
  echo "usage: $0 up|down|status|env [postgres|redis|kafka|s3|chromium ...] | fetch-kafka | fetch-s3" >&2
  exit 2
}

COMMAND=${1:-}
[[ -n $COMMAND ]] || usage
shift
SERVICES=("$@")
((${#SERVICES[@]})) || SERVICES=(postgres redis kafka s3 chromium)
for s in "${SERVICES[@]}"; do
  case $s in postgres | redis | kafka | s3 | chromium) ;; *) fail "unknown service '$s' (postgres, redis, kafka, s3, chromium)" ;; esac
done
case $COMMAND in up | down | fetch-kafka | fetch-s3) mkdir -p "$STATE" ;; esac

case $COMMAND in
  up)
    started=$SECONDS
    ensure_installed "${SERVICES[@]}"
    if has kafka; then kafka_start; fi
    if has s3; then s3_start; fi
    if has postgres; then postgres_up; fi
    if has redis; then redis_up; fi
    if has chromium; then chromium_up; fi
    if has kafka; then kafka_wait; fi
    if has s3; then s3_wait; fi
    say "up: ${SERVICES[*]} ready in $((SECONDS - started))s"
    ;;
  down)
    if has kafka; then kafka_down; fi
    if has s3; then s3_down; fi
    if has redis; then redis_down; fi
    if has postgres; then postgres_down; fi
    ;;
  status)
    if has postgres; then postgres_status; fi
    if has redis; then redis_status; fi
    if has kafka; then kafka_status; fi
    if has s3; then s3_status; fi
    if has chromium; then chromium_status; fi
    ;;
  env)
    if has postgres; then echo "export DATABASE_URL=$DATABASE_URL"; fi
    if has redis; then echo "export REDIS_URL=$REDIS_URL"; fi
    if has kafka; then echo "export KAFKA_BROKERS=$KAFKA_BROKERS"; fi
    if has s3; then
      echo "export S3_ENDPOINT=$S3_ENDPOINT"
      echo "export S3_BUCKET=$S3_BUCKET"
      echo "export S3_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID"
      echo "export S3_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY"
    fi
    if has chromium; then echo "export CHROMIUM_PATH=$CHROMIUM_BIN"; fi
    ;;
  fetch-kafka) fetch_kafka ;;
  fetch-s3) fetch_s3proxy ;;
  *) usage ;;
esac
