"""RustSec advisories against a resolved dependency graph, for scripts/supply-chain (issue #9).

The advisory database (https://github.com/rustsec/advisory-db, the one cargo-audit and cargo-deny read) is a
directory of `crates/NAME/RUSTSEC-YYYY-NNNN.md` files, each opening with a TOML block:

    [advisory]  id, package, informational ("unmaintained" / "unsound" / "notice"; absent: a vulnerability),
                withdrawn (a date: the advisory no longer applies)
    [versions]  patched = [semver requirements], unaffected = [semver requirements]

A version is affected when it matches neither a patched nor an unaffected requirement. Requirements follow
Cargo's semver rules (the Rust `semver` crate's `VersionReq`), implemented here because no such library is in
Debian's Python: comma-separated comparators (=, >, >=, <, <=, ~, ^, bare = caret, wildcards), partial
versions, and pre-releases matching only a comparator naming the same major.minor.patch with a pre-release.
"""
import re
import tomllib
from pathlib import Path

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
_COMPARATOR = re.compile(r"^(=|>=|<=|>|<|~|\^)?\s*(\d+|\*|x|X)(?:\.(\d+|\*|x|X))?(?:\.(\d+|\*|x|X))?"
                         r"(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


class Version:
    """A semver version, ordered as semver orders them (a pre-release before its release)."""

    def __init__(self, text):
        m = _VERSION.match(text.strip())
        if not m:
            raise ValueError(f"not a semver version: {text!r}")
        self.core = (int(m[1]), int(m[2]), int(m[3]))
        self.pre = tuple(m[4].split(".")) if m[4] else ()

    def key(self):
        # No pre-release sorts after every pre-release; identifiers: numbers below words, numbers by value.
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre)
        return self.core, (1,) if not self.pre else (0, pre)

    def __repr__(self):
        return ".".join(map(str, self.core)) + (f"-{'.'.join(self.pre)}" if self.pre else "")


def _bound(core, pre=()):
    """A Version for the comparison bounds below."""
    v = Version("0.0.0")
    v.core, v.pre = core, pre
    return v


class Requirement:
    """A semver requirement: every comparator must hold (`>= 1.2, < 1.4`)."""

    def __init__(self, text):
        self.text = text
        parts = [p.strip() for p in text.split(",")]
        if not parts or any(not p for p in parts):
            raise ValueError(f"empty comparator in {text!r}")
        self.comparators = [self._comparator(p) for p in parts]

    @staticmethod
    def _comparator(text):
        m = _COMPARATOR.match(text)
        if not m:
            raise ValueError(f"not a semver comparator: {text!r}")
        op = m[1] or "^"
        fields = [m[2], m[3], m[4]]
        wild = [f is not None and f in "*xX" for f in fields]
        if any(wild):
            # `1.*` is `1`, `*` matches everything: cut at the first wildcard, keep the operator's meaning.
            fields = fields[:wild.index(True)]
            op = "^" if op == "^" or op == "=" else op
        numbers = [int(f) for f in fields if f is not None]
        pre = tuple(m[5].split(".")) if m[5] else ()
        return op, numbers, pre

    def matches(self, version):
        if version.pre and not any(len(n) == 3 and pre and tuple(n) == version.core
                                   for _, n, pre in self.comparators):
            return False
        return all(self._holds(c, version) for c in self.comparators)

    @staticmethod
    def _holds(comparator, version):
        op, n, pre = comparator
        v = version.key()
        if not n:
            return True
        low = _bound(tuple(n + [0] * (3 - len(n))), pre if len(n) == 3 else ()).key()
        if op == "=":
            if len(n) == 3:
                return v == low
            return low <= v < _bump(n, len(n) - 1)
        if op == ">=":
            return v >= low
        if op == "<":
            return v < low
        if op == ">":
            return v > low if len(n) == 3 else v >= _bump(n, len(n) - 1)
        if op == "<=":
            return v <= low if len(n) == 3 else v < _bump(n, len(n) - 1)
        if op == "~":
            return low <= v < _bump(n, 0 if len(n) == 1 else 1)
        # Caret: the leftmost non-zero field given may not change (^0.0 and ^0 keep what they name).
        first_nonzero = next((i for i, x in enumerate(n) if x != 0), len(n) - 1)
        return low <= v < _bump(n, first_nonzero)


def _bump(numbers, index):
    """The key of the first version past `numbers` at field `index` (`1.2` at 1 → 1.3.0-0, the lowest 1.3.0)."""
    core = list(numbers[:index + 1]) + [0] * (2 - index)
    core[index] += 1
    return _bound(tuple(core), ("0",)).key()


def advisories(db):
    """Every advisory in the database directory `db`: dicts with id, package, kind, withdrawn, patched,
    unaffected (Requirement lists). An unreadable file is an error naming it (a database we cannot read is no
    database)."""
    found = []
    for path in sorted(Path(db, "crates").glob("*/RUSTSEC-*.md")):
        text = path.read_text(encoding="utf-8")
        m = re.match(r"\s*```toml\s*\n(.*?)\n```", text, re.S)
        if not m:
            raise ValueError(f"{path}: no TOML front matter")
        try:
            data = tomllib.loads(m[1])
            info, versions = data["advisory"], data.get("versions", {})
            found.append({
                "id": info["id"],
                "package": info["package"],
                "kind": info.get("informational") or "vulnerability",
                "withdrawn": info.get("withdrawn"),
                "patched": [Requirement(r) for r in versions.get("patched", [])],
                "unaffected": [Requirement(r) for r in versions.get("unaffected", [])],
            })
        except (KeyError, ValueError, tomllib.TOMLDecodeError) as e:
            raise ValueError(f"{path}: {e}") from e
    return found


def affected(advisory, version):
    """Whether `version` (text) of the advisory's crate is affected."""
    v = Version(version)
    return not any(r.matches(v) for r in advisory["patched"] + advisory["unaffected"])


def check(db_advisories, packages, ignore):
    """(problems, notices) for `packages` ({name: {version, …}}): one line per affected crate version; advisories
    in `ignore` (ids) and withdrawn ones are left out, `notice` advisories are notices, not problems."""
    problems, notices = [], []
    for a in db_advisories:
        if a["withdrawn"] or a["id"] in ignore or a["package"] not in packages:
            continue
        for version in sorted(packages[a["package"]]):
            if affected(a, version):
                line = f"{a['id']} ({a['kind']}): {a['package']} {version}"
                (notices if a["kind"] == "notice" else problems).append(line)
    return sorted(problems), sorted(notices)


def self_test():
    """Cargo's requirement semantics on the cases that trip implementations, and a made-up database."""
    cases = [
        (">= 1.2.0", "1.2.0", True), (">= 1.2.0", "1.1.9", False), ("^0.9.1", "0.9.4", True),
        ("^0.9.1", "0.10.0", False), ("^1.2", "1.9.0", True), ("^1.2", "2.0.0", False), ("^0.0.3", "0.0.4", False),
        ("^0", "0.9.9", True), ("^0", "1.0.0", False), ("~1.2.3", "1.2.9", True), ("~1.2.3", "1.3.0", False),
        ("~1", "1.9.0", True), ("= 1.2", "1.2.7", True), ("= 1.2", "1.3.0", False), ("=1.2.3", "1.2.3", True),
        ("> 1.2", "1.2.9", False), ("> 1.2", "1.3.0", True), ("<= 1.2", "1.2.9", True), ("<= 1.2", "1.3.0", False),
        ("< 1.2", "1.1.9", True), ("< 1.2", "1.2.0", False), (">= 0.9.0, < 0.9.5", "0.9.4", True),
        (">= 0.9.0, < 0.9.5", "0.9.5", False), ("1.*", "1.7.0", True), ("1.*", "2.0.0", False), ("*", "3.1.4", True),
        ("0.3", "0.3.9", True), ("0.3", "0.4.0", False),
        # Pre-releases match only a comparator naming their release with a pre-release.
        (">= 0.9.0", "0.10.0-rc.20", False), (">= 0.10.0-rc.1", "0.10.0-rc.20", True),
        (">= 0.10.0-rc.21", "0.10.0-rc.20", False), ("< 0.10.0", "0.10.0-rc.20", False),
        (">= 0.10.0-rc.2", "0.10.0-rc.10", True), (">= 1.0.0-alpha.1", "1.0.0-alpha.beta", True),
    ]
    for req, version, expected in cases:
        assert Requirement(req).matches(Version(version)) is expected, (req, version, expected)
    for bad in ["", ">= ", "1.2.3.4", "abc", ">= 1,", "=> 1.0"]:
        try:
            Requirement(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was read")

    import tempfile
    with tempfile.TemporaryDirectory() as db:
        def advisory(package, ident, body):
            d = Path(db, "crates", package)
            d.mkdir(parents=True, exist_ok=True)
            Path(d, f"{ident}.md").write_text(
                f'```toml\n[advisory]\nid = "{ident}"\npackage = "{package}"\ndate = "2026-01-01"\n{body}```\n\n# Title\n')

        advisory("rsa", "RUSTSEC-2023-0071", '[versions]\npatched = []\n')
        advisory("hyper", "RUSTSEC-2026-0001", '[versions]\npatched = [">= 1.4.2"]\nunaffected = ["< 1.0.0"]\n')
        advisory("old", "RUSTSEC-2026-0002", 'informational = "unmaintained"\n[versions]\npatched = []\n')
        advisory("old", "RUSTSEC-2026-0003", 'informational = "notice"\n[versions]\npatched = []\n')
        advisory("gone", "RUSTSEC-2026-0004", 'withdrawn = "2026-02-01"\n[versions]\npatched = []\n')
        db_advisories = advisories(db)
        packages = {"rsa": {"0.9.8", "0.10.0-rc.20"}, "hyper": {"0.14.30", "1.4.1", "1.4.2"}, "old": {"1.0.0"},
                    "gone": {"1.0.0"}, "fine": {"1.0.0"}}
        problems, notices = check(db_advisories, packages, ignore=set())
        assert problems == [
            "RUSTSEC-2023-0071 (vulnerability): rsa 0.10.0-rc.20", "RUSTSEC-2023-0071 (vulnerability): rsa 0.9.8",
            "RUSTSEC-2026-0001 (vulnerability): hyper 1.4.1", "RUSTSEC-2026-0002 (unmaintained): old 1.0.0",
        ], problems
        assert notices == ["RUSTSEC-2026-0003 (notice): old 1.0.0"], notices
        problems, _ = check(db_advisories, packages, ignore={"RUSTSEC-2023-0071", "RUSTSEC-2026-0002"})
        assert problems == ["RUSTSEC-2026-0001 (vulnerability): hyper 1.4.1"], problems
        advisory("broken", "RUSTSEC-2026-0005", '[versions]\npatched = ["not a version"]\n')
        try:
            advisories(db)
        except ValueError as e:
            assert "RUSTSEC-2026-0005" in str(e), e
        else:
            raise AssertionError("a malformed advisory was read")
