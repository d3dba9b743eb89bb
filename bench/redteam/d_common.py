"""Shared helpers for the relay / Maildir attack scripts (loopback only,
every loop bounded in count and time)."""
import socket
import threading

import common


def start(binary, *args, timeout=10.0):
    """Starts `mtakit serve --quiet` on free ports; returns (proc, smtp, http)."""
    proc, ports, _ = common.start(binary, ["--quiet", *args], timeout=timeout)
    return proc, ports["smtp"], ports["http"]


stop = common.stop


def vm_hwm_kb(pid):
    return max(common.status(pid, "VmHWM"), 0)


class Smtp:
    """A tiny lock-step SMTP client."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.reply()

    def reply(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError("closed")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("latin-1"))
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), lines

    def cmd(self, line):
        self.sock.sendall(line.encode("latin-1") + b"\r\n")
        return self.reply()

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.cmd("QUIT")
        except (OSError, EOFError):
            pass
        self.sock.close()


def bdat(port, mail_from, rcpts, body):
    s = Smtp(port)
    s.cmd("EHLO client.example")
    code, _ = s.cmd(f"MAIL FROM:<{mail_from}> BODY=BINARYMIME")
    for r in rcpts:
        s.cmd(f"RCPT TO:<{r}>")
    s.send(f"BDAT {len(body)} LAST\r\n".encode() + body)
    code, lines = s.reply()
    s.close()
    return code


class Recorder:
    """A lenient, recording next hop: DATA ends at '.' + LF or '.' + CRLF,
    and every line after it is a command. Counts messages and commands."""

    def __init__(self, greet=True):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        self.greet = greet
        self.lock = threading.Lock()
        self.messages = 0
        self.commands = []
        self.open = 0
        self.max_open = 0
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        for _ in range(100000):
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.open += 1
                self.max_open = max(self.max_open, self.open)
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            if not self.greet:
                while conn.recv(65536):
                    pass
                return
            f = conn.makefile("rb")
            conn.sendall(b"220 recorder ESMTP\r\n")
            in_data = False
            for _ in range(1000000):
                line = f.readline()
                if not line:
                    return
                if in_data:
                    if line in (b".\n", b".\r\n"):
                        in_data = False
                        with self.lock:
                            self.messages += 1
                        conn.sendall(b"250 queued\r\n")
                    continue
                text = line.rstrip(b"\r\n").decode("latin-1")
                with self.lock:
                    self.commands.append(text)
                up = text.upper()
                if up.startswith("EHLO"):
                    conn.sendall(b"250-recorder\r\n250 8BITMIME\r\n")
                elif up == "DATA":
                    in_data = True
                    conn.sendall(b"354 go\r\n")
                elif up == "QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")
        except OSError:
            pass
        finally:
            with self.lock:
                self.open -= 1
            conn.close()

    def close(self):
        self.sock.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.close()
                except OSError:
                    pass
