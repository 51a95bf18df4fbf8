#!/usr/bin/env bash
# Provision PostgreSQL 15 + pgvector for reembed's production backend and its tests.
#
# Why this shape: CI machines run Debian 12 (bookworm) with only Debian's own archive reachable.
# Bookworm ships PostgreSQL 15 but no pgvector 0.8, so pgvector is built from Debian's trixie *source*
# package against postgresql-server-dev-15. Only a deb-src line is added for trixie (plus a negative
# pin as a second guard), so apt never installs or upgrades binary packages from trixie.
#
# Idempotent and fast on re-run: every step checks first (packages present, vector.control installed,
# cluster running, role/database/extension present). Must run as root.
# Progress goes to stderr; the only line on stdout is the connection URL, so CI can do
#   export "$(scripts/provision-postgres.sh)"
set -euo pipefail

PG_MAJOR=15
PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
PG_CONFIG="${PG_BIN}/pg_config"
DB_NAME="${REEMBED_PG_DB:-reembed}"
DB_USER="${REEMBED_PG_USER:-reembed}"
DB_PASS="${REEMBED_PG_PASSWORD:-reembed}"
DB_PORT="${REEMBED_PG_PORT:-5432}"
SRC_LIST=/etc/apt/sources.list.d/reembed-trixie-src.sources
PIN_FILE=/etc/apt/preferences.d/reembed-trixie-no-binaries
START=$(date +%s)

log() { printf '[provision-postgres +%ss] %s\n' "$(($(date +%s) - START))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and manages the cluster)"
export DEBIAN_FRONTEND=noninteractive

# --- apt sources: trixie deb-src only -------------------------------------------------------------
ensure_trixie_src() {
  if [ ! -f "$SRC_LIST" ]; then
    cat >"$SRC_LIST" <<'EOF'
# Added by reembed scripts/provision-postgres.sh: source packages only (to build pgvector).
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  if [ ! -f "$PIN_FILE" ]; then
    # Second guard: even if someone adds a binary trixie line later, never pick packages from it.
    cat >"$PIN_FILE" <<'EOF'
Package: *
Pin: release n=trixie
Pin-Priority: -10
EOF
  fi
}

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
has_candidate() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }
vector_installed() {
  [ -f "/usr/share/postgresql/${PG_MAJOR}/extension/vector.control" ] &&
    [ -f "$("$PG_CONFIG" --pkglibdir 2>/dev/null || echo /nonexistent)/vector.so" ]
}
trixie_sources_indexed() { compgen -G '/var/lib/apt/lists/*_dists_trixie_*Sources*' >/dev/null; }

APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq >&2
    APT_UPDATED=1
  fi
}

# --- packages ---------------------------------------------------------------------------------------
PKGS=(postgresql-${PG_MAJOR} postgresql-server-dev-${PG_MAJOR} build-essential dpkg-dev)
MISSING=()
for p in "${PKGS[@]}"; do pkg_installed "$p" || MISSING+=("$p"); done

NEED_BUILD=0
vector_installed || NEED_BUILD=1

if [ "$NEED_BUILD" -eq 1 ]; then ensure_trixie_src; fi
if [ "${#MISSING[@]}" -gt 0 ]; then
  for p in "${MISSING[@]}"; do has_candidate "$p" || apt_update_once; done
  log "installing ${MISSING[*]}"
  apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >&2
fi

# --- pgvector from Debian's trixie source package ---------------------------------------------------
if [ "$NEED_BUILD" -eq 1 ]; then
  trixie_sources_indexed || apt_update_once
  WORK=$(mktemp -d /tmp/reembed-pgvector.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
  chmod 755 "$WORK"
  # apt downloads as its sandbox user when it can write the target directory (no "unsandboxed" warning).
  chown _apt "$WORK" 2>/dev/null || true
  log "downloading pgvector source package (trixie) into $WORK"
  (cd "$WORK" && apt-get source -qq --download-only pgvector/trixie >&2) ||
    die "apt-get source pgvector failed: check $SRC_LIST and that deb.debian.org is reachable"
  DSC=$(ls "$WORK"/pgvector_*.dsc | head -n1)
  [ -n "$DSC" ] || die "no pgvector .dsc downloaded"
  # apt already verified the files against the signed Sources index; the .dsc's own OpenPGP
  # signature cannot be checked without debian-keyring, hence --no-check.
  (cd "$WORK" && dpkg-source --no-check -x "$DSC" src >&2)
  log "building $(basename "$DSC" .dsc) against PostgreSQL ${PG_MAJOR}"
  make -s -C "$WORK/src" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" >&2
  make -s -C "$WORK/src" install PG_CONFIG="$PG_CONFIG" >&2
  vector_installed || die "pgvector build finished but vector.control / vector.so are not installed"
else
  log "pgvector already installed, skipping build"
fi

# --- cluster ----------------------------------------------------------------------------------------
if ! pg_lsclusters -h | awk -v v="$PG_MAJOR" '$1==v && $2=="main"' | grep -q .; then
  log "creating cluster ${PG_MAJOR}/main"
  pg_createcluster "$PG_MAJOR" main --port "$DB_PORT" >&2
fi
if ! pg_lsclusters -h | awk -v v="$PG_MAJOR" '$1==v && $2=="main" && $4=="online"' | grep -q .; then
  log "starting cluster ${PG_MAJOR}/main"
  pg_ctlcluster "$PG_MAJOR" main start >&2
fi
PORT=$(pg_lsclusters -h | awk -v v="$PG_MAJOR" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 50); do
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
  sleep 0.2
done
"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" || die "cluster ${PG_MAJOR}/main is not accepting connections"

psql_su() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" "$@"; }

# --- connections ------------------------------------------------------------------------------------
# Distributed backfills run several worker processes, each with its own pool (and graphile-worker's), and
# the test suite runs files in parallel: the packaged default of 100 connections is too few for both.
MIN_CONNECTIONS=200
current=$(runuser -u postgres -- psql -X -At -p "$PORT" -d postgres -c 'SHOW max_connections')
if [ "${current:-0}" -lt "$MIN_CONNECTIONS" ]; then
  log "max_connections ${current} -> ${MIN_CONNECTIONS} (restarts the cluster)"
  psql_su -d postgres -c "ALTER SYSTEM SET max_connections = ${MIN_CONNECTIONS}" >&2
  pg_ctlcluster "$PG_MAJOR" main restart >&2
  for _ in $(seq 1 50); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.2
  done
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" || die "cluster ${PG_MAJOR}/main did not come back after the restart"
fi

# --- role, database, extension ----------------------------------------------------------------------
psql_su -d postgres -v u="$DB_USER" -v pw="$DB_PASS" >&2 <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'u', :'pw')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'u', :'pw') \gexec
SQL
psql_su -d postgres -v u="$DB_USER" -v db="$DB_NAME" >&2 <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'u')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
psql_su -d "$DB_NAME" >&2 <<'SQL'
SET client_min_messages TO warning;
CREATE EXTENSION IF NOT EXISTS vector;
SQL

URL="postgres://${DB_USER}:${DB_PASS}@127.0.0.1:${PORT}/${DB_NAME}"
VER=$(PGPASSWORD="$DB_PASS" psql -X -At -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d "$DB_NAME" \
  -c "SELECT extversion FROM pg_extension WHERE extname='vector'") ||
  die "password login as ${DB_USER} on 127.0.0.1 failed: check pg_hba.conf"
[ -n "$VER" ] || die "extension vector is not installed in database ${DB_NAME}"
log "ready: PostgreSQL ${PG_MAJOR}, pgvector ${VER}, in $(($(date +%s) - START))s"
echo "REEMBED_PG_URL=${URL}"
