#!/usr/bin/perl
# TNEF (winmail.dat, application/ms-tnef), as Exchange and Outlook send
# rich-text mail, opened the way Outlook and the TNEF readers read it: its
# attachments (text, docx, xlsx, an attached message), its compressed RTF
# and HTML bodies, its subject and string properties in 8-bit code pages
# and UTF-16. The fixtures are written by t/fixtures/tnef/make-tnef.pl;
# the readers Debian has, tnef(1) and ytnef, are the oracle: what they
# extract from a fixture, dlpgate finds in it too. Hostile streams end as
# unscannable, never as a crash or a hang. End to end through smtp-sink
# with blocking policies and unscannable_action = block, and with dlpscan,
# which must agree.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Path qw(make_path);
use MIME::Base64 qw(encode_base64);
use Test::More;
use DlpTest;
use DlpDetect;

# one policy per marker word, the card, and *.xlsx attachments
my @birds = qw(falcon osprey harrier merlin kestrel buzzard);
my $policies = "policies = (\n" . join(",\n", (map {
    sprintf('  { name = "%s"; rules = ( { type = "keyword"; keywords = ["%s"]; look_in = ["all"]; } ); action = "block"; }', $_, $_)
} @birds),
    "  { name = \"cyrillic\"; rules = ( { type = \"keyword\"; keywords = [\"\xd1\x81\xd0\xbe\xd0\xba\xd0\xbe\xd0\xbb\"]; look_in = [\"all\"]; } ); action = \"block\"; }",
    '  { name = "xlsx"; rules = ( { type = "attachment"; names = ["*.xlsx"]; } ); action = "block"; }',
    '  { name = "card"; rules = ( { type = "identifier"; identifier = "credit_card"; look_in = ["all"]; } ); action = "block"; }')
    . "\n);\n";

my $sink = start_sink();
my $dlp = start_detect(policies => $policies, sink => $sink, conf => { unscannable_action => 'block' });
my $fix = top_dir() . "/t/fixtures/tnef";

# message - a rich-text mail as Outlook sends it: a plain body, and winmail.dat
sub message {
    my ($tnef, $type) = @_;
    return mime_message(from => 'a@example.com', to => 'b@example.net', subject => 'numbers',
        parts => [{ body => "see attached\n", disposition => 'inline' },
                  { type => $type // 'application/ms-tnef', filename => 'winmail.dat', body => $tnef,
                    encoding => 'base64' }]);
}

# check - one case, end to end and with dlpscan
sub check { check_outcome($dlp, @_) }

# ---- what is inside ------------------------------------------------------------
check('a card in a text attachment (attAttachData)', message(slurp("$fix/card-text.dat")), 'card');
check('a card in a Word document in winmail.dat', message(slurp("$fix/card-docx.dat")), 'card,falcon');
check('a card in an Excel sheet, named by PR_ATTACH_LONG_FILENAME for attachment rules',
    message(slurp("$fix/card-xlsx.dat")), 'card,falcon,xlsx');
check('a card in the compressed RTF body (PR_RTF_COMPRESSED)', message(slurp("$fix/card-rtf.dat")), 'card');
check('a card in an attachment of an attached message (PR_ATTACH_DATA_OBJ)',
    message(slurp("$fix/card-embedded.dat")), 'card');
check('a card in a UTF-16 named property (Keywords)', message(slurp("$fix/card-unicode.dat")), 'card');
check('a word in attBody, code page 1251 (attOemCodepage)', message(slurp("$fix/card-cp1251.dat")),
    'cyrillic');
check('every place at once: subject, attBody, RTF, HTML, attachments, attached message',
    message(slurp("$fix/mail.dat")), 'buzzard,card,falcon,harrier,kestrel,merlin,osprey,xlsx');
check('a wrong attribute checksum: read on, as tnef --ignore-checksum does',
    message(slurp("$fix/badsum.dat")), 'card');
check('winmail.dat sent as application/octet-stream: opened by its signature',
    message(slurp("$fix/card-text.dat"), 'application/octet-stream'), 'card');
check('winmail.dat in a zip', message(zip_bytes('mail/winmail.dat' => slurp("$fix/card-rtf.dat")),
    'application/zip'), 'card');

# ---- hostile ----------------------------------------------------------------
check('an attribute length past the end: what is there is read, and named',
    message(slurp("$fix/hostile-length.dat")),
    qr/^card; unscannable: broken TNEF winmail\.dat \(attribute 0x0006800f of 4294967280 bytes past the end at byte \d+\)$/);
check('4294967295 MAPI properties in a few bytes', message(slurp("$fix/hostile-count.dat")),
    qr/^unscannable: broken TNEF winmail\.dat \(4294967295 MAPI properties in 12 bytes at byte \d+\)$/);
check('a property of 1,000,000,000 values', message(slurp("$fix/hostile-values.dat")),
    qr/^unscannable: broken TNEF winmail\.dat \(1000000000 values of property 0x6001 /);
check('attached messages nested 40 deep: the depth limit', message(slurp("$fix/hostile-deep.dat")),
    qr/^unscannable: detector_depth_limit \(20\) reached in attachment level \d+ in level \d+$/);
check('a stream cut in the middle of an attachment', message(slurp("$fix/hostile-cut.dat")),
    qr/^unscannable: broken TNEF winmail\.dat \(attribute 0x0006800f of \d+ bytes past the end/);
check('a signature and then nothing that is TNEF', message("\x78\x9f\x3e\x22\x01\x00" . ("\0" x 40)),
    'unscannable: broken TNEF winmail.dat (attribute level 0 at byte 6)');
{
    # 5,000 attachments of nothing: the part limit, quickly
    my $attr = sub { my ($l, $id, $d) = @_;
        pack('C V V', $l, $id, length $d) . $d . pack('v', unpack('%16C*', $d)) };
    my $many = pack('V v', 0x223E9F78, 1) . join('', map { $attr->(2, 0x00069002, pack('v V v v V', 1, -1, 0, 0, 0))
        . $attr->(2, 0x00018010, "f$_.txt\0") } 1 .. 5000);
    check('5,000 attachments: the part limit', message($many),
        qr/^unscannable: .*detector_part_limit \(1000\) reached in attachment winmail\.dat/);
}

# ---- the oracle: what tnef(1) and ytnef extract, dlpgate finds ---------------
my $dir = $dlp->{dir};
my $n = 0;
# extracted - what tnef(1) and ytnef read in a TNEF stream: every file they
# write (attachments, the RTF, HTML and text bodies), and the strings of the
# attributes and properties that tnef --debug shows (the subject, Unicode
# properties); as the parts of a message
sub extracted {
    my ($file) = @_;
    my ($a, $b) = ("$dir/x" . ++$n . "-tnef", "$dir/x$n-ytnef");
    make_path($a, $b);
    my ($rc1) = run_cmd('tnef', '-f', $file, '-C', $a, '--save-body=body', '--body-pref=all');
    my ($rc2) = run_cmd('ytnef', '-f', $b, '-F', '-H', $file);
    my ($rc3, $debug) = run_cmd('tnef', '--debug', '-t', '-f', $file);
    my $strings = join("\n", $debug =~ /= ?'(.*)'$/mg) . "\n";
    my @parts = ({ type => 'text/plain; charset=utf-8', filename => 'strings.txt', body => $strings,
                   encoding => 'base64' });
    for my $f (sort glob("$a/* $b/*")) {
        (my $base = $f) =~ s{.*/}{};
        push @parts, { type => 'application/octet-stream', filename => $base, body => slurp($f),
                       encoding => 'base64' };
    }
    return ($rc1 + $rc2 + $rc3, scalar @parts, mime_message(from => 'a@example.com',
        to => 'b@example.net', subject => 'extracted', parts => \@parts));
}
for my $f (qw(mail.dat card-text.dat card-docx.dat card-xlsx.dat card-rtf.dat card-embedded.dat
              card-unicode.dat)) {
    my ($rc, $nparts, $msg) = extracted("$fix/$f");
    is($rc, 0, "$f: tnef and ytnef read it ($nparts parts)");
    my (undef, $oracle) = outcome($dlp, $msg);
    my (undef, $ours) = outcome($dlp, message(slurp("$fix/$f")));
    is($ours, $oracle, "$f: dlpgate finds in winmail.dat what tnef and ytnef read in it ($oracle)");
}
{
    # the names tnef -t lists are the names attachment rules see
    my ($rc, $out) = run_cmd('tnef', '-t', '-f', "$fix/mail.dat");
    my @names = map { (split /\t\|\t/)[0] } grep { length } split /\n/, $out;
    is(scalar @names, 3, 'tnef lists the three attachments of mail.dat');
    my $etc = "$dir/names-etc";
    make_path($etc);
    spit("$etc/dlpgate.conf", slurp("$dir/etc/dlpgate.conf"));
    my $i = 0;
    spit("$etc/policies.conf", "policies = (\n" . join(",\n", map {
        (my $g = $_) =~ s/([*?\[\]\\])/\\$1/g;
        sprintf('  { name = "n%d"; rules = ( { type = "attachment"; names = ["%s"]; } ); action = "block"; }', $i++, $g)
    } @names, 'absent.bin') . "\n);\n");
    my $file = "$dir/names.eml";
    spit($file, message(slurp("$fix/mail.dat")));
    my (undef, $scan) = dlpscan('-c', $etc, $file);
    my @fired = sort $scan =~ /^\s+policy (\S+):/mg;
    is("@fired", join(' ', map { "n$_" } 0 .. $#names), "attachment rules see the names tnef lists (@names)");
}

unlike($dlp->log, qr/5004 child exited abnormally.*detector/, 'no detector died');
ok($dlp->stop, 'dlpgate stops');
done_testing;
