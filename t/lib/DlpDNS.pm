package DlpDNS;

# DlpDNS - a real authoritative DNS server (NSD) of a test's own
#
#   my $dns = DlpDNS->start(addr => '127.0.0.60',
#       zones  => { 'dlp.test' => "eq MX 10 mx1\nmx1 A 127.0.0.21\n" },
#       broken => ['broken.test']);        # configured, never loaded: SERVFAIL
#   $dns->{server}                         # "127.0.0.60:PORT" for dns_servers
#   $dns->update_zone('dlp.test', $records) # new serial, reload, wait for it
#   $dns->query('eq.dlp.test', 'MX')       # a Net::DNS::Packet, or undef
#
# Each zone gets an SOA (negative TTL 60, serial counting up), an NS and
# "ns" address record, then the records given (relative names, $TTL 300).
# NSD runs in the foreground as root on a free UDP+TCP port of the
# loopback address given, with its own directory; it is stopped when the
# test ends. Queries for names outside the zones get REFUSED.

use strict;
use warnings;
use IO::Socket::INET;
use Net::DNS;
use DlpTest;

# udp_tcp_free - can we bind both UDP and TCP on addr:port?
sub udp_tcp_free {
    my ($addr, $port) = @_;
    return 0 unless port_free($port, $addr);
    my $u = IO::Socket::INET->new(Proto => 'udp', LocalAddr => $addr,
        LocalPort => $port) or return 0;
    close $u;
    return 1;
}

# free_udp_port - a port free for UDP and TCP on addr
sub free_udp_port {
    my ($addr) = @_;
    for (1 .. 200) {
        my $port = 20000 + int(rand(40000));
        return $port if udp_tcp_free($addr, $port);
    }
    die "no free port on $addr";
}

# zone_text - SOA, NS and the test's records
sub zone_text {
    my ($self, $name, $records, $serial) = @_;
    return "\$ORIGIN $name.\n\$TTL 300\n"
        . "\@ IN SOA ns.$name. hostmaster.$name. $serial 3600 600 86400 60\n"
        . "\@ IN NS ns\nns IN A $self->{addr}\n$records\n";
}

sub start {
    my ($class, %opt) = @_;
    my $dir = $opt{dir} // test_dir('nsd');
    my $addr = $opt{addr} // '127.0.0.60';
    my $port = $opt{port} // free_udp_port($addr);
    my $self = bless { dir => $dir, addr => $addr, port => $port,
        server => "$addr:$port", serial => {} }, $class;
    my $zones = '';
    for my $z (sort keys %{$opt{zones} // {}}) {
        $self->{serial}{$z} = 1;
        spit("$dir/$z.zone", $self->zone_text($z, $opt{zones}{$z}, 1));
        $zones .= "zone:\n  name: \"$z\"\n  zonefile: \"$z.zone\"\n";
    }
    for my $z (@{$opt{broken} // []}) {
        $zones .= "zone:\n  name: \"$z\"\n  zonefile: \"$z.missing\"\n";
    }
    spit("$dir/nsd.conf", <<"CONF" . $zones);
server:
  ip-address: $addr\@$port
  port: $port
  username: ""
  chroot: ""
  zonesdir: "$dir"
  pidfile: "$dir/nsd.pid"
  xfrdfile: "$dir/xfrd.state"
  zonelistfile: "$dir/zone.list"
  xfrdir: "$dir"
  database: ""
  logfile: "$dir/nsd.log"
  server-count: 1
  do-ip6: no
  hide-version: yes
  reuseport: no
remote-control:
  control-enable: no
CONF
    $self->{pid} = spawn("$dir/nsd.out", 'nsd', '-d', '-c', "$dir/nsd.conf");
    my ($first) = sort keys %{$opt{zones} // {}};
    wait_until(sub { $first ? $self->serial_is($first, 1) : !udp_tcp_free($addr, $port) }, 20)
        or die "nsd did not start:\n" . (slurp("$dir/nsd.log") // '')
            . (slurp("$dir/nsd.out") // '');
    return $self;
}

# resolver - a Net::DNS resolver that asks only this server
sub resolver {
    my ($self) = @_;
    return Net::DNS::Resolver->new(nameservers => [$self->{addr}],
        port => $self->{port}, recurse => 0, udp_timeout => 2, tcp_timeout => 2,
        retry => 1, persistent_udp => 0);
}

# query - one question to this server
sub query {
    my ($self, $name, $type) = @_;
    return $self->resolver->send($name, $type // 'A');
}

# serial_is - does the server hand out this serial for the zone?
sub serial_is {
    my ($self, $zone, $serial) = @_;
    my $p = $self->query($zone, 'SOA') or return 0;
    my ($soa) = grep { $_->type eq 'SOA' } $p->answer;
    return $soa && $soa->serial == $serial;
}

# update_zone - new records for a zone; returns when NSD serves them
sub update_zone {
    my ($self, $zone, $records) = @_;
    my $serial = ++$self->{serial}{$zone};
    my $file = "$self->{dir}/$zone.zone";
    spit($file, $self->zone_text($zone, $records, $serial));
    my $t = time + $serial;        # NSD reloads a zone file whose mtime changed
    utime $t, $t, $file;
    kill 'HUP', $self->{pid};
    # NSD forks a new server to reload and the old one answers from the
    # same socket until it is told to quit: the new serial must be all
    # that answers, several times in a row
    my $seen = 0;
    wait_until(sub { $seen = $self->serial_is($zone, $serial) ? $seen + 1 : 0; $seen >= 5 }, 20, 0.05)
        or die "nsd did not load serial $serial of $zone:\n" . (slurp("$self->{dir}/nsd.log") // '');
}

sub log { my ($self) = @_; return slurp("$self->{dir}/nsd.log") // '' }

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    stop_pid($self->{pid}, 10);
    delete $self->{pid};
}

1;
