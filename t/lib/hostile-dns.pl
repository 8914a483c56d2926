#!/usr/bin/perl
# hostile-dns.pl ADDR PORT - a DNS server that lies, for t/64-dns-hostile.t
#
# Answers over UDP and TCP for names under x.test, each name a behaviour:
#   ok.x.test, okhost.x.test  honest: MX 10 okhost, okhost A 127.0.0.21
#   spoof.x.test     a reply with the wrong id, one for another question,
#                    one that does not parse, then the honest one
#   garbage.x.test   datagrams of noise, never an answer
#   trunc.x.test     TC over UDP; the answer over TCP only
#   cnloop.x.test    a CNAME loop inside the answer
#   many.x.test      400 MX records (TC over UDP); only host7 has an address
#   evilname.x.test  an exchanger name with a space in it
#   mixnull.x.test   a null MX next to a real one
#   inject.x.test    MX okhost plus forged records for other names
# Every query is logged to stdout: "QUERY name type proto".

use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Net::DNS;

my ($addr, $port) = @ARGV;
$| = 1;
my $udp = IO::Socket::INET->new(Proto => 'udp', LocalAddr => $addr, LocalPort => $port)
    or die "udp: $!";
my $tcp = IO::Socket::INET->new(Proto => 'tcp', LocalAddr => $addr, LocalPort => $port,
    Listen => 16, ReuseAddr => 1) or die "tcp: $!";
my $sel = IO::Select->new($udp, $tcp);

# answer - the honest reply (or a variant) for one question
sub answer {
    my ($q, $proto) = @_;
    my ($qq) = $q->question;
    my ($name, $type) = (lc $qq->qname, $qq->qtype);
    my $r = $q->reply;
    $r->header->aa(1);
    $r->header->rcode('NOERROR');
    my $soa = Net::DNS::RR->new("x.test 60 IN SOA ns.x.test. h.x.test. 1 3600 600 86400 60");
    if ($name eq 'okhost.x.test' || $name eq 'host7.x.test') {
        $r->push(answer => Net::DNS::RR->new("$name 300 IN A 127.0.0.21")) if $type eq 'A';
        $r->push(authority => $soa) if $type ne 'A';
    } elsif ($name =~ /^(ok|spoof|trunc)\.x\.test$/ && $type eq 'MX') {
        $r->push(answer => Net::DNS::RR->new("$name 300 IN MX 10 okhost.x.test."));
    } elsif ($name eq 'cnloop.x.test' || $name eq 'cnloop2.x.test') {
        $r->push(answer => Net::DNS::RR->new("cnloop.x.test 300 IN CNAME cnloop2.x.test."),
            Net::DNS::RR->new("cnloop2.x.test 300 IN CNAME cnloop.x.test."));
    } elsif ($name eq 'many.x.test' && $type eq 'MX') {
        $r->push(answer => Net::DNS::RR->new("$name 300 IN MX " . ($_ % 5) . " host$_.x.test.")) for 0 .. 399;
    } elsif ($name eq 'evilname.x.test' && $type eq 'MX') {
        $r->push(answer => Net::DNS::RR->new("$name 300 IN MX 10 evil\\032name.x.test."));
    } elsif ($name eq 'mixnull.x.test' && $type eq 'MX') {
        $r->push(answer => Net::DNS::RR->new("$name 300 IN MX 0 ."), Net::DNS::RR->new("$name 300 IN MX 10 okhost.x.test."));
    } elsif ($name eq 'inject.x.test' && $type eq 'MX') {
        $r->push(answer => Net::DNS::RR->new("$name 300 IN MX 10 okhost.x.test."),
            Net::DNS::RR->new("ok.x.test 300 IN MX 10 evil.example."),
            Net::DNS::RR->new("okhost.x.test 300 IN A 127.0.0.99"));
        $r->push(additional => Net::DNS::RR->new("okhost.x.test 300 IN A 127.0.0.98"));
    } elsif ($name =~ /^host\d+\.x\.test$/) {
        $r->header->rcode('NXDOMAIN');
        $r->push(authority => $soa);
    } else {
        $r->push(authority => $soa);
    }
    return $r;
}

# reply_udp - what goes back for one datagram (a list of datagrams)
sub reply_udp {
    my ($q) = @_;
    my ($qq) = $q->question;
    my $name = lc $qq->qname;
    my $r = answer($q, 'udp');
    my $data = $r->data;
    if ($name eq 'spoof.x.test') {
        my $wrong_id = $r->data;
        substr($wrong_id, 0, 2) = pack('n', ($q->header->id + 1) % 65536);
        my $other = Net::DNS::Packet->new('ok.x.test', 'MX');
        $other->header->id($q->header->id);
        $other->header->qr(1);
        # an answer whose owner name is a compression pointer to itself
        my $qlen = 4 + 1;
        $qlen += 1 + length($_) for split /\./, $qq->qname;
        my $bad = substr($data, 0, 6) . pack('n', 1) . substr($data, 8, 4 + $qlen)
            . pack('n', 0xC000 | (12 + $qlen)) . pack('nnNn', 15, 1, 300, 2) . "\0\0";
        return ($wrong_id, $other->data, $bad, $data);
    }
    if ($name eq 'garbage.x.test') {
        return map { my $g = join('', map { chr int rand 256 } 1 .. 40 + int rand 200);
            substr($g, 0, 2) = pack('n', $q->header->id) if $_ % 2; $g } 1 .. 20;
    }
    if ($name eq 'trunc.x.test' || length($data) > 1232) {
        my $tc = $q->reply;
        $tc->header->tc(1);
        return ($tc->data);
    }
    return ($data);
}

while (1) {
    for my $s ($sel->can_read) {
        if ($s == $udp) {
            my $peer = $udp->recv(my $buf, 65535) // next;
            my $q = eval { Net::DNS::Packet->new(\$buf) } or next;
            my ($qq) = $q->question or next;
            print "QUERY ", lc $qq->qname, " ", $qq->qtype, " udp\n";
            $udp->send($_, 0, $peer) for reply_udp($q);
        } else {
            my $c = $tcp->accept or next;
            $c->sysread(my $len, 2) == 2 or next;
            my $n = unpack('n', $len);
            my $buf = '';
            while (length $buf < $n) { $c->sysread($buf, $n - length $buf, length $buf) or last; }
            my $q = eval { Net::DNS::Packet->new(\$buf) } or next;
            my ($qq) = $q->question or next;
            print "QUERY ", lc $qq->qname, " ", $qq->qtype, " tcp\n";
            my $data = answer($q, 'tcp')->data;
            $c->syswrite(pack('n', length $data) . $data);
            close $c;
        }
    }
}
