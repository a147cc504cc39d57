"""The entry point itself, whatever the subcommand."""

from __future__ import annotations

import subprocess
import sys


def test_a_reader_that_stops_early_gets_no_traceback():
    process = subprocess.Popen(
        [sys.executable, "-m", "argmine", "corpus", "stats"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # like `argmine corpus stats | head -0`
    err = process.stderr.read().decode()
    assert process.wait() in (0, 141)
    assert "Traceback" not in err and "BrokenPipeError" not in err
