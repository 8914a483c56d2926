#!/usr/bin/perl
# The header section is read one way by the detector and the next hop. A
# line in it that is neither a header field ("Name:", RFC 5322) nor a
# continuation (white space first, but not the first line) ends it; with
# non_header_line_action = normalise (the default) an empty line is put
# before that line, as Postfix's cleanup does, so what the detector scans
# and what the next hop receives have the same structure; with reject the
# message gets 554 5.6.0. A "bad name: value" line (a space in the name)
# is a header to a lax reader and body to Postfix: after dlpgate it is body
# to everyone. A Unix "From " line first becomes "X-Mailbox-Line: From ...",
# as Postfix's smtpd makes it.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use DlpTest;
use DlpDetect;

my $policies = <<'EOF';
policies = (
  { name = "in-header"; severity = "high"; action = "block";
    reply = "550 5.7.1 falcon in a header";
    rules = ( { type = "keyword"; keywords = ["falcon"]; look_in = ["header"];
                headers = ["X-Secret"]; } ); },
  { name = "in-body"; severity = "high"; action = "block";
    reply = "550 5.7.1 falcon in the body";
    rules = ( { type = "keyword"; keywords = ["falcon"]; look_in = ["body"]; } ); }
);
EOF
my %env = (from => 'a@example.com', rcpt => ['b@example.net']);
my $sink = start_sink();
my $dlp = start_detect(sink => $sink, policies => $policies);

# the detector: a header field is a header field
my ($code, $text) = send_mail($dlp, %env, data => "Subject: hi\nX-Secret: falcon\n\nbody\n");
like($text, qr/^550 5\.7\.1 falcon in a header/, 'a real X-Secret field is a header');

# "bad header: x" is no field: X-Secret after it is body, for the detector too
($code, $text) = send_mail($dlp, %env,
    data => "Subject: hi\nbad header: x\nX-Secret: falcon\n\nbody\n");
like($text, qr/^550 5\.7\.1 falcon in the body/,
    'after a line that is no field, X-Secret is body to the detector');

# and to the next hop: the header section ends with an empty line there
($code) = send_mail($dlp, %env, data => "Subject: hi\nbad header: x\nX-Other: y\n\nbody\n");
is($code, 250, 'a message with such a line passes');
my @m = $sink->wait_messages(1);
like($m[0]{body} // '', qr/^X-Filter-Loop: Reflected\nSubject: hi\n\nbad header: x\nX-Other: y\n\nbody\n\z/,
    'the next hop gets the same structure: an empty line before it');
$sink->clear;

# a first line that starts with white space continues nothing
($code) = send_mail($dlp, %env, data => " folded first\nSubject: x\n\nbody\n");
is($code, 250, 'a message whose first line starts with white space passes');
@m = $sink->wait_messages(1);
like($m[0]{body} // '', qr/^X-Filter-Loop: Reflected\n\n folded first\nSubject: x\n/,
    'with an empty header section');
$sink->clear;

# a Unix "From " line first becomes a field, as Postfix's smtpd makes it,
# and the header section goes on: a multipart below it stays multipart
($code) = send_mail($dlp, %env, data => "From a\@example.com Thu Jan 1 00:00:00 2026\n"
    . "Subject: hi\n\nbody\n");
is($code, 250, 'a message with a Unix From line first passes');
@m = $sink->wait_messages(1);
like($m[0]{body} // '', qr/^X-Filter-Loop: Reflected\nX-Mailbox-Line: From a\@example\.com Thu Jan 1 00:00:00 2026\nSubject: hi\n\nbody\n\z/,
    'as X-Mailbox-Line:, in the header section');
$sink->clear;

# continuations and obsolete "Name :" fields are left alone
($code) = send_mail($dlp, %env, data => "Subject: hi\n there\nX-Obs : yes\n\nbody\n");
is($code, 250, 'continuation lines and "Name :" fields pass');
@m = $sink->wait_messages(1);
like($m[0]{body} // '', qr/^X-Filter-Loop: Reflected\nSubject: hi\n there\nX-Obs : yes\n\nbody\n\z/,
    'unchanged');
$sink->clear;
ok($dlp->stop, 'dlpgate stops');

# reject: 554 5.6.0, nothing goes on
$dlp = start_detect(sink => $sink, policies => $policies,
    conf => { non_header_line_action => 'reject' });
($code, $text) = send_mail($dlp, %env, data => "Subject: hi\nbad header: x\n\nbody\n");
like($text, qr/^554 5\.6\.0 .*not terminated by an empty line/, 'reject: 554 5.6.0');
like($dlp->wait_log(qr/1008 message rejected/) // '', qr/reply="554 5\.6\.0/, 'logged');
($code) = send_mail($dlp, %env, data => "Subject: hi\n\nbody\n");
is($code, 250, 'a well-formed message still passes');
is(scalar(@m = $sink->wait_messages(1)), 1, 'only it reached the next hop');
ok($dlp->stop, 'dlpgate stops');
done_testing;
