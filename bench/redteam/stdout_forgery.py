"""redteam.md §13: a message with terminal escapes (OSC 0 title, OSC 52
clipboard write, screen clear) and a forged END/BEGIN block. Counts the raw
ESC bytes on stdout and the message blocks a parser following the README's
format sees (lines between the BEGIN and END markers), with the Peer and
Mail-From of each.

usage: python3 stdout_forgery.py BINARY
"""

import os
import sys
import time

from common import Smtp, start, stop

BEGIN = "---------- MESSAGE FOLLOWS ----------"
END = "------------ END MESSAGE ------------"
binary = sys.argv[1]
out_path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"mtakit-stdout-{os.getpid()}.txt")
out = open(out_path, "wb")
proc, ports, _ = start(binary, [], stdout=out)

body = (
    "Subject: \x1b]0;PWNED-title\x07hello\r\n\r\n"
    "\x1b]52;c;cHduZWQ=\x07\x1b[2J\r\n"
    f"{END}\r\n{BEGIN}\r\nPeer: 10.9.8.7:25\r\nHelo: bank.example\r\n"
    "Mail-From: <ceo@bank.example>\r\nRcpt-To: <you@example.com>\r\nAuth: ceo\r\n"
    "Tls: TLSv1.3 TLS13_AES_256_GCM_SHA384\r\n\r\nPlease pay the invoice.\r\n"
)
c = Smtp(ports["smtp"])
c.reply()
c.cmd("EHLO real-client.example")
c.cmd("MAIL FROM:<alice@example.com>")
c.cmd("RCPT TO:<bob@example.com>")
c.cmd("DATA")
print("DATA:", c.cmd(body + "."))
c.cmd("QUIT")
c.close()

deadline = time.time() + 5
text = ""
while time.time() < deadline:
    text = open(out_path, "rb").read().decode("utf-8", "replace")
    if text.rstrip("\n").endswith(END) and text.count(END) >= 1:
        time.sleep(0.2)
        text = open(out_path, "rb").read().decode("utf-8", "replace")
        break
    time.sleep(0.05)
stop(proc)
raw = open(out_path, "rb").read()
esc, bel = raw.count(bytes([0x1B])), raw.count(bytes([0x07]))
print(f"raw ESC bytes on stdout: {esc}; BEL bytes: {bel}")

blocks, current = [], None
for line in text.split("\n"):
    if line == BEGIN:
        current = []
    elif line == END and current is not None:
        blocks.append(current)
        current = None
    elif current is not None:
        current.append(line)
print(f"message blocks a parser sees: {len(blocks)}")
for i, block in enumerate(blocks):
    head = block[: block.index("")] if "" in block else block
    env = dict(l.split(": ", 1) for l in head if ": " in l)
    print(f"  block {i + 1}: Peer={env.get('Peer')} Mail-From={env.get('Mail-From')} Auth={env.get('Auth')}")
os.remove(out_path)
