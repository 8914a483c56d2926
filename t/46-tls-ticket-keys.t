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

my ($out, $first) = session("$dir/a");
like($out, qr/New, TLSv1\.3/, 'a full handshake');
like($first // '', qr/^[0-9a-f]{32}$/, 'its ticket has a key name');
($out) = session("$dir/a2", "$dir/a");
like($out, qr/Reused, TLSv1\.3/, 'the ticket resumes');

# watch for the rotation: a full handshake a second until its ticket is
# under another key (within two periods); the last ticket before that is
# the late one, issued in the last second of the first key's period
my ($late, $new, $n) = ("$dir/a", undef, 0);
ok(wait_until(sub {
    my $file = "$dir/w" . $n++;
    (undef, my $name) = session($file);
    return 0 unless defined $name;
    $late = $file if $name eq $first;
    $new = $name if $name ne $first;
    return defined $new;
}, 150, 1), 'the ticket key rotates within two periods');
ok($n >= 2 && $late ne "$dir/a", 'tickets were issued under the first key until then');

# past the period: the first key only decrypts now
my $swapped;
($out, $swapped) = session("$dir/c", $late);
like($out, qr/Reused, TLSv1\.3/, 'after the rotation, the late ticket still resumes');
is($swapped, $new, 'and the ticket that session gets is under the new key');
($out) = session("$dir/d", "$dir/c");
like($out, qr/Reused, TLSv1\.3/, 'a ticket under the new key resumes');
my $fresh;
($out, $fresh) = session("$dir/e");
is($fresh, $new, 'a full handshake now gets a ticket under the new key');
unlike($dlp->log, qr/tlsmgr\[\d+\]: (warning|error|fatal)/, 'tlsmgr complained of nothing');
ok($dlp->stop, 'dlpgate stops');
done_testing;
