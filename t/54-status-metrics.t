#!/usr/bin/perl
# dlpgate status and the Prometheus metrics count what a test sent:
# sessions, messages, bytes, verdicts, rejections and detector failures,
# the same in `dlpgate status`, `dlpgate status --prometheus` and the
# metrics_listen listener; the control socket is root's.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;

my $sink = start_sink();
my $mport = free_port();
my $dlp = start_dlpgate(conf => { resubmit_port => $sink->{port},
    message_size_limit => 20000, metrics_listen => "127.0.0.1:$mport" });
my $etc = $dlp->{etc};

# before any traffic
my ($rc, $out) = dlpgate($etc, 'status');
is($rc, 0, 'status: 0 while running');
like($out, qr/^dlpgate is running: pid $dlp->{pid}, up \d+s \(since [-0-9 :]+\), generation 1$/m,
    'master pid, uptime, generation');
like($out, qr/^smtpd\s+inet\s+0\s+0\s+20\s+0\s+ok$/m, 'smtpd: 0 busy, 0 idle, limit 20');
like($out, qr/^detector\s+unix\s+0\s+2\s+4\s+0\s+ok$/m, 'detector: 2 idle (process_min_avail), limit 4');
my %c = status_counters($out);
is_deeply([@c{qw(sessions messages bytes pass rejected_before_scan detector_failures)}],
    [0, 0, 0, 0, 0, 0], 'counters start at zero');
ok($dlp->wait_log(qr/5013 metrics listener started \(listen=127\.0\.0\.1:$mport/), 'metrics listener logged');

# traffic: one session with three messages, one with one message and one
# too big, and a session that sends nothing
my @sizes;
my $c = smtp_connect($dlp->{port});
$c->cmd('EHLO one.test');
for my $i (1 .. 3) {
    my $data = "Subject: m$i\r\n\r\n" . ("line $i\r\n" x (10 * $i));
    push @sizes, length $data;
    is(($c->send_message(data => $data))[0], 250, "session 1, message $i accepted");
}
# busy while a session is open
%c = status_counters((dlpgate($etc, 'status'))[1]);
is($c{'service:smtpd'}[0], 1, 'status: one smtpd child busy while a session is open');
$c->cmd('QUIT');

$c = smtp_connect($dlp->{port});
$c->cmd('EHLO two.test');
my $data = "Subject: m4\r\n\r\n..dot stuffed\r\nend\r\n";
push @sizes, length($data) - 1;    # the stuffed dot is not content
is(($c->send_message(data => $data))[0], 250, 'session 2, message 4 accepted');
my ($code) = $c->send_message(data => "Subject: big\r\n\r\n" . ("x" x 70 . "\r\n") x 400);
is($code, 552, 'session 2, a message over message_size_limit: 552');
$c->cmd('QUIT');
$c = smtp_connect($dlp->{port});
$c->cmd('QUIT');

my $bytes = 0;
$bytes += $_ for @sizes;
ok(wait_until(sub { my %s = status_counters((dlpgate($etc, 'status'))[1]);
    ($s{sessions} // 0) == 3 && ($s{messages} // 0) == 4 }, 20),
    'status counts 3 sessions and 4 messages');
($rc, $out) = dlpgate($etc, 'status');
%c = status_counters($out);
is($c{bytes}, $bytes, "bytes: $bytes, the content sent");
my $logged = 0;
$logged += $_ for $dlp->log =~ /1007 message complete .* size=(\d+) /g;
is($c{bytes}, $logged, 'bytes match the sizes of the message complete lines');
is_deeply([@c{qw(pass block redirect modify tempfail)}], [4, 0, 0, 0, 0], 'verdicts: 4 pass');
is($c{rejected_before_scan}, 1, 'rejected before scan: 1');
is_deeply([@c{qw(tls_in tls_out detector_failures children_died)}], [0, 0, 0, 0],
    'no TLS, no detector failure, no child died');

# the same in the Prometheus text format
($rc, $out) = dlpgate($etc, 'status', '--prometheus');
is($rc, 0, 'status --prometheus: 0');
my %m = eval { prom_parse($out) };
is($@, '', 'every line is valid exposition format');
my %types = $out =~ /^# TYPE (\S+) (\S+)$/mg;
my @untyped = grep { my $n = $_ =~ s/\{.*//r; !$types{$n} } keys %m;
is_deeply(\@untyped, [], 'every metric has a TYPE');
is($m{dlpgate_up}, 1, 'dlpgate_up 1');
is($m{'dlpgate_sessions_total{service="smtpd"}'}, 3, 'sessions_total 3');
is($m{'dlpgate_messages_total{service="smtpd"}'}, 4, 'messages_total 4');
is($m{'dlpgate_message_bytes_total{service="smtpd"}'}, $bytes, 'message_bytes_total');
is($m{'dlpgate_verdicts_total{service="smtpd",verdict="pass"}'}, 4, 'verdicts_total pass 4');
is($m{'dlpgate_verdicts_total{service="smtpd",verdict="block"}'}, 0, 'verdicts_total block 0');
is($m{'dlpgate_messages_rejected_total{service="smtpd"}'}, 1, 'messages_rejected_total 1');
is($m{'dlpgate_tls_sessions_total{service="smtpd",direction="in"}'}, 0, 'tls in 0');
is($m{'dlpgate_detector_failures_total{service="smtpd"}'}, 0, 'detector failures 0');
is($m{'dlpgate_service_process_limit{service="smtpd"}'}, 20, 'process limit');
is($m{'dlpgate_generation'}, 1, 'generation');

# and from the listener
my ($hcode, $body) = http_get($mport, '/metrics');
is($hcode, 200, 'GET /metrics: 200');
my %h = eval { prom_parse($body) };
is($h{'dlpgate_messages_total{service="smtpd"}'}, 4, 'the listener serves the same counters');
($hcode) = http_get($mport, '/');
is($hcode, 404, 'GET /: 404');

# counters survive a reload
$dlp->reload;
ok($dlp->wait_log(qr/5003 master reloaded/), 'reloaded');
%m = prom_parse((dlpgate($etc, 'status', '--prometheus'))[1]);
is($m{'dlpgate_messages_total{service="smtpd"}'}, 4, 'counters survive a reload');
is($m{dlpgate_generation}, 2, 'generation 2');

# the control socket is root's
SKIP: {
    skip 'not root', 3 if $> != 0;
    my $bin = programs_for_anyone('master/dlpgate');
    my ($ok, $err) = as_user('dlpgate', sub {
        my ($r, $o) = run_cmd("$bin/dlpgate", '-c', $etc, 'status');
        $! = 0;
        return $r == 0 && $o =~ /^dlpgate is running \(pid \d+\)$/m
            && $o =~ /no details: .*Permission denied/;
    });
    ok($ok, 'as another user: status 0 (running) but no details from the control socket');
    my $ctl = "$dlp->{run}/master.ctl";
    is((stat $ctl)[2] & 07777, 0600, 'master.ctl is mode 0600');
    is((stat $ctl)[4], 0, 'and root\'s');
}
ok($dlp->stop, 'dlpgate stops');

# a detector that cannot be reached: tempfail and a detector failure
$dlp = start_dlpgate(conf => { resubmit_port => $sink->{port} },
    master_conf => "services = ({ name = \"smtpd\"; type = \"inet\"; "
        . "listen = [\"127.0.0.1:" . free_port() . "\"]; command = \"smtpd-proxy\"; "
        . "process_limit = 2; user = \"dlpgate\"; });\n");
($dlp->{port}) = slurp("$dlp->{etc}/master.conf") =~ /127\.0\.0\.1:(\d+)/;
$c = smtp_connect($dlp->{port});
$c->cmd('EHLO three.test');
($code) = $c->send_message(data => "Subject: no detector\r\n\r\nbody\r\n");
is($code, 451, 'no detector: 451');
$c->cmd('QUIT');
ok(wait_until(sub { my %s = status_counters((dlpgate($dlp->{etc}, 'status'))[1]);
    ($s{detector_failures} // 0) == 1 }, 20), 'status counts the detector failure');
%c = status_counters((dlpgate($dlp->{etc}, 'status'))[1]);
is($c{tempfail}, 1, 'and the tempfail verdict');
is($c{messages}, 1, 'and the message');
ok($dlp->stop, 'dlpgate stops');

# a service whose children die before they serve shows as throttled
my $tport = free_port();
$dlp = start_dlpgate(port => $tport, conf => { resubmit_port => $sink->{port} },
    master_conf => DlpTest::default_master_conf($tport, {}) =~ s/\n\);\n\z/,
  { name = "broken"; type = "unix"; listen = ["broken"]; command = "nosuch";
    process_limit = 1; process_min_avail = 1; user = "dlpgate"; }\n);\n/r);
ok($dlp->wait_log(qr/5005 service throttled \(service=broken/, 20), 'the broken service is throttled');
($rc, $out) = dlpgate($dlp->{etc}, 'status');
like($out, qr/^broken\s+unix\s+0\s+0\s+1\s+0\s+throttled \(\d+s left\)$/m, 'status: throttled, with the time left');
like($out, qr/^smtpd\s+inet\s+0\s+0\s+20\s+0\s+ok$/m, 'the other services are fine');
%m = prom_parse((dlpgate($dlp->{etc}, 'status', '--prometheus'))[1]);
is($m{'dlpgate_service_throttled{service="broken"}'}, 1, 'dlpgate_service_throttled 1');
is($m{'dlpgate_service_throttled{service="smtpd"}'}, 0, 'smtpd not throttled');
ok($m{'dlpgate_children_died_total{service="broken"}'} >= 1, 'children_died_total counts the deaths');
ok($dlp->stop, 'dlpgate stops');

# not running: status 3, Prometheus says dlpgate_up 0
($rc, $out) = dlpgate($dlp->{etc}, 'status', '--prometheus');
is($rc, 3, 'status --prometheus when stopped: 3');
like($out, qr/^dlpgate_up 0$/m, 'dlpgate_up 0');

done_testing;
