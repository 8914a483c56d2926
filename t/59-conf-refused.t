#!/usr/bin/perl
# A configuration that cannot work is refused wherever it is read: dlpconf
# -e leaves the file as it was, dlpgate check and start refuse it, and a
# reload keeps the running configuration; each error names file, line and
# setting and gives the fix. Also the one port rule (a next_hop entry
# without a port uses 25, resubmit_port is reflecting mode's),
# next_hop_bind_address, notifications named by helo_name, and a keystore
# named in dlpgate.conf that must exist.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;
use DlpDetect;
use DlpTLS;

plan skip_all => 'needs root (port 25, users)' unless $> == 0;
my $TOP = top_dir();
my $dir = test_dir();
my $etc = "$dir/etc";
mkdir $etc;
my $conf = "$etc/dlpgate.conf";

# ---- dlpconf -e ----
spit($conf, "# forwarding, one day\nsyslog_name = \"dlp\";\n");
my ($rc, $out) = dlpconf($etc, '-e', 'operating_mode=forward');
is($rc, 1, 'dlpconf -e operating_mode=forward without a next_hop is refused');
like($out, qr/operating_mode: "forward" with an empty next_hop \(next_hop_lookup = "static"\) has nowhere to send mail; fix: dlpconf -e next_hop=mail\.example\.com .*port 25 when none is given\), or operating_mode=reflect/,
    'with the reason and the fix');
is(slurp($conf), "# forwarding, one day\nsyslog_name = \"dlp\";\n", 'the file is unchanged');
($rc, $out) = dlpconf($etc, '-e', 'operating_mode=forward', 'next_hop_lookup=mx');
like($out, qr/fix: dlpconf -e next_hop=example\.com \(a mail domain/, 'with MX lookups the fix names a domain');
($rc, $out) = dlpconf($etc, '-e', 'operating_mode=forward', 'next_hop=127.0.0.1:2525');
is($rc, 0, 'both at once are accepted') or diag $out;
($rc, $out) = dlpconf($etc, '-X', 'next_hop');
is($rc, 1, 'removing the only next_hop of forwarding mode is refused');

my @refused = (
    [{ allow_hosts => [] }, qr/allow_hosts: empty: no client could connect; fix: dlpconf -e allow_hosts=/],
    [{ tls_protocols => [] }, qr/tls_protocols: empty: no TLS version to speak/],
    [{ proxy_protocol => 'yes', proxy_protocol_hosts => [] }, qr/proxy_protocol_hosts: empty: with proxy_protocol = yes every connection would be closed/],
    [{ loop_guard_hosts => ['127.0.0.0/8'], add_default_header => 'no' }, qr/loop_guard_hosts: the loop guard passes messages that carry default_pass_header, but add_default_header = no/],
    [{ default_pass_header => '' }, qr/default_pass_header: empty, but add_default_header = yes/],
    [{ detector_failure_header => 'X-Unscanned: yes' }, qr/detector_failure_header: only a message passed unscanned gets it, and detector_failure = "tempfail" passes none/],
    [{ tls_ciphers => 'AES128-SHA' }, qr/tls_ciphers: "AES128-SHA" leaves no TLS 1\.2 cipher OpenSSL can use with ECDHE/],
    [{ outbound_tls_ciphers => 'NOSUCHCIPHER' }, qr/outbound_tls_ciphers: "NOSUCHCIPHER" leaves no TLS 1\.2 cipher/],
    [{ tls_ciphersuites => 'TLS_NOSUCH' }, qr/tls_ciphersuites: "TLS_NOSUCH" names no TLS 1\.3 cipher suite/],
    [{ next_hop_bind_address => ['192.0.2.77'] }, qr/next_hop_bind_address: 192\.0\.2\.77 is not an address of this host/],
    [{ next_hop_bind_address => ['127.0.0.1', '127.0.0.2'] }, qr/next_hop_bind_address: several IPv4 addresses/],
    [{ operating_mode => 'forward' }, qr/operating_mode: "forward" with an empty next_hop/],
    [{ notify_template => 'nosuch.txt' }, qr/notify_template: \S+\/nosuch\.txt is not a file: every notification would fall back to the built-in text/],
);
for my $r (@refused) {
    spit($conf, "syslog_name = \"dlp\";\n" . conf_text($r->[0]));
    my ($name) = sort keys %{$r->[0]};
    ($rc, $out) = dlpgate($etc, 'check');
    is($rc, 1, "dlpgate check refuses " . join(', ', map { "$_ = ..." } sort keys %{$r->[0]}));
    like($out, qr/\Q$etc\E\/dlpgate\.conf:\d+: $r->[1]/, '... naming file, line and setting, with the reason');
}

# a service of master.conf may carry its own next_hop: then forwarding mode
# is complete for that service, and a service without one is named
{
    my $port0 = free_port();
    my $svc = sub { my ($opts) = @_;
        "services = (\n  { name = \"smtpd\"; type = \"inet\"; listen = [\"127.0.0.1:$port0\"];\n"
        . "    command = \"smtpd-proxy\"; user = \"dlpgate\"; options = { $opts }; },\n"
        . "  { name = \"detector\"; type = \"unix\"; listen = [\"detector\"]; command = \"detector\";\n"
        . "    user = \"dlpgate-detect\"; }\n);\n" };
    spit("$etc/master.conf", $svc->('next_hop = "127.0.0.1:2525";'));
    spit($conf, "operating_mode = \"forward\";\n");
    ($rc, $out) = dlpgate($etc, 'check');
    is($rc, 0, 'forwarding mode with the next_hop in the service\'s options is complete') or diag $out;
    spit("$etc/master.conf", $svc->('operating_mode = "forward";'));
    spit($conf, "syslog_name = \"dlp\";\n");
    ($rc, $out) = dlpgate($etc, 'check');
    like($out, qr/service smtpd: .*"forward" with an empty next_hop/, 'a service set to forward without one is named');
    unlink "$etc/master.conf";
}

# ---- start and reload ----
my $port = free_port();
my $mc = DlpTest::default_master_conf($port, {}, {});
spit("$etc/master.conf", $mc);
spit($conf, "run_directory = \"$dir/run\";\noperating_mode = \"forward\";\n");
($rc, $out) = run_cmd('timeout', '20', "$TOP/master/master", '-f', '-c', $etc);
isnt($rc, 0, 'master refuses to start in forwarding mode without a next_hop');
like($out, qr/dlpgate\.conf:2: operating_mode: "forward" with an empty next_hop/, '... and says why');
ok(port_free($port), '... having listened on nothing');

my $sink = start_sink();
my $dlp = start_dlpgate(dir => test_dir('reload'), port => $port,
    conf => { resubmit_port => $sink->{port} });
my $c = smtp_connect($port);
like($c->{banner}, qr/^220/, 'a running dlpgate');
$c->close;
spit("$dlp->{etc}/dlpgate.conf", conf_text({ run_directory => $dlp->{run}, resubmit_port => $sink->{port},
    operating_mode => 'forward' }));
$dlp->reload;
like($dlp->wait_log(qr/reload.*refused|refused.*reload|CONF_RELOAD|5\d\d\d [^\n]*forward/, 20) // '',
    qr/"forward" with an empty next_hop/, 'a reload to it is refused, with the reason in the log');
$c = smtp_connect($port);
$c->cmd('EHLO x');
my ($code) = $c->send_message(from => 'a@example.com', rcpt => ['b@example.net'],
    data => "Subject: still\r\n\r\nreflecting\r\n");
is($code, 250, 'and the running configuration goes on reflecting');
$c->close;
$dlp->stop;

# ---- a reload is checked with its own values: a keystore, a loop ----
# (files and master.conf's ports are checked by master, not by the loader:
# the new values must be loaded before those checks run, and the running
# ones put back when they refuse)
my $tsink = start_sink();
my $tls = start_tls_dlpgate(dir => test_dir('reload-tls'), conf => { resubmit_port => $tsink->{port} });
my $tetc = $tls->{etc};
my %tconf = (run_directory => $tls->{run}, resubmit_port => $tsink->{port});
my $mark = $tls->log_size;
spit("$tetc/dlpgate.conf", conf_text({ %tconf, keystore => "$dir/nosuch.p12" }));
$tls->reload;
my $line = $tls->wait_log(qr/6003 /, 20, $mark) // '';
like($line, qr{\Q$tetc\E/dlpgate\.conf:\d+: keystore: \Q$dir\E/nosuch\.p12 does not exist; fix: make it with dlpkey -c \Q$tetc\E genkeypair},
    'a reload that names a missing keystore is refused: file, line, setting and fix');
unlike(substr($tls->log, $mark), qr/5003 /, '... and no new generation starts');
($code) = send_mail($tls, from => 'a@example.com', rcpt => ['b@example.net'], data => "Subject: k\n\nkept\n");
is($code, 250, '... the running configuration goes on');
is(scalar($tsink->wait_messages(1, 20)), 1, '... reflecting to its resubmit_port');
$mark = $tls->log_size;
spit("$tetc/dlpgate.conf", conf_text({ %tconf, resubmit_port => $tls->{port} }));
$tls->reload;
$line = $tls->wait_log(qr/6003 /, 20, $mark) // '';
like($line, qr{\Q$tetc\E/dlpgate\.conf:\d+: resubmit_port: $tls->{port} is the port dlpgate itself listens on \(service smtpd, 127\.0\.0\.1:$tls->{port} in master\.conf\): reflected mail would come back to dlpgate; fix: dlpconf -e resubmit_port=10026},
    'a reload whose resubmit_port is its own listener is refused: file, line, setting and fix');
unlike(substr($tls->log, $mark), qr/5003 /, '... and no new generation starts');
# a worker started now reads the file master refused: it refuses it too
my $c1 = smtp_connect($tls->{port});    # the idle worker of the running generation
my $c2 = smtp_connect($tls->{port}, no_banner => 1);    # a new one
like($tls->wait_log(qr/resubmit_port: $tls->{port} is the port this service listens on/, 20, $mark) // '',
    qr{\Q$tetc\E/dlpgate\.conf:\d+: resubmit_port:}, 'a worker started after the refused reload refuses to loop too');
$_->close for grep { $_ } $c1, $c2;
spit("$tetc/dlpgate.conf", conf_text(\%tconf));
$mark = $tls->log_size;
$tls->reload;
ok($tls->wait_log(qr/5003 /, 20, $mark), 'the configuration fixed, a reload is taken');
($code) = send_mail($tls, from => 'a@example.com', rcpt => ['b@example.net'], data => "Subject: k\n\nagain\n");
is($code, 250, '... and mail flows');
is(scalar($tsink->wait_messages(2, 20)), 2, '... to the resubmit_port');
$tls->stop;

# ---- the port rule: an entry without a port uses 25 ----
($rc, $out) = dlpconf($etc, '-H', 'next_hop', 'resubmit_port');
like($out, qr/An entry without a\s+port uses port 25/, 'dlpconf -H next_hop states the rule');
like($out, qr/Not\s+used in forwarding mode/, 'and resubmit_port says it is reflecting mode\'s');
SKIP: {
    my $a25 = '127.0.0.49';
    skip "port 25 taken on $a25", 4 unless port_free(25, $a25);
    my $s25 = start_sink(host => $a25, port => 25);
    my $fw = start_dlpgate(dir => test_dir('fw'), conf => { operating_mode => 'forward',
        next_hop => [$a25], resubmit_port => 9, next_hop_bind_address => ['127.0.0.51'] });
    $c = smtp_connect($fw->{port});
    $c->cmd('EHLO x');
    ($code) = $c->send_message(from => 'a@example.com', rcpt => ['b@example.net'],
        data => "Subject: to 25\r\n\r\nforwarded\r\n");
    is($code, 250, 'forwarded to a next_hop entry without a port');
    my @m = $s25->wait_messages(1, 20);
    is(scalar @m, 1, 'it arrived on port 25 of that host (not resubmit_port)');
    is($m[0]{client}, '127.0.0.51', 'from next_hop_bind_address');
    $c->close;
    $fw->stop;
    # ...and an explicit port wins
    my $other = start_sink(host => $a25);
    $fw = start_dlpgate(dir => test_dir('fw2'), conf => { operating_mode => 'forward',
        next_hop => ["$a25:$other->{port}"] });
    ($code) = send_mail($fw, from => 'a@example.com', rcpt => ['b@example.net'], data => "Subject: x\n\ny\n");
    is(scalar($other->wait_messages(1, 20)), 1, 'an entry with a port uses that port');
    $fw->stop;
}

# ---- reflecting to our own port ----
spit($conf, "resubmit_port = $port;\n");
($rc, $out) = dlpgate($etc, 'check');
is($rc, 1, 'resubmit_port = the port dlpgate listens on is refused');
like($out, qr/\Q$etc\E\/dlpgate\.conf:1: resubmit_port: $port is the port dlpgate itself listens on \(service smtpd, 127\.0\.0\.1:$port in master\.conf\): reflected mail would come back to dlpgate; fix: dlpconf -e resubmit_port=10026/, '... with file, line, setting, why and the fix');

# ---- a keystore named in dlpgate.conf must exist ----
spit($conf, "keystore = \"$dir/nosuch.p12\";\n");
spit("$etc/master.conf", $mc =~ s/\);\n\z/  , { name = "tlsmgr"; type = "unix"; listen = ["tlsmgr"]; command = "tlsmgr"; process_limit = 1; process_min_avail = 1; user = "dlpgate-tls"; }\n);\n/r);
($rc, $out) = dlpgate($etc, 'check');
is($rc, 1, 'a missing keystore named in dlpgate.conf is refused');
like($out, qr/\Q$etc\E\/dlpgate\.conf:1: keystore: \Q$dir\E\/nosuch\.p12 does not exist; fix: make it with dlpkey -c \Q$etc\E genkeypair -alias dlpgate -dname "CN=/,
    '... with file, line, setting, the path and the dlpkey command');
ok(!-e "$dir/nosuch.p12", 'and nothing was made in its place');

# ---- notifications are named by helo_name ----
my $nsink = start_sink();
my $nsink2 = start_sink();
my $det = start_detect(sink => $nsink2, conf => { helo_name => 'dlp.example.test',
    notify_relay => "127.0.0.1:$nsink->{port}" }, policies => <<'POL');
policies = (
  { name = "cards"; rules = ( { type = "identifier"; identifier = "credit_card"; } );
    action = "block"; notify = ["soc@example.com"]; }
);
POL
($code) = send_mail($det, from => 'a@example.com', rcpt => ['b@example.net'],
    data => "Subject: x\n\n4111 1111 1111 1111\n");
is($code, 550, 'a blocked message');
my @n = $nsink->wait_messages(1, 30);
is(scalar @n, 1, 'its notification');
like($n[0]{helo} // '', qr/dlp\.example\.test/, 'EHLO helo_name');
like($n[0]{mail} // '', qr/postmaster\@dlp\.example\.test/, 'sender postmaster@helo_name');
like($n[0]{body}, qr/^Message-ID: <[^>]+\@dlp\.example\.test>/m, 'Message-ID in helo_name');
$det->stop;

done_testing;
