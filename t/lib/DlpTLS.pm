package DlpTLS;

# DlpTLS - helpers for dlpgate's TLS tests
#
#   my $pki  = DlpTLS::Pki->new;                  # a test CA and certificates
#   my $cert = $pki->leaf('hop', 'localhost');   # {cert, key, chain} files
#   my $sink = start_tls_sink(cert => $cert);    # STARTTLS-capable SMTP sink
#   my $dlp  = start_tls_dlpgate(conf => {...}); # dlpgate with tlsmgr
#   my $c    = tls_connect($dlp->{port});        # DlpTest::Client that can
#   $c->starttls;                                # switch to TLS in place
#
# The TLS sink is a small Perl SMTP server (IO::Socket::SSL) that can also
# misbehave on purpose: offer no STARTTLS, refuse it with 454, send a line
# behind its 220, present any certificate. Every message it receives is
# kept byte for byte, with whether it came inside TLS.

use strict;
use warnings;
use Exporter 'import';
use File::Path qw(make_path);
use IO::Socket::IP;
use IO::Socket::SSL;
use POSIX ();
use Time::HiRes qw(time sleep);
use DlpTest;

our @EXPORT = qw(start_tls_sink start_tls_dlpgate tls_master_conf tls_connect
    dlpkey openssl_starttls);

my $TOP = top_dir();
my @SINK_PIDS;

# tls_master_conf - the service table with tlsmgr (and extra services)
sub tls_master_conf {
    my ($port, %opt) = @_;
    my $extra = $opt{extra} // '';
    my $smtpd_opts = $opt{smtpd_options} ? " options = { $opt{smtpd_options} };" : '';
    return "services = (\n"
        . "  { name = \"smtpd\"; type = \"inet\"; listen = [\"127.0.0.1:$port\"];\n"
        . "    command = \"smtpd-proxy\"; process_limit = 10; process_min_avail = 0;\n"
        . "    max_use = " . ($opt{max_use} // 100) . "; max_idle = 100; user = \"dlpgate\";$smtpd_opts },\n"
        . "  { name = \"detector\"; type = \"unix\"; listen = [\"detector\"];\n"
        . "    command = \"detector\"; process_limit = 2; process_min_avail = 1;\n"
        . "    max_use = 1000; max_idle = 300; user = \"dlpgate-detect\"; },\n"
        . $extra
        . "  { name = \"tlsmgr\"; type = \"unix\"; listen = [\"tlsmgr\"];\n"
        . "    command = \"tlsmgr\"; process_limit = 1; process_min_avail = 1;\n"
        . "    max_use = 0; max_idle = 0; user = \"dlpgate-tls\"; }\n"
        . ");\n";
}

# start_tls_dlpgate - dlpgate with tlsmgr; waits until tlsmgr is ready
#   keystore => file, storepass => text: a prepared keystore to use
#   wrapper_port => N: also an implicit-TLS listener on that port
sub start_tls_dlpgate {
    my (%opt) = @_;
    my $dir = $opt{dir} // test_dir();
    my $port = $opt{port} // free_port();
    my $etc = "$dir/etc";
    make_path($etc);
    if ($opt{keystore}) {
        system('cp', $opt{keystore}, "$etc/keystore.p12") == 0 or die "cp keystore";
        spit("$etc/keystore.pass", "$opt{storepass}\n");
        my ($uid, $gid) = (getpwnam('dlpgate-tls'))[2, 3];
        chown $uid, $gid, "$etc/keystore.p12", "$etc/keystore.pass";
        chmod 0600, "$etc/keystore.p12", "$etc/keystore.pass";
    }
    my $extra = '';
    if ($opt{wrapper_port}) {
        $extra = "  { name = \"smtps\"; type = \"inet\"; listen = [\"127.0.0.1:$opt{wrapper_port}\"];\n"
            . "    command = \"smtpd-proxy\"; process_limit = 5; user = \"dlpgate\";\n"
            . "    options = { tls_wrapper_mode = true; }; },\n";
    }
    my $dlp = start_dlpgate(dir => $dir, port => $port, conf => $opt{conf},
        master_conf => tls_master_conf($port, extra => $extra, max_use => $opt{max_use}));
    $dlp->wait_log(qr/4012 tlsmgr ready/, 30)
        or die "tlsmgr did not start:\n" . $dlp->log;
    return $dlp;
}

# dlpkey - run dlpkey on a test's configuration: (exit status, output)
sub dlpkey {
    my ($etc, @args) = @_;
    return run_cmd("$TOP/tlsmgr/dlpkey", '-c', $etc, @args);
}

# openssl_starttls - openssl s_client -starttls smtp; (exit, output)
sub openssl_starttls {
    my ($port, $input, @args) = @_;
    my $in = test_dir('s_client') . "/in";
    spit($in, $input // "QUIT\r\n");
    my ($rc, $out) = run_cmd('sh', '-c', "timeout 30 openssl s_client -starttls smtp "
        . "-connect 127.0.0.1:$port -servername localhost -ign_eof @args < $in");
    return ($rc, $out);
}

# ---- a client that can switch to TLS --------------------------------------

package DlpTLS::Client;
our @ISA = ('DlpTest::Client');

# starttls - STARTTLS, then the handshake; (code, text) of the 220
sub starttls {
    my ($self, %ssl) = @_;
    my ($code, $text) = $self->cmd('STARTTLS');
    return ($code, $text) unless defined $code && $code == 220;
    $self->handshake(%ssl) or return (undef, "handshake failed: $IO::Socket::SSL::SSL_ERROR");
    return ($code, $text);
}

# handshake - TLS on the connection as it is
sub handshake {
    my ($self, %ssl) = @_;
    my $ok = IO::Socket::SSL->start_SSL($self->{sock}, SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_NONE(),
        SSL_hostname => 'localhost', Timeout => 30, %ssl);
    $self->{tls} = $ok ? 1 : 0;
    return $ok;
}

sub read_line {
    my ($self, $end) = @_;
    while ($self->{buf} !~ /\n/) {
        my $left = $end - Time::HiRes::time();
        return undef if $left <= 0;
        my $sock = $self->{sock};
        my $pending = $self->{tls} && $sock->can('pending') ? $sock->pending : 0;
        unless ($pending) {
            my $rin = '';
            vec($rin, fileno($sock), 1) = 1;
            return undef unless select($rin, undef, undef, $left);
        }
        my $n = sysread($sock, $self->{buf}, 65536, length $self->{buf});
        if (!defined $n && $self->{tls} && $IO::Socket::SSL::SSL_ERROR == IO::Socket::SSL::SSL_WANT_READ()) {
            next;
        }
        return undef unless $n;
    }
    $self->{buf} =~ s/^(.*?)\r?\n//;
    return $1;
}

package DlpTLS;

# tls_connect - a DlpTLS::Client that has read the banner (wrapper: TLS first)
sub tls_connect {
    my ($port, %opt) = @_;
    my $sock = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 10) or return undef;
    $sock->autoflush(1);
    my $c = bless { sock => $sock, buf => '' }, 'DlpTLS::Client';
    if ($opt{wrapper}) {
        $c->handshake or return undef;
    }
    my ($code, $text) = $c->read_reply($opt{timeout});
    $c->{banner_code} = $code;
    $c->{banner} = $text;
    return $c;
}

# ---- a test PKI -------------------------------------------------------------

package DlpTLS::Pki;

# new - a CA in a private directory
sub new {
    my ($class, %opt) = @_;
    my $dir = $opt{dir} // DlpTest::test_dir('pki');
    my $self = bless { dir => $dir, n => 0 }, $class;
    $self->ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', "$dir/ca.key",
        '-out', "$dir/ca.pem", '-days', 30, '-subj', '/O=dlpgate test/CN=dlpgate test CA',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=keyCertSign,cRLSign');
    return $self;
}

sub ossl {
    my ($self, @args) = @_;
    my ($rc, $out) = DlpTest::run_cmd('openssl', @args);
    die "openssl @args: $out" if $rc;
    return $out;
}

# leaf - a certificate for a host name; signed by the CA unless self => 1;
#   expired => 1 makes one that ended last year; ec => 1 an EC P-256 key
sub leaf {
    my ($self, $name, $host, %opt) = @_;
    my $d = $self->{dir};
    my $key = "$d/$name.key";
    my $newkey = $opt{ec} ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']
        : ['-newkey', 'rsa:2048'];
    my @ext = ('-addext', "subjectAltName=DNS:$host", '-addext', 'basicConstraints=CA:FALSE');
    if ($opt{self}) {
        $self->ossl('req', '-x509', @$newkey, '-nodes', '-keyout', $key, '-out', "$d/$name.pem",
            '-days', 30, '-subj', "/CN=$host", @ext);
        return { cert => "$d/$name.pem", key => $key, chain => "$d/$name.pem" };
    }
    $self->ossl('req', '-new', @$newkey, '-nodes', '-keyout', $key, '-out', "$d/$name.csr",
        '-subj', "/CN=$host", @ext);
    if ($opt{expired}) {
        my $serial = ++$self->{n} + 1000;
        DlpTest::spit("$d/ca.cnf", "[ca]\ndefault_ca = t\n[t]\ndatabase = $d/index.txt\n"
            . "new_certs_dir = $d\nserial = $d/serial\ndefault_md = sha256\n"
            . "policy = p\ncopy_extensions = copy\nunique_subject = no\n[p]\ncommonName = supplied\n");
        DlpTest::spit("$d/index.txt", '') unless -e "$d/index.txt";
        DlpTest::spit("$d/serial", sprintf("%04X\n", $serial));
        $self->ossl('ca', '-batch', '-config', "$d/ca.cnf", '-cert', "$d/ca.pem",
            '-keyfile', "$d/ca.key", '-in', "$d/$name.csr", '-out', "$d/$name.pem",
            '-startdate', '20240101000000Z', '-enddate', '20240201000000Z', '-notext');
    } else {
        $self->ossl('x509', '-req', '-in', "$d/$name.csr", '-CA', "$d/ca.pem",
            '-CAkey', "$d/ca.key", '-CAcreateserial', '-out', "$d/$name.pem", '-days', 30,
            '-copy_extensions', 'copy');
    }
    DlpTest::spit("$d/$name-chain.pem", DlpTest::slurp("$d/$name.pem") . DlpTest::slurp("$d/ca.pem"));
    return { cert => "$d/$name.pem", key => $key, chain => "$d/$name-chain.pem" };
}

sub ca { my ($self) = @_; return "$self->{dir}/ca.pem" }

# p12 - a PKCS#12 keystore with a key entry (openssl's own writer)
sub p12 {
    my ($self, $leaf, $alias, $pass) = @_;
    my $out = "$self->{dir}/$alias.p12";
    $self->ossl('pkcs12', '-export', '-in', $leaf->{chain}, '-inkey', $leaf->{key},
        '-name', $alias, '-out', $out, '-passout', "pass:$pass");
    return $out;
}

# ---- a STARTTLS SMTP sink that can misbehave ---------------------------------

package DlpTLS::Sink;

sub messages {
    my ($self) = @_;
    my @m;
    for my $f (sort glob("$self->{dir}/msg.*")) {
        my $raw = DlpTest::slurp($f) // next;
        next unless $raw =~ s/\A(.*?)\n//;
        my %m = (tls => $1 =~ /tls=1/ ? 1 : 0, data => $raw);
        ($m{cipher}) = $1 =~ /cipher=(\S+)/ if $1;
        push @m, \%m;
    }
    return @m;
}

sub wait_messages {
    my ($self, $n, $timeout) = @_;
    DlpTest::wait_until(sub { scalar(my @m = $self->messages) >= $n }, $timeout // 20);
    return $self->messages;
}

sub log { my ($self) = @_; return DlpTest::slurp("$self->{dir}/log") // '' }
sub clear { my ($self) = @_; unlink glob("$self->{dir}/msg.*"); }

package DlpTLS;

# start_tls_sink - an SMTP server on a free port
#   cert => {cert, key, chain}  the certificate it presents (none: no STARTTLS)
#   starttls => 0               do not offer STARTTLS
#   starttls_reply => "454 ..." answer STARTTLS with this instead of 220
#   inject => "250 junk\r\n"    sent right behind the 220 to STARTTLS
#   break_tls => 1              close the connection instead of a handshake
#   client_ca => file           ask for a client certificate from this CA
#                               (required; client_cert_optional => 1: asked only)
#   ssl_version => 'TLSv1_2'    IO::Socket::SSL's SSL_version
sub start_tls_sink {
    my (%opt) = @_;
    my $dir = test_dir('tlssink');
    my $port = free_port();
    my $srv = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $port,
        Listen => 64, ReuseAddr => 1) or die "listen: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        POSIX::setsid();
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', "$dir/log");
        open(STDERR, '>&', \*STDOUT);
        $SIG{CHLD} = 'IGNORE';
        while (my $c = $srv->accept) {
            my $kid = fork;
            if (defined $kid && $kid == 0) {
                close $srv;
                alarm 120;
                sink_session($c, $dir, \%opt);
                POSIX::_exit(0);
            }
            close $c;
        }
        POSIX::_exit(0);
    }
    close $srv;
    push @SINK_PIDS, $pid;
    return bless { pid => $pid, port => $port, dir => $dir }, 'DlpTLS::Sink';
}

END { for my $p (@SINK_PIDS) { DlpTest::kill_tree($p, 'KILL') } }

# sink_session - one SMTP session of the sink
sub sink_session {
    my ($c, $dir, $opt) = @_;
    my $tls = 0;
    my $buf = '';
    my $out = sub { print {$c} $_[0]; print "S: $_[0]"; };
    my $line = sub {
        while ($buf !~ /\n/) {
            my $n = sysread($c, $buf, 65536, length $buf);
            return undef unless $n;
        }
        $buf =~ s/^(.*?\n)//;
        print "C: $1";
        return $1;
    };
    my $offer = $opt->{cert} && ($opt->{starttls} // 1);
    $c->autoflush(1);
    $out->("220 tlssink.test ESMTP\r\n");
    while (defined(my $l = $line->())) {
        if ($l =~ /^EHLO/i) {
            $out->("250-tlssink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                . ($offer && !$tls ? "250-STARTTLS\r\n" : '') . "250 SIZE 50000000\r\n");
        } elsif ($l =~ /^HELO/i) {
            $out->("250 tlssink.test\r\n");
        } elsif ($l =~ /^STARTTLS/i && $offer && !$tls) {
            if ($opt->{starttls_reply}) { $out->("$opt->{starttls_reply}\r\n"); next; }
            $out->("220 2.0.0 Ready to start TLS\r\n" . ($opt->{inject} // ''));
            if ($opt->{break_tls}) { print "breaking the handshake\n"; close $c; return; }
            $buf = '';
            IO::Socket::SSL->start_SSL($c, SSL_server => 1,
                SSL_cert_file => $opt->{cert}{chain}, SSL_key_file => $opt->{cert}{key},
                ($opt->{client_ca} ? (SSL_ca_file => $opt->{client_ca},
                    SSL_verify_mode => $opt->{client_cert_optional} ? 0x01 : 0x03) : ()),
                ($opt->{ssl_version} ? (SSL_version => $opt->{ssl_version}) : ()),
                Timeout => 30) or do { print "handshake failed: $IO::Socket::SSL::SSL_ERROR\n"; return };
            $tls = 1;
            print "TLS " . $c->get_sslversion . " " . $c->get_cipher . "\n";
            print "client certificate: " . ($c->peer_certificate('subject') // 'none') . "\n"
                if $opt->{client_ca};
        } elsif ($l =~ /^(MAIL|RCPT|RSET|NOOP|XFORWARD)/i) {
            $out->("250 2.0.0 Ok\r\n");
        } elsif ($l =~ /^DATA/i) {
            $out->("354 go ahead\r\n");
            my $data = '';
            while (defined(my $d = $line->())) {
                last if $d eq ".\r\n";
                $data .= $d;
            }
            my $f = "$dir/msg." . time() . ".$$." . int(rand(1e6));
            DlpTest::spit("$f.tmp", "tls=$tls cipher=" . ($tls ? $c->get_cipher : '-') . "\n$data");
            rename "$f.tmp", $f;
            $out->("250 2.0.0 Ok: queued as SINK$$\r\n");
        } elsif ($l =~ /^QUIT/i) {
            $out->("221 2.0.0 Bye\r\n");
            last;
        } else {
            $out->("502 5.5.2 Error: command not recognized\r\n");
        }
    }
    close $c;
}

1;
