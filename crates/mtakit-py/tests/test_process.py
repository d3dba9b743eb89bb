"""The package and the process: forks, and an interpreter that exits while
servers run and hooks are busy."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

EXIT_WHILE_HOOKS_RUN = """
import asyncio, socket, time, mtakit
from mtakit.testing import TestServer

class Slow(mtakit.Policy):
    def accept_helo(self, session, helo):
        time.sleep(5)

class AsyncSlow(mtakit.Policy):
    async def accept_helo(self, session, helo):
        await asyncio.sleep(5)

servers = [TestServer(policy=Slow()), TestServer(policy=AsyncSlow())]
listening = mtakit.Server(policy=Slow()).start(("127.0.0.1", 0))
clients = []
for port in [s.port for s in servers] + [listening.port]:
    c = socket.create_connection(("127.0.0.1", port))
    c.recv(100)
    c.sendall(b"EHLO client.example\\r\\n")
    clients.append(c)
time.sleep(0.2)   # the hooks are now running
print("exiting", flush=True)
"""

FORK = """
import multiprocessing as mp, smtplib, mtakit
from mtakit.testing import TestServer

class Policy(mtakit.Policy):
    def accept_rcpt_to(self, session, recipient, params):
        return recipient.endswith("@ok.test")

def child(queue):
    with TestServer(policy=Policy()) as smtp:
        with smtplib.SMTP(smtp.host, smtp.port) as c:
            refused = c.sendmail("a@x.test", ["b@ok.test", "c@no.test"], "Subject: f\\r\\n\\r\\nx\\r\\n")
        queue.put((len(smtp.wait_for_messages(1)), sorted(refused)))

if __name__ == "__main__":
    # The runtime and the hook thread exist in the parent before the fork.
    with TestServer(policy=Policy()) as parent:
        with smtplib.SMTP(parent.host, parent.port) as c:
            c.sendmail("a@x.test", ["b@ok.test"], "Subject: p\\r\\n\\r\\nx\\r\\n")
        ctx = mp.get_context("fork")
        queue = ctx.Queue()
        p = ctx.Process(target=child, args=(queue,))
        p.start()
        print(queue.get(timeout=20))
        p.join(20)
        print("child exit", p.exitcode)
"""


def test_the_interpreter_exits_while_servers_run_and_hooks_are_busy() -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(EXIT_WHILE_HOOKS_RUN)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "exiting"


def test_a_forked_child_gets_its_own_runtime_and_hook_thread(tmp_path: Path) -> None:
    script = tmp_path / "fork_child.py"
    script.write_text(FORK)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["(1, ['c@no.test'])", "child exit 0"]
