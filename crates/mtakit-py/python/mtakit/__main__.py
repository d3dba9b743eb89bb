"""The ``mtakit`` command: ``mtakit serve`` and ``mtakit load``.

The same Rust code as the ``mtakit`` binary, installed with the package:
``pip install mtakit`` then ``mtakit serve`` (or ``python -m mtakit serve``)
runs the development mail server with its web UI and JSON API.
"""

from __future__ import annotations

import sys

from mtakit._mtakit import run_cli

__all__ = ["main"]


def main() -> int:
    """Runs the command with ``sys.argv`` and returns its exit status."""
    argv = ["mtakit", *sys.argv[1:]]
    try:
        return run_cli(argv)
    except KeyboardInterrupt:
        # `mtakit serve` handles Ctrl-C itself and has stopped gracefully;
        # Python raises its own KeyboardInterrupt once the call returns.
        return 0


if __name__ == "__main__":
    sys.exit(main())
