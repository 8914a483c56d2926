#!/usr/bin/perl
# tlsmgr keeps the key: the worker's user cannot read the keystore, yet
# workers serve TLS (their key is a tlsmgr handle; the binary has no
# key-loading code). tlsmgr refuses peers that are not workers, answers
# malformed and non-TLS signing requests with an error, shares ticket keys
# (a ticket from one worker resumes on another) and caches next-hop
# sessions. kill -9 of tlsmgr mid-handshake: the worker lives on, master
# restarts tlsmgr, the next handshake works.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::UNIX;
use Socket qw(SOCK_SEQPACKET);
use POSIX ();
use DlpTest;
use DlpTLS;

plan skip_all => 'needs root (privilege separation)' unless $> == 0;

my $pki = DlpTLS::Pki->new;
my $hopcert = $pki->leaf('hop', 'localhost');
my $hop = start_tls_sink(cert => $hopcert);
my $dlp = start_tls_dlpgate(max_use => 1, conf => { operating_mode => 'forward',
    next_hop => ["localhost:$hop->{port}"], outbound_tls => 'encrypt' });
my $ks = "$dlp->{etc}/keystore.p12";

# the keystore: tlsmgr's user alone
my @st = stat $ks;
is($st[4], scalar getpwnam('dlpgate-tls'), 'keystore owned by dlpgate-tls');
is($st[2] & 0777, 0600, 'keystore mode 0600');

# as_user - run code as a user in a child; its exit status
sub as_user {
    my ($user, $code) = @_;
    my ($uid, $gid) = (getpwnam($user))[2, 3];
    my $pid = fork // die;
    if ($pid == 0) {
        $) = "$gid $gid";
        $( = $gid;
        $< = $> = $uid;
        POSIX::_exit($code->() ? 0 : 1);
    }
    waitpid($pid, 0);
    return $? >> 8;
}
is(as_user('dlpgate', sub { open(my $fh, '<', $ks) ? 1 : 0 }), 1,
    'the worker user dlpgate cannot open the keystore');
is(as_user('dlpgate', sub { open(my $fh, '<', "$dlp->{etc}/keystore.pass") ? 1 : 0 }), 1,
    'nor the keystore password file');

# ... and yet its workers serve TLS: the key is a tlsmgr handle
my ($rc, $out) = openssl_starttls($dlp->{port}, "QUIT\r\n", '-sess_out', "$dlp->{dir}/sess");
like($out, qr/New, TLSv1\.3, Cipher is TLS_AES_256_GCM_SHA384/, 'a worker that cannot read the keystore serves TLS');
($rc, $out) = run_cmd('nm', '-D', '--undefined-only', "$FindBin::Bin/../smtpd-proxy/smtpd-proxy");
is($rc, 0, 'nm reads smtpd-proxy');
my @loaders = grep { $out =~ /\b\Q$_\E\b/ } qw(PKCS12_parse d2i_PKCS12 d2i_PKCS12_fp
    PKCS12_decrypt_skey EVP_PKCS82PKEY PEM_read_bio_PrivateKey PEM_read_PrivateKey
    d2i_PrivateKey d2i_AutoPrivateKey SSL_CTX_use_PrivateKey_file SSL_use_PrivateKey_file
    OSSL_STORE_open OSSL_DECODER_CTX_new_for_pkey EVP_PKEY_fromdata_init_private);
is("@loaders", '', 'smtpd-proxy has no code that loads a private key');

# tickets: one worker issues, another (max_use 1) resumes with tlsmgr's keys
($rc, $out) = openssl_starttls($dlp->{port}, "QUIT\r\n", '-sess_in', "$dlp->{dir}/sess");
like($out, qr/Reused, TLSv1\.3/, 'a session ticket from one worker resumes on another');
like($dlp->wait_log(qr/4001 .*side=client .*resumed=yes/), qr/resumed=yes/, 'resumption logged');

# peers: root is not a worker; tlsmgr closes on it
my $path = "$dlp->{run}/private/tlsmgr";
my $s = IO::Socket::UNIX->new(Type => SOCK_SEQPACKET, Peer => $path);
ok($s, 'root can reach the socket (mode 0660 root:dlpgate)');
ok(!defined(recv_rec($s, 5)), 'tlsmgr closes a peer that is not a worker');
like($dlp->wait_log(qr/4008 tlsmgr request refused .*peer uid 0/), qr/is not a worker/,
    'refusal logged with the peer uid');

# rec / recv_rec - the ipc framing (common/ipc.h), host byte order
sub rec {
    my ($type, @attrs) = @_;
    my $p = '';
    while (@attrs) {
        my ($tag, $val) = splice(@attrs, 0, 2);
        $p .= pack('S L', $tag, length $val) . $val;
    }
    return pack('L S S L', 0x444c5047, 1, $type, length $p) . $p;
}
sub recv_rec {
    my ($sock, $timeout) = @_;
    my $rin = '';
    vec($rin, fileno($sock), 1) = 1;
    return undef unless select($rin, undef, undef, $timeout);
    my $buf;
    defined(recv($sock, $buf, 70000, 0)) or return undef;
    return undef if length($buf) < 12;
    my ($magic, $ver, $type, $len) = unpack('L S S L', $buf);
    my %a;
    my $pos = 12;
    while ($pos + 6 <= length $buf) {
        my ($tag, $l) = unpack('S L', substr($buf, $pos, 6));
        push @{$a{$tag}}, substr($buf, $pos + 6, $l);
        $pos += 6 + $l;
    }
    return { type => $type, attr => \%a };
}

# as the worker user: one request, its answer, whether the connection stays
sub ask {
    my ($record, $check) = @_;
    return as_user('dlpgate', sub {
        my $c = IO::Socket::UNIX->new(Type => SOCK_SEQPACKET, Peer => $path) or return 0;
        send($c, $record, 0);
        my $r = recv_rec($c, 10) or return 0;
        return $check->($r, $c);
    });
}
is(ask("garbage that is no record", sub { $_[0]{type} == 299 && !defined recv_rec($_[1], 5) }), 0,
    'a malformed record: TLSMGR_ERROR, then the connection is closed');
is(as_user('dlpgate', sub {
    my $c = IO::Socket::UNIX->new(Type => SOCK_SEQPACKET, Peer => $path) or return 0;
    send($c, rec(101), 0);
    my $r = recv_rec($c, 10) or return 0;
    return $r->{type} == 201 && length($r->{attr}{1}[0]) == 32 && $r->{attr}{4}[0] =~ /^\x30/;
}), 0, 'CHAIN: key id and DER certificate, no key');
# the key id, for the requests below (the test reads it as a worker would)
my $keyid = '';
{
    pipe(my $r, my $w) or die;
    my $pid = fork // die;
    if ($pid == 0) {
        close $r;
        as_user('dlpgate', sub {
            my $c = IO::Socket::UNIX->new(Type => SOCK_SEQPACKET, Peer => $path) or return 0;
            send($c, rec(101), 0);
            my $rr = recv_rec($c, 10) or return 0;
            print {$w} unpack('H*', $rr->{attr}{1}[0]);
            close $w;
            return 1;
        });
        POSIX::_exit(0);
    }
    close $w;
    $keyid = pack('H*', scalar <$r> // '');
    waitpid($pid, 0);
}
is(length $keyid, 32, 'key id read');
# a signature over 64 arbitrary bytes is refused
is(ask(rec(102, 1 => $keyid, 6 => pack('L', 0x0804), 7 => 'x' x 64),
    sub { $_[0]{type} == 299 && $_[0]{attr}{13}[0] =~ /neither a TLS 1\.3 CertificateVerify/ }), 0,
    'SIGN of arbitrary bytes: refused with the reason');
my $tls13 = (' ' x 64) . "TLS 1.3, server CertificateVerify\0" . ('h' x 32);
is(ask(rec(102, 1 => "\0" x 32, 6 => pack('L', 0x0804), 7 => $tls13),
    sub { $_[0]{type} == 299 && $_[0]{attr}{13}[0] =~ /unknown key id/ }), 0,
    'SIGN with an unknown key id: refused');
is(as_user('dlpgate', sub {
    my $c = IO::Socket::UNIX->new(Type => SOCK_SEQPACKET, Peer => $path) or return 0;
    send($c, rec(101), 0);
    my $r = recv_rec($c, 10) or return 0;
    my $id = $r->{attr}{1}[0];
    send($c, rec(102, 1 => $id, 6 => pack('L', 0x0804), 7 => $tls13), 0);
    my $s1 = recv_rec($c, 10) or return 0;
    return 0 unless $s1->{type} == 202 && length($s1->{attr}{8}[0]) == 256;
    send($c, rec(102, 1 => $id, 6 => pack('L', 0x0403), 7 => $tls13), 0);
    my $s2 = recv_rec($c, 10) or return 0;
    return $s2->{type} == 299 && $s2->{attr}{13}[0] =~ /does not fit a RSA key/;
}), 0, 'SIGN of a TLS 1.3 CertificateVerify: RSA-PSS signature; an ECDSA scheme on an RSA key: refused');
is(ask(rec(102, 1 => $keyid, 6 => pack('L', 0x0401), 7 => ('r' x 64) . "\x03\x00\x17\x41\x04" . ("\x01" x 64)),
    sub { $_[0]{type} == 299 && $_[0]{attr}{13}[0] =~ /not on curve/ }), 0,
    'SIGN of a TLS 1.2 ServerKeyExchange with a point off the curve: refused');
is(ask(rec(199), sub { $_[0]{type} == 299 }), 0, 'an unknown request type: error');

# kill -9 of tlsmgr while a handshake waits on it
my ($tpid) = $dlp->pids_of('tlsmgr');
ok($tpid, "tlsmgr runs (pid $tpid)");
my $from = $dlp->log_size;
my $c = tls_connect($dlp->{port});
like(($c->cmd('EHLO client.test'))[1], qr/STARTTLS/, 'STARTTLS offered (the worker has its chain)');
kill 'STOP', $tpid;
$c->send_raw("STARTTLS\r\n");
is(($c->read_reply)[0], 220, 'STARTTLS answered while tlsmgr is stopped');
my $kid = fork // die;
if ($kid == 0) {
    # the handshake blocks on the signature; tlsmgr dies under it
    sleep 1;
    kill 'KILL', $tpid;
    POSIX::_exit(0);
}
my $ok = $c->handshake(Timeout => 40);
waitpid($kid, 0);
ok($dlp->wait_log(qr/5004 child exited abnormally \(service=\S+ pid=$tpid /, 30, $from),
    'tlsmgr was killed, and master saw it die');
if ($ok) {
    is(($c->cmd('EHLO client.test'))[0], 250, 'the handshake in that moment completed on the restarted tlsmgr');
} else {
    ok($c->closed(5), 'the handshake in that moment failed cleanly: connection closed');
}
ok($dlp->wait_log(qr/4012 tlsmgr ready/, 30, $from), 'master restarted tlsmgr');
my ($tpid2) = $dlp->pids_of('tlsmgr');
isnt($tpid2, $tpid, "a new tlsmgr (pid $tpid2)");
unlike(substr($dlp->log, $from), qr/5004 child exited abnormally \(.*service=smtpd/,
    'no worker died');
$c->close;
($rc, $out) = openssl_starttls($dlp->{port}, "QUIT\r\n");
like($out, qr/New, TLSv1\.3, Cipher is/, 'the next handshake works');

# a new certificate: dlpkey, dlpgate reload, and the next session serves it
($rc, $out) = dlpkey($dlp->{etc}, 'genkeypair', '-alias', 'next', '-dname', 'CN=next.test',
    '-keyalg', 'EC', '-validity', 30);
is($rc, 0, 'a second key entry') or diag $out;
($rc, $out) = dlpkey($dlp->{etc}, 'delete', '-alias', 'dlpgate');
($rc, $out) = dlpkey($dlp->{etc}, 'genkeypair', '-alias', 'dlpgate', '-dname', 'CN=renewed.test',
    '-keyalg', 'RSA', '-validity', 30);
is($rc, 0, 'the served key replaced') or diag $out;
$from = $dlp->log_size;
$dlp->reload;
ok($dlp->wait_log(qr/4004 keystore loaded .*alias=dlpgate .*subject="\/CN=renewed\.test"/, 30, $from),
    'after reload tlsmgr serves the entry named dlpgate among two keys');
ok(wait_until(sub {
    my ($r, $o) = openssl_starttls($dlp->{port}, "QUIT\r\n");
    $o =~ /subject=CN\s*=\s*renewed\.test/;
}, 30), 'the next handshake presents the new certificate');

ok($dlp->stop, 'dlpgate stops');
done_testing;
