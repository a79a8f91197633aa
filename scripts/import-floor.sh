#!/usr/bin/env bash
# What the database alone takes to hold what `hallpass import oneroster`
# writes, beside the import and the bench's floor (issue 8's import target).
#
#   scripts/import-floor.sh BUNDLE_DIR [sqlite|postgres]
#
# BUNDLE_DIR: a OneRoster bundle (orgs.csv, users.csv), such as the one
# `hallpass bench` generates. Needs a release build, sqlite3, and for
# postgres psql and the server on 127.0.0.1:5432 (trust auth).
#
# It imports the bundle into a fresh database A (timed: the import), loads
# users.csv into a plain table with the database's own bulk loader (timed:
# the bench's floor), then copies A's written rows into a second fresh,
# migrated database B, one table per statement (timed: the schema floor,
# no parsing, no checks in Rust), and again with parts of the schema taken
# away, to show what each part costs. Nothing here is used by the product.
set -euo pipefail
bundle=$(realpath "${1:?usage: import-floor.sh BUNDLE_DIR [sqlite|postgres]}")
backend=${2:-sqlite}
cd "$(dirname "$0")/.."
bin=$PWD/target/release/hallpass
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seconds() { python3 -c 'import sys,time; print(f"{time.time()-float(sys.argv[1]):.3f}")' "$1"; }
now() { python3 -c 'import time; print(time.time())'; }

SEARCH="DROP INDEX users_search_last; DROP INDEX users_search_first; DROP INDEX users_search_login;"

sqlite_floor() {
    export DATABASE_URL="sqlite://$work/a.db"
    "$bin" migrate >/dev/null
    local t; t=$(now)
    "$bin" import oneroster "$bundle" --tenant floor >/dev/null 2>&1
    echo "hallpass import:            $(seconds "$t") s"
    t=$(now)
    sqlite3 "$work/plain.db" ".import --csv $bundle/users.csv plain"
    echo "sqlite3 .import (floor):    $(seconds "$t") s"
    local -A variants=(
        ["1 the whole schema"]=""
        ["2 without the search indexes"]="$SEARCH"
        ["3 without them, users_by_tenant and the change log"]="$SEARCH DROP INDEX users_by_tenant; DROP TRIGGER users_logged_on_insert;"
    )
    local name
    for name in "${!variants[@]}"; do echo "$name"; done | sort | while read -r name; do
        local variant=${variants[$name]}
        rm -f "$work"/b.db*
        DATABASE_URL="sqlite://$work/b.db" "$bin" migrate >/dev/null
        sqlite3 "$work/b.db" "PRAGMA foreign_keys=ON; ATTACH '$work/a.db' AS a;
            INSERT INTO tenants SELECT * FROM a.tenants; INSERT INTO districts SELECT * FROM a.districts;
            INSERT INTO schools SELECT * FROM a.schools;" >/dev/null
        t=$(now)
        # The import's connection: WAL, 64 MiB of page cache, its own checkpoint.
        sqlite3 "$work/b.db" >/dev/null <<SQL
PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;
PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=0;
ATTACH '$work/a.db' AS a;
$variant
BEGIN; INSERT INTO users SELECT * FROM a.users ORDER BY rowid; COMMIT;
BEGIN; INSERT INTO roster_values SELECT * FROM a.roster_values ORDER BY rowid; COMMIT;
BEGIN; INSERT INTO audit_events SELECT * FROM a.audit_events ORDER BY seq; COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
        echo "schema floor, ${name#* }: $(seconds "$t") s"
    done
}

postgres_floor() {
    server=postgres://postgres@127.0.0.1:5432 a="floor_a_$$" b="floor_b_$$"
    psql "$server/postgres" -qc "CREATE DATABASE $a" -c "CREATE DATABASE $b"
    trap 'psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $a WITH (FORCE)" -c "DROP DATABASE IF EXISTS $b WITH (FORCE)"; rm -rf "$work"' EXIT
    DATABASE_URL="$server/$a" "$bin" migrate >/dev/null
    local t; t=$(now)
    DATABASE_URL="$server/$a" "$bin" import oneroster "$bundle" --tenant floor >/dev/null 2>&1
    echo "hallpass import:            $(seconds "$t") s"
    local cols; cols=$(head -1 "$bundle/users.csv" | sed 's/,/ text,/g; s/$/ text/')
    psql "$server/$b" -qc "CREATE TABLE plain ($cols)"
    t=$(now)
    psql "$server/$b" -qc "\\copy plain FROM '$bundle/users.csv' WITH (FORMAT csv, HEADER true)"
    echo "psql \\copy (floor):         $(seconds "$t") s"
    DATABASE_URL="$server/$b" "$bin" migrate >/dev/null
    for table in tenants districts schools users roster_values audit_events; do
        psql "$server/$b" -qc "CREATE TABLE staged_$table AS SELECT * FROM $table WITH NO DATA"
        psql "$server/$a" -qc "\\copy $table TO '$work/$table.copy'"
        psql "$server/$b" -qc "\\copy staged_$table FROM '$work/$table.copy'"
    done
    psql "$server/$b" -qc "INSERT INTO tenants SELECT * FROM staged_tenants;
        INSERT INTO districts SELECT * FROM staged_districts; INSERT INTO schools SELECT * FROM staged_schools;"
    for table in users roster_values audit_events; do
        t=$(now)
        psql "$server/$b" -qc "INSERT INTO $table OVERRIDING SYSTEM VALUE SELECT * FROM staged_$table"
        echo "schema floor, $table: $(seconds "$t") s"
    done
}

case "$backend" in
    sqlite) sqlite_floor ;;
    postgres) postgres_floor ;;
    *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac
