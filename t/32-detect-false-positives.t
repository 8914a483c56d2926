#!/usr/bin/perl
# Without crying wolf: numbers that look like cards, SSNs or IBANs but fail
# validation do not fire, and valid numbers without context do not fire a
# policy that requires proximity. The table runs through dlpscan (the
# detector's own engine); the proximity rule is also checked end to end.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpDetect;

my $policies = <<'EOF';
policies = (
  { name = "card"; rules = ( { type = "identifier"; identifier = "credit_card"; } ); action = "block"; },
  { name = "card-near"; rules = ( { type = "identifier"; identifier = "credit_card";
      near = ["card", "visa"]; distance = 30; } ); action = "block"; },
  { name = "ssn"; rules = ( { type = "identifier"; identifier = "us_ssn"; } ); action = "block"; },
  { name = "iban"; rules = ( { type = "identifier"; identifier = "iban"; } ); action = "block"; },
  { name = "bulk"; rules = ( { type = "identifier"; identifier = "credit_card"; min_count = 3; } ); action = "block"; }
);
EOF

my $dir = test_dir();
mkdir "$dir/etc";
spit("$dir/etc/dlpgate.conf", "incident_log = \"\";\n");
write_policies("$dir/etc", $policies);

# fired - the policies dlpscan says fired for a body
sub fired {
    my ($body) = @_;
    spit("$dir/m.eml", "From: a\@example.com\nTo: b\@example.net\nSubject: t\n\n$body\n");
    my ($rc, $out) = dlpscan('-c', "$dir/etc", "$dir/m.eml");
    die "dlpscan failed: $out" if $rc;
    return join(',', sort ($out =~ /^  policy ([\w-]+):/mg)) || 'none';
}

my @cases = (
    # cards that are not cards
    ['Luhn-invalid Visa', 'pay 4111 1111 1111 1112 now', 'none'],
    ['Luhn-valid but no issuer starts with 9', 'id 9111 1111 1111 1117', 'none'],
    ['Luhn-valid Visa of a wrong length (15)', 'n 411111111111116', 'none'],
    ['Amex prefix with a Visa length', 'n 3782 8224 6310 0050', 'none'],
    ['one repeated digit', 'n 4444 4444 4444 4444', 'none'],
    ['glued to letters', 'ref AB4111111111111111', 'none'],
    ['part of a longer number', 'n 4111 1111 1111 1111 2222', 'none'],
    ['a decimal', 'pi 3.4111111111111111', 'none'],
    ['mixed separators', 'n 4111-1111 1111-1111', 'none'],
    ['odd grouping', 'n 41 111111 11111111', 'none'],
    ['phone-like', 'call +1 555 867 5309 or 0049 30 1234567', 'none'],
    # cards that are cards
    ['Visa with spaces, no context', 'n 4111 1111 1111 1111', 'card'],
    ['Visa with card nearby', 'my card 4111111111111111', 'card,card-near'],
    ['keyword after the number', '4012-8888-8888-1881 is the visa', 'card,card-near'],
    ['keyword too far', 'card' . (' filler' x 10) . ' 4111111111111111', 'card'],
    ['Mastercard 2-series', 'n 2223 0000 4841 0010', 'card'],
    ['Amex 4-6-5', 'n 3782 822463 10005', 'card'],
    ['three cards', '4111111111111111 5555555555554444 378282246310005', 'bulk,card'],
    # SSNs that are not SSNs
    ['SSN area 000', 'ssn 000-12-3456', 'none'],
    ['SSN area 666', 'ssn 666-12-3456', 'none'],
    ['SSN area 9xx', 'ssn 912-12-3456', 'none'],
    ['SSN group 00', 'ssn 123-00-4567', 'none'],
    ['SSN serial 0000', 'ssn 123-45-0000', 'none'],
    ['SSN advertising number', 'ssn 078-05-1120', 'none'],
    ['SSN example 123-45-6789', 'ssn 123-45-6789', 'none'],
    ['SSN mixed separators', 'ssn 234-56 7890', 'none'],
    ['SSN glued', 'ssn x234-56-7890', 'none'],
    ['a date is not an SSN', 'on 2024-01-15', 'none'],
    ['valid SSN', 'ssn 234-56-7890', 'ssn'],
    ['valid SSN with spaces', 'ssn 234 56 7890', 'ssn'],
    # IBANs
    ['IBAN bad checksum', 'DE89 3704 0044 0532 0130 01', 'none'],
    ['IBAN wrong length for the country', 'DE89 3704 0044 0532 0130', 'none'],
    ['unknown country', 'ZZ89 3704 0044 0532 0130 00', 'none'],
    ['valid IBAN', 'DE89 3704 0044 0532 0130 00', 'iban'],
    ['valid IBAN compact', 'GB82WEST12345698765432', 'iban'],
);
for my $c (@cases) {
    is(fired($c->[1]), $c->[2], $c->[0]);
}

# end to end: the proximity policy alone, a bare number passes
my $sink = start_sink();
my $dlp = start_detect(sink => $sink, policies => <<'EOF');
policies = (
  { name = "card-near"; rules = ( { type = "identifier"; identifier = "credit_card";
      near = ["card"]; distance = 30; } ); action = "block"; }
);
EOF
my ($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
    data => "Subject: invoice\n\nInvoice number 4111111111111111 attached.\n");
is($code, 250, 'a Luhn-valid number without context passes a proximity policy');
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
    data => "Subject: invoice\n\nInvoice 4111111111111112 for the card.\n");
is($code, 250, 'a Luhn-invalid number with context passes');
($code) = send_mail($dlp, from => 'a@example.com', rcpt => ['b@example.net'],
    data => "Subject: invoice\n\nThe card is 4111111111111111.\n");
is($code, 550, 'the same number with context is blocked');
is(scalar(incidents($dlp)), 1, 'only the real one is an incident');
ok($dlp->stop, 'dlpgate stops');
done_testing;
