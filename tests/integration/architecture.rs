//! No import loop between files: every crate's `src/` tree read as text, each file mapped to its module path,
//! the files it refers to collected, and every cycle of files (a strongly connected component of more than one
//! file) reported with the edges that form it.
//!
//! What counts as "file A refers to file B":
//! * a `use` of an item of B (`use crate::…`, `use super::…`, `use self::…`, or a path starting at a module
//!   declared below A), when A's own code names what the `use` binds;
//! * a path in A's code that reaches into B: `crate::a::b::X`, `super::X`, `child::X`, or `name::X` where `name`
//!   was bound by a `use` (`use crate::profile::{self}` then `profile::ca::root(…)` refers to `profile/ca.rs`);
//! * a glob `use path::*` refers to the file of `path`.
//!
//! Not counted: `mod x;` declarations (a parent declares its children; that is the tree, not a dependency),
//! test code (`#[cfg(test)]` items and modules, `tests.rs` files), comments and string literals, and paths into
//! other crates (cargo forbids cycles between crates).
//!
//! **Re-exports are signposts, not dependencies.** A path is followed through `pub use` items to the file that
//! defines the item: `crate::store::Actor` refers to the file where `Actor` is defined, not to `store.rs` which
//! re-exports it. A `pub use child::X` whose `X` the parent's own code does not use makes no edge. So a parent
//! that re-exports `child::X` while the child uses `super::Y` (an item the parent defines) is a loop only if the
//! parent's own code also uses something of the child: the child depends on the parent, the parent merely points
//! at the child. A `pub use` whose name the file's code does use counts like any other `use`.
//!
//! `main.rs` files are skipped: they are crate roots of their own binary (they reach the library by its crate
//! name and declare no modules).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The cycles left on the day the check was written (issue #25), each as its sorted list of files (relative to
/// the workspace). **This list may only shrink.** A cycle found is accepted only if all its files lie in one
/// entry here (a known cycle that lost files, or split, has shrunk); any other cycle fails the test. An entry
/// that no longer contains any cycle fails it too: delete the entry when its cycle is broken.
///
/// None is left (issue #25): the ring of 12 files between `oidc/*` and `portal*` went when the OIDC cores took an
/// `oidc::Context`; the card agent's `card` trio with the card drivers behind one trait; the `profile` ring when
/// the profiles' shared types moved to leaf files beside them; the card agent's parent/child pairs
/// (`api::state`, `vpcd::{target, link, error}`); the server's CLI/commands ring and its config/http, jobs, oidc,
/// portal and console loops (each command declares its arguments; shared values in leaves); and `store.rs` ↔
/// `store/sql.rs` (the backends import the area traits, not the parent's prelude).
const KNOWN_CYCLES: &[&[&str]] = &[];

/// The workspace's crates whose `src/` trees are checked.
const CRATES: &[&str] = &[
    "model",
    "store",
    "pkix",
    "docsig",
    "ca",
    "ca/tls-policy",
    "sso",
    "server",
    "server/malloc-trim",
    "card-agent",
    "card-agent/protocol",
    "card-agent/vcard",
    "html",
];

#[test]
fn no_import_loop_between_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    let mut report = String::new();
    for krate in CRATES {
        let graph = Graph::read(&root, krate);
        for cycle in graph.cycles() {
            let files: Vec<String> = cycle.iter().map(|m| graph.files[m].clone()).collect();
            report.push_str(&format!("\ncycle of {} files in {krate}:\n", files.len()));
            for (from, to) in graph.edges_within(&cycle) {
                report.push_str(&format!("  {} -> {}\n", graph.files[&from], graph.files[&to]));
            }
            found.push(files);
        }
    }
    eprintln!("{report}");
    let known: Vec<BTreeSet<&str>> = KNOWN_CYCLES.iter().map(|c| c.iter().copied().collect()).collect();
    let within = |cycle: &Vec<String>, entry: &BTreeSet<&str>| cycle.iter().all(|f| entry.contains(f.as_str()));
    let new: Vec<_> = found.iter().filter(|c| !known.iter().any(|k| within(c, k))).collect();
    let stale: Vec<_> = known.iter().filter(|k| !found.iter().any(|c| within(c, k))).collect();
    assert!(new.is_empty(), "import loops between files (see the edges above): {new:#?}");
    assert!(stale.is_empty(), "these known cycles are broken: delete them from KNOWN_CYCLES: {stale:#?}");
}

/// The first segment of a path into another crate.
const EXTERN: &str = "::extern";

/// Module path of a file (`crate::a::b` as `["a", "b"]`).
type ModPath = Vec<String>;

/// One crate's files and the references between them.
struct Graph {
    /// Module path → file (relative to the workspace).
    files: BTreeMap<ModPath, String>,
    /// Module path → what the file says.
    parsed: BTreeMap<ModPath, Parsed>,
    /// Module path → module paths it refers to.
    edges: BTreeMap<ModPath, BTreeSet<ModPath>>,
}

/// What one file says, with comments, strings and test code removed.
#[derive(Default)]
struct Parsed {
    /// Names bound by `use` items: (name, absolute path, is `pub`); `*` for a glob.
    uses: Vec<(String, Vec<String>, bool)>,
    /// The code outside `use` items.
    code: String,
    /// Files declared as `#[cfg(test)] mod x;`.
    test_children: Vec<String>,
}

impl Graph {
    fn read(root: &Path, krate: &str) -> Graph {
        let src = root.join(krate).join("src");
        let mut paths = Vec::new();
        walk(&src, &mut paths);
        let mut files = BTreeMap::new();
        let mut sources = BTreeMap::new();
        for path in paths {
            let rel = path.strip_prefix(&src).unwrap().to_path_buf();
            let name = rel.file_name().unwrap().to_string_lossy().to_string();
            if name == "main.rs" || name == "tests.rs" || rel.components().any(|c| c.as_os_str() == "tests") {
                continue;
            }
            let module = module_path(&rel);
            let text = std::fs::read_to_string(&path).unwrap();
            files.insert(module.clone(), format!("{krate}/src/{}", rel.display()));
            sources.insert(module, text);
        }
        let known: BTreeSet<ModPath> = files.keys().cloned().collect();
        let mut parsed = BTreeMap::new();
        for (module, text) in &sources {
            parsed.insert(module.clone(), parse(module, text, &known));
        }
        // Files a parent declares only for tests.
        let test_only: BTreeSet<ModPath> = parsed
            .iter()
            .flat_map(|(m, p)| {
                p.test_children.iter().map(move |c| {
                    let mut child = m.clone();
                    child.push(c.clone());
                    child
                })
            })
            .collect();
        let mut graph = Graph { files, parsed, edges: BTreeMap::new() };
        for m in &test_only {
            graph.files.remove(m);
            graph.parsed.remove(m);
        }
        let modules: Vec<ModPath> = graph.parsed.keys().cloned().collect();
        for module in modules {
            let refs = graph.references(&module);
            graph.edges.insert(module, refs);
        }
        graph
    }

    /// The files `module` refers to.
    fn references(&self, module: &ModPath) -> BTreeSet<ModPath> {
        let parsed = &self.parsed[module];
        let tokens = path_tokens(&parsed.code);
        let idents: BTreeSet<&str> = tokens.iter().flat_map(|p| p.first()).map(String::as_str).collect();
        let mut out = BTreeSet::new();
        for (name, target, _) in &parsed.uses {
            // A glob refers to its module; a named binding counts when the code names it.
            if (name == "*" || idents.contains(name.as_str()))
                && let Some(file) = self.resolve(target, 0)
            {
                out.insert(file);
            }
        }
        for path in tokens.iter().filter(|p| p.len() > 1) {
            let Some(first) = path.first() else { continue };
            let absolute = match first.as_str() {
                "crate" | "super" | "self" => absolute(module, path),
                _ => {
                    if let Some((_, target, _)) = parsed.uses.iter().find(|(n, _, _)| n == first) {
                        let mut a = target.clone();
                        a.extend(path.iter().skip(1).cloned());
                        Some(a)
                    } else {
                        let mut child = module.clone();
                        child.push(first.clone());
                        self.files.contains_key(&child).then(|| {
                            let mut a = module.clone();
                            a.extend(path.iter().cloned());
                            a
                        })
                    }
                }
            };
            if let Some(file) = absolute.and_then(|a| self.resolve(&a, 0)) {
                out.insert(file);
            }
        }
        out.remove(module);
        out
    }

    /// The file that defines what an absolute path names, following `pub use` re-exports; `None` when that is
    /// another crate.
    fn resolve(&self, path: &[String], depth: usize) -> Option<ModPath> {
        if path.first().is_some_and(|f| f == EXTERN) {
            return None;
        }
        let (file, rest) = (0..=path.len()).rev().find_map(|n| {
            let prefix: ModPath = path.get(..n)?.to_vec();
            self.files.contains_key(&prefix).then(|| (prefix, path.get(n..).unwrap_or_default().to_vec()))
        })?;
        if let Some(item) = rest.first()
            && let Some(parsed) = self.parsed.get(&file)
            && let Some((_, target, _)) = parsed.uses.iter().find(|(n, _, public)| *public && n == item)
        {
            let mut next = target.clone();
            next.extend(rest.iter().skip(1).cloned());
            if depth < 16 {
                return self.resolve(&next, depth + 1);
            }
        }
        Some(file)
    }

    /// Strongly connected components of more than one file (Tarjan).
    fn cycles(&self) -> Vec<Vec<ModPath>> {
        struct State<'a> {
            graph: &'a Graph,
            index: BTreeMap<ModPath, usize>,
            low: BTreeMap<ModPath, usize>,
            stack: Vec<ModPath>,
            on_stack: BTreeSet<ModPath>,
            next: usize,
            out: Vec<Vec<ModPath>>,
        }
        fn visit(s: &mut State<'_>, v: &ModPath) {
            s.index.insert(v.clone(), s.next);
            s.low.insert(v.clone(), s.next);
            s.next += 1;
            s.stack.push(v.clone());
            s.on_stack.insert(v.clone());
            let graph = s.graph;
            for w in graph.edges.get(v).into_iter().flatten() {
                if !graph.edges.contains_key(w) {
                    continue;
                }
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let low = s.low[v].min(s.low[w]);
                    s.low.insert(v.clone(), low);
                } else if s.on_stack.contains(w) {
                    let low = s.low[v].min(s.index[w]);
                    s.low.insert(v.clone(), low);
                }
            }
            if s.low[v] == s.index[v] {
                let mut component = Vec::new();
                while let Some(w) = s.stack.pop() {
                    s.on_stack.remove(&w);
                    let done = &w == v;
                    component.push(w);
                    if done {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort_by(|a, b| s.graph.files[a].cmp(&s.graph.files[b]));
                    s.out.push(component);
                }
            }
        }
        let mut s = State {
            graph: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            next: 0,
            out: Vec::new(),
        };
        for v in self.edges.keys() {
            if !s.index.contains_key(v) {
                visit(&mut s, v);
            }
        }
        s.out
    }

    /// The edges between files of one cycle.
    fn edges_within(&self, cycle: &[ModPath]) -> Vec<(ModPath, ModPath)> {
        let members: BTreeSet<&ModPath> = cycle.iter().collect();
        let mut out = Vec::new();
        for from in cycle {
            for to in self.edges.get(from).into_iter().flatten() {
                if members.contains(to) {
                    out.push((from.clone(), to.clone()));
                }
            }
        }
        out
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `a/b.rs` and `a/b/mod.rs` → `["a", "b"]`; `lib.rs` → `[]`.
fn module_path(rel: &Path) -> ModPath {
    let mut parts: Vec<String> = rel.iter().map(|c| c.to_string_lossy().to_string()).collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "lib" && stem != "mod" {
            parts.push(stem.to_owned());
        }
    }
    parts
}

/// `crate::…`, `super::…`, `self::…` (from `module`) as an absolute path.
fn absolute(module: &ModPath, path: &[String]) -> Option<Vec<String>> {
    let mut base = module.clone();
    let mut rest = path.iter().peekable();
    match rest.peek().map(|s| s.as_str()) {
        Some("crate") => {
            base.clear();
            rest.next();
        }
        Some("self") => {
            rest.next();
        }
        Some("super") => {
            while rest.peek().map(|s| s.as_str()) == Some("super") {
                rest.next();
                base.pop()?;
            }
        }
        _ => return None,
    }
    base.extend(rest.cloned());
    Some(base)
}

/// Removes comments, string and char literals (keeping line structure irrelevant: only tokens matter).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == b'/' && next == Some(b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && next == Some(b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if (c == b'r' || c == b'b')
            && !b.get(i.wrapping_sub(1)).is_some_and(|p| p.is_ascii_alphanumeric() || *p == b'_')
            && raw_string_start(b, i).is_some()
        {
            let (hashes, body) = raw_string_start(b, i).unwrap_or((0, i));
            let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
            i = body;
            while i < b.len() && !b[i..].starts_with(&close) {
                i += 1;
            }
            i += close.len();
            out.push_str("\"\"");
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == b'\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a): a literal closes within a few bytes.
            let close = if next == Some(b'\\') {
                b[i + 2..].iter().position(|&x| x == b'\'').map(|p| i + 2 + p)
            } else {
                let ch_len = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + ch_len) == Some(&b'\'')).then_some(i + 1 + ch_len)
            };
            match close {
                Some(end) => {
                    i = end + 1;
                    out.push_str("' '");
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&text[i..i + ch_len]);
            i += ch_len;
        }
    }
    out
}

/// `r"`, `r#"`, `br"`…: (number of hashes, index after the opening quote).
fn raw_string_start(b: &[u8], mut i: usize) -> Option<(usize, usize)> {
    if b.get(i) == Some(&b'b') {
        i += 1;
    }
    if b.get(i) != Some(&b'r') {
        return None;
    }
    i += 1;
    let mut hashes = 0;
    while b.get(i) == Some(&b'#') {
        hashes += 1;
        i += 1;
    }
    (b.get(i) == Some(&b'"')).then_some((hashes, i + 1))
}

/// Removes `#[cfg(test)]` items: a module with a body, a `mod x;` declaration (recorded), any other item up to
/// its end.
fn strip_test_items(code: &str, test_children: &mut Vec<String>) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        // The item ends at the first `;` before any `{`, or at the `}` closing the first `{`.
        let semi = after.find(';');
        let brace = after.find('{');
        let end = match (semi, brace) {
            (Some(s), Some(b)) if s < b => s + 1,
            (Some(s), None) => s + 1,
            (_, Some(b)) => {
                let mut depth = 0usize;
                let mut end = after.len();
                for (k, ch) in after[b..].char_indices() {
                    match ch {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = b + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (None, None) => after.len(),
        };
        let item = &after[..end];
        let words: Vec<&str> =
            item.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
        if item.trim_end().ends_with(';')
            && let Some(pos) = words.iter().position(|w| *w == "mod")
            && let Some(name) = words.get(pos + 1)
        {
            test_children.push((*name).to_owned());
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn parse(module: &ModPath, text: &str, known: &BTreeSet<ModPath>) -> Parsed {
    let mut parsed = Parsed::default();
    let code = strip_test_items(&strip(text), &mut parsed.test_children);
    // Split out `use` items: `use` as a word at an item start, up to its `;`.
    let mut rest_code = String::new();
    let mut rest = code.as_str();
    while let Some(at) = find_word(rest, "use") {
        let before = &rest[..at];
        let t = before.trim_end();
        let public = t.ends_with("pub") || (t.ends_with(')') && t.rfind("pub(").is_some_and(|p| t.len() - p < 16));
        let Some(end) = rest[at..].find(';') else { break };
        let tree = &rest[at + 3..at + end];
        rest_code.push_str(before);
        rest = &rest[at + end + 1..];
        for (name, path) in expand(tree.trim()) {
            let Some(first) = path.first() else { continue };
            let absolute_path = match first.as_str() {
                "crate" | "super" | "self" => absolute(module, &path),
                _ => {
                    // Uniform paths: a module declared below this one.
                    let mut child = module.clone();
                    child.push(first.clone());
                    if known.contains(&child) {
                        let mut a = module.clone();
                        a.extend(path.iter().cloned());
                        Some(a)
                    } else {
                        // Another crate: kept so that a path through this name resolves to nothing here.
                        Some(std::iter::once(EXTERN.to_owned()).chain(path.iter().cloned()).collect())
                    }
                }
            };
            if let Some(a) = absolute_path {
                parsed.uses.push((name, a, public));
            }
        }
    }
    rest_code.push_str(rest);
    parsed.code = rest_code;
    parsed
}

/// The byte index of `word` standing alone (not part of an identifier, not after `::`).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = text[from..].find(word) {
        let at = from + pos;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !ident(before) && !ident(after) && !text[..at].ends_with("::") {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// A use tree (`crate::a::{self, b::C as D, e::*}`) → (bound name, path) pairs.
fn expand(tree: &str) -> Vec<(String, Vec<String>)> {
    // `as` is a rename only as a word: marked before the spaces go, so `Class` or `Base64` stay whole.
    let words: Vec<&str> = tree.split_whitespace().collect();
    let tree: String = words.iter().map(|w| if *w == "as" { "@" } else { w }).collect();
    let mut out = Vec::new();
    expand_into(&[], &tree, &mut out);
    out
}

fn expand_into(prefix: &[String], tree: &str, out: &mut Vec<(String, Vec<String>)>) {
    if let Some(open) = tree.find('{') {
        let head = &tree[..open];
        let body = tree[open + 1..].strip_suffix('}').unwrap_or(&tree[open + 1..]);
        let mut base = prefix.to_vec();
        base.extend(head.split("::").filter(|s| !s.is_empty()).map(str::to_owned));
        let mut depth = 0;
        let mut start = 0;
        for (k, ch) in body.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_into(&base, &body[start..k], out);
                    start = k + 1;
                }
                _ => {}
            }
        }
        expand_into(&base, &body[start..], out);
        return;
    }
    if tree.is_empty() {
        return;
    }
    let (path, alias) = match tree.split_once('@') {
        Some((p, a)) => (p, Some(a)),
        None => (tree, None),
    };
    let mut full = prefix.to_vec();
    full.extend(path.split("::").filter(|s| !s.is_empty()).map(str::to_owned));
    let Some(last) = full.last().cloned() else { return };
    if last == "self" {
        full.pop();
        let name = alias.map(str::to_owned).or_else(|| full.last().cloned()).unwrap_or_default();
        out.push((name, full));
    } else if last == "*" {
        full.pop();
        out.push(("*".into(), full));
    } else {
        out.push((alias.map(str::to_owned).unwrap_or(last), full));
    }
}

/// Every path-like token sequence (`a::b::C`, or a lone identifier) in code.
fn path_tokens(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut chars = code.char_indices().peekable();
    let mut expect_segment = false;
    while let Some((i, c)) = chars.next() {
        if c.is_alphabetic() || c == '_' {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if d.is_alphanumeric() || d == '_' {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let word = code[i..end].to_owned();
            if !expect_segment && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            current.push(word);
            expect_segment = false;
        } else if c == ':' && chars.peek().map(|&(_, d)| d) == Some(':') && !current.is_empty() {
            chars.next();
            expect_segment = true;
        } else if c.is_whitespace() && expect_segment {
            // `a:: b` does not occur in formatted code; treat as continuing.
        } else {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            expect_segment = false;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The floors of the top-level modules of the server, the CA and the two crates under it (`hcpki-pkix`, then
/// `hcpki-docsig`; issue #43 items 2 and 5), lowest first. A module may refer
/// only to modules on floors below its own: a reference sideways or upward — direct, or through a re-export,
/// which [`Graph::resolve`] follows to the defining file — fails the test unless [`KNOWN_UPWARD`] lists it. A new
/// top-level module must be given a floor here.
///
/// The SSO core's floors (`hcpki-sso`, issue #43 item 1): the relying-service policy, the audit writers (at once
/// and group-committed refusals), the password throttle, lending the card reader, the outbound HTTP traits, the
/// percent-encoder, the DPoP nonces and the patients' pseudonymous keys; then card login, the services catalog,
/// TOTP and the portal secret (which keys the nonces and patient keys); the problem list (which names a card
/// login's refusals) and the password accounts; the facility of a connection's PC certificate (refused with a
/// problem) and the SSO sessions (an ended one is told with a problem); acting for a physician (delegation, which
/// the authorization endpoint asks); the OIDC core; the desk consents and signing requests share (the service's
/// authentication, the physician's session, the page's refusals, the signature's check and extension); the cores
/// built on them (signing requests and token exchange, then consent); `/token`'s one grant dispatch over the
/// OIDC, token-exchange and consent cores (which it hands to the OIDC core, D127). The server's floors are the
/// adapters' layering: leaves; the audit trail; the portal's pages and endpoints, over the SSO core;
/// configuration; the served application (`app`: `AppState` and what it holds, the admin operations the CLI, the
/// admin API and the console all call, `auth`, `ApiError`), under both adapters; the console; HTTP (which mounts
/// the console's pages); monitoring; the commands and the command line. The leaf `web` holds what every web
/// adapter shares (bodies, headers, the OAuth error's answer).
const FLOORS: &[(&str, &[&[&str]])] = &[
    ("pkix", &[&["asn1", "card_signature", "hc_role", "jpki", "time"], &["keys", "oid"], &["path", "seal"]]),
    ("docsig", &[&["timestamp"], &["signature"], &["consent_document"]]),
    (
        "ca",
        &[
            &["access", "batch", "crl_shard", "group_commit", "register_file", "router_register", "serial"],
            &["csr", "psk"],
            &["profile"],
            &["lint", "revocation"],
            &["enroll", "issuer"],
            &["error", "request"],
            &["halt", "hierarchy"],
            &["pipeline", "registrar", "revoker"],
            &["authority"],
            &["cps"],
        ],
    ),
    (
        "sso",
        &[
            &["audit", "dpop_nonce", "lending", "outbound", "patient_key", "policy", "refusals", "throttle", "uri"],
            &["catalog", "login", "secret", "totp"],
            &["accounts", "enrolment", "passkey", "problem"],
            &["facility", "scim", "session"],
            &["delegation"],
            &["oidc"],
            &["desk", "ssf"],
            &["presence", "signing_requests", "token_exchange"],
            &["consent"],
            &["token_endpoint"],
        ],
    ),
    (
        "server",
        &[
            &[
                "args",
                "audit_chain",
                "backup",
                "fuzzing",
                "jobs",
                "outbound",
                "output",
                "panics",
                "server_cert",
                "syslog",
                "systemd",
                "tls_key",
                "typed_input",
                "web",
            ],
            &["atna"],
            &["portal"],
            &["compliance", "config"],
            &["app"],
            &["console"],
            &["http"],
            &["memory", "monitor"],
            &["cmd"],
            &["cli"],
        ],
    ),
];

/// The references against the floors left on the day the check was written (issue #43), as (crate, from, to).
/// **This list may only shrink**: an entry whose reference is gone fails the test until it is deleted. Most are
/// the server's cores climbing into `portal` and the adapters, which the `hcpki-sso` crate (issue #43 item 1) is
/// to end. `profile -> revocation` (the profiles' `pc_crl_shards`) went when the shard arithmetic moved to the
/// leaf `crl_shard`; `cmd -> cli` when the options and value parsers moved to the leaf `args` and the dispatch to
/// `cli::run`; `portal -> http` when the headers, the bodies and the OAuth error's answer moved to the leaf `web`
/// and the portal's housekeeping took a `SweepCounter` (which the metrics implement) instead of the `Metrics`.
/// `console -> http` when the served application (`AppState` and what it holds, the admin operations, `auth`,
/// `ApiError`) moved to the floor `app` under both adapters. Empty since: keep it so.
const KNOWN_UPWARD: &[(&str, &str, &str)] = &[];

#[test]
fn top_level_modules_refer_only_to_lower_floors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = BTreeSet::new();
    let mut unplaced = Vec::new();
    let mut report = String::new();
    for (krate, floors) in FLOORS {
        let floor_of: BTreeMap<&str, usize> =
            floors.iter().enumerate().flat_map(|(n, modules)| modules.iter().map(move |m| (*m, n))).collect();
        let graph = Graph::read(&root, krate);
        for (from, tos) in &graph.edges {
            let Some(top) = from.first() else { continue };
            let Some(&here) = floor_of.get(top.as_str()) else {
                unplaced.push(format!("{krate}::{top}"));
                continue;
            };
            for to in tos {
                let Some(target) = to.first().filter(|t| *t != top) else { continue };
                let there = floor_of.get(target.as_str()).copied().unwrap_or(usize::MAX);
                if there >= here && found.insert((krate.to_string(), top.clone(), target.clone())) {
                    report.push_str(&format!("  {krate}: {top} (floor {here}) -> {target} (floor {there})\n"));
                }
                if there >= here {
                    report.push_str(&format!("    {} -> {}\n", graph.files[from], graph.files[to]));
                }
            }
        }
    }
    eprintln!("references sideways or upward:\n{report}");
    unplaced.sort();
    unplaced.dedup();
    assert!(unplaced.is_empty(), "give these top-level modules a floor in FLOORS: {unplaced:?}");
    let known: BTreeSet<(String, String, String)> =
        KNOWN_UPWARD.iter().map(|(k, f, t)| (k.to_string(), f.to_string(), t.to_string())).collect();
    let new: Vec<_> = found.difference(&known).collect();
    let stale: Vec<_> = known.difference(&found).collect();
    assert!(new.is_empty(), "references to a module on the same or a higher floor (files above): {new:?}");
    assert!(stale.is_empty(), "these known references are gone: delete them from KNOWN_UPWARD: {stale:?}");
}

/// The packages in `package`'s normal dependency tree, for the host or `target`, as `cargo tree` lists them from
/// the lock file and cargo's cache (`--offline`, no build). Panics naming the tree when cargo fails or prints
/// nothing of what `must_hold` names: a check over an empty or wrong list would pass for nothing.
fn dependency_tree(package: &str, target: Option<&str>, must_hold: &[&str]) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = std::process::Command::new(&cargo);
    command.current_dir(&root).args(["tree", "-p", package, "-e", "normal", "--offline"]);
    command.args(["--prefix", "none", "--format", "{p}"]);
    command.args(target.map(|t| ["--target", t]).into_iter().flatten());
    let out = command.output().unwrap();
    let name = target.unwrap_or("host");
    // Offline, the Windows-only crates must be in cargo's cache: the Windows build (scripts/windows-agent, started
    // by scripts/test before the build stage) or `cargo fetch` puts them there.
    assert!(
        out.status.success(),
        "cargo tree -p {package} for {name} (if a crate is missing offline, run `cargo fetch` for every target): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    let packages: BTreeSet<String> =
        tree.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_owned).collect();
    assert!(must_hold.iter().all(|p| packages.contains(*p)), "{package} on {name}: {packages:?}");
    eprintln!("{package} on {name}: {} packages", packages.len());
    packages
}

/// The card agent runs on a physician's PC: its dependency tree holds no store and no database — no `hcpki-ca`,
/// no `hcpki-store`, no sqlx, no SQLite (issue #43 item 2, D120) — on Linux and on the Windows target the MSI is
/// built for. `hcpki-docsig` and `hcpki-pkix` are in that tree, so this holds for them too.
#[test]
fn the_card_agent_holds_no_store_and_no_database() {
    const BANNED: &[&str] = &["hcpki-ca", "hcpki-store", "libsqlite3-sys"];
    let mut found = Vec::new();
    for target in [None, Some("x86_64-pc-windows-gnu")] {
        for package in dependency_tree("card-agent", target, &["hcpki-docsig", "pcsc"]) {
            if BANNED.contains(&package.as_str()) || package.starts_with("sqlx") {
                found.push(format!("{package} (on {})", target.unwrap_or("host")));
            }
        }
    }
    assert!(found.is_empty(), "the card agent's dependency tree holds {found:?}: it must not need the store");
}

/// What the SSO core must never link (issue #43 item 1, D122): the HTTP server and client stacks and the page
/// templates. Identity logic that cannot import HTTP stays testable, fuzzable and reusable by every front end
/// (kanidm's `server/lib`); the server adapts HTTP to it, and the core reaches the network only through
/// `outbound`'s trait.
const HTTP_CRATES: &[&str] = &["axum", "axum-server", "hyper", "hyper-util", "tower", "maud"];

#[test]
fn the_sso_core_has_no_http_in_its_dependency_tree() {
    let packages = dependency_tree("hcpki-sso", None, &["hcpki-ca"]);
    let found: Vec<&&str> = HTTP_CRATES.iter().filter(|c| packages.contains(**c)).collect();
    assert!(found.is_empty(), "hcpki-sso depends on {found:?}: move that code to the server, behind a trait");
}
