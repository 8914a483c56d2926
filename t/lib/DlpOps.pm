package DlpOps;

# DlpOps - helpers for the operations tests (t/5x): the dlpgate and
# dlpconf commands on a test's configuration directory, status and
# Prometheus parsing, running code as another user.
#
#   my $etc = ops_conf_dir($dir, conf => {...}, port => $p);
#   my ($rc, $out) = dlpgate($etc, 'status');
#   my %c = status_counters($out);          # sessions => 2, pass => 4, ...
#   my %m = prom_parse($text);              # 'dlpgate_up' => 1, ...
#   my ($ok, $err) = as_user('dlpgate', sub { open(my $f, '<', $path) });

use strict;
use warnings;
use Exporter 'import';
use File::Path qw(make_path);
use POSIX ();
use DlpTest;

our @EXPORT = qw(dlpgate dlpconf ops_conf_dir status_counters prom_parse
    as_user uid_of proc_uid file_diff http_get alive);

my $TOP = top_dir();

# dlpgate - the dlpgate command on a configuration directory
sub dlpgate {
    my ($etc, @args) = @_;
    return run_cmd("$TOP/master/dlpgate", '-c', $etc, @args);
}

# dlpconf - the dlpconf command on a configuration directory
sub dlpconf {
    my ($etc, @args) = @_;
    return run_cmd("$TOP/master/dlpconf", '-c', $etc, @args);
}

# ops_conf_dir - write etc/dlpgate.conf and etc/master.conf for a test
#   conf => {...}, smtpd => {...}, master_conf => "text", port => N
sub ops_conf_dir {
    my ($dir, %opt) = @_;
    my $etc = "$dir/etc";
    make_path($etc);
    my %conf = (run_directory => "$dir/run", %{$opt{conf} // {}});
    spit("$etc/dlpgate.conf", conf_text(\%conf));
    spit("$etc/master.conf", $opt{master_conf}
        // DlpTest::default_master_conf($opt{port} // free_port(), $opt{smtpd} // {}));
    return $etc;
}

# status_counters - the counters of `dlpgate status`, by name
sub status_counters {
    my ($text) = @_;
    my %c;
    for my $l (split /\n/, $text) {
        if ($l =~ /^\s+verdicts\s+(.*)/) {
            my $v = $1;
            $c{$1} = $2 while $v =~ /(\w+)=(\d+)/g;
        } elsif ($l =~ /^\s+TLS sessions\s+in=(\d+) out=(\d+)/) {
            @c{qw(tls_in tls_out)} = ($1, $2);
        } elsif ($l =~ /^\s+(\S.*?)\s+(\d+)$/) {
            my ($k, $v) = ($1, $2);
            $k =~ s/ /_/g;
            $c{$k} = $v;
        }
    }
    # services: "service:NAME" => [busy, idle, limit, retiring, state]
    while ($text =~ /^(\S+)\s+(inet|unix)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/mg) {
        $c{"service:$1"} = [$3, $4, $5, $6, $7];
    }
    ($c{state}, $c{pid}, $c{generation}) = ($1, $2, $3)
        if $text =~ /^dlpgate is (\w+): pid (\d+), .*generation (\d+)$/m;
    return %c;
}

# prom_parse - samples of the Prometheus text format; dies on a bad line
sub prom_parse {
    my ($text) = @_;
    my %m;
    for my $l (split /\n/, $text) {
        next if $l =~ /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* \S/;
        die "bad exposition line: $l\n"
            unless $l =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})?) (-?[0-9.eE+]+)$/;
        $m{$1} = $2;
    }
    return %m;
}

# alive - does a process run (a zombie that init has not reaped does not)?
sub alive {
    my ($pid) = @_;
    my $s = slurp("/proc/$pid/stat") // return 0;
    return $s !~ /^\d+ \(.*\) [ZX] /s;
}

# uid_of - the uid of a user name
sub uid_of { my ($name) = @_; return scalar((getpwnam($name))[2]) }

# proc_uid - the real uid of a process
sub proc_uid {
    my ($pid) = @_;
    my $s = slurp("/proc/$pid/status") // return undef;
    return $s =~ /^Uid:\s+(\d+)/m ? $1 : undef;
}

# as_user - run code in a child as another user: (its true/false, $! text)
sub as_user {
    my ($user, $code) = @_;
    my ($uid, $gid) = (getpwnam($user))[2, 3];
    die "no user $user" unless defined $uid;
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $r;
        POSIX::setgid($gid);
        $) = "$gid $gid";
        POSIX::setuid($uid);
        my $ok = ($< == $uid && $> == $uid) ? $code->() : 0;
        print $w ($ok ? "1" : "0"), " ", ($! // ''), "\n";
        close $w;
        POSIX::_exit(0);
    }
    close $w;
    my $line = <$r> // "0 no answer";
    waitpid($pid, 0);
    chomp $line;
    my ($ok, $err) = split / /, $line, 2;
    return ($ok, $err);
}

# file_diff - `diff old new` as a list of changed lines ("< ..." / "> ...")
sub file_diff {
    my ($old, $new) = @_;
    my (undef, $out) = run_cmd('diff', $old, $new);
    return grep { /^[<>] / } split /\n/, $out;
}

# http_get - a GET request: (status code, body)
sub http_get {
    my ($port, $path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 10) or return (undef, "connect: $!");
    print $s "GET $path HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    local $/;
    my $resp = <$s> // '';
    my ($code) = $resp =~ m{^HTTP/1\.[01] (\d{3})};
    my ($body) = $resp =~ /\r\n\r\n(.*)\z/s;
    return ($code, $body // '');
}

1;
