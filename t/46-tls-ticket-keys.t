#!/usr/bin/perl
# Session-ticket keys rotate every tls_session_timeout (60 s here, the
# least it may be): tlsmgr makes a new key when the current one's time to
# encrypt is over, and keeps the old one to decrypt for one more period.
# So a ticket issued late in a key's period resumes after the rotation,
# and the ticket that session gets in exchange is under the new key; a
# ticket under the new key resumes too. The key is told by the ticket's
# first 16 bytes, its key name. Slow: about 70 seconds.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use DlpTest;
use DlpTLS;

plan skip_all => 'needs root (privilege separation)' unless $> == 0;

my $sink = start_sink();
my $dlp = start_tls_dlpgate(conf => { resubmit_port => $sink->{port}, outbound_tls => 'none',
    tls_session_timeout => '60s' });
my $dir = $dlp->{dir};

# session - one STARTTLS session; (output of s_client, key name of its ticket)
sub session {
    my ($out_file, $in_file) = @_;
    my ($rc, $out) = openssl_starttls($dlp->{port}, "QUIT\r\n", '-sess_out', $out_file,
        ($in_file ? ('-sess_in', $in_file) : ()));
    my (undef, $text) = run_cmd('openssl', 'sess_id', '-in', $out_file, '-text', '-noout');
    my ($name) = $text =~ /TLS session ticket:\s*\n\s*0000 - ([0-9a-f -]{47})/;
    $name =~ s/[ -]//g if defined $name;
    return ($out, $name);
}

my $t0 = time;
my ($out, $first) = session("$dir/a");
like($out, qr/New, TLSv1\.3/, 'a full handshake');
like($first // '', qr/^[0-9a-f]{32}$/, 'its ticket has a key name');
($out) = session("$dir/a2", "$dir/a");
like($out, qr/Reused, TLSv1\.3/, 'the ticket resumes');

# late in the key's period: a ticket still under it
sleep($t0 + 45 - time);
my $late;
($out, $late) = session("$dir/b");
is($late, $first, '45 s on, new tickets are still under the first key');

# past the period: the first key only decrypts now
sleep($t0 + 66 - time);
my $new;
($out, $new) = session("$dir/c", "$dir/b");
like($out, qr/Reused, TLSv1\.3/, 'after the rotation, the late ticket still resumes');
ok(defined $new && $new ne $first, 'and the ticket that session gets is under a new key');
($out) = session("$dir/d", "$dir/c");
like($out, qr/Reused, TLSv1\.3/, 'a ticket under the new key resumes');
my $fresh;
($out, $fresh) = session("$dir/e");
is($fresh, $new, 'a full handshake now gets a ticket under the new key');
unlike($dlp->log, qr/tlsmgr\[\d+\]: (warning|error|fatal)/, 'tlsmgr complained of nothing');
ok($dlp->stop, 'dlpgate stops');
done_testing;
