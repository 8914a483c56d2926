#!/usr/bin/perl
# Envelope and message conditions through the pipeline: sender and
# recipient patterns, recipients outside internal_domains, size, number of
# recipients, all/any/min_rules, and exceptions that silence a policy.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpDetect;

my $sink = start_sink();
my $dlp = start_detect(sink => $sink, conf => { internal_domains => ['example.com', 'corp.example'] },
    policies => <<'EOF');
policies = (
  # the word, going outside; legal may send it anywhere; partner.net is fine
  { name = "plans-out"; match = "all";
    rules = ( { type = "keyword"; keywords = ["falcon"]; },
              { type = "recipient"; external = true; } );
    exceptions = { senders = ["legal@example.com"]; domains = ["partner.net"]; };
    action = "block"; reply = "550 5.7.1 plans-out"; },
  # the sales team may not mail the competitor
  { name = "competitor"; match = "all";
    rules = ( { type = "sender"; patterns = ["*@sales.example.com"]; },
              { type = "recipient"; patterns = ["rival.org"]; } );
    action = "block"; reply = "550 5.7.1 competitor"; },
  # big mail to many: two of three conditions
  { name = "mass"; match = "any"; min_rules = 2;
    rules = ( { type = "size"; min_size = "20k"; },
              { type = "recipient_count"; min = 5; },
              { type = "keyword"; keywords = ["newsletter"]; look_in = ["subject"]; } );
    action = "block"; reply = "550 5.7.1 mass"; },
  { name = "disabled"; enabled = false;
    rules = ( { type = "keyword"; keywords = ["hello"]; } ); action = "block"; }
);
EOF

sub try {
    my ($from, $rcpts, $data) = @_;
    my ($code, $text) = send_mail($dlp, from => $from, rcpt => $rcpts, data => $data);
    return $code == 550 ? ($text =~ /^550 5\.7\.1 (.*)/)[0] : $code;
}
my $falcon = "Subject: x\n\nthe falcon plan\n";

is(try('bob@example.com', ['x@outside.org'], $falcon), 'plans-out', 'keyword to an external recipient: blocked');
is(try('bob@example.com', ['x@example.com', 'y@dev.corp.example'], $falcon), 250,
    'keyword to internal recipients and subdomains: passes');
is(try('bob@example.com', ['x@example.com', 'z@outside.org'], $falcon), 'plans-out',
    'one external recipient among internal ones is enough');
is(try('legal@example.com', ['x@outside.org'], $falcon), 250, 'excepted sender: silent');
is(try('bob@example.com', ['a@partner.net', 'b@sub.partner.net'], $falcon), 250,
    'every recipient in an excepted domain: silent');
is(try('bob@example.com', ['a@partner.net', 'c@outside.org'], $falcon), 'plans-out',
    'an excepted recipient does not shield the others');
is(try('bob@example.com', ['x@outside.org'], "Subject: x\n\nthe hawk plan\n"), 250, 'no keyword: passes');

is(try('ann@sales.example.com', ['ceo@rival.org'], "Subject: hi\n\nhi\n"), 'competitor', 'sender and recipient patterns');
is(try('ann@sales.example.com', ['ceo@mail.rival.org'], "Subject: hi\n\nhi\n"), 'competitor', 'a domain pattern covers subdomains');
is(try('ann@dev.example.com', ['ceo@rival.org'], "Subject: hi\n\nhi\n"), 250, 'other senders may');

my $big = "Subject: report\n\n" . ("x" x 70 . "\n") x 400;
my @five = map { "r$_\@example.com" } 1 .. 5;
is(try('a@example.com', ['b@example.com'], $big), 250, 'big alone: one of three, passes');
is(try('a@example.com', \@five, "Subject: hi\n\nhi\n"), 250, 'many recipients alone: passes');
is(try('a@example.com', \@five, $big), 'mass', 'big and many: two of three, blocked');
is(try('a@example.com', \@five, "Subject: our newsletter\n\nhi\n"), 'mass', 'many and a subject word: blocked');
is(try('a@example.com', ['b@example.com'], "Subject: x\n\nhello\n"), 250, 'a disabled policy never fires');

# the longest address and parameters a worker relays still make an
# envelope the detector reads (its lines were limited to 1000 bytes; found
# by smtpd-proxy/fuzz/fuzz-command): the message is scanned, not
# tempfailed. RFC 5321 and 3461 bound them: a path of 256 octets (local
# part 64) and a RCPT line of 512 + 500 with DSN.
my $orcpt = 'ORCPT=rfc822;' . ('o' x 720) . '@example.com';
my $long = ('b' x 64) . '@' . join('.', 'd' x 63, 'd' x 63, 'd' x 49, 'example', 'com');
is(try('a@example.com', ["$long $orcpt"], $falcon), 250,
    'RCPT of a 256-byte path with a 745-byte ORCPT: scanned and passed');
is(try('a@example.com', ["$long $orcpt", 'x@outside.org'], $falcon), 'plans-out',
    'and its content is still what decides');
ok($dlp->stop, 'dlpgate stops');
done_testing;
