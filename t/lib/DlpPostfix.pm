package DlpPostfix;

# DlpPostfix - a real Postfix instance of a test's own, on loopback ports
#
#   my $pf = DlpPostfix->start(
#       relay => $sink->{port},             # final delivery: smtp-sink
#       content_filter => $dlp->{port},     # outbound mail goes through dlpgate
#       main => { smtp_send_xforward_command => 'yes' },
#   );
#   readme_recipe => 1      the content_filter transport exactly as README.md
#                           gives it (XFORWARD on, no TLS on the loopback leg)
#   smtpd_opts => [...]     -o options of the smtp_port listener alone, e.g.
#                           'smtpd_proxy_filter=127.0.0.1:N' (a before-queue proxy)
#   $pf->{smtp_port}       where tests submit mail (smtp-source, swaks)
#   $pf->{reinject_port}   the 10026-style listener dlpgate reflects to
#   $pf->queue_count       messages still in Postfix's queue
#   $pf->log               Postfix's own log (maillog_file)
#
# The instance has its own config, queue and data directories and its own
# log file, listens only on 127.0.0.1, and retries deferred mail within
# seconds so failover tests don't wait for Postfix's defaults. It needs
# root, like any Postfix.

use strict;
use warnings;
use File::Path qw(make_path);
use DlpTest;

# start - configure and start an instance; dies with Postfix's own words
sub start {
    my ($class, %opt) = @_;
    my $dir = $opt{dir} // test_dir('postfix');
    my $self = bless {
        dir => $dir,
        etc => "$dir/etc",
        spool => "$dir/spool",
        data => "$dir/data",
        maillog => "$dir/maillog",
        smtp_port => $opt{smtp_port} // free_port(),
        reinject_port => $opt{reinject_port} // free_port(),
        name => "pf" . int(rand(1e6)),
    }, $class;
    make_path($self->{etc}, $self->{spool}, $self->{data});
    chmod 0755, $dir;
    my ($uid, $gid) = (getpwnam('postfix'))[2, 3];
    chown $uid, $gid, $self->{data};
    my %main = (
        compatibility_level => '3.6',
        config_directory => $self->{etc},
        queue_directory => $self->{spool},
        data_directory => $self->{data},
        mail_owner => 'postfix',
        setgid_group => 'postdrop',
        syslog_name => $self->{name},
        maillog_file => $self->{maillog},
        maillog_file_prefixes => '/tmp',
        myhostname => "$self->{name}.test",
        mydomain => 'test',
        myorigin => 'test',
        mydestination => '',
        mynetworks => '127.0.0.0/8',
        inet_interfaces => '127.0.0.1',
        inet_protocols => 'ipv4',
        relayhost => "[127.0.0.1]:" . ($opt{relay} // 25),
        smtpd_relay_restrictions => 'permit_mynetworks, reject',
        smtpd_recipient_restrictions => 'permit_mynetworks, reject',
        alias_maps => '', alias_database => '', local_recipient_maps => '',
        smtp_dns_support_level => 'disabled',
        disable_dns_lookups => 'yes',
        smtp_host_lookup => 'native',
        queue_run_delay => '1s',
        minimal_backoff_time => '1s',
        maximal_backoff_time => '2s',
        smtp_connect_timeout => '5s',
        default_destination_concurrency_limit => 20,
        shlib_directory => '/usr/lib/postfix',
        daemon_directory => '/usr/lib/postfix/sbin',
        command_directory => '/usr/sbin',
        meta_directory => '/etc/postfix',
        smtputf8_enable => 'no',
        biff => 'no',
        ($opt{content_filter} ? (content_filter => ($opt{readme_recipe} ? 'dlpgate' : 'smtp')
            . ":[127.0.0.1]:$opt{content_filter}") : ()),
        %{$opt{main} // {}},
    );
    spit("$self->{etc}/main.cf", join('', map { "$_ = $main{$_}\n" } sort keys %main));
    my $reinject = join("\n", map { "  -o $_" } (
        'content_filter=',
        'receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters',
        'smtpd_helo_restrictions=', 'smtpd_client_restrictions=',
        'smtpd_sender_restrictions=',
        'smtpd_recipient_restrictions=permit_mynetworks,reject',
        'smtpd_relay_restrictions=permit_mynetworks,reject',
        'mynetworks=127.0.0.0/8',
        'smtpd_authorized_xforward_hosts=127.0.0.0/8',
        @{$opt{reinject_opts} // []}));
    my $smtpd = join('', map { "\n  -o $_" } @{$opt{smtpd_opts} // []});
    spit("$self->{etc}/master.cf", <<"MASTER");
127.0.0.1:$self->{smtp_port} inet n - n - - smtpd$smtpd
127.0.0.1:$self->{reinject_port} inet n - n - - smtpd
$reinject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
dlpgate   unix  -       -       n       -       20      smtp
  -o smtp_send_xforward_command=yes
  -o smtp_tls_security_level=none
MASTER
    for my $port ($self->{smtp_port}, $self->{reinject_port}) {
        die "port $port is taken" unless port_free($port);
    }
    my ($rc, $out) = run_cmd('postfix', '-c', $self->{etc}, 'start');
    die "postfix did not start ($rc): $out\n" . $self->log if $rc;
    $self->{started} = 1;
    wait_until(sub { !port_free($self->{smtp_port}) && !port_free($self->{reinject_port}) }, 20)
        or die "postfix is not listening:\n$out\n" . $self->log;
    return $self;
}

# log - what Postfix logged so far
sub log { my ($self) = @_; return slurp($self->{maillog}) // '' }

# queue_count - messages in the queue (incoming, active, deferred, hold, maildrop)
# A sweep of the queue directories can miss or double a file that Postfix
# renames from one to another meanwhile: sweep until two sweeps agree.
sub queue_count {
    my ($self) = @_;
    my $sweep = sub {
        my $n = 0;
        for my $q (qw(maildrop incoming active deferred hold)) {
            $n += grep { -f } glob("$self->{spool}/$q/*"), glob("$self->{spool}/$q/*/*");
        }
        return $n;
    };
    my $n = $sweep->();
    for (1 .. 10) {
        my $again = $sweep->();
        return $n if $again == $n;
        $n = $again;
    }
    return $n;
}

# flush - ask Postfix to retry deferred mail now
sub flush {
    my ($self) = @_;
    run_cmd('postqueue', '-c', $self->{etc}, '-f');
}

# stop - stop the instance (also done when the test ends)
sub stop {
    my ($self) = @_;
    return unless delete $self->{started};
    run_cmd('postfix', '-c', $self->{etc}, 'stop');
    wait_until(sub { port_free($self->{smtp_port}) }, 20);
}

sub DESTROY { my ($self) = @_; $self->stop; }

1;
