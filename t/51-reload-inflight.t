#!/usr/bin/perl
# dlpconf -e, then dlpgate reload: the running service picks up the edit
# (new sessions get the new header), the session in flight when the reload
# happened is not dropped (its message goes through whole), and an invalid
# edit made by hand is refused by reload while the old one keeps working.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpOps;

my $sink = start_sink();
my $dlp = start_dlpgate(conf => { resubmit_port => $sink->{port},
    default_pass_header => 'X-Gen: one' });
my $etc = $dlp->{etc};
my $conf = "$etc/dlpgate.conf";

# an administrator's comments in the file
spit($conf, "# dlpgate.conf of the reload test\n# (comments must survive)\n"
    . slurp($conf) . "# end of file\n");
my $before = "$dlp->{dir}/before.conf";
spit($before, slurp($conf));

# a session in flight: half of its content sent
my $first = "Subject: in flight\r\n\r\n" . ("first half line\r\n" x 200);
my $a = in_data($dlp->{port}, 'A', $first);
my ($worker) = $dlp->pids_of('smtpd-proxy');
ok($worker, "A is served by worker $worker");

# the edit: only its line changes
my ($rc, $out) = dlpconf($etc, '-e', 'default_pass_header=X-Gen: two');
is($rc, 0, 'dlpconf -e default_pass_header') or diag $out;
is_deeply([file_diff($before, $conf)],
    ['< default_pass_header = "X-Gen: one";', '> default_pass_header = "X-Gen: two";'],
    'only the edited line changed');

my $mark = $dlp->log_size;
($rc, $out) = dlpgate($etc, 'reload');
is($rc, 0, 'dlpgate reload exits 0') or diag $out;
like($out, qr/reloading \(pid $dlp->{pid}\)/, 'and names master');
ok($dlp->wait_log(qr/5003 master reloaded configuration \(generation=2/, 20, $mark),
    'master reloaded: generation 2');

# the in-flight worker is retiring, not gone
ok(kill(0, $worker), 'A\'s worker still runs after the reload');
($rc, $out) = dlpgate($etc, 'status');
my %st = status_counters($out);
is($st{generation}, 2, 'status shows generation 2');
is($st{'service:smtpd'}[3], 1, 'status shows one retiring smtpd child (session A)');

# a new session gets the new setting
my $b = smtp_connect($dlp->{port});
is(($b->cmd('EHLO b.test'))[0], 250, 'B: EHLO');
my ($code) = $b->send_message(from => 'b@example.com',
    data => "Subject: after reload\r\n\r\nbody b\r\n");
is($code, 250, 'B: message accepted');
my @m = $sink->wait_messages(1);
like($m[0]{body}, qr/\AX-Gen: two\nSubject: after reload\n/, 'B got the new header');
$b->cmd('QUIT');

# A finishes on the worker that started it
my $second = "second half line\r\n" x 200;
$a->send_raw($second . ".\r\n");
($code) = $a->read_reply(60);
is($code, 250, 'A: the message in flight is accepted after the reload');
@m = grep { $_->{body} =~ /^Subject: in flight$/m } $sink->wait_messages(2);
(my $want = $first . $second) =~ s/\r\n/\n/g;
is(scalar @m, 1, 'A: its message reached the next hop');
ok(defined $m[0] && substr($m[0]{body}, -length($want)) eq $want,
    'A: content arrived whole');
is(($a->cmd('QUIT'))[0], 221, 'A: QUIT');
# (the worker is master's child, not ours: gone, or a zombie master will reap)
ok(wait_until(sub { !kill(0, $worker) || (slurp("/proc/$worker/stat") // '') =~ /^\d+ \(.*\) Z /s }, 20),
    'the retired worker exits after its session');
unlike($dlp->log, qr/ 5009 | 1005 client lost connection/, 'no child killed, no session lost');

# a bad edit by hand: reload refuses it, the running config stays
spit($conf, slurp($conf) . "smtpd_timeout = 0;\n");
($rc, $out) = dlpgate($etc, 'reload');
is($rc, 1, 'reload of an invalid config exits 1');
like($out, qr/dlpgate\.conf:\d+: smtpd_timeout: value 0 out of range/, 'and says where');
my $c = smtp_connect($dlp->{port});
is($c && $c->{banner_code}, 220, 'the service still runs on the old config');
$c->cmd('QUIT') if $c;

ok($dlp->stop, 'dlpgate stops cleanly');
done_testing;
