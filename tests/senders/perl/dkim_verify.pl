#!/usr/bin/perl
# Verify the DKIM signature of the message on stdin with Mail::DKIM (an implementation
# independent of dkimpy), fetching the key from the DNS server at 127.0.0.1:$ARGV[0].
# Prints "<result> <detail>", e.g. "pass" or "fail (body has been altered)".
use strict;
use warnings;
use Net::DNS::Resolver;
use Mail::DKIM::DNS;
use Mail::DKIM::Verifier;

my $port = shift or die "usage: dkim_verify.pl PORT < message\n";
my $res = Net::DNS::Resolver->new(nameservers => ['127.0.0.1'], port => $port, recurse => 1,
                                  udp_timeout => 3, tcp_timeout => 3, retry => 1, usevc => 0);
Mail::DKIM::DNS::resolver($res);
my $dkim = Mail::DKIM::Verifier->new();
binmode STDIN;
while (my $line = <STDIN>) {
    $line =~ s/\015?\012\z//;
    $dkim->PRINT("$line\015\012");
}
$dkim->CLOSE();
print $dkim->result_detail(), "\n";
