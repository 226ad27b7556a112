#!/usr/bin/env bash
# Back up codecast's database into a dated file and delete backups older than 30 days.
#
# Nightly from cron (as the user that runs codecast, with its settings in the environment):
#   17 3 * * *  set -a; . /etc/codecast/codecast.env; /opt/codecast/deploy/backup.sh
# Settings: CODECAST_DATABASE_URL (as codecast reads it), CODECAST_BACKUP_DIR
# (default /var/backups/codecast), CODECAST_BACKUP_DAYS (default 30).
# SQLite is copied with SQLite's online backup (consistent while codecast writes);
# PostgreSQL with pg_dump in its custom format (restore with pg_restore).
set -euo pipefail

url="${CODECAST_DATABASE_URL:-sqlite+aiosqlite:///./data/codecast.db}"
dest="${CODECAST_BACKUP_DIR:-/var/backups/codecast}"
days="${CODECAST_BACKUP_DAYS:-30}"
python="${PYTHON:-python3}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

mkdir -p "$dest"
umask 077

case "$url" in
  sqlite*)
    # sqlite+aiosqlite:///relative/path or sqlite+aiosqlite:////absolute/path
    path="${url#*:///}"
    path="${path%%\?*}"
    target="$dest/codecast-$stamp.sqlite"
    "$python" - "$path" "$target.part" <<'PY'
import sqlite3
import sys

source = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
with sqlite3.connect(sys.argv[2]) as copy:
    source.backup(copy)
source.close()
PY
    gzip -9 "$target.part"
    mv "$target.part.gz" "$target.gz"
    target="$target.gz"
    ;;
  postgresql*)
    # The driver name (+asyncpg) is SQLAlchemy's; libpq wants a plain postgresql:// URL.
    target="$dest/codecast-$stamp.dump"
    pg_dump --format=custom --no-owner --file="$target.part" "postgresql://${url#*://}"
    mv "$target.part" "$target"
    ;;
  *)
    echo "backup.sh: unsupported database URL scheme: ${url%%:*}" >&2
    exit 2
    ;;
esac

# Keep `days` days: delete backups (and parts of failed runs) older than that.
find "$dest" -maxdepth 1 -type f -name 'codecast-*' -mtime "+$((days - 1))" -delete
echo "backup.sh: wrote $target"
