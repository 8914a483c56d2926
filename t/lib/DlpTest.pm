package DlpTest;

# DlpTest - shared helpers for dlpgate's tests
#
# Real peers only: smtp-sink and smtp-source from Postfix, dlpgate's own
# master, plain sockets for the client side. Every wait has a deadline;
# every process a test starts is stopped when the test ends, even when it
# fails. Each test gets a private directory under /tmp (mode 0755, so the
# unprivileged workers can reach their sockets when tests run as root).
#
#   my $sink = start_sink();                    # smtp-sink on a free port
#   my $dlp  = start_dlpgate(conf => { resubmit_port => $sink->{port} });
#   my $c    = smtp_connect($dlp->{port});
#   is(($c->cmd("EHLO t"))[0], 250);
#   my @m = $sink->wait_messages(1);
#
# DLP_KEEP=1 keeps the directories of a run for a look afterwards.

use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use File::Path qw(remove_tree make_path);
use IO::Socket::INET;
use IO::Socket::IP;
use POSIX qw(setsid);
use Time::HiRes qw(time sleep);
use Cwd qw(abs_path);
use File::Basename qw(dirname);

our @EXPORT = qw(top_dir test_dir free_port port_free port_listened start_sink start_dlpgate
    smtp_connect wait_until slurp spit conf_text conf_value kill_tree
    children_of run_cmd spawn reap_at_exit stop_pid programs_for_anyone in_data);

my $TOP = abs_path(dirname(__FILE__) . "/../..");
my @KILL;       # pids of what we started
my @DIRS;

sub top_dir { $TOP }

# test_dir - a fresh private directory for this test
sub test_dir {
    my ($name) = @_;
    ($name = $0) =~ s{.*/|\.t$}{}g unless defined $name;
    my $dir = tempdir("dlpgate-t.$name.XXXXXX", DIR => "/tmp");
    chmod 0755, $dir;
    push @DIRS, $dir;
    return $dir;
}

# slurp / spit - read or write a whole file
sub slurp {
    my ($path) = @_;
    open(my $fh, '<:raw', $path) or return undef;
    local $/;
    my $data = <$fh>;
    return $data;
}

sub spit {
    my ($path, $data) = @_;
    open(my $fh, '>:raw', $path) or die "$path: $!";
    print $fh $data;
    close $fh or die "$path: $!";
}

# wait_until - poll a condition until it holds or the deadline passes
sub wait_until {
    my ($cond, $timeout, $step) = @_;
    $timeout //= 10;
    $step //= 0.02;
    my $end = time + $timeout;
    while (time < $end) {
        my $r = $cond->();
        return $r if $r;
        sleep $step;
    }
    return $cond->();
}

# port_free - nobody listens on host:port and we could bind it
sub port_free {
    my ($port, $host) = @_;
    $host //= '127.0.0.1';
    my $c = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
        Proto => 'tcp', Timeout => 1);
    if ($c) { close $c; return 0; }
    my $s = IO::Socket::INET->new(LocalAddr => $host, LocalPort => $port,
        Proto => 'tcp', Listen => 1, ReuseAddr => 1) or return 0;
    close $s;
    return 1;
}

# port_listened - does someone listen on host:port? (asks by binding, so
# that a server under test does not see a connection)
sub port_listened {
    my ($port, $host) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => $host // '127.0.0.1', LocalPort => $port,
        Proto => 'tcp', Listen => 1, ReuseAddr => 1);
    if ($s) { close $s; return 0; }
    return 1;
}

# free_port - a port nobody uses now (smtp-sink's SO_REUSEPORT makes a
# stray listener share a port silently, so we check by connecting too),
# and never one this test was given before
my %GIVEN;
sub free_port {
    my ($host) = @_;
    for (1 .. 200) {
        my $port = 20000 + int(rand(40000));
        next if $GIVEN{$port};
        if (port_free($port, $host)) {
            $GIVEN{$port} = 1;
            return $port;
        }
    }
    die "no free port";
}

# children_of - pids whose parent is pid
sub children_of {
    my ($pid) = @_;
    my @kids;
    for my $stat (glob "/proc/[0-9]*/stat") {
        my $s = slurp($stat) // next;
        my ($p, $pp) = $s =~ /^(\d+) \(.*\) \S+ (\d+)/s or next;
        push @kids, $p if $pp == $pid;
    }
    return @kids;
}

# kill_tree - a process and all its descendants
sub kill_tree {
    my ($pid, $sig) = @_;
    $sig //= 'KILL';
    my @all = ($pid);
    for (my $i = 0; $i < @all; $i++) { push @all, children_of($all[$i]); }
    kill $sig, @all;
}

# run_cmd - run a command; (exit status, stdout and stderr)
sub run_cmd {
    my (@cmd) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if ($pid == 0) {
        open(STDERR, '>&', \*STDOUT);
        exec @cmd or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8, $out);
}

# programs_for_anyone - copies of built programs (paths from the top, e.g.
# 'master/master') in a directory every user may enter, for a test that runs
# them as an unprivileged user: the tree itself may sit under a home
# directory (/root is mode 0700) that such a user cannot reach. Returns the
# directory; a master run from it finds its daemons in daemon_directory.
sub programs_for_anyone {
    my (@progs) = @_;
    my $dir = test_dir('programs');
    for my $p (@progs) {
        (my $name = $p) =~ s{.*/}{};
        system('cp', "$TOP/$p", "$dir/$name") == 0 or die "cp $TOP/$p: $?";
        chmod 0755, "$dir/$name";
    }
    return $dir;
}

# in_data - a client halfway through DATA, for the tests of a session in
# flight: connected, EHLO, MAIL, RCPT and DATA accepted and content sent
# without its end, each a test named after label; the client
sub in_data {
    my ($port, $label, $content) = @_;
    require Test::More;
    my $c = smtp_connect($port);
    Test::More::is($c->{banner_code}, 220, "$label: connected");
    Test::More::is(($c->cmd('EHLO client.test'))[0], 250, "$label: EHLO");
    Test::More::is(($c->cmd('MAIL FROM:<a@example.com>'))[0], 250, "$label: MAIL");
    Test::More::is(($c->cmd('RCPT TO:<r@example.net>'))[0], 250, "$label: RCPT");
    Test::More::is(($c->cmd('DATA'))[0], 354, "$label: DATA");
    Test::More::ok($c->send_raw($content), "$label: half the content sent");
    return $c;
}

# stop_pid - SIGTERM, reaped within timeout seconds or killed with its
# children; true if it went on its own
sub stop_pid {
    my ($pid, $timeout) = @_;
    kill 'TERM', $pid;
    my $ok = wait_until(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, $timeout // 20);
    kill_tree($pid, 'KILL') unless $ok;
    return $ok;
}

# reap_at_exit - stop this process when the test ends, like what spawn starts
sub reap_at_exit { push @KILL, @_; }

# spawn - start a command in its own session, output to a file
sub spawn {
    my ($log, @cmd) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        setsid();
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>>', $log) or die "$log: $!";
        open(STDERR, '>&', \*STDOUT);
        exec @cmd or do { print STDERR "exec $cmd[0]: $!\n"; POSIX::_exit(127) };
    }
    push @KILL, $pid;
    return $pid;
}

# conf_text - a libconfig file from a hash of settings
sub conf_value {
    my ($v) = @_;
    return '[' . join(', ', map { conf_value($_) } @$v) . ']' if ref $v eq 'ARRAY';
    return $v if $v =~ /^-?\d+$/ || $v =~ /^(true|false)$/;
    (my $q = $v) =~ s/(["\\])/\\$1/g;
    return "\"$q\"";
}

sub conf_text {
    my ($conf) = @_;
    return join('', map { "$_ = " . conf_value($conf->{$_}) . ";\n" } sort keys %$conf);
}

# ---- smtp-sink ----------------------------------------------------------

package DlpTest::Sink;

# messages - every message the sink dumped, oldest first:
#   { mail => "FROM:<a>", rcpt => ["TO:<b>"], helo => ..., body => text }
# (smtp-sink writes lines ending in \n; body is the message so.)
sub messages {
    my ($self) = @_;
    my @files = sort { (stat $a)[9] <=> (stat $b)[9] || $a cmp $b }
        glob("$self->{dir}/*");
    my @msgs;
    for my $f (@files) {
        my $raw = DlpTest::slurp($f) // next;
        next unless $raw =~ /\n\n\z/s;      # still being written
        my %m = (file => $f, raw => $raw, rcpt => []);
        my @lines = split /\n/, $raw, -1;
        while (@lines) {
            my $l = shift @lines;
            if ($l =~ /^X-Mail-Args: (.*)/) { $m{mail} = $1 }
            elsif ($l =~ /^X-Rcpt-Args: (.*)/) { push @{$m{rcpt}}, $1 }
            elsif ($l =~ /^X-Helo-Args: (.*)/) { $m{helo} = $1 }
            elsif ($l =~ /^X-Client-Addr: (.*)/) { $m{client} = $1 }
            elsif ($l =~ /^Received: /) { splice(@lines, 0, 2); last }
        }
        splice(@lines, -2);                 # the empty line and the final \n
        $m{body} = join("\n", @lines) . "\n";
        push @msgs, \%m;
    }
    return @msgs;
}

sub wait_messages {
    my ($self, $n, $timeout) = @_;
    DlpTest::wait_until(sub { scalar(my @m = $self->messages) >= $n }, $timeout // 20);
    return $self->messages;
}

sub clear { my ($self) = @_; unlink glob("$self->{dir}/*"); }

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    DlpTest::stop_pid($self->{pid}, 10);
    delete $self->{pid};
}

package DlpTest;

# start_sink - smtp-sink on a free port, dumping each message to a file
#   args => [...]  more smtp-sink options, e.g. ['-f', 'RCPT']
sub start_sink {
    my (%opt) = @_;
    my $dir = $opt{dir} // test_dir();
    my $host = $opt{host} // '127.0.0.1';
    my $port = $opt{port} // free_port($host);
    my $dump = "$dir/sink-$port";
    make_path($dump);
    chmod 0777, $dump;
    my @cmd = ('smtp-sink', '-u', 'postfix', '-d', "$dump/%H%M%S.", '-t', 30,
        @{$opt{args} // []}, "$host:$port", 256);
    my $pid = spawn("$dir/sink-$port.log", @cmd);
    wait_until(sub { !port_free($port, $host) }, 10)
        or die "smtp-sink on $port did not start: " . (slurp("$dir/sink-$port.log") // '');
    return bless { pid => $pid, port => $port, host => $host, dir => $dump }, 'DlpTest::Sink';
}

# ---- dlpgate ------------------------------------------------------------

package DlpTest::Instance;

sub log { my ($self) = @_; return DlpTest::slurp($self->{log}) // '' }

# wait_log - the first log line matching re (after byte offset from)
sub wait_log {
    my ($self, $re, $timeout, $from) = @_;
    my $found;
    DlpTest::wait_until(sub {
        my $l = substr($self->log, $from // 0);
        ($found) = $l =~ /^(.*$re.*)$/m;
        defined $found;
    }, $timeout // 10);
    return $found;
}

sub log_size { my ($self) = @_; return length($self->log) }

# pids_of - the children of master running a program
sub pids_of {
    my ($self, $prog) = @_;
    my @pids;
    for my $pid (DlpTest::children_of($self->{pid})) {
        my $exe = readlink("/proc/$pid/exe") // '';
        push @pids, $pid if $exe =~ m{/\Q$prog\E$};
    }
    return @pids;
}

# serving - pids of the children of master whose title says they serve a
# client of this service ("smtpd-proxy: smtpd: 127.0.0.1")
sub serving {
    my ($self, $service) = @_;
    $service //= 'smtpd';
    return grep {
        my $t = DlpTest::slurp("/proc/$_/cmdline") // '';
        $t =~ /: \Q$service\E: \S/;
    } $self->pids_of('smtpd-proxy');
}

# waiting - requests waiting on a private socket of the run directory
# ("detector"): connections not yet accepted (the listener's backlog) plus
# accepted ones with unread data, as ss shows them
sub waiting {
    my ($self, $name) = @_;
    my $path = "$self->{run}/private/$name";
    my (undef, $out) = DlpTest::run_cmd('ss', '-xanH', 'src', $path);
    my $n = 0;
    for my $l (split /\n/, $out) {
        my ($state, $recvq, $local) = (split ' ', $l)[1, 2, 4];
        next unless defined $local && $local eq $path;
        $n += $state eq 'LISTEN' ? $recvq : $recvq > 0 ? 1 : 0;
    }
    return $n;
}

sub reload { my ($self) = @_; kill 'HUP', $self->{pid}; }

sub stop {
    my ($self, $timeout) = @_;
    return 1 unless $self->{pid};
    my $ok = DlpTest::stop_pid($self->{pid}, $timeout);
    delete $self->{pid};
    return $ok;
}

package DlpTest;

# start_dlpgate - master -f on a private config and run directory
#   conf => { setting => value }   dlpgate.conf
#   smtpd => { field => value }    service table fields of smtpd
#   detector => { field => value } and of the detector
#   master_conf => "text"          the whole master.conf instead
#   port => N                      the smtpd listen port
#   dir => D, log => F             reuse a directory (a new master on the same
#                                  run_directory), log to another file
#   master => PATH                 another build's master (it runs that tree's
#                                  daemons), e.g. a benchmark's baseline
sub start_dlpgate {
    my (%opt) = @_;
    my $dir = $opt{dir} // test_dir();
    my $etc = "$dir/etc";
    my $run = "$dir/run";
    make_path($etc);
    my $port = $opt{port} // free_port();
    my %conf = (run_directory => $run, %{$opt{conf} // {}});
    spit("$etc/dlpgate.conf", conf_text(\%conf));
    my $mc = $opt{master_conf} // default_master_conf($port, $opt{smtpd} // {},
        $opt{detector} // {});
    spit("$etc/master.conf", $mc);
    my $log = $opt{log} // "$dir/master.log";
    my $pid = spawn($log, $opt{master} // "$TOP/master/master", '-f', '-c', $etc, @{$opt{args} // []});
    my $self = bless { pid => $pid, port => $port, dir => $dir, etc => $etc,
        run => $run, log => $log }, 'DlpTest::Instance';
    return $self if $opt{no_wait};
    # ready: it logged so, or (at a quieter log_level) its port answers
    my $ready = sub { $self->log =~ /5001 master started/
        || ($opt{port} || !$opt{master_conf}) && port_listened($port) };
    wait_until(sub { $ready->() || waitpid($pid, POSIX::WNOHANG()) == $pid }, 15);
    die "dlpgate did not start:\n" . $self->log unless $ready->();
    return $self;
}

sub default_master_conf {
    my ($port, $smtpd, $detector) = @_;
    my %s = (process_limit => 20, process_min_avail => 0, max_use => 100,
        max_idle => 100, %$smtpd);
    my %d = (command => 'detector', process_limit => 4, process_min_avail => 2,
        max_use => 1000, max_idle => 300, %{$detector // {}});
    my $fields = sub { my ($h) = @_;
        join(' ', map { "$_ = " . conf_value($h->{$_}) . ";" } sort keys %$h) };
    return "services = (\n"
        . "  { name = \"smtpd\"; type = \"inet\"; listen = [\"127.0.0.1:$port\"];\n"
        . "    command = \"smtpd-proxy\"; user = \"dlpgate\"; " . $fields->(\%s) . " },\n"
        . "  { name = \"detector\"; type = \"unix\"; listen = [\"detector\"];\n"
        . "    user = \"dlpgate-detect\"; " . $fields->(\%d) . " }\n"
        . ");\n";
}

# ---- an SMTP client that shows every byte ---------------------------------

package DlpTest::Client;

sub send_raw {
    my ($self, $data) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite($self->{sock}, $data, length($data) - $off, $off);
        return 0 unless $n;
        $off += $n;
    }
    return 1;
}

# read_reply - one whole reply: (code, all lines joined by \n)
sub read_reply {
    my ($self, $timeout) = @_;
    my @lines;
    my $end = Time::HiRes::time() + ($timeout // 30);
    while (1) {
        my $line = $self->read_line($end) // return (undef, join("\n", @lines));
        push @lines, $line;
        return (substr($line, 0, 3), join("\n", @lines)) if $line !~ /^\d{3}-/;
    }
}

sub read_line {
    my ($self, $end) = @_;
    while ($self->{buf} !~ /\n/) {
        my $left = $end - Time::HiRes::time();
        return undef if $left <= 0;
        my $rin = '';
        vec($rin, fileno($self->{sock}), 1) = 1;
        return undef unless select($rin, undef, undef, $left);
        my $n = sysread($self->{sock}, $self->{buf}, 65536, length $self->{buf});
        return undef unless $n;
    }
    $self->{buf} =~ s/^(.*?)\r?\n//;
    return $1;
}

# cmd - send a command line, return (code, text)
sub cmd {
    my ($self, $line, $timeout) = @_;
    $self->send_raw("$line\r\n");
    return $self->read_reply($timeout);
}

# closed - has the server closed the connection (within timeout)?
sub closed {
    my ($self, $timeout) = @_;
    my $end = Time::HiRes::time() + ($timeout // 5);
    while (Time::HiRes::time() < $end) {
        my $rin = '';
        vec($rin, fileno($self->{sock}), 1) = 1;
        return 0 unless select($rin, undef, undef, $end - Time::HiRes::time());
        my $n = sysread($self->{sock}, my $b, 65536);
        return 1 unless $n;
        $self->{buf} .= $b;
    }
    return 0;
}

# send_message - a whole transaction: (final code, final text)
sub send_message {
    my ($self, %m) = @_;
    my ($code, $text) = $self->cmd("MAIL FROM:<" . ($m{from} // 'sender@example.com') . ">"
        . ($m{mail_params} ? " $m{mail_params}" : ''));
    return ($code, $text) unless $code == 250;
    my $ok = 0;
    for my $r (@{$m{rcpt} // ['rcpt@example.net']}) {
        my ($addr, $params) = split / /, $r, 2;
        ($code, $text) = $self->cmd("RCPT TO:<$addr>" . ($params ? " $params" : ''));
        $ok++ if $code == 250;
    }
    return ($code, $text) unless $ok;
    ($code, $text) = $self->cmd("DATA");
    return ($code, $text) unless $code == 354;
    $self->send_raw($m{data} . ".\r\n");
    return $self->read_reply($m{timeout});
}

sub close { my ($self) = @_; close $self->{sock}; }

package DlpTest;

# smtp_connect - a client that has read the banner; undef if it cannot connect
sub smtp_connect {
    my ($port, %opt) = @_;
    my $sock = IO::Socket::IP->new(PeerHost => $opt{host} // '127.0.0.1',
        PeerPort => $port, ($opt{from} ? (LocalHost => $opt{from}) : ()),
        Proto => 'tcp', Timeout => 10) or return undef;
    $sock->autoflush(1);
    my $c = bless { sock => $sock, buf => '' }, 'DlpTest::Client';
    return $c if $opt{no_banner};
    my ($code, $text) = $c->read_reply($opt{timeout});
    $c->{banner_code} = $code;
    $c->{banner} = $text;
    return $c;
}

END {
    my $status = $?;
    for my $pid (reverse @KILL) {
        kill 'TERM', $pid if kill 0, $pid;
    }
    for my $pid (reverse @KILL) {
        my $ok = wait_until(sub { waitpid($pid, POSIX::WNOHANG()) != 0 }, 10);
        kill_tree($pid, 'KILL') unless $ok;
    }
    remove_tree(@DIRS) unless $ENV{DLP_KEEP};
    $? = $status;
}

1;
