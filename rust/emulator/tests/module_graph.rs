//! The crate's module graph stays acyclic and layered, read from the source itself.
//!
//! Every file under `src/` (but `main.rs`, a crate of its own) is one module. An edge `a -> b`
//! is any path in `a`'s code (comments and literals skipped) that names module `b`: `crate::…`,
//! `super::…`, `self::…`, a child module's name, and every path inside `use` groups
//! (`use crate::{x::y, z::{self, w}}`). A path naming an item resolves to the module holding
//! it, as far as it can be followed through known modules (`crate::broker::error::BrokerError`
//! is an edge to `broker::error`; `crate::broker::X` to the facade `broker`). Test modules
//! count: a cycle through a test is still a cycle.
//!
//! Checked: no cycles; the layers of [`layer`] (so the state depends on plain data only and
//! the domain never on the state); and axum only in the HTTP side (`http/`, `server.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path below the crate root, e.g. `["http", "classic", "sessions"]`; `[]` is
/// `lib.rs`.
type ModulePath = Vec<String>;

/// The layers, lowest first. A module may depend on its own layer and lower ones only.
///
/// 0. Plain data and helpers: the model, the configurations, the records the state keeps, and
///    what reading them needs.
/// 1. The domain: the broker, the identity checks, generated pools. Never the state.
/// 2. The state (one lock over the data of layer 0).
/// 3. The admin features; 4. the HTTP side; 5. the server.
///
/// The crate root only declares and re-exports; it is not checked. A new top-level module
/// must be given a layer here.
fn layer(module: &[String]) -> Option<usize> {
    const DATA: &[&str] = &[
        "clock",
        "form",
        "model",
        "record",
        "secret",
        "broker::arm_config",
        "identity::assertion",
        "identity::audience",
        "identity::config",
        "identity::device",
        "identity::error",
        "identity::jwt",
        "knobs::activity",
        "knobs::fault_sequence",
        "knobs::faults",
        "knobs::latency",
        "knobs::rate_limits",
    ];
    let first = module.first()?;
    if DATA.contains(&module.join("::").as_str()) {
        return Some(0);
    }
    Some(match first.as_str() {
        "broker" | "identity" | "knobs" => 1,
        "state" => 2,
        "admin" => 3,
        "http" => 4,
        "server" => 5,
        other => panic!("module '{other}' has no layer: add it to `layer`"),
    })
}

/// Where axum may be named.
fn may_use_axum(module: &[String]) -> bool {
    matches!(
        module.first().map(String::as_str),
        Some("http") | Some("server")
    )
}

#[test]
fn the_module_graph_has_no_cycles() {
    let graph = Graph::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    if let Some(cycle) = graph.find_cycle() {
        panic!("module cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn modules_depend_only_on_their_own_layer_or_lower_ones() {
    let graph = Graph::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let mut violations = Vec::new();
    for (from, targets) in &graph.edges {
        let Some(from_layer) = layer(from) else {
            continue;
        };
        for to in targets {
            if layer(to).is_some_and(|to_layer| to_layer > from_layer) {
                violations.push(format!("{} -> {}", name(from), name(to)));
            }
        }
    }
    assert!(violations.is_empty(), "upward dependencies: {violations:?}");
}

#[test]
fn only_the_http_side_uses_axum() {
    let graph = Graph::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let offenders: Vec<String> = graph
        .axum_users
        .iter()
        .filter(|module| !may_use_axum(module))
        .map(|module| name(module))
        .collect();
    assert!(offenders.is_empty(), "axum outside http/: {offenders:?}");
}

#[test]
fn the_graph_reader_sees_the_real_dependencies() {
    // Guards the checks above against passing on a graph the reader failed to see.
    let graph = Graph::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let edge = |from: &str, to: &str| {
        graph
            .edges
            .get(&path(from))
            .is_some_and(|targets| targets.contains(&path(to)))
    };
    assert!(graph.modules.len() > 20, "{:?}", graph.modules);
    assert!(edge("http::classic::sessions", "broker::actions"));
    assert!(edge("http::classic::sessions", "http::app"));
    assert!(edge("state", "model"));
    assert!(edge("broker::actions", "broker::lookup"), "super:: paths");
    assert!(edge("", "server"), "child paths of the root");
    assert!(graph.axum_users.contains(&path("http::app")));
}

#[test]
fn paths_are_found_in_code_only() {
    let modules: BTreeSet<ModulePath> = ["", "a", "a::b", "c", "c::d", "e"]
        .into_iter()
        .map(path)
        .collect();
    let source = r##"
        //! See crate::e for details.
        use crate::{a::b::Thing, c::{self, d}};
        use super::super::f; /* crate::e in a block comment */
        const S: &str = "crate::e";
        const R: &str = r#"crate::e "quoted" "#;
        fn f<'a>(x: &'a str) -> char { let _ = crate::a::helper(); 'c' }
        mod tests { use super::*; }
    "##;
    let found = dependencies(&path("c::d"), source, &modules);
    let found: BTreeSet<String> = found.edges.iter().map(|m| name(m)).collect();
    assert_eq!(
        found,
        ["a", "a::b", "c", "(root)"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
}

/// The modules, their edges and which of them name axum.
struct Graph {
    modules: BTreeSet<ModulePath>,
    edges: BTreeMap<ModulePath, BTreeSet<ModulePath>>,
    axum_users: BTreeSet<ModulePath>,
}

impl Graph {
    fn read(src: &Path) -> Self {
        let mut files = Vec::new();
        collect_rs_files(src, &mut files);
        let sources: Vec<(ModulePath, String)> = files
            .iter()
            .filter(|file| **file != src.join("main.rs"))
            .map(|file| {
                let text = std::fs::read_to_string(file).expect("source is readable");
                (module_of(src, file), text)
            })
            .collect();
        let modules: BTreeSet<ModulePath> = sources.iter().map(|(m, _)| m.clone()).collect();
        let mut edges = BTreeMap::new();
        let mut axum_users = BTreeSet::new();
        for (module, text) in &sources {
            let found = dependencies(module, text, &modules);
            if found.names_axum {
                axum_users.insert(module.clone());
            }
            edges.insert(module.clone(), found.edges);
        }
        Self {
            modules,
            edges,
            axum_users,
        }
    }

    /// A cycle as a list of module names (first = last), if there is one.
    fn find_cycle(&self) -> Option<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Open,
            Done,
        }
        fn visit(
            graph: &Graph,
            module: &ModulePath,
            marks: &mut BTreeMap<ModulePath, Mark>,
            stack: &mut Vec<ModulePath>,
        ) -> Option<Vec<String>> {
            match marks.get(module) {
                Some(Mark::Done) => return None,
                Some(Mark::Open) => {
                    let start = stack.iter().position(|m| m == module).unwrap_or(0);
                    let mut cycle: Vec<String> = stack[start..].iter().map(|m| name(m)).collect();
                    cycle.push(name(module));
                    return Some(cycle);
                }
                None => {}
            }
            marks.insert(module.clone(), Mark::Open);
            stack.push(module.clone());
            for next in graph.edges.get(module).into_iter().flatten() {
                if let Some(cycle) = visit(graph, next, marks, stack) {
                    return Some(cycle);
                }
            }
            stack.pop();
            marks.insert(module.clone(), Mark::Done);
            None
        }
        let mut marks = BTreeMap::new();
        self.modules
            .iter()
            .find_map(|module| visit(self, module, &mut marks, &mut Vec::new()))
    }
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/lib.rs` is `[]`, `src/a/mod.rs` is `[a]`, `src/a/b.rs` is `[a, b]`.
fn module_of(src: &Path, file: &Path) -> ModulePath {
    let relative = file.strip_prefix(src).expect("file below src");
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn path(text: &str) -> ModulePath {
    text.split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn name(module: &[String]) -> String {
    if module.is_empty() {
        "(root)".to_owned()
    } else {
        module.join("::")
    }
}

/// What one file depends on.
struct Found {
    edges: BTreeSet<ModulePath>,
    names_axum: bool,
}

/// The modules `source` (the text of `module`) names, other than itself.
fn dependencies(module: &ModulePath, source: &str, modules: &BTreeSet<ModulePath>) -> Found {
    let tokens = tokens(source);
    let mut found = Found {
        edges: BTreeSet::new(),
        names_axum: false,
    };
    // Inline modules (`mod tests { ... }`) change what `super` and `self` mean.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i].as_str();
        match token {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            "mod" if tokens.get(i + 2).is_some_and(|t| t == "{") => {
                inline.push((tokens[i + 1].clone(), depth));
            }
            "axum" => found.names_axum = true,
            _ => {}
        }
        let starts_path =
            tokens.get(i + 1).is_some_and(|t| t == "::") && (i == 0 || tokens[i - 1] != "::");
        let current: ModulePath = module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(name, _)| name.clone()))
            .collect();
        let is_child = || {
            let mut child = current.clone();
            child.push(token.to_owned());
            modules.contains(&child)
        };
        if starts_path && (matches!(token, "crate" | "super" | "self") || is_child()) {
            let mut paths = Vec::new();
            i = use_tree(&tokens, i, Vec::new(), &mut paths);
            for segments in paths {
                let target = resolve(&current, &segments, modules);
                if target != *module {
                    found.edges.insert(target);
                }
            }
            continue;
        }
        i += 1;
    }
    found
}

/// Reads a path or use tree starting at `tokens[i]`, appending every full path to `out`;
/// returns the index after it.
fn use_tree(
    tokens: &[String],
    mut i: usize,
    prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    let mut path = prefix;
    while let Some(token) = tokens.get(i) {
        if token == "{" {
            i += 1;
            while tokens.get(i).is_some_and(|t| t != "}") {
                i = use_tree(tokens, i, path.clone(), out);
                if tokens.get(i).is_some_and(|t| t == ",") {
                    i += 1;
                }
            }
            return i + 1;
        }
        if !is_identifier(token) {
            break;
        }
        path.push(token.clone());
        i += 1;
        if tokens.get(i).is_some_and(|t| t == "::") {
            i += 1;
        } else {
            break;
        }
    }
    out.push(path);
    i
}

/// The module a path leads to, seen from `current`: follows `crate`, `super`, `self` and known
/// modules as far as they go, then maps an inline module to the file that holds it.
fn resolve(
    current: &ModulePath,
    segments: &[String],
    modules: &BTreeSet<ModulePath>,
) -> ModulePath {
    let mut base = current.clone();
    for (index, segment) in segments.iter().enumerate() {
        match segment.as_str() {
            "crate" if index == 0 => base.clear(),
            "super" => {
                base.pop();
            }
            "self" => {}
            _ => {
                let mut next = base.clone();
                next.push(segment.clone());
                if modules.contains(&next) {
                    base = next;
                } else {
                    break;
                }
            }
        }
    }
    while !modules.contains(&base) && !base.is_empty() {
        base.pop();
    }
    base
}

fn is_identifier(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Splits Rust source into identifiers, `::` and single punctuation characters, skipping
/// comments, string, byte string, raw string and character literals (lifetimes are dropped).
fn tokens(source: &str) -> Vec<String> {
    let chars: Vec<char> = source.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut nesting = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    nesting += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    nesting -= 1;
                    i += 2;
                    if nesting == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            i = skip_string(&chars, i + 1);
        } else if (c == 'r' || (c == 'b' && at(i + 1) == 'r'))
            && matches!(at(i + 1 + usize::from(c == 'b')), '#' | '"')
        {
            // A raw string: r"…", r#"…"#, br"…".
            let mut j = i + 1 + usize::from(c == 'b');
            let mut hashes = 0;
            while at(j) == '#' {
                hashes += 1;
                j += 1;
            }
            if at(j) != '"' {
                // `r#ident` (a raw identifier): keep the identifier.
                i = j;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#') {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
        } else if c == 'b' && at(i + 1) == '"' {
            i = skip_string(&chars, i + 2);
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if at(i + 1) == '\\' {
                // Quote, backslash, the escaped character, then up to the closing quote.
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == ':' && at(i + 1) == ':' {
            tokens.push("::".to_owned());
            i += 2;
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

/// The index after the closing quote of a string whose content starts at `i`.
fn skip_string(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}
