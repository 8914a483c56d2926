#!/usr/bin/perl
# The sending MTA's bypass when dlpgate cannot pass mail on (README,
# "Forwarding mode and clusters"): a real Postfix with content_filter to
# dlpgate and smtp_fallback_relay to its own reinjection listener. dlpgate
# forwards by MX lookup (NSD on 127.0.0.60). While DNS works, mail is
# scanned; when the next hop's DNS fails, dlpgate's 451 4.4.3 greeting makes
# Postfix skip it and use the fallback at once; when dlpgate is down, the
# same. No message waits in the queue, none is lost.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpDNS;
use DlpPostfix;

my $final = start_sink(args => ['-h', 'final.test']);
my $reinject = free_port();
my $dlp_port = free_port();
my $dns = DlpDNS->start(addr => '127.0.0.60',
    zones => { 'out.test' => "relay MX 10 back\nback A 127.0.0.1\n" });
my $dlp = start_dlpgate(port => $dlp_port, conf => {
    operating_mode => 'forward', next_hop_lookup => 'mx',
    next_hop => ["relay.out.test:$reinject"], dns_servers => [$dns->{server}],
    dns_timeout => '3s', dns_cache_size => 0, helo_name => 'dlpgate.test' });
my $pf = DlpPostfix->start(relay => $final->{port}, content_filter => $dlp_port,
    reinject_port => $reinject,
    main => { smtp_fallback_relay => "[127.0.0.1]:$reinject",
              smtp_send_xforward_command => 'yes' });

# submit - one message into Postfix; its queue id
sub submit {
    my ($tag) = @_;
    my $c = smtp_connect($pf->{smtp_port}, from => '127.0.0.9');
    $c->cmd('EHLO client.test');
    my ($code, $text) = $c->send_message(from => "$tag\@example.com",
        data => "Subject: $tag\r\n\r\n$tag\r\n");
    $c->cmd('QUIT');
    my ($qid) = $text =~ /queued as (\w+)/;
    return $qid;
}

# arrived - the message with this subject at the final sink, once there
sub arrived {
    my ($tag) = @_;
    my $m;
    wait_until(sub { ($m) = grep { $_->{body} =~ /^Subject: \Q$tag\E$/m } $final->messages; $m }, 60);
    return $m;
}

# ---- DNS works: the message is scanned --------------------------------------------
my $q = submit('scanned');
my $m = arrived('scanned');
ok($m, 'delivered while DNS works');
like($m->{body} // '', qr/^X-Filter-Loop: Reflected$/m, 'through dlpgate (its header)');
like($dlp->log, qr/2001 forward connection established \(cid=\w+ hop=back\.out\.test\[127\.0\.0\.1\]:$reinject mode=forward next_hop=relay\.out\.test:$reinject lookup=mx/,
    'dlpgate found its next hop by MX lookup');

# ---- the next hop's DNS fails: 451 4.4.3 at greeting, Postfix bypasses ---------------
$dns->stop;
$q = submit('dnsdown');
$m = arrived('dnsdown');
ok($m, 'delivered while DNS is down');
unlike($m->{body} // '', qr/^X-Filter-Loop:/m, 'by the bypass (not scanned)');
like($pf->log, qr/\Q$q\E: host 127\.0\.0\.1\[127\.0\.0\.1\] refused to talk to me: 451 4\.4\.3 dlpgate\.test Error: next hop lookup failed for relay\.out\.test/,
    'Postfix took the 451 4.4.3 greeting as a reason to skip dlpgate');
like($pf->log, qr/\Q$q\E: to=<rcpt\@example\.net>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$reinject, .*status=sent/,
    'and used smtp_fallback_relay in the same delivery attempt');
like($dlp->log, qr/8002 next hop DNS lookup failed \(cid=\w+ domain=relay\.out\.test lookup=mx answer="MX lookup failed: 127\.0\.0\.60:\d+: Connection refused"\)/,
    'dlpgate logged the domain and the DNS answer');

# ---- dlpgate down: the same bypass ----------------------------------------------------
ok($dlp->stop, 'dlpgate stopped');
$q = submit('dlpdown');
$m = arrived('dlpdown');
ok($m, 'delivered while dlpgate is down');
unlike($m->{body} // '', qr/^X-Filter-Loop:/m, 'by the bypass');
like($pf->log, qr/connect to 127\.0\.0\.1\[127\.0\.0\.1\]:$dlp_port: Connection refused/,
    'Postfix could not connect to dlpgate');
ok(wait_until(sub { $pf->queue_count == 0 }, 30), 'nothing left in the queue');

$pf->stop;
done_testing;
