#!/usr/bin/env python3
"""pkilint's own command-line linters run on several files in one Python process (tests/peers/pkilint.sh).

    pkilint_files.py cert|crl|arl|ocsp FILE...

Each file goes through the same `main(cli_args)` as `lint_pkix_cert lint --severity ALL --format JSON …` (or
lint_crl / lint_ocsp_response with pkilint.sh's arguments) would run it from the shell, so the findings are
pkilint's CLI's own; only the start-up (Python and pkilint's imports, ~0.35 s of CPU) is paid once, not once
per file. Prints every finding of every file as "SEVERITY code @ node_path[: message]" under a
"pkilint: FILE: …" line, then names the files with a finding at ERROR or FATAL. Exits 1 when any file has one,
2 when pkilint cannot load a file.
"""
import contextlib
import io
import json
import sys

from pkilint.bin import lint_crl, lint_ocsp_response, lint_pkix_cert

LINTERS = {
    "cert": (lint_pkix_cert.main, ["--document-format", "PEM"]),
    "crl": (lint_crl.main, ["-t", "CRL", "-p", "PKIX", "--document-format", "DETECT"]),
    "arl": (lint_crl.main, ["-t", "ARL", "-p", "BR", "--document-format", "DETECT"]),
    "ocsp": (lint_ocsp_response.main, ["--document-format", "DER"]),
}
BLOCKING = {"FATAL", "ERROR"}


def lint(kind, path):
    """The number of findings and of blocking ones in `path`, after printing them; None if it cannot load."""
    main, args = LINTERS[kind]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        # Its exit code counts findings; only a load failure leaves no JSON (and says why on stderr).
        main(["lint", "--severity", "ALL", "--format", "JSON", *args, path])
    text = out.getvalue()
    if not text.startswith("{"):
        print(f"pkilint.sh: pkilint could not load {path}", file=sys.stderr)
        return None
    findings = errors = 0
    lines = []
    for result in json.loads(text)["results"]:
        for f in result["finding_descriptions"]:
            findings += 1
            errors += f["severity"] in BLOCKING
            msg = f": {f['message']}" if f.get("message") else ""
            lines.append(f"{f['severity']} {f['code']} @ {result['node_path']}{msg}")
    print("\n".join(lines + [f"pkilint: {path}: {findings} finding(s), {errors} at ERROR or above"]))
    return errors


def run(kind, paths):
    failed, unloadable = [], []
    for path in paths:
        errors = lint(kind, path)
        if errors is None:
            unloadable.append(path)
        elif errors:
            failed.append(path)
    if len(paths) > 1 and failed:
        print(f"pkilint: ERROR or above in {len(failed)} of {len(paths)} files: {', '.join(failed)}")
    return 2 if unloadable else 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in LINTERS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(LINTERS)} FILE...")
    sys.exit(run(sys.argv[1], sys.argv[2:]))
