package DlpHop;

# DlpHop - a scripted next hop that misbehaves on demand
#
# No real MTA garbles its replies, answers twice or stops reading in the
# middle of a message when asked, so the tests of what dlpgate does then
# use this one: a small server that answers each command with the reply
# of its script, one connection at a time.
#
#   my $hop = start_hop(MAIL => "250-ok\r\n550 no\r\n");
#   ... next_hop => ["127.0.0.1:$hop->{port}"] ...
#   $hop->got;                  # every byte it received (all connections)
#   $hop->wait_event(qr/^dot/); # what it did, one line per event
#
# Script keys: a command verb (EHLO, MAIL, RCPT, DATA, RSET, QUIT, ...),
# CONNECT (the banner) and '.' (the reply to the end of data). Values:
#   "text"            sent as it is (CRLFs included)
#   'CLOSE'           hang up
#   'SILENT'          say nothing
#   [text, secs, more]  text now, more secs later (a late, doubled reply)
# EHLO answers "250-fake.test, PIPELINING, 8BITMIME" and DATA 354 unless
# scripted. Knobs:
#   DATA_STALL => secs   after 354, read nothing for secs
#   DURING_DATA => text  sent once the first line of content arrived
#   RCVBUF => bytes      a small receive buffer, so a sender blocks soon
# Events (wait_event, a pattern with /m): "connect", "late VERB",
# "during-data", "stall-end", "dot", "eof", "closed".

use strict;
use warnings;
use Exporter 'import';
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVBUF);
use POSIX ();
use Time::HiRes ();
use DlpTest;

our @EXPORT = qw(start_hop);

# hop_event - note what the hop did, for the test to wait on
sub hop_event {
    my ($self, $what) = @_;
    open(my $fh, '>>', $self->{events}) or return;
    print $fh "$what\n";
    close $fh;
}

# hop_say - one scripted answer; false when the connection is over
sub hop_say {
    my ($self, $c, $verb, $reply) = @_;
    return 0 if $reply eq 'CLOSE';
    return 1 if $reply eq 'SILENT';
    if (ref $reply eq 'ARRAY') {
        my ($now, $secs, $more) = @$reply;
        print $c $now;
        Time::HiRes::sleep($secs);
        print $c $more;
        $self->hop_event("late $verb");
        return 1;
    }
    print $c $reply;
    return 1;
}

# hop_data - read content to the end of data, as the script says
sub hop_data {
    my ($self, $c) = @_;
    my $s = $self->{script};
    if ($s->{DATA_STALL}) {
        Time::HiRes::sleep($s->{DATA_STALL});
        $self->hop_event('stall-end');
    }
    my $first = 1;
    while (my $l = <$c>) {
        $self->hop_record($l);
        if ($first && defined $s->{DURING_DATA}) {
            print $c $s->{DURING_DATA};
            $self->hop_event('during-data');
        }
        $first = 0;
        if ($l eq ".\r\n") {
            $self->hop_event('dot');
            return 1;
        }
    }
    $self->hop_event('eof');
    return 0;
}

# hop_record - keep what was received
sub hop_record {
    my ($self, $data) = @_;
    unless ($self->{gotfh}) {
        open($self->{gotfh}, '>>:raw', $self->{gotfile}) or return;
        $self->{gotfh}->autoflush(1);
    }
    print { $self->{gotfh} } $data;
}

# hop_serve - one connection, command by command
sub hop_serve {
    my ($self, $c) = @_;
    my $s = $self->{script};
    $c->autoflush(1);
    $self->hop_event('connect');
    return unless $self->hop_say($c, 'CONNECT', $s->{CONNECT} // "220 fake.test ESMTP\r\n");
    while (my $line = <$c>) {
        $self->hop_record($line);
        my ($verb) = $line =~ /^(\w+)/;
        $verb = uc($verb // '');
        my $reply = $s->{$verb} // "250 2.0.0 Ok\r\n";
        $reply = "250-fake.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
            if $verb eq 'EHLO' && !exists $s->{EHLO};
        $reply = "354 go\r\n" if $verb eq 'DATA' && !exists $s->{DATA};
        last unless $self->hop_say($c, $verb, $reply);
        if ($verb eq 'DATA' && !ref $reply && $reply =~ /^354/) {
            last unless $self->hop_data($c);
            last unless $self->hop_say($c, '.', $s->{'.'} // "250 2.0.0 Ok: queued\r\n");
        }
        last if $verb eq 'QUIT';
    }
    close $self->{gotfh} if $self->{gotfh};
    delete $self->{gotfh};
    $self->hop_event('closed');
}

# start_hop - the scripted next hop on a free port, until the test ends
sub start_hop {
    my (%script) = @_;
    my $dir = test_dir('hop');
    my $port = free_port();
    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 16, ReuseAddr => 1) or die "listen: $!";
    # before accept, so that the window it announces is small from the start
    setsockopt($srv, SOL_SOCKET, SO_RCVBUF, $script{RCVBUF}) if $script{RCVBUF};
    my $self = bless { port => $port, script => \%script, dir => $dir,
        gotfile => "$dir/got", events => "$dir/events" }, 'DlpHop';
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{PIPE} = 'IGNORE';
        while (my $c = $srv->accept) {
            $self->hop_serve($c);
            close $c;
        }
        POSIX::_exit(0);
    }
    close $srv;
    reap_at_exit($pid);
    $self->{pid} = $pid;
    return $self;
}

# got - every byte the hop received so far
sub got { my ($self) = @_; return DlpTest::slurp($self->{gotfile}) // '' }

# events - what the hop did so far, one line each
sub events { my ($self) = @_; return DlpTest::slurp($self->{events}) // '' }

# wait_event - true once an event matching re happened (within timeout)
sub wait_event {
    my ($self, $re, $timeout) = @_;
    return DlpTest::wait_until(sub { $self->events =~ /^$re/m }, $timeout // 10);
}

# clear - forget what was received and done
sub clear { my ($self) = @_; unlink $self->{gotfile}, $self->{events}; }

1;
