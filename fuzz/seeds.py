#!/usr/bin/env python3
"""Writes the seed corpus in fuzz/corpus/<target>/ (checked in).

Run from anywhere: `python3 fuzz/seeds.py`. The header bytes each target
reads first are documented at the top of its fuzz_targets/<target>.rs.
"""
import base64
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def b64(raw: bytes) -> bytes:
    return base64.b64encode(raw)


def write(target, name, data: bytes):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- session
# header: config, extensions, policy u32 LE, sink, cut count, cuts
def session(config=0, ext=0, policy=0, sink=0, cuts=b"\x01\x43\x02\x81"):
    return bytes([config, ext]) + struct.pack("<I", policy) + bytes([sink, len(cuts)]) + cuts


PKT = b"\xff\xfe"  # packet boundary (a STARTTLS handshake may complete here)

PLAIN = b64(b"\0alice\0secret")
XOAUTH2 = b64(b"user=alice\x01auth=Bearer ya29.token\x01\x01")
OAUTHBEARER = b64(b"n,a=alice,\x01host=mx\x01auth=Bearer ya29.token\x01\x01")

SMUGGLE_SEQS = [
    b"\n.\n", b"\n.\r", b"\r.\n", b"\r.\r", b"\n.\r\n", b"\r.\r\n",
    b"\r\n.\n", b"\r\n.\r", b"\r\n.\r\r\n", b"\r\r\n.\r\r\n", b"\r\n\x00.\r\n",
]


def smuggling(seqs):
    out = b"EHLO client.test\r\n"
    for seq in seqs:
        out += (b"MAIL FROM:<legit@a.test>\r\nRCPT TO:<rcpt@b.test>\r\nDATA\r\n"
                + b"Subject: legit\r\n\r\nfirst body" + seq
                + b"MAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<rcpt@b.test>\r\nDATA\r\n"
                + b"Subject: SMUGGLED\r\n\r\nsmuggled body\r\n.\r\n")
    return out + b"QUIT\r\n"


write("session", "basic-dotstuff", session() +
      b"EHLO client.example\r\n"
      b"MAIL FROM:<alice@example.com> SIZE=120 BODY=8BITMIME\r\n"
      b"RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+2B1@example.net\r\n"
      b"RCPT TO:<Postmaster>\r\n"
      b"DATA\r\n"
      b"From: alice@example.com\r\nSubject: dots\r\n\r\n..leading dot\r\n.\r\n..\r\nend\r\n.\r\n"
      b"RSET\r\nNOOP hi\r\nVRFY bob\r\nQUIT\r\n")
write("session", "pipelined-utf8", session(ext=0, cuts=b"\x3f\xff") +
      b"EHLO [192.0.2.1]\r\nMAIL FROM:<j\xc3\xb6rg@b\xc3\xbccher.example> SMTPUTF8 RET=HDRS ENVID=QQ314159+2B1\r\n"
      b"RCPT TO:<\"john doe\"@example.com>\r\nRCPT TO:<@relay.example:user@[IPv6:2001:db8::1]>\r\n"
      b"DATA\r\nSubject: caf\xc3\xa9\r\n\r\nbody\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<a@b.test>\r\nDATA\r\n.\r\nQUIT\r\n")
write("session", "auth-plain-login", session(config=0x03) +
      b"EHLO client.example\r\nAUTH PLAIN\r\n*\r\n"
      b"AUTH LOGIN " + b64(b"alice") + b"\r\n*\r\n"
      b"AUTH PLAIN =\r\nAUTH CRAM-MD5\r\n"
      b"AUTH LOGIN\r\n" + b64(b"alice") + b"\r\n" + b64(b"secret") + b"\r\n"
      b"AUTH PLAIN " + PLAIN + b"\r\nMAIL FROM:<a@b.test> AUTH=<>\r\nRSET\r\nQUIT\r\n")
write("session", "auth-oauth", session(config=0x03, policy=0x000000B0) +
      b"EHLO client.example\r\nAUTH XOAUTH2 " + XOAUTH2 + b"\r\n\r\n"
      b"AUTH OAUTHBEARER " + OAUTHBEARER + b"\r\n"
      b"AUTH XOAUTH2\r\n" + XOAUTH2 + b"\r\nQUIT\r\n")
write("session", "starttls-injection", session(config=0x05) +
      b"EHLO client.example\r\nSTARTTLS\r\nMAIL FROM:<injected@evil.test>\r\nRCPT TO:<x@y.test>\r\n" + PKT +
      b"MAIL FROM:<a@b.test>\r\nEHLO client.example\r\nSTARTTLS\r\n"
      b"AUTH PLAIN " + PLAIN + b"\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.net>\r\n"
      b"DATA\r\nhi\r\n.\r\nQUIT\r\n")
write("session", "bdat-binarymime", session(cuts=b"\x02\x01") +
      b"EHLO client.example\r\nMAIL FROM:<a@b.test> BODY=BINARYMIME\r\nRCPT TO:<c@d.test>\r\n"
      b"BDAT 10\r\n0123\n56789BDAT 5 LAST\r\nab\r\n.RSET\r\n"
      b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nBDAT 0 LAST\r\n"
      b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nBDAT 3\r\nabcDATA\r\nBDAT 99999999999 LAST\r\nxyz\r\nQUIT\r\n")
write("session", "smuggling-strict", session() + smuggling(SMUGGLE_SEQS))
write("session", "smuggling-normalize", session(config=0x20, cuts=b"") + smuggling(SMUGGLE_SEQS[:6]))
write("session", "lmtp-record", session(config=0x48, sink=0x02) +
      b"LHLO client.example\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<one@c.test>\r\nRCPT TO:<two@c.test>\r\n"
      b"DATA\r\nbare\nlf and \x00 nul\r\n.\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<one@c.test>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n")
write("session", "limits-errors", session(config=0x10, policy=0x0E0C0B00) +
      b"HELO client\r\nEHLO " + b"a" * 80 + b".test\r\nMAIL FROM:<a@b.test>\r\n"
      b"RCPT TO:<1@c.test>\r\nRCPT TO:<2@c.test>\r\nRCPT TO:<3@c.test>\r\nDATA\r\n" + b"y" * 90 + b"\r\n" + b"z" * 300 + b"\r\n.\r\n"
      b"FROB\r\nNOOP\n\x00\r\nMAIL FROM:foo\r\nHELP\r\nEXPN list\r\nTURN\r\nDATA\r\nRCPT TO:<x@y>\r\nQUIT\r\n")

# ---------------------------------------------------------------- command
write("command", "dialogue",
      b"EHLO client.example\r\nHELO [127.0.0.1]\r\nLHLO lmtp.example\r\n"
      b"MAIL FROM:<alice@example.com> SIZE=1000 BODY=8BITMIME\r\nMAIL FROM:<>\r\nmail from: bare@example.com\r\n"
      b"RCPT TO:<Postmaster>\r\nRCPT TO:<bob@example.net> NOTIFY=NEVER ORCPT=rfc822;bob@example.net\r\n"
      b"DATA\r\nBDAT 100\r\nBDAT 0 LAST\r\nRSET\r\nNOOP anything\r\nQUIT\r\nVRFY bob\r\nEXPN staff\r\nHELP\r\nHELP mail\r\nSTARTTLS")
write("command", "auth", b"AUTH PLAIN " + PLAIN + b"\r\nAUTH LOGIN\r\nAUTH XOAUTH2 " + XOAUTH2 + b"\r\nAUTH OAUTHBEARER =\r\nAUTH PLAIN a b")
write("command", "errors",
      b"FROB\r\n\r\n HELO x\r\nTURN\r\nETRN example.com\r\nXCLIENT ADDR=1.2.3.4\r\nDATA now\r\nMAIL <a@b.c>\r\n"
      b"MAIL FROM:<foo@@bar>\r\nRCPT TO:<a@b.c> FOO=BAR\r\nMAIL FROM:<a@b.c>SIZE=10\r\nBDAT 99999999999999999999999\r\n"
      b"EHLO a\x00b\r\nHELO exa\xcc\x88mple.com\r\nMAIL FROM:<\xff@a.b>\r\n" + b"X" * 40)
write("command", "utf8", "MAIL FROM:<üser@exämple.com> SMTPUTF8\r\nRCPT TO:<дмитрий@пример.рф>".encode())

# ---------------------------------------------------------------- address
write("address", "paths",
      "<foo@example.com> SIZE=100\n<>\n<Postmaster>\n<postmaster>\nfoo@example.com\n"
      "<\"john \\\"q\\\" doe\"@example.com>\n<@a.example,@b.example:user@example.com>\n"
      "<user@[192.0.2.1]>\n<user@[IPv6:2001:db8::1]>\n<user@[x-tag:content]>\n"
      "<üser@exämple.com>\n<a.b+c@sub_domain.example>\n<foo@example.com\n<a@b@c>".encode())
write("address", "domains", "example.com\n[127.0.0.1]\n[IPv6:::ffff:1.2.3.4]\nexample..com\n[300.1.1.1]\nbücher.example\n-bad.example".encode())
write("address", "mail-params", b" SIZE=1000 BODY=8BITMIME SMTPUTF8 AUTH=<> RET=HDRS ENVID=QQ314159+2B1\nBODY=BINARYMIME\nSIZE=-1\nFNORD=INVALID\n=x")
write("address", "rcpt-params", " NOTIFY=failure,Success ORCPT=rfc822;b+2Bfoo@example.com\nNOTIFY=NEVER ORCPT=utf-8;\\x{E9}t\\x{E9}@example.com\nNOTIFY=NEVER,DELAY\nORCPT=rfc822;a+0Db".encode())

# ---------------------------------------------------------------- data
# header: config, cut count, cuts, size count, BDAT chunk sizes
def data(config=0, cuts=b"\x01\x02\x00", sizes=b"\x05\x10"):
    return bytes([config, len(cuts)]) + cuts + bytes([len(sizes)]) + sizes


write("data", "stuffed", data() + b"Subject: hi\r\n\r\n..dots\r\n.\r\n..\r\nlast\r\n.\r\nQUIT\r\n")
write("data", "empty", data(cuts=b"\x00") + b".\r\nMAIL FROM:<a@b>\r\n")
write("data", "smuggling", data(config=0x80 | 0x20) + b"first body" + b"".join(s + b"x" for s in SMUGGLE_SEQS) + b"\r\n.\r\n")
write("data", "bare-endings", data(config=0x11, cuts=b"\x41") + b"line\nline\rline\r\r\n.\r\r\n.\n\x00\xe9\r\n.\r")
write("data", "bdat-chunks", data(config=0x03 | 0x10, sizes=b"\x03\x00\xc1\xff") + b"abc" + b"\r\n" * 40)

# ---------------------------------------------------------------- proxy
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
write("proxy", "v1-tcp4", b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\nEHLO client.example\r\n")
write("proxy", "v1-tcp6", b"PROXY TCP6 2001:db8::1 2001:db8::2 56324 00025\r\n")
write("proxy", "v1-unknown", b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n")
write("proxy", "v2-tcp4-tlv", SIG + b"\x21\x11" + struct.pack(">H", 12 + 7) + bytes([192, 0, 2, 1, 198, 51, 100, 2])
      + struct.pack(">HH", 56324, 25) + b"\x04\x00\x04abcd" + b"EHLO x\r\n")
write("proxy", "v2-tcp6", SIG + b"\x21\x21" + struct.pack(">H", 36) + bytes(range(16)) + bytes(range(16, 32))
      + struct.pack(">HH", 1, 25))
write("proxy", "v2-local-unix", SIG + b"\x20\x00\x00\x00" + SIG + b"\x21\x31" + struct.pack(">H", 216) + b"\x00" * 216)

# ---------------------------------------------------------------- reply
write("reply", "ehlo", b"250-mx.example.com Hello\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n"
      b"250-ENHANCEDSTATUSCODES\r\n250-AUTH PLAIN LOGIN\r\n250 CHUNKING\r\n")
write("reply", "enhanced", b"550-5.7.1 refused\r\n550 5.7.1 go away\r\n250 2.1.0 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
      b"421 4.7.0 closing\r\n334 VXNlcm5hbWU6\r\n250\r\n")
write("reply", "malformed", b"25\r\n2500 x\r\n250-a\r\n251 b\r\n999 x\r\n\xff\xfe\r\n550 2.0.0 mismatch\r\n")

# ---------------------------------------------------------------- reply_reader
# header: max_line byte (6 + 4b), max_lines byte (1 + b % 16), counted cuts
write("reply_reader", "ehlo", bytes([128, 15, 2, 0x01, 0x45])
      + b"220 mx.example ESMTP\r\n250-mx.example Hello\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n"
      b"250-8BITMIME\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250-DSN\r\n250-STARTTLS\r\n"
      b"250-AUTH PLAIN LOGIN\r\n250-AUTH=LOGIN\r\n250-X-EXT a b\r\n250 ENHANCEDSTATUSCODES\r\n")
write("reply_reader", "limits", bytes([4, 2, 1, 0x02])
      + b"250-a\r\n250 b\r\n354 go\r\n250-x\r\n250-y\r\n250 z\r\n")
write("reply_reader", "long-line", bytes([2, 3, 0]) + b"250 " + b"x" * 40 + b"\r\n")

# ---------------------------------------------------------------- message_model
# a received message, whole: summary, detail, HTML, attachments
write("message_model", "plain",
      b"From: a@example.com\r\nTo: b@example.com\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\n\r\nHello\r\n")
write("message_model", "alternative",
      b"Subject: alt\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
      b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain\r\n"
      b"--b1\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b1--\r\n")
write("message_model", "attachments",
      b"Subject: files\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
      b"--m\r\nContent-Type: application/pdf; name*0=\"rep\"; name*1=\"ort.pdf\"\r\n"
      b"Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n"
      b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
      b"--m\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--m--\r\n")
write("message_model", "encoded-rfc822",
      b"Subject: fwd\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      + b64(b"Subject: inner\nContent-Type: message/rfc822\n\nSubject: x\n\nx\n") + b"\r\n")
write("message_model", "digest",
      b"Subject: d\r\nContent-Type: multipart/digest; boundary=d\r\n\r\n"
      b"--d\r\n\r\nSubject: one\r\n\r\n1\r\n--d\r\n\r\nSubject: two\r\n\r\n2\r\n--d--\r\n")
write("message_model", "deep-rfc822",
      b"Subject: deep\r\n" + b"Content-Type: message/rfc822\r\n\r\n" * 40 + b"Subject: x\r\n\r\nx\r\n")
write("message_model", "deep-multipart",
      b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(40))
      + b"\r\nleaf\r\n")
write("message_model", "rfc2231",
      b"Subject: p\r\nContent-Type: text/plain; " + b"; ".join(b"n*%d=a" % i for i in range(300))
      + b"\r\n\r\nbody\r\n")
