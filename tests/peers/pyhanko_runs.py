#!/usr/bin/env python3
"""pyHanko's own command line run many times in one Python process (tests/integration/peers.rs `pyhanko`).

    pyhanko_runs.py < RUNS

Each line read is a JSON list of arguments, what would follow `pyhanko` in a shell (e.g. ["sign", "validate",
"--trust", "root.pem", "--no-revocation-check", "file.pdf"]); each goes through the same `cli_root` entry point
the `pyhanko` script calls, with its own stdout and stderr, and one JSON line {"code", "stdout", "stderr"} is
written back, so the answers are pyHanko's CLI's own. Only the start-up (Python, pyHanko's and its validators'
imports: ~0.6 s of CPU, more under load) is paid once per test run instead of once per run (issue #43 item 7,
D143). Ends at the end of its input.
"""
import contextlib
import io
import json
import logging
import sys
import traceback

from pyhanko.cli import cli_root


def run(args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    # pyHanko's CLI sets up logging on every run (handlers writing to sys.stderr as it is then): each run's
    # handlers are removed after it, so a message goes to its own run's stderr, once.
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli_root.main(args=args, prog_name="pyhanko", standalone_mode=True)
        except SystemExit as e:
            if e.code is None or isinstance(e.code, int):
                code = e.code or 0
            else:
                print(e.code, file=sys.stderr)
                code = 1
        except BaseException:  # what Python prints and exits 1 with when the script is run from a shell
            traceback.print_exc()
            code = 1
        finally:
            for handler in list(root.handlers):
                if handler not in handlers:
                    root.removeHandler(handler)
            root.setLevel(level)
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


if __name__ == "__main__":
    answers = sys.stdout
    for line in sys.stdin:
        answers.write(json.dumps(run(json.loads(line))) + "\n")
        answers.flush()
