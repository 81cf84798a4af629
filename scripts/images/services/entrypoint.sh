#!/bin/bash
# Entrypoint of localhost/reco-services: runs ONE of the stack's services (the compose file picks
# it by command), each as its own unprivileged user, data under /var/lib/reco/<service>.
#   postgres   PostgreSQL (Debian's), database POSTGRES_DB owned by POSTGRES_USER / POSTGRES_PASSWORD
#   redis      Redis (Debian's), no persistence (a cache)
#   kafka      single-node KRaft Kafka (the jars scripts/services.sh fetches), advertised as KAFKA_HOST
#   s3         s3proxy on a directory, bucket S3_BUCKET, keys S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY
set -euo pipefail
service="${1:?usage: entrypoint.sh postgres|redis|kafka|s3}"
data="/var/lib/reco/$service"
as() {
  local user="$1"
  shift
  exec setpriv --reuid="$user" --regid="$user" --init-groups "$@"
}

case "$service" in
  postgres)
    bin="$(echo /usr/lib/postgresql/*/bin)"
    mkdir -p "$data" /run/postgresql && chown postgres:postgres "$data" /run/postgresql
    if [[ ! -f "$data/PG_VERSION" ]]; then
      : "${POSTGRES_USER:?}" "${POSTGRES_PASSWORD:?}" "${POSTGRES_DB:?}"
      printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pwfile && chown postgres /tmp/pwfile
      setpriv --reuid=postgres --regid=postgres --init-groups \
        "$bin/initdb" -D "$data" -U "$POSTGRES_USER" --pwfile=/tmp/pwfile --auth=scram-sha-256 >/dev/null
      rm -f /tmp/pwfile
      echo "host all all 0.0.0.0/0 scram-sha-256" >>"$data/pg_hba.conf"
      echo "host all all ::/0 scram-sha-256" >>"$data/pg_hba.conf"
      setpriv --reuid=postgres --regid=postgres --init-groups \
        "$bin/postgres" --single -D "$data" -c listen_addresses='' postgres <<<"CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\";" >/dev/null
    fi
    as postgres "$bin/postgres" -D "$data" -c listen_addresses='*'
    ;;
  redis)
    as redis redis-server --bind 0.0.0.0 --protected-mode no --save '' --appendonly no
    ;;
  kafka)
    mkdir -p "$data" && chown reco:reco "$data"
    host="${KAFKA_HOST:-kafka}"
    sed -e "s|^listeners=.*|listeners=PLAINTEXT://:9092,CONTROLLER://127.0.0.1:9093|" \
      -e "s|^advertised.listeners=.*|advertised.listeners=PLAINTEXT://$host:9092|" \
      -e "s|@CONTROLLER_PORT@|9093|g; s|@LOG_DIR@|$data|g" \
      -e "s|^num.partitions=.*|num.partitions=${KAFKA_NUM_PARTITIONS:-6}|" \
      /opt/kafka/server.properties.template >/opt/kafka/server.properties
    java=(java -cp "/opt/kafka/libs/*" -Dlog4j.configuration=file:/opt/kafka/log4j.properties)
    if [[ ! -f "$data/meta.properties" ]]; then
      id="A$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' | cut -c2-)"
      setpriv --reuid=reco --regid=reco --init-groups "${java[@]}" kafka.tools.StorageTool format \
        -t "$id" -c /opt/kafka/server.properties >/dev/null
    fi
    as reco "${java[0]}" -Xmx512m -Xms256m -XX:+UseG1GC "${java[@]:1}" kafka.Kafka /opt/kafka/server.properties
    ;;
  s3)
    mkdir -p "$data/${S3_BUCKET:-reco}" && chown -R reco:reco "$data"
    cat >/tmp/s3proxy.conf <<CONF
s3proxy.endpoint=http://0.0.0.0:9400
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=${S3_ACCESS_KEY_ID:?}
s3proxy.credential=${S3_SECRET_ACCESS_KEY:?}
jclouds.provider=filesystem
jclouds.filesystem.basedir=$data
CONF
    chown reco:reco /tmp/s3proxy.conf && chmod 600 /tmp/s3proxy.conf
    as reco java -Xmx256m -Xms64m -Dlogback.configurationFile=/opt/s3proxy/logback.xml \
      -cp "/opt/s3proxy/libs/*" org.gaul.s3proxy.Main --properties /tmp/s3proxy.conf
    ;;
  *)
    echo "unknown service $service (postgres, redis, kafka, s3)" >&2
    exit 2
    ;;
esac
