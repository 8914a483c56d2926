#!/usr/bin/perl
# Addresses as Postfix routes them: a recipient whose local part holds %, !
# or a quoted @, or that carries a source route, goes where its routing
# says (allow_percent_hack, swap_bangpath and resolve_dequoted_address
# are on by default), not to the domain after its last @. For
# internal_domains such a recipient is external; sender and recipient
# patterns match where it goes as well as what it says; and it never
# matches a policy's exceptions.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpDetect;

my $sink = start_sink();
my $dlp = start_detect(sink => $sink, conf => { internal_domains => ['example.com'] },
    policies => <<'EOF');
policies = (
  { name = "plans-out"; match = "all";
    rules = ( { type = "keyword"; keywords = ["falcon"]; },
              { type = "recipient"; external = true; } );
    exceptions = { senders = ["legal@example.com"]; domains = ["partner.net"]; };
    action = "block"; reply = "550 5.7.1 plans-out"; },
  { name = "competitor";
    rules = ( { type = "recipient"; patterns = ["rival.org", "ceo@other.org"]; } );
    action = "block"; reply = "550 5.7.1 competitor"; },
  { name = "webmail"; match = "all";
    rules = ( { type = "sender"; patterns = ["gmail.com"]; },
              { type = "keyword"; keywords = ["hawk"]; } );
    action = "block"; reply = "550 5.7.1 webmail"; }
);
EOF

sub try {
    my ($from, $rcpts, $data) = @_;
    my ($code, $text) = send_mail($dlp, from => $from, rcpt => $rcpts, data => $data);
    return 'no answer' unless defined $code;
    return $code == 550 ? ($text =~ /^550 5\.7\.1 (.*)/)[0] : $code;
}
my $falcon = "Subject: x\n\nthe falcon plan\n";
my $hello = "Subject: x\n\nhello\n";

# the controls
is(try('bob@example.com', ['v@mail.example.com'], $falcon), 250, 'an internal recipient: passes');
is(try('bob@example.com', ['v@gmail.com'], $falcon), 'plans-out', 'an external recipient: blocked');

# internal_domains: routed recipients are external
is(try('bob@example.com', ['v%gmail.com@mail.example.com'], $falcon), 'plans-out',
    'the percent hack (v%gmail.com@mail.example.com) is external');
is(try('bob@example.com', ['gmail.com!v@mail.example.com'], $falcon), 'plans-out',
    'a bang path (gmail.com!v@mail.example.com) is external');
is(try('bob@example.com', ['"v@gmail.com"@example.com'], $falcon), 'plans-out',
    'a quoted @ ("v@gmail.com"@example.com) is external');
is(try('bob@example.com', ['@mail.example.com,@relay.example.com:v@example.com'], $falcon), 'plans-out',
    'a source route (@mail.example.com,@relay.example.com:v@example.com) is external');
is(try('bob@example.com', ['"v.x"@example.com'], $falcon), 250,
    'a quoted local part without routing stays internal');

# recipient patterns match where the address goes
is(try('bob@example.com', ['ceo%rival.org@example.com'], $hello), 'competitor',
    'a recipient pattern matches the domain inside the percent hack');
is(try('bob@example.com', ['rival.org!ceo@example.com'], $hello), 'competitor',
    'and inside a bang path');
is(try('bob@example.com', ['"ceo@other.org"@example.com'], $hello), 'competitor',
    'an address pattern matches the quoted address');
is(try('bob@example.com', ['@mail.rival.org:x@example.com'], $hello), 'competitor',
    'a recipient pattern matches a source route hop');

# sender patterns too
is(try('me%gmail.com@example.com', ['x@example.com'], "Subject: x\n\nthe hawk\n"), 'webmail',
    'a sender pattern matches the domain inside the percent hack');
is(try('me@example.com', ['x@example.com'], "Subject: x\n\nthe hawk\n"), 250, 'other senders may');

# exceptions never cover a routed address
is(try('bob@example.com', ['a@partner.net'], $falcon), 250, 'an excepted domain: silent');
is(try('bob@example.com', ['x%gmail.com@partner.net'], $falcon), 'plans-out',
    'a routed address in an excepted domain is not excepted');
is(try('x@partner.net', ['y@gmail.com'], $falcon), 250, 'a sender in an excepted domain: silent');
is(try('x%gmail.com@partner.net', ['y@gmail.com'], $falcon), 'plans-out',
    'a routed sender in an excepted domain is not excepted');

# dlpscan judges the same
my $f = test_dir() . '/m.eml';
spit($f, crlf($falcon));
my ($rc, $out) = dlpscan('-c', "$dlp->{dir}/etc", '-f', 'bob@example.com', '-r', 'v%gmail.com@mail.example.com', $f);
like($out, qr/verdict=block reply="550 5\.7\.1 plans-out"/, 'dlpscan: the percent hack is external');
ok($dlp->stop, 'dlpgate stops');
done_testing;
