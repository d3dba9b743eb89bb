#!/usr/bin/env python3
"""The protocol fixes of issue 9 item 9, checked against a running binary.

    python3 bench/redteam/protocol_fixes.py BINARY

Prints one line per check: the greeting, the final 250, EHLO with
`--disable 8bitmime`, AUTH PLAIN with a foreign authzid, MAIL without AUTH
under `--require-auth`, LMTP DATA without a recipient, and a UTF-8 command
in the transcript. Loopback only; each server is started on port 0 and
killed at the end.
"""

import base64
import json
import socket
import sys
import time
import urllib.request

import common


class Smtp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def reply(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    return " | ".join(lines) or "(closed)"
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode(errors="replace"))
            if line[3:4] != b"-":
                return " | ".join(lines)

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\r\n")
        return self.reply()


def run(binary, extra, body):
    try:
        proc, ports, _ = common.start(binary, ["--quiet", *extra], timeout=10)
    except common.StartFailed:
        return "(did not start: unknown flag?)"
    try:
        return body(ports)
    finally:
        common.stop(proc)


def greeting_and_250(ports):
    c = Smtp(ports["smtp"])
    greeting = c.reply()
    c.cmd("EHLO c.test")
    c.cmd("MAIL FROM:<a@a.test>")
    c.cmd("RCPT TO:<b@b.test>")
    c.cmd("DATA")
    final = c.cmd("Subject: x\r\n\r\nx\r\n.")
    return f"greeting {greeting!r}; final {final!r}"


def ehlo_without_8bitmime(ports):
    c = Smtp(ports["smtp"])
    c.reply()
    ehlo = c.cmd("EHLO c.test").split(" | ")
    offered = [k for k in ("8BITMIME", "SMTPUTF8", "BINARYMIME")
               if any(l.endswith(k) for l in ehlo)]
    return f"offered {offered}; MAIL SMTPUTF8 -> {c.cmd('MAIL FROM:<a@a.test> SMTPUTF8')!r}"


def foreign_authzid(ports):
    c = Smtp(ports["smtp"])
    c.reply()
    c.cmd("EHLO c.test")
    token = base64.b64encode(b"admin\0u\0p").decode()
    return f"AUTH PLAIN admin\\0u\\0p -> {c.cmd('AUTH PLAIN ' + token)!r}"


def mail_without_auth(ports):
    c = Smtp(ports["smtp"])
    c.reply()
    c.cmd("EHLO c.test")
    bad = base64.b64encode(b"\0u\0wrong").decode()
    c.cmd("AUTH PLAIN " + bad)
    return f"MAIL after a failed AUTH -> {c.cmd('MAIL FROM:<a@a.test>')!r}"


def lmtp_data_without_rcpt(ports):
    c = Smtp(ports["smtp"])
    c.reply()
    c.cmd("LHLO c.test")
    c.cmd("MAIL FROM:<a@a.test>")
    return f"DATA -> {c.cmd('DATA')!r}"


def utf8_transcript(ports):
    c = Smtp(ports["smtp"])
    c.reply()
    c.cmd("EHLO c.test")
    c.cmd("MAIL FROM:<s\u00e9nder@example.com> SMTPUTF8")
    c.cmd("QUIT")
    time.sleep(0.5)
    base = f"http://127.0.0.1:{ports['http']}/api/sessions"
    listing = json.load(urllib.request.urlopen(base))
    sessions = listing["sessions"] if isinstance(listing, dict) else listing
    first = sessions[0]
    entries = first.get("entries")
    if entries is None:
        entries = json.load(urllib.request.urlopen(f"{base}/{first['id']}"))["entries"]
    shown = [e["text"] for e in entries if e["text"].startswith("MAIL")]
    return f"transcript shows {shown}"


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    binary = sys.argv[1]
    auth = ["--auth", "u:p", "--allow-insecure-auth"]
    checks = [
        ("greeting, 250 (D4, D9)", [], greeting_and_250),
        ("--disable 8bitmime (D2)", ["--disable", "8bitmime"], ehlo_without_8bitmime),
        ("authzid (§14)", auth, foreign_authzid),
        ("--require-auth (§14, D3)", auth + ["--require-auth"], mail_without_auth),
        ("LMTP DATA, no RCPT (D5)", ["--lmtp"], lmtp_data_without_rcpt),
        ("UTF-8 transcript (D6)", [], utf8_transcript),
    ]
    for name, extra, body in checks:
        print(f"{name}: {run(binary, extra, body)}")


if __name__ == "__main__":
    main()
