package DlpHAProxy;

# DlpHAProxy - the PROXY protocol by hand, and a real HAProxy in front
#
#   my $h = proxy_v1('127.0.0.9', '127.0.0.1', 4711, 10025);
#   my $h = proxy_v2('127.0.0.9', '127.0.0.1', 4711, 10025,
#                    tlvs => [[0x05, 'id-1']], crc => 1);   # CRC32C TLV
#   my $h = proxy_v2(undef, undef, 0, 0, local => 1);       # health check
#
#   my $lb = DlpHAProxy->start(backends => [$dlp1->{port}, $dlp2->{port}]);
#   $lb->{port}                  # the frontend, on 127.0.0.1
#   $lb->wait_up(2)              # until two backends pass their checks
#
# HAProxy (the Debian package) runs in the foreground with its own
# directory: mode tcp, round robin, send-proxy-v2 to every backend,
# SMTP health checks every 500 ms (option smtpchk), redispatch and
# retries so that a stopped backend costs no mail. Its stats socket
# tells which backends are up.

use strict;
use warnings;
use Exporter 'import';
use IO::Socket::UNIX;
use Socket qw(inet_pton AF_INET AF_INET6);
use DlpTest;

our @EXPORT = qw(proxy_v1 proxy_v2 crc32c);

# proxy_v1 - a v1 header line
sub proxy_v1 {
    my ($src, $dst, $sport, $dport) = @_;
    my $fam = $src =~ /:/ ? 'TCP6' : 'TCP4';
    return "PROXY $fam $src $dst $sport $dport\r\n";
}

# crc32c - CRC-32C (Castagnoli), bit by bit
sub crc32c {
    my ($data) = @_;
    my $crc = 0xFFFFFFFF;
    for my $byte (unpack 'C*', $data) {
        $crc ^= $byte;
        for (1 .. 8) {
            $crc = ($crc & 1) ? (($crc >> 1) ^ 0x82F63B78) : ($crc >> 1);
        }
    }
    return $crc ^ 0xFFFFFFFF;
}

# proxy_v2 - a v2 header
#   local => 1      the LOCAL command (no addresses)
#   fam => 0x12     another family byte (with the TCP4 address block)
#   ver => 0x1      another version nibble
#   tlvs => [[type, value], ...]
#   crc => 1        append a CRC32C TLV with the right checksum
#   bad_crc => 1    ... with a wrong one
#   len => N        announce this length whatever follows
sub proxy_v2 {
    my ($src, $dst, $sport, $dport, %o) = @_;
    my $sig = "\r\n\r\n\0\r\nQUIT\n";
    my ($fam, $addr) = (0x00, '');
    if (!$o{local} && defined $src) {
        if ($src =~ /:/) {
            $fam = 0x21;
            $addr = inet_pton(AF_INET6, $src) . inet_pton(AF_INET6, $dst) . pack('nn', $sport, $dport);
        } else {
            $fam = 0x11;
            $addr = inet_pton(AF_INET, $src) . inet_pton(AF_INET, $dst) . pack('nn', $sport, $dport);
        }
    }
    $fam = $o{fam} if defined $o{fam};
    my $tlv = join('', map { pack('Cn', $_->[0], length $_->[1]) . $_->[1] } @{$o{tlvs} // []});
    my $crc_at;
    if ($o{crc} || $o{bad_crc}) {
        $crc_at = length($addr) + length($tlv) + 3;
        $tlv .= pack('Cn', 0x03, 4) . "\0\0\0\0";
    }
    my $body = $addr . $tlv;
    my $cmd = ((($o{ver} // 2) << 4) | ($o{local} ? 0 : 1));
    my $hdr = $sig . pack('CCn', $cmd, $fam, $o{len} // length $body) . $body;
    if (defined $crc_at) {
        my $crc = crc32c($hdr);
        $crc ^= 1 if $o{bad_crc};
        substr($hdr, 16 + $crc_at, 4) = pack('N', $crc);
    }
    return $hdr;
}

# ---- HAProxy ----------------------------------------------------------------

sub start {
    my ($class, %opt) = @_;
    my $dir = $opt{dir} // test_dir('haproxy');
    my $port = $opt{port} // free_port();
    my $self = bless { dir => $dir, port => $port, stats => "$dir/stats.sock",
        nbackend => scalar @{$opt{backends}} }, $class;
    my $i = 0;
    my $servers = join('', map { $i++; "  server dlp$i 127.0.0.1:$_ send-proxy-v2 check inter 500ms fall 2 rise 1\n" }
        @{$opt{backends}});
    spit("$dir/haproxy.cfg", <<"CFG");
global
  maxconn 256
  pidfile $dir/haproxy.pid
  stats socket $dir/stats.sock mode 600 level admin
  log stdout format raw local0 info

defaults
  mode tcp
  log global
  option tcplog
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout check 5s
  retries 3
  option redispatch

frontend smtp
  bind 127.0.0.1:$port
  default_backend dlpgate

backend dlpgate
  balance roundrobin
  option smtpchk EHLO lb.test
$servers
CFG
    my ($rc, $out) = run_cmd('haproxy', '-c', '-f', "$dir/haproxy.cfg");
    die "haproxy.cfg refused: $out" if $rc;
    $self->{pid} = spawn("$dir/haproxy.log", 'haproxy', '-db', '-f', "$dir/haproxy.cfg");
    # ready when its stats socket answers (a probe of the frontend would be
    # a client connection of its own, relayed to a backend)
    wait_until(sub { scalar keys %{$self->stat} == $self->{nbackend} }, 15)
        or die "haproxy did not start:\n" . $self->log;
    return $self;
}

sub log { my ($self) = @_; return slurp("$self->{dir}/haproxy.log") // '' }

# stat - "show stat" through the stats socket: { server => status }
sub stat {
    my ($self) = @_;
    my $s = IO::Socket::UNIX->new(Peer => $self->{stats}) or return {};
    print $s "show stat\n";
    my %st;
    while (my $l = <$s>) {
        my @f = split /,/, $l;
        $st{$f[1]} = $f[17] if @f > 17 && $f[0] eq 'dlpgate' && $f[1] =~ /^dlp\d+$/;
    }
    return \%st;
}

# wait_up - until n backends are UP (and the rest are not)
sub wait_up {
    my ($self, $n, $timeout) = @_;
    return wait_until(sub { my $st = $self->stat; (grep { $_ eq 'UP' } values %$st) == $n }, $timeout // 20);
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    stop_pid($self->{pid}, 10);
    delete $self->{pid};
}

1;
