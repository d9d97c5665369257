#!/usr/bin/env bash
# The real servers the tests run against, all on 127.0.0.1 on free ports:
#   - OpenSearch (the integ-test distribution from Maven Central, plus the analysis-common module);
#   - ElasticMQ for SQS (from Maven Central with its dependencies; unlike moto it stays fast with thousands of
#     messages in a queue);
#   - moto's standalone server for S3 (a separate process, so a test can stop one without the other).
#
#   scripts/services.sh start           start them (nothing happens if they already run) and write .services/env
#   scripts/services.sh stop            stop them, remove .services/env, and clean up after killed `run`s
#   scripts/services.sh status          print what runs (exit status 3 when the servers of `start` do not all run)
#   scripts/services.sh run -- CMD...   start a private set, run CMD with its env loaded, always stop it; exit with
#                                       CMD's status. Its files are in .services/run-PID/, so that several `run`s
#                                       (and a `start`) in one checkout never share or stop each other's servers.
#   scripts/services.sh clean           stop, then remove the unpacked OpenSearch tree (the download cache stays)
#
# Downloads are cached in $EXTRACTKIT_SERVICES_CACHE (default ~/.cache/extractkit-services). OpenSearch refuses to
# run as root, so as root it runs as the system user extractkit-svc, from a tree in /var/tmp that user can read
# (the repository may sit where it cannot, such as /root); .services/opensearch links to that server's directory.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SERVICES="$REPO/.services"
CACHE=${EXTRACTKIT_SERVICES_CACHE:-${HOME:-/root}/.cache/extractkit-services}
RUNTIME=${EXTRACTKIT_SERVICES_RUNTIME:-/var/tmp/extractkit-services-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)}
OPENSEARCH_VERSION=2.19.6
OPENSEARCH_TREE="$RUNTIME/opensearch-$OPENSEARCH_VERSION"
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1
ELASTICMQ_VERSION=1.6.16
ELASTICMQ_LIB="$CACHE/elasticmq-$ELASTICMQ_VERSION"
# The region of the env file, which ElasticMQ also puts in its queue ARNs.
AWS_TEST_REGION=ap-northeast-1
SERVICE_USER=${EXTRACTKIT_SERVICES_USER:-extractkit-svc}
JAVA17_HOME=""
MOTO_SERVER=${MOTO_SERVER:-$REPO/.venv/bin/moto_server}
START_TIMEOUT=${EXTRACTKIT_SERVICES_START_TIMEOUT:-120}
STOP_TIMEOUT=${EXTRACTKIT_SERVICES_STOP_TIMEOUT:-20}
# Process records in a state directory: NAME.pid (the pid alone, which tests read) and NAME.start (its start time,
# so that a pid file left from before a reboot never makes us signal an unrelated process).
PROCESSES=(opensearch opensearch-launcher sqs s3)

# use_state DIRECTORY NAME: the state directory (pid files, logs, env) and OpenSearch's directory for one set.
use_state() {
  STATE=$1
  ENV_FILE="$STATE/env"
  INSTANCE="$RUNTIME/instances/$2"
}
use_state "$SERVICES" default

log() { printf 'services.sh: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# fail_with_log LOGFILE MESSAGE: one line saying what failed, then the end of the log that says why.
fail_with_log() {
  log "$2"
  if [[ -s $1 ]]; then
    printf -- '--- last 40 lines of %s ---\n' "$1" >&2
    tail -n 40 "$1" >&2
    printf -- '---\n' >&2
  fi
  exit 1
}

lock_state() {
  mkdir -p "$STATE"
  exec 8>"$STATE/lock"
  flock -w 300 8 || die "another services.sh holds $STATE/lock"
}

unlock_state() { flock -u 8; }

# --- processes -------------------------------------------------------------------------------------------------------

# The fields of /proc/PID/stat after "pid (comm) ", so a comm holding spaces cannot shift them.
proc_fields() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  printf '%s\n' "${stat##*) }"
}

# Alive and not a zombie.
proc_alive() {
  local fields
  fields=$(proc_fields "$1") || return 1
  [[ ${fields%% *} != Z ]]
}

proc_start_time() {
  local stat
  local -a fields
  stat=$(proc_fields "$1") || return 1
  read -r -a fields <<<"$stat"
  printf '%s\n' "${fields[19]:-}"
}

record_process() {
  printf '%s\n' "$2" >"$STATE/$1.pid"
  proc_start_time "$2" >"$STATE/$1.start" || true
}

forget_process() { rm -f "$STATE/$1.pid" "$STATE/$1.start"; }

# Prints the pid of the recorded process NAME when that very process still runs.
running_pid() {
  local pid start
  pid=$(cat "$STATE/$1.pid" 2>/dev/null) || return 1
  start=$(cat "$STATE/$1.start" 2>/dev/null) || return 1
  proc_alive "$pid" || return 1
  [[ $(proc_start_time "$pid") == "$start" ]] || return 1
  printf '%s\n' "$pid"
}

# wait_gone SECONDS PID...: true once none of the pids runs, false when time is up first.
wait_gone() {
  local deadline=$((SECONDS + $1)) pid alive
  shift
  while :; do
    alive=0
    for pid in "$@"; do
      if proc_alive "$pid"; then alive=1; fi
    done
    ((alive)) || return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# Stops every process recorded in $STATE: SIGTERM (and SIGCONT, for a JVM a test left stopped), then SIGKILL after
# STOP_TIMEOUT seconds. The launcher (runuser) ends by itself once the JVM does.
stop_all() {
  local name pid launcher="" stopped=0
  local -a pids=()
  for name in "${PROCESSES[@]}"; do
    pid=$(running_pid "$name") || continue
    if [[ $name == opensearch-launcher ]]; then
      launcher=$pid
      continue
    fi
    kill -TERM "$pid" 2>/dev/null || true
    kill -CONT "$pid" 2>/dev/null || true
    pids+=("$pid")
  done
  if [[ -n $launcher ]]; then
    # runuser stops itself when its child is stopped, and stays stopped when only the child is continued: continue
    # it so that it can reap the JVM and exit.
    kill -CONT "$launcher" 2>/dev/null || true
    # Without a recorded JVM (it failed early, or we were interrupted before it wrote its pid), end its children.
    if ! running_pid opensearch >/dev/null; then
      for pid in $(cat /proc/"$launcher"/task/*/children 2>/dev/null || true); do
        kill -TERM "$pid" 2>/dev/null || true
        kill -CONT "$pid" 2>/dev/null || true
        pids+=("$pid")
      done
      kill -TERM "$launcher" 2>/dev/null || true
    fi
    pids+=("$launcher")
  fi
  if ((${#pids[@]})); then
    stopped=1
    if ! wait_gone "$STOP_TIMEOUT" "${pids[@]}"; then
      for pid in "${pids[@]}"; do
        if proc_alive "$pid"; then
          log "pid $pid did not stop within ${STOP_TIMEOUT}s of SIGTERM; sending SIGKILL"
          kill -KILL "$pid" 2>/dev/null || true
        fi
      done
      wait_gone 10 "${pids[@]}" || log "pids ${pids[*]} still run after SIGKILL"
    fi
  fi
  for name in "${PROCESSES[@]}"; do forget_process "$name"; done
  rm -f "$ENV_FILE"
  local label=${STATE#"$SERVICES"}
  label=${label#/}
  if ((stopped)); then log "test servers stopped${label:+ ($label)}"; fi
}

# The private sets of `run`s that were killed before they could stop them: stop their servers, drop their
# OpenSearch data, and keep their logs for a day.
collect_dead_runs() {
  local directory
  for directory in "$SERVICES"/run-*/; do
    [[ -d $directory ]] || continue
    directory=${directory%/}
    (
      use_state "$directory" "$(basename "$directory")"
      if running_pid owner >/dev/null; then exit 0; fi
      # A run records its owner right after making its directory; give it that moment.
      if [[ ! -e $STATE/owner.pid && -z $(find "$STATE" -maxdepth 0 -mmin +1) ]]; then exit 0; fi
      stop_all
      forget_process owner
      rm -rf "$INSTANCE" "$STATE/lock" "$STATE/opensearch"
      if [[ -n $(find "$STATE" -maxdepth 0 -mmin +1440) ]]; then rm -rf "$STATE"; fi
    )
  done
}

# --- helpers ---------------------------------------------------------------------------------------------------------

python_bin() {
  if [[ -n ${EXTRACTKIT_SERVICES_PYTHON:-} ]]; then
    printf '%s\n' "$EXTRACTKIT_SERVICES_PYTHON"
  elif [[ -x $REPO/.venv/bin/python ]]; then
    printf '%s\n' "$REPO/.venv/bin/python"
  else
    command -v python3 || die "python3 is needed"
  fi
}

# free_ports N: N distinct ports that are free on 127.0.0.1 right now.
free_ports() {
  "$(python_bin)" - "$1" <<'EOF'
import socket
import sys

sockets = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    sockets.append(s)
print(" ".join(str(s.getsockname()[1]) for s in sockets))
EOF
}

# OpenSearch 2.x does not start on Java 24 or newer, and this machine may have one too: look for a Java 17.
find_java17() {
  local candidate
  for candidate in ${EXTRACTKIT_SERVICES_JAVA_HOME:+"$EXTRACTKIT_SERVICES_JAVA_HOME"} /usr/lib/jvm/java-17-openjdk-amd64 \
    /usr/lib/jvm/java-17-openjdk-* /usr/lib/jvm/temurin-17-* /usr/lib/jvm/java-17*; do
    if [[ -x $candidate/bin/java ]]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  die "no Java 17 in /usr/lib/jvm (apt-get install openjdk-17-jre-headless, or set EXTRACTKIT_SERVICES_JAVA_HOME)"
}

# unpack ZIP DIRECTORY, keeping the files' modes (bin/opensearch must stay executable).
unpack() {
  "$(python_bin)" - "$1" "$2" <<'EOF'
import os
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as archive:
    for info in archive.infolist():
        path = archive.extract(info, sys.argv[2])
        mode = (info.external_attr >> 16) & 0o777
        if mode and not info.is_dir():
            os.chmod(path, mode)
EOF
}

# The HTTP status of URL, or 000 when nothing answers.
http_status() {
  curl --silent --noproxy '*' --output /dev/null --write-out '%{http_code}' --max-time "${2:-3}" "$1" 2>/dev/null || true
}

# --- downloads -------------------------------------------------------------------------------------------------------

# maven_fetch GROUP:ARTIFACT:VERSION[:TYPE] FILE: copies the artifact from Maven Central to FILE in the cache,
# once. Maven's own repository sits in the cache too, so an empty cache means a real download.
maven_fetch() {
  local artifact=$1 target=$2 work
  local -a coordinates
  [[ -s $target ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn is needed to download $artifact (apt-get install maven)"
  work=$(mktemp -d "$CACHE/.download.XXXXXX")
  log "downloading $artifact from Maven Central (once; cached in $CACHE)"
  # From an empty directory, so that no pom.xml around is taken for the project.
  if ! (cd "$work" && JAVA_HOME="$JAVA17_HOME" mvn -B -q -C -Dstyle.color=never -Dmaven.repo.local="$CACHE/m2" \
    "$DEPENDENCY_PLUGIN:copy" -Dartifact="$artifact" -DoutputDirectory="$work/out") >>"$STATE/download.log" 2>&1 </dev/null; then
    rm -rf "$work"
    fail_with_log "$STATE/download.log" "could not download $artifact from Maven Central"
  fi
  mv "$work/out/$(basename "$target")" "$target.part"
  mv "$target.part" "$target"
  rm -rf "$work"
  # Maven's copy of the artifact is not needed again (its plugins stay, for the next download).
  IFS=: read -r -a coordinates <<<"$artifact"
  rm -rf "$CACHE/m2/${coordinates[0]//.//}/${coordinates[1]}/${coordinates[2]}"
}

# maven_fetch_runtime GROUP:ARTIFACT:VERSION DIRECTORY: the artifact and every jar it needs at run time, copied
# from Maven Central into DIRECTORY in the cache, once (a .complete file in it says the copy is whole).
maven_fetch_runtime() {
  local artifact=$1 target=$2 work jar
  local -a coordinates
  [[ -e $target/.complete ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn is needed to download $artifact (apt-get install maven)"
  IFS=: read -r -a coordinates <<<"$artifact"
  work=$(mktemp -d "$CACHE/.download.XXXXXX")
  log "downloading $artifact and its dependencies from Maven Central (once; cached in $CACHE)"
  # A project of its own that depends on the artifact alone, so that Maven resolves its whole runtime classpath.
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>extractkit.test-servers</groupId>
  <artifactId>${coordinates[1]}-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>${coordinates[0]}</groupId>
      <artifactId>${coordinates[1]}</artifactId>
      <version>${coordinates[2]}</version>
    </dependency>
  </dependencies>
</project>
EOF
  if ! (cd "$work" && JAVA_HOME="$JAVA17_HOME" mvn -B -q -C -Dstyle.color=never -Dmaven.repo.local="$CACHE/m2" \
    -f "$work/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" -DincludeScope=runtime -Dmdep.useRepositoryLayout=true \
    -DoutputDirectory="$work/out") >>"$STATE/download.log" 2>&1 </dev/null; then
    rm -rf "$work"
    fail_with_log "$STATE/download.log" "could not download $artifact and its dependencies from Maven Central"
  fi
  mkdir "$work/lib"
  while IFS= read -r -d '' jar; do
    [[ ! -e $work/lib/${jar##*/} ]] || die "two dependencies of $artifact are both named ${jar##*/}"
    mv "$jar" "$work/lib/"
    # Maven's copy is not needed again (a later download fetches anew any that a Maven plugin shares).
    rm -rf "$CACHE/m2/$(dirname "${jar#"$work/out/"}")"
  done < <(find "$work/out" -name '*.jar' -print0)
  [[ -s $work/lib/${coordinates[1]}-${coordinates[2]}.jar ]] ||
    die "Maven copied no ${coordinates[1]}-${coordinates[2]}.jar for $artifact"
  touch "$work/lib/.complete"
  rm -rf "$target"
  mv "$work/lib" "$target"
  rm -rf "$work"
}

download_all() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock -w 600 9 || die "another download holds $CACHE/.lock"
  rm -rf "$CACHE"/.download.* # left by an interrupted download
  maven_fetch "org.opensearch.distribution.integ-test-zip:opensearch:$OPENSEARCH_VERSION:zip" \
    "$CACHE/opensearch-$OPENSEARCH_VERSION.zip"
  # analysis-common (cjk, cjk_width, cjk_bigram, ...) declares no dependencies (neither its pom nor its Gradle
  # module metadata): it needs only lucene-analysis-common, which the distribution's lib/ holds.
  maven_fetch "org.opensearch.plugin:analysis-common:$OPENSEARCH_VERSION" \
    "$CACHE/analysis-common-$OPENSEARCH_VERSION.jar"
  maven_fetch_runtime "org.elasticmq:elasticmq-server_2.13:$ELASTICMQ_VERSION" "$ELASTICMQ_LIB"
  flock -u 9
  exec 9>&-
}

# --- OpenSearch ------------------------------------------------------------------------------------------------------

ensure_service_user() {
  id -u "$SERVICE_USER" >/dev/null 2>&1 && return 0
  command -v useradd >/dev/null 2>&1 || die "useradd is needed to create the user $SERVICE_USER that runs OpenSearch"
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SERVICE_USER" ||
    id -u "$SERVICE_USER" >/dev/null 2>&1 || die "could not create the system user $SERVICE_USER"
}

# The distribution, unpacked once per repository with analysis-common added as a module, and only read afterwards:
# each server gets its own config, data, log and temporary directories under $INSTANCE.
prepare_opensearch() {
  local module
  if [[ ! -e $RUNTIME ]]; then
    mkdir -p "$(dirname "$RUNTIME")"
    mkdir -m 755 "$RUNTIME" || [[ -d $RUNTIME ]]
    touch "$RUNTIME/.extractkit-services"
  fi
  [[ -d $RUNTIME && ! -L $RUNTIME && -O $RUNTIME && -e $RUNTIME/.extractkit-services ]] ||
    die "$RUNTIME is not a directory this script made (set EXTRACTKIT_SERVICES_RUNTIME to use another place)"
  exec 7>"$RUNTIME/.lock"
  flock -w 300 7 || die "another services.sh holds $RUNTIME/.lock"
  if [[ ! -e $OPENSEARCH_TREE/.complete ]]; then
    rm -rf "$OPENSEARCH_TREE" "$RUNTIME/unpack"
    unpack "$CACHE/opensearch-$OPENSEARCH_VERSION.zip" "$RUNTIME/unpack" ||
      die "cannot unpack $CACHE/opensearch-$OPENSEARCH_VERSION.zip; delete it to download it again"
    mv "$RUNTIME/unpack/opensearch-$OPENSEARCH_VERSION" "$OPENSEARCH_TREE"
    rmdir "$RUNTIME/unpack"
    module="$OPENSEARCH_TREE/modules/analysis-common"
    mkdir -p "$module"
    cp "$CACHE/analysis-common-$OPENSEARCH_VERSION.jar" "$module/"
    cat >"$module/plugin-descriptor.properties" <<EOF
name=analysis-common
description=Adds "built in" analyzers to OpenSearch.
classname=org.opensearch.analysis.common.CommonAnalysisPlugin
version=$OPENSEARCH_VERSION
opensearch.version=$OPENSEARCH_VERSION
java.version=11
extended.plugins=
EOF
    chmod -R a+rX,go-w "$OPENSEARCH_TREE"
    touch "$OPENSEARCH_TREE/.complete"
  fi
  flock -u 7
  exec 7>&-
  rm -rf "$INSTANCE"
  mkdir -p "$INSTANCE/data" "$INSTANCE/logs" "$INSTANCE/tmp" "$INSTANCE/run"
  cp -R "$OPENSEARCH_TREE/config" "$INSTANCE/config"
  # jvm.options names the GC log, heap dumps and crash files relative to the tree: keep them in $INSTANCE.
  sed -i -e "s#file=logs/gc.log#file=$INSTANCE/logs/gc.log#" -e "s#HeapDumpPath=data#HeapDumpPath=$INSTANCE/data#" \
    -e "s#ErrorFile=logs/#ErrorFile=$INSTANCE/logs/#" "$INSTANCE/config/jvm.options"
  if ((EUID == 0)); then
    ensure_service_user
    chown -R "$SERVICE_USER:" "$INSTANCE"
  fi
  ln -sfn "$INSTANCE" "$STATE/opensearch"
}

# start_opensearch HTTP_PORT TRANSPORT_PORT
start_opensearch() {
  local -a as_user=()
  if ((EUID == 0)); then as_user=(runuser -u "$SERVICE_USER" --); fi
  # setsid: a Ctrl-C in the terminal reaches the tests, not the servers; `stop` ends those.
  (
    cd "$INSTANCE"
    exec setsid "${as_user[@]}" env \
      JAVA_HOME="$JAVA17_HOME" OPENSEARCH_JAVA_HOME="$JAVA17_HOME" \
      OPENSEARCH_PATH_CONF="$INSTANCE/config" OPENSEARCH_TMPDIR="$INSTANCE/tmp" \
      OPENSEARCH_JAVA_OPTS="-Xms512m -Xmx512m" \
      "$OPENSEARCH_TREE/bin/opensearch" -p "$INSTANCE/run/opensearch.pid" \
      -E cluster.name=extractkit-test -E node.name=extractkit-test \
      -E discovery.type=single-node -E network.host=127.0.0.1 \
      -E http.port="$1" -E transport.port="$2" \
      -E path.data="$INSTANCE/data" -E path.logs="$INSTANCE/logs" \
      -E cluster.routing.allocation.disk.threshold_enabled=false
  ) >"$STATE/opensearch.log" 2>&1 </dev/null 7>&- 8>&- 9>&- &
  record_process opensearch-launcher "$!"
  disown "$!"
}

# Ready once the cluster is yellow; records the JVM's pid (the one a test may SIGSTOP) in $STATE/opensearch.pid.
wait_opensearch() {
  local port=$1 deadline=$((SECONDS + START_TIMEOUT)) launcher jvm
  launcher=$(cat "$STATE/opensearch-launcher.pid")
  while :; do
    if ! proc_alive "$launcher"; then
      fail_with_log "$STATE/opensearch.log" "OpenSearch exited while starting (log: $STATE/opensearch.log)"
    fi
    if [[ $(http_status "http://127.0.0.1:$port/_cluster/health?wait_for_status=yellow&timeout=2s" 5) == 200 ]]; then
      break
    fi
    ((SECONDS < deadline)) ||
      fail_with_log "$STATE/opensearch.log" "OpenSearch was not ready within ${START_TIMEOUT}s on port $port"
    sleep 0.5
  done
  jvm=$(cat "$INSTANCE/run/opensearch.pid" 2>/dev/null || true)
  if [[ ! $jvm =~ ^[0-9]+$ ]] || ! tr '\0' ' ' <"/proc/$jvm/cmdline" 2>/dev/null | grep -q org.opensearch.bootstrap.OpenSearch; then
    fail_with_log "$STATE/opensearch.log" "OpenSearch answers, but $INSTANCE/run/opensearch.pid names no OpenSearch JVM"
  fi
  record_process opensearch "$jvm"
}

# --- ElasticMQ (SQS) ------------------------------------------------------------------------------------------------

# start_sqs PORT: ElasticMQ in memory (no persistence) on 127.0.0.1:PORT, with queue URLs that point there.
start_sqs() {
  cat >"$STATE/elasticmq.conf" <<EOF
include classpath("application.conf")

node-address {
  protocol = "http"
  host = "127.0.0.1"
  port = $1
  context-path = ""
}
generate-node-address = false

rest-sqs {
  enabled = true
  bind-port = $1
  bind-hostname = "127.0.0.1"
  sqs-limits = relaxed
}

rest-stats.enabled = false
queues-storage.enabled = false
messages-storage.enabled = false

aws {
  region = "$AWS_TEST_REGION"
  accountId = "000000000000"
}
EOF
  # The client compiler alone and the serial collector: it starts in about half the time, and a test server
  # never runs long enough for the optimising compiler to pay off.
  (exec setsid "$JAVA17_HOME/bin/java" -Xms64m -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData \
    -Dconfig.file="$STATE/elasticmq.conf" -cp "$ELASTICMQ_LIB/*" org.elasticmq.server.Main) \
    >"$STATE/sqs.log" 2>&1 </dev/null 7>&- 8>&- 9>&- &
  record_process sqs "$!"
  disown "$!"
}

# sqs_answers ENDPOINT: true when a ListQueues call in the AWS JSON protocol (the one boto3 speaks) succeeds.
sqs_answers() {
  [[ $(curl --silent --noproxy '*' --output /dev/null --write-out '%{http_code}' --max-time 3 -X POST \
    -H 'X-Amz-Target: AmazonSQS.ListQueues' -H 'Content-Type: application/x-amz-json-1.0' --data '{}' \
    "$1/" 2>/dev/null) == 200 ]]
}

# wait_sqs PORT: ready once it answers a real SQS call.
wait_sqs() {
  local deadline=$((SECONDS + START_TIMEOUT)) pid
  pid=$(cat "$STATE/sqs.pid")
  until sqs_answers "http://127.0.0.1:$1"; do
    proc_alive "$pid" || fail_with_log "$STATE/sqs.log" "ElasticMQ (SQS) exited while starting (log: $STATE/sqs.log)"
    ((SECONDS < deadline)) ||
      fail_with_log "$STATE/sqs.log" "ElasticMQ (SQS) did not answer ListQueues within ${START_TIMEOUT}s on port $1"
    sleep 0.2
  done
}

# --- moto (S3) -------------------------------------------------------------------------------------------------------

# start_moto NAME PORT
start_moto() {
  local moto
  moto=$(command -v "$MOTO_SERVER" 2>/dev/null) ||
    die "moto_server not found at $MOTO_SERVER: build the virtualenv (make .venv/.installed-test) or set MOTO_SERVER"
  (exec setsid "$moto" -H 127.0.0.1 -p "$2") >"$STATE/$1.log" 2>&1 </dev/null 7>&- 8>&- 9>&- &
  record_process "$1" "$!"
  disown "$!"
}

# wait_moto NAME PORT: ready once anything answers HTTP on the port.
wait_moto() {
  local deadline=$((SECONDS + START_TIMEOUT)) pid
  pid=$(cat "$STATE/$1.pid")
  while [[ $(http_status "http://127.0.0.1:$2/moto-api/") == 000 ]]; do
    proc_alive "$pid" || fail_with_log "$STATE/$1.log" "moto_server for $1 exited while starting (log: $STATE/$1.log)"
    ((SECONDS < deadline)) || fail_with_log "$STATE/$1.log" "moto_server for $1 was not ready within ${START_TIMEOUT}s"
    sleep 0.2
  done
}

# --- the env file ----------------------------------------------------------------------------------------------------

# True when every server runs and answers at the endpoints in the env file.
healthy() {
  local name
  [[ -s $ENV_FILE ]] || return 1
  for name in opensearch sqs s3; do
    running_pid "$name" >/dev/null || return 1
  done
  (
    # shellcheck disable=SC1090
    source "$ENV_FILE"
    [[ $(http_status "$OPENSEARCH_ENDPOINT/_cluster/health" 5) == 200 ]] &&
      [[ $(http_status "$AWS_ENDPOINT_URL_S3/moto-api/") != 000 ]] &&
      sqs_answers "$AWS_ENDPOINT_URL_SQS"
  )
}

# export_line NAME VALUE: a line the shell reads back as VALUE, quoted only when it needs to be.
export_line() {
  if [[ $2 =~ ^[A-Za-z0-9_./:,@%+=-]*$ ]]; then
    printf 'export %s=%s\n' "$1" "$2"
  else
    printf 'export %s=%q\n' "$1" "$2"
  fi
}

write_env() {
  local os_port=$1 sqs_port=$2 s3_port=$3 no_proxy_list="127.0.0.1,localhost"
  if [[ -n ${NO_PROXY:-${no_proxy:-}} ]]; then no_proxy_list+=",${NO_PROXY:-${no_proxy:-}}"; fi
  {
    printf '# Written by scripts/services.sh; removed when it stops these servers. For tests only.\n'
    export_line OPENSEARCH_ENDPOINT "http://127.0.0.1:$os_port"
    export_line EXTRACTKIT_TEST_OPENSEARCH_PID_FILE "$STATE/opensearch.pid"
    export_line AWS_ENDPOINT_URL_SQS "http://127.0.0.1:$sqs_port"
    export_line EXTRACTKIT_TEST_SQS_PID_FILE "$STATE/sqs.pid"
    export_line AWS_ENDPOINT_URL_S3 "http://127.0.0.1:$s3_port"
    export_line EXTRACTKIT_TEST_S3_PID_FILE "$STATE/s3.pid"
    export_line AWS_ACCESS_KEY_ID testing
    export_line AWS_SECRET_ACCESS_KEY testing
    export_line AWS_DEFAULT_REGION "$AWS_TEST_REGION"
    export_line AWS_REGION "$AWS_TEST_REGION"
    export_line AWS_EC2_METADATA_DISABLED true
    # So that a proxy set for the registries is never asked for 127.0.0.1.
    export_line NO_PROXY "$no_proxy_list"
    export_line no_proxy "$no_proxy_list"
  } >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# --- subcommands -----------------------------------------------------------------------------------------------------

# start_set CLEANUP: starts the set of $STATE (which the caller has locked), unless it already runs and answers.
# A failure or an interruption before everything is ready runs CLEANUP, which stops what this call started.
start_set() {
  local began=$SECONDS
  local -a ports
  if healthy; then
    log "test servers already run (see $ENV_FILE)"
    return 0
  fi
  stop_all # whatever is left of an earlier start
  # shellcheck disable=SC2064
  trap "$1" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  JAVA17_HOME=$(find_java17)
  command -v curl >/dev/null 2>&1 || die "curl is needed (apt-get install curl)"
  if ((EUID == 0)); then command -v runuser >/dev/null 2>&1 || die "runuser is needed to run OpenSearch as $SERVICE_USER"; fi
  : >"$STATE/download.log"
  download_all
  prepare_opensearch
  read -r -a ports <<<"$(free_ports 4)"
  ((${#ports[@]} == 4)) || die "could not find free ports on 127.0.0.1"
  start_sqs "${ports[2]}"
  start_moto s3 "${ports[3]}"
  start_opensearch "${ports[0]}" "${ports[1]}"
  wait_moto s3 "${ports[3]}"
  wait_sqs "${ports[2]}"
  wait_opensearch "${ports[0]}"
  write_env "${ports[0]}" "${ports[2]}" "${ports[3]}"
  trap - EXIT INT TERM HUP
  log "OpenSearch $OPENSEARCH_VERSION on http://127.0.0.1:${ports[0]}," \
    "SQS (ElasticMQ $ELASTICMQ_VERSION) on http://127.0.0.1:${ports[2]}," \
    "S3 on http://127.0.0.1:${ports[3]} (ready in $((SECONDS - began)) s; env in $ENV_FILE)"
}

cmd_start() {
  collect_dead_runs
  lock_state
  start_set stop_all
  unlock_state
}

cmd_stop() {
  lock_state
  stop_all
  rm -rf "$INSTANCE" "$STATE/opensearch"
  unlock_state
  collect_dead_runs
}

# print_set LABEL: one line per server of the set in $STATE; false unless all of them run.
print_set() {
  local name pid all=0 endpoint=""
  local -a endpoints
  if [[ -s $ENV_FILE ]]; then
    # shellcheck disable=SC1090
    endpoint=$(source "$ENV_FILE" && printf '%s %s %s' "$OPENSEARCH_ENDPOINT" "$AWS_ENDPOINT_URL_SQS" "$AWS_ENDPOINT_URL_S3")
  fi
  read -r -a endpoints <<<"$endpoint"
  local i=0
  for name in opensearch sqs s3; do
    if pid=$(running_pid "$name"); then
      printf '%-14s %-11s running  pid %-8s %s\n' "$1" "$name" "$pid" "${endpoints[$i]:-}"
      all=$((all + 1))
    else
      printf '%-14s %-11s not running\n' "$1" "$name"
    fi
    i=$((i + 1))
  done
  if [[ -s $ENV_FILE ]]; then printf '%-14s env file: %s\n' "$1" "$ENV_FILE"; fi
  ((all == 3))
}

cmd_status() {
  local directory status=0
  print_set default || status=3
  for directory in "$SERVICES"/run-*/; do
    [[ -d $directory ]] || continue
    (
      use_state "${directory%/}" "$(basename "$directory")"
      pid=$(running_pid owner) || exit 0
      print_set "run (pid $pid)" || true
    )
  done
  return "$status"
}

# Runs on INT, TERM or HUP while CMD runs: lets CMD end (passing the signal on unless the terminal already gave it
# to CMD too), then exits, which stops the servers through the EXIT trap.
on_signal() {
  local signal=$1 status=$2
  local -a fields
  trap '' INT TERM HUP
  if [[ -n ${CHILD:-} ]] && proc_alive "$CHILD"; then
    # Our process group, and the terminal's foreground one: the same when a Ctrl-C reached CMD as well.
    read -r -a fields <<<"$(proc_fields $$)"
    if [[ $signal != INT || ${fields[2]:-} != "${fields[5]:-}" ]]; then
      kill -s "$signal" "$CHILD" 2>/dev/null || true
    fi
    if ! wait_gone 30 "$CHILD"; then
      kill -TERM "$CHILD" 2>/dev/null || true
      wait_gone 10 "$CHILD" || kill -KILL "$CHILD" 2>/dev/null || true
    fi
    wait "$CHILD" 2>/dev/null && status=0 || status=$?
  fi
  exit "$status"
}

# What `run` leaves behind: its logs in $STATE, nothing else.
finish_run() {
  stop_all
  forget_process owner
  rm -rf "$INSTANCE" "$STATE/lock" "$STATE/opensearch"
}

cmd_run() {
  local status
  local -a default_signals=()
  if [[ ${1:-} == -- ]]; then shift; fi
  (($#)) || die "usage: services.sh run -- CMD [ARGS...]"
  collect_dead_runs
  use_state "$SERVICES/run-$$" "run-$$"
  rm -rf "$STATE"
  mkdir -p "$STATE"
  record_process owner "$$"
  lock_state
  start_set finish_run
  unlock_state
  trap 'finish_run' EXIT
  trap 'on_signal INT 130' INT
  trap 'on_signal TERM 143' TERM
  trap 'on_signal HUP 129' HUP
  # shellcheck disable=SC1090
  source "$ENV_FILE"
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
  # CMD runs in the background so that a signal sent to this script alone is handled at once. Background commands
  # would ignore SIGINT and read /dev/null: give CMD the default SIGINT and this script's stdin back.
  if env --default-signal=INT true 2>/dev/null; then default_signals=("--default-signal=INT,QUIT"); fi
  env "${default_signals[@]}" "$@" 0<&0 8>&- &
  CHILD=$!
  wait "$CHILD" && status=0 || status=$?
  exit "$status"
}

cmd_clean() {
  local directory
  cmd_stop
  for directory in "$SERVICES"/run-*/; do
    [[ -d $directory ]] || continue
    if (use_state "${directory%/}" x && running_pid owner >/dev/null); then
      log "a run (${directory%/}) still uses $RUNTIME: left it"
      return 0
    fi
  done
  if [[ -e $RUNTIME/.extractkit-services && -O $RUNTIME ]]; then
    rm -rf "$RUNTIME"
    log "removed $RUNTIME"
  fi
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  run)
    shift
    cmd_run "$@"
    ;;
  clean) cmd_clean ;;
  *)
    printf 'usage: %s start|stop|status|clean|run -- CMD [ARGS...]\n' "$0" >&2
    exit 2
    ;;
esac
