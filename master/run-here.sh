#!/bin/sh
# run-here.sh - `make run`: dlpgate in the foreground with the shipped policies
#
# Copies the source tree's etc/ (dlpgate.conf, master.conf, policies.conf)
# into a run directory (RUN_DIR, default ./run; nothing under /etc is
# read), points the run-time paths there, listens on 127.0.0.1:RUN_PORT
# (default 10025) and reflects to RUN_RESUBMIT (default 10026). When no
# MTA listens there, smtp-sink stands in for the MTA's reinjection
# listener, keeping what it receives under the run directory. Prints a
# "try it" block, then runs master in the foreground until Ctrl-C.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
run=${RUN_DIR:-$top/run}
port=${RUN_PORT:-10025}
resubmit=${RUN_RESUBMIT:-10026}
mkdir -p "$run"
run=$(cd "$run" && pwd)

# The roles' users must reach the run directory (a tree under /root is not
# reachable): as root, fall back to a directory under /tmp.
if [ "$(id -u)" = 0 ]; then
	d=$run
	while [ "$d" != / ]; do
		if [ "$(stat -c %a "$d" | cut -c3)" -lt 1 ] 2>/dev/null \
		   || ! [ $(( $(stat -c %a "$d") % 2 )) = 1 ]; then
			run=/tmp/dlpgate-run
			mkdir -p "$run"
			break
		fi
		d=$(dirname "$d")
	done
fi

etc=$run/etc
mkdir -p "$etc" "$run/log" "$run/spool/notify" "$run/sink" "$run/run"
for f in dlpgate.conf policies.conf; do
	cp "$top/etc/$f" "$etc/$f"
done
# the service table of etc/master.conf, on RUN_PORT
sed "s/127\.0\.0\.1:10025/127.0.0.1:$port/" "$top/etc/master.conf" > "$etc/master.conf"
# make run: paths under the run directory, mail back to 127.0.0.1:RUN_RESUBMIT
"$top/master/dlpconf" -c "$etc" -e "run_directory=$run/run" "resubmit_port=$resubmit" \
	"incident_log=$run/log/incidents.log" "notify_queue_directory=$run/spool/notify" \
	"notify_relay=127.0.0.1:$resubmit" "internal_domains=example.com"

master=$top/master/master
if [ "$(id -u)" = 0 ]; then
	"$top/master/dlpgate" -c "$etc" setup >/dev/null
	chown -R dlpgate-detect "$run/log" "$run/spool"
	chmod 755 "$run" "$run/log" "$run/spool"
	chmod 0644 "$etc"/*.conf
fi
"$top/master/dlpgate" -c "$etc" check >/dev/null

# listening PORT - does something accept connections on 127.0.0.1:PORT?
# (perl-base is in every Debian system; /bin/sh has no /dev/tcp)
listening() {
	perl -MIO::Socket::INET -e \
		'exit(IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]", Timeout => 1) ? 0 : 1)' "$1"
}

sink=""
if command -v smtp-sink >/dev/null && ! listening "$resubmit"; then
	user=""
	[ "$(id -u)" = 0 ] && user="-u postfix" && chmod 777 "$run/sink"
	# shellcheck disable=SC2086
	smtp-sink $user -d "$run/sink/%H%M%S." "127.0.0.1:$resubmit" 64 &
	sink=$!
	# the first message tried must find it listening: wait up to 10 s
	i=0
	while [ $i -lt 100 ] && ! listening "$resubmit"; do
		sleep 0.1
		i=$((i + 1))
	done
fi
stop() { [ -n "$sink" ] && kill "$sink" 2>/dev/null; sink=""; }
trap stop EXIT
trap 'stop; exit 130' INT TERM

cat <<TRY

dlpgate listens on 127.0.0.1:$port with the policies of etc/policies.conf
(copied to $etc/policies.conf; edit it there, then
 $top/master/dlpgate -c $etc reload).
Passed mail goes back to 127.0.0.1:$resubmit${sink:+ (smtp-sink stands in for the MTA; messages in $run/sink/)}.

Try it, in another terminal:

  # passes: 250
  swaks --server 127.0.0.1:$port --from alice@example.com --to bob@partner.example \\
        --header 'Subject: lunch' --body 'Lunch at noon?'

  # blocked by the payment-cards policy: 550 5.7.1
  swaks --server 127.0.0.1:$port --from alice@example.com --to bob@partner.example \\
        --header 'Subject: order' --body 'My credit card number is 4111 1111 1111 1111, expiry 12/29.'

Incidents (one JSON line each, matches masked): $run/log/incidents.log
Stop with Ctrl-C.

TRY
"$master" -f -c "$etc"
