#!/usr/bin/env bash
# Times `hallpass cards` for a 30-student class against 30 single
# `/reset-password` runs (one `hallpass console` session), on SQLite, with the
# production argon2id parameters, and the start-up cost of one `hallpass`
# process beside them (each side pays it once).
#
#   cargo build --release && scripts/time-class-cards.sh [target/release/hallpass]
#
# Writes only into a temporary directory, which it removes.
set -euo pipefail

bin=${1:-target/release/hallpass}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/hallpass.db" RUST_LOG=error
bundle="$work/bundle"
mkdir -p "$bundle"

cat > "$bundle/orgs.csv" <<CSV
sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
d1,active,2026-08-17T07:00:00Z,Timing District,district,TD,
s1,active,2026-08-17T07:00:00Z,Timing Middle School,school,TMS,d1
CSV
users="sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password
t1,active,2026-08-17T07:00:00Z,true,s1,teacher,teacher.one,,Terry,Teacher,,,,,,,,"
enrollments="sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate
e-t1,active,2026-08-17T07:00:00Z,c1,s1,t1,teacher,true,,"
for n in $(seq -w 1 30); do
  users+=$'\n'"k$n,active,2026-08-17T07:00:00Z,true,s1,student,kid$n,,Kid,Number$n,,,,,,,07,"
  enrollments+=$'\n'"e-k$n,active,2026-08-17T07:00:00Z,c1,s1,k$n,student,false,,"
done
printf '%s\n' "$users" > "$bundle/users.csv"
printf '%s\n' "$enrollments" > "$bundle/enrollments.csv"
cat > "$bundle/classes.csv" <<CSV
sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods
c1,active,2026-08-17T07:00:00Z,Timing 7,07,crs1,TIME-7,scheduled,Room 1,s1,term1,Science,,1
CSV
"$bin" import oneroster "$bundle" --tenant timing > /dev/null

seconds() { # runs "$@", prints the wall-clock seconds it took
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

startup=$(seconds "$bin" user show teacher.one --tenant timing)
cards=$(seconds "$bin" cards --class c1 --tenant timing --as teacher.one --out "$work/cards.pdf")
lines=$(for n in $(seq -w 1 30); do echo "/reset-password user:kid$n"; done)
singles=$(seconds bash -c "printf '%s\n' \"\$1\" | \"\$2\" console --tenant timing --as teacher.one" _ "$lines" "$bin")
resets=$(sqlite3 "$work/hallpass.db" "SELECT COUNT(*) FROM audit_events WHERE action = 'password.reset' AND actor_user_id IS NOT NULL")

echo "machine: $(nproc) cores; argon2id m=19456,t=2,p=1 (production)"
echo "one hallpass process start-up (user show): ${startup} s"
echo "hallpass cards, 30 students (resets + PDF):  ${cards} s"
echo "30 single /reset-password (one console):     ${singles} s"
echo "password.reset entries written: ${resets} (expected 60)"
