#!/usr/bin/perl
# Containers, opened all the way down: every member of every archive
# libarchive reads (zip, 7z, tar, gzip, bzip2, xz, rar), Office documents'
# members that are not XML, archives with bytes in front or found by name,
# and members that cannot be read named in the reason. Each message goes
# end to end (client -> dlpgate -> smtp-sink) with blocking policies and
# unscannable_action = block, and through dlpscan, which must agree.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Compress::Zip qw(zip $ZipError);
use IO::Compress::Gzip qw(gzip);
use Compress::Zlib qw(crc32);
use DlpTest;
use DlpDetect;

my $policies = <<'EOF';
policies = (
  { name = "falcon"; rules = ( { type = "keyword"; keywords = ["falcon"]; look_in = ["all"]; } );
    action = "block"; reply = "550 5.7.1 found falcon"; },
  { name = "card"; rules = ( { type = "identifier"; identifier = "credit_card"; look_in = ["all"]; } );
    action = "block"; reply = "550 5.7.1 found card"; },
  { name = "exe"; rules = ( { type = "attachment"; types = ["executable"]; } );
    action = "block"; reply = "550 5.7.1 found executable"; }
);
EOF

my $sink = start_sink();
my $dlp = start_detect(policies => $policies, sink => $sink, conf => {
    unscannable_action => 'block', detector_part_limit => 1000, message_size_limit => '40m',
    detector_decoded_size_limit => '8m' });
my $tmp = test_dir();
my $fix = top_dir() . "/t/fixtures/office";
my $CARD = "4111 1111 1111 1111";

# run - a shell command in the scratch directory, or die
sub run { my ($cmd) = @_; system("cd $tmp && $cmd") == 0 or die "$cmd: $?"; }

# message - one attachment, base64
sub message {
    my ($name, $body, $type) = @_;
    return mime_message(from => 'a@example.com', to => 'b@example.net', subject => "att $name",
        parts => [{ body => "see attached\n", disposition => 'inline' },
                  { type => $type // 'application/octet-stream', filename => $name, body => $body,
                    encoding => 'base64' }]);
}

# check - one case, end to end and with dlpscan
sub check { check_outcome($dlp, @_) }

# tar_entry - one ustar (or v7) header and its data, made by hand so that any
# type flag can be tested: 0 file, 2 symlink, 3 character device
sub tar_entry {
    my (%e) = @_;
    my $data = $e{data} // '';
    my $h = pack('a100 a8 a8 a8 a12 a12 a8 a1 a100', $e{name}, "0000644", "0000000", "0000000",
        sprintf("%011o", length $data), "00000000000", ' ' x 8, $e{type} // '0', $e{link} // '');
    $h .= $e{v7} ? '' : pack('a6 a2', "ustar", "00");
    $h .= "\0" x (512 - length $h);
    my $sum = 0;
    $sum += $_ for unpack('C*', $h);
    substr($h, 148, 8) = sprintf("%06o\0 ", $sum);
    return $h . $data . ("\0" x ((512 - length($data) % 512) % 512));
}
sub tar_bytes { return join('', @_) . ("\0" x 1024) }

# rar_block - one RAR 4 block: its CRC (low 16 bits of CRC-32), type, flags, size
sub rar_block {
    my ($type, $flags, $rest) = @_;
    my $body = pack('C v v', $type, $flags, 7 + length $rest) . $rest;
    return pack('v', crc32($body) & 0xffff) . $body;
}

# rar4_bytes - a RAR 4 archive of stored members, made by hand: Debian has
# no program that writes RAR, and libarchive reads it
sub rar4_bytes {
    my (@m) = @_;
    my $out = "Rar!\x1a\x07\x00" . rar_block(0x73, 0, pack('v V', 0, 0));
    for (my $i = 0; $i < @m; $i += 2) {
        my ($name, $data) = @m[$i, $i + 1];
        # packed and unpacked size, Unix, CRC, DOS time, version 2.0, stored
        my $h = pack('V V C V V C C v V', length $data, length $data, 3, crc32($data),
            0x5a210000, 20, 0x30, length $name, 0x81a4) . $name;
        $out .= rar_block(0x74, 0x8000, $h) . $data;
    }
    return $out . rar_block(0x7b, 0x4000, '');
}

# ---- the Office members that were skipped ---------------------------------
check('zip whose first member is named mimetype: later members are scanned',
    message('a.zip', zip_bytes('mimetype' => 'application/vnd.oasis.opendocument.text',
        'secret.txt' => "card $CARD\n")), 'card');
check('zip with [Content_Types].xml: a binary member is scanned',
    message('b.zip', zip_bytes('[Content_Types].xml' => '<Types/>', 'word/document.xml' => '<w:p/>',
        'word/media/blob.bin' => "\0\1\2 card $CARD \3")), 'card');
check('docx from LibreOffice whose card is only in an embedded workbook',
    message('embedded.docx', slurp("$fix/embedded.docx")), 'card,falcon');
check('xlsx from LibreOffice: shared strings and numbers',
    message('sheet.xlsx', slurp("$fix/sheet.xlsx")), 'card,falcon');
check('ods from LibreOffice', message('sheet.ods', slurp("$fix/sheet.ods")), 'card,falcon');
check('odp from LibreOffice', message('slides.odp', slurp("$fix/slides.odp")), 'card,falcon');
check('pptx from LibreOffice', message('slides.pptx', slurp("$fix/slides.pptx")), 'card,falcon');

# ---- archives found where unzip finds them ---------------------------------
my $zip = zip_bytes('inner/secret.txt' => "card $CARD\n");
check('self-extractor: an executable stub in front of the zip',
    message('setup.bin', "MZ\x90\0" . ("\x5a\x00\xff" x 3000) . $zip), 'card,exe');
check('zip behind a PNG (polyglot)',
    message('photo.png', "\x89PNG\r\n\x1a\n" . ("\0\x10\x20" x 500) . $zip, 'image/png'), 'card');
my $commented;
zip(\"card $CARD\n" => \$commented, Name => 'c.txt', ZipComment => ('x' x 20000), Minimal => 1)
    or die $ZipError;
check('zip with bytes in front and a 20 KB comment behind its directory',
    message('c.zip', "junk in front\n" . $commented), 'card');
my $said;
zip(\"nothing here\n" => \$said, Name => 'n.txt', ZipComment => 'the falcon lands', Minimal => 1)
    or die $ZipError;
check('the zip comment is content', message('n.zip', $said), 'falcon');
{
    # a local entry between the listed ones and the directory: unzip lists
    # a.txt only, a streaming reader finds secret.txt too
    my ($z1, $z2) = (zip_bytes('a.txt' => "hello\n"), zip_bytes('secret.txt' => "card $CARD\n"));
    my ($cd1) = unpack('V', substr($z1, -6, 4));
    my ($cd2) = unpack('V', substr($z2, -6, 4));
    my $hidden = substr($z1, 0, $cd1) . substr($z2, 0, $cd2) . substr($z1, $cd1);
    substr($hidden, -6, 4) = pack('V', $cd1 + $cd2);
    check('a local entry the central directory does not list', message('h.zip', $hidden), 'card');
}
check('a text file with a zip behind it',
    message('notes.txt', "plain notes\n" x 50 . $zip, 'text/plain'), 'card');

check('a PDF in a zip: its reader runs inside the archive\'s',
    message('report.zip', zip_bytes('report.pdf' => slurp(top_dir() . "/t/fixtures/pdf/lo-odt.pdf"))),
    'card,falcon');

# ---- other formats, made by their own tools -------------------------------
spit("$tmp/secret.txt", "card $CARD\n");
run("tar czf s.tgz secret.txt && tar cjf s.tbz secret.txt && tar cJf s.txz secret.txt");
check('tar.gz', message('s.tgz', slurp("$tmp/s.tgz")), 'card');
check('tar.bz2', message('s.tbz', slurp("$tmp/s.tbz")), 'card');
check('tar.xz', message('s.txz', slurp("$tmp/s.txz")), 'card');
my $zgz;
gzip(\("\0" x 4096 . "card $CARD\n") => \$zgz) or die;
check('gzip of a file that starts with zero blocks (an empty tar to a tar reader)',
    message('z.gz', $zgz), 'card');
spit("$tmp/plain.tar", tar_bytes(tar_entry(name => 'a.txt', data => "hello\n")) . "card $CARD\n");
check('data behind a tar\'s end', message('t.tar', slurp("$tmp/plain.tar")), 'card');
# the members are gzip files: only a reader that opened the RAR sees text
my ($gz_card, $gz_falcon);
gzip(\"card $CARD\n" => \$gz_card) or die;
gzip(\"falcon\n" => \$gz_falcon) or die;
check('rar: its second member read', message('s.rar', rar4_bytes('notes.txt' => "hello\n",
    'secret.txt.gz' => $gz_card)), 'card');
check('rar under another name, known by its magic', message('report.dat',
    rar4_bytes('a/b.txt.gz' => $gz_falcon)), 'falcon');
SKIP: {
    skip '7z (p7zip-full) not installed', 4 unless -x '/usr/bin/7z';
    run("7z a -bd -y s.7z secret.txt >/dev/null");
    check('7z', message('s.7z', slurp("$tmp/s.7z")), 'card');
    # three formats deep: a 7z in a tar.gz in a zip
    run("tar czf deep.tgz s.7z");
    check('7z in a tar.gz in a zip', message('deep.zip', zip_bytes('deep.tgz' => slurp("$tmp/deep.tgz"))), 'card');
}
check('a tar without magic (v7), known by its name: the executable inside is seen',
    message('tools.tar', tar_bytes(tar_entry(name => 'setup.exe', data => "MZ\x90\0\3\0\0\0\4\0\0\0\xff\xff" . ("\0" x 100),
        v7 => 1))), 'exe');

# ---- members that cannot be read are named ----------------------------------
check('symbolic link member: flagged with its name, its target scanned',
    message('l.tar', tar_bytes(tar_entry(name => 'notes.txt', data => "hello\n"),
        tar_entry(name => 'link', type => '2', link => '../falcon.txt'))),
    'falcon; unscannable: symlink tar member link');
check('symbolic link member: flagged with its name',
    message('l2.tar', tar_bytes(tar_entry(name => 'notes.txt', data => "hello\n"),
        tar_entry(name => 'dir/link', type => '2', link => '../other.txt'))),
    'unscannable: symlink tar member dir/link');
check('device member: flagged with its name',
    message('d.tar', tar_bytes(tar_entry(name => 'dev/tty9', type => '3'),
        tar_entry(name => 'ok.txt', data => "hello\n"))), 'unscannable: device tar member dev/tty9');
SKIP: {
    skip 'zip(1) not installed', 2 unless -x '/usr/bin/zip';
    spit("$tmp/secret.xlsx", "not really a workbook\n");
    spit("$tmp/readme.txt", "open with the password from the phone call\n");
    run("zip -q -P pw enc.zip secret.xlsx && zip -q enc.zip readme.txt");
    check('encrypted zip member: the reason names it', message('enc.zip', slurp("$tmp/enc.zip")),
        'unscannable: encrypted zip member secret.xlsx');
}
check('password-protected OpenDocument: named in the reason',
    message('secret.odt', zip_bytes('mimetype' => 'application/vnd.oasis.opendocument.text',
        'META-INF/manifest.xml' => '<manifest:manifest><manifest:file-entry manifest:full-path="content.xml">'
            . '<manifest:encryption-data manifest:checksum-type="SHA1"/></manifest:file-entry></manifest:manifest>',
        'content.xml' => "\x8f\x12\xa0 not xml at all \x01\x02")),
    'unscannable: encrypted OpenDocument secret.odt');
check('corrupt zip: the reason names the attachment', message('bad.zip', "PK\x03\x04" . ("\xff" x 300)),
    qr/^unscannable: (broken|encrypted) zip (archive|member) bad.zip/);

# ---- hostile containers end as unscannable, quickly -----------------------
# a zip64 with 100,000 empty members, made by hand
sub many_members {
    my ($count) = @_;
    my ($local, $cd) = ('', '');
    for my $i (0 .. $count - 1) {
        my $name = sprintf("f%06d", $i);
        $cd .= pack('V v v v v v v V V V v v v v v V V', 0x02014b50, 20, 20, 0, 0, 0, 0, 0, 0, 0,
            length $name, 0, 0, 0, 0, 0, length $local) . $name;
        $local .= pack('V v v v v v V V V v v', 0x04034b50, 20, 0, 0, 0, 0, 0, 0, 0, length $name, 0) . $name;
    }
    my $off = length $local;
    my $eocd64 = pack('V Q< v v V V Q< Q< Q< Q<', 0x06064b50, 44, 45, 45, 0, 0, $count, $count,
        length $cd, $off);
    my $loc = pack('V V Q< V', 0x07064b50, 0, $off + length $cd, 1);
    return $local . $cd . $eocd64 . $loc . pack('V v v v v V V v', 0x06054b50, 0, 0, 0xffff, 0xffff,
        0xffffffff, 0xffffffff, 0);
}
my $t0 = time;
check('zip with 100,000 members: unscannable at detector_part_limit',
    message('many.zip', many_members(100_000)),
    qr/^unscannable: .*detector_part_limit \(1000\) reached in attachment many\.zip/);
ok(time - $t0 < 60, 'and quickly (' . (time - $t0) . ' s for both)');
# a nested bomb: 16 zips of 16 MB of zeros each, in one zip
my $inner;
my $zeros = "\0" x (16 << 20);
zip(\$zeros => \$inner, Name => 'zeros.bin', Level => 9) or die $ZipError;
undef $zeros;
check('nested decompression bomb: unscannable at detector_decoded_size_limit',
    message('bomb.zip', zip_bytes(map { ("z$_.zip" => $inner) } 1 .. 16)),
    'unscannable: detector_decoded_size_limit (8388608 bytes) reached in attachment bomb.zip');
# a gzip bomb
my ($gz, $chunk) = ('', "\0" x (1 << 20));
my $z = IO::Compress::Gzip->new(\$gz, Level => 9) or die;
$z->print($chunk) for 1 .. 128;
$z->close;
check('gzip bomb: unscannable at detector_decoded_size_limit', message('zeros.gz', $gz),
    'unscannable: detector_decoded_size_limit (8388608 bytes) reached in attachment zeros.gz');

unlike($dlp->log, qr/5004 child exited abnormally.*detector/, 'no detector died');
ok($dlp->stop, 'dlpgate stops');
done_testing;
