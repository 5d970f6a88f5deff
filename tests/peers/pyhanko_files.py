#!/usr/bin/env python3
"""pyHanko's own command line run several times in one Python process (tests/integration/signature_agreement.rs).

    pyhanko_files.py JOBS_JSON

JOBS_JSON is a list of argument lists, each what would follow `pyhanko` in a shell (e.g. ["sign", "validate",
"--trust", "root.pem", "--no-revocation-check", "file.pdf"]). Each goes through the same `cli_root` entry point the
`pyhanko` script calls, with its own stdout and stderr and its exit code, so the answers are pyHanko's CLI's own;
only the start-up (Python, pyHanko's and its validators' imports: ~0.6 s of CPU) is paid once, not once per file
(issue #43 item 7). Prints a JSON list with one {"code", "stdout", "stderr"} per job, in order.
"""
import contextlib
import io
import json
import logging
import sys

from pyhanko.cli import cli_root


def run(args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    # pyHanko's CLI sets up logging on every call (handlers writing to sys.stderr as it is then): each call's
    # handlers are removed after it, so a message goes to its own call's stderr once.
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli_root.main(args=args, prog_name="pyhanko", standalone_mode=True)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if e.code is not None and not isinstance(e.code, int):
                print(e.code, file=sys.stderr)
        finally:
            for handler in list(root.handlers):
                if handler not in handlers:
                    root.removeHandler(handler)
            root.setLevel(level)
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} JOBS_JSON")
    with open(sys.argv[1], encoding="utf-8") as f:
        jobs = json.load(f)
    results = [run(args) for args in jobs]
    sys.stdout.write(json.dumps(results))
