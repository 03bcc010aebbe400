//! The dependency direction of STYLE.md, checked on the source: each layer names only the
//! layers below it, and the engine and the model no HTTP or database types.

use std::path::{Path, PathBuf};

/// A layer, the modules of the crate it may name, and the outside crates it must not.
struct Layer {
    module: &'static str,
    may_name: &'static [&'static str],
    must_not_use: &'static [&'static str],
}

const LAYERS: &[Layer] = &[
    Layer {
        module: "model",
        may_name: &["model"],
        must_not_use: &[
            "axum",
            "sqlx",
            "hyper",
            "tower",
            "tower_http",
            "reqwest",
            "tokio",
        ],
    },
    Layer {
        module: "store",
        may_name: &["store", "model", "config"],
        must_not_use: &["axum", "hyper", "tower", "tower_http"],
    },
    Layer {
        module: "keys",
        may_name: &["keys", "model", "store", "config", "clock"],
        must_not_use: &["axum", "hyper", "tower", "tower_http", "sqlx"],
    },
    Layer {
        module: "engine",
        may_name: &[
            "engine", "model", "store", "keys", "config", "clock", "metrics",
        ],
        must_not_use: &["axum", "hyper", "tower", "tower_http", "sqlx", "http"],
    },
    Layer {
        module: "http",
        may_name: &[
            "http",
            "engine",
            "model",
            "config",
            "app",
            "telemetry",
            "metrics",
        ],
        must_not_use: &["sqlx"],
    },
    Layer {
        module: "metrics",
        may_name: &["metrics"],
        must_not_use: &["axum", "hyper", "tower", "tower_http", "sqlx", "tokio"],
    },
    Layer {
        module: "tls",
        may_name: &["tls", "config"],
        must_not_use: &["axum", "sqlx"],
    },
    Layer {
        module: "config",
        may_name: &["config", "model"],
        must_not_use: &["axum", "sqlx"],
    },
];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The first path segment of every `crate::…` path in `source`, `use crate::{a::X, b}`
/// groups included.
fn crate_modules(source: &str) -> Vec<String> {
    let mut modules = Vec::new();
    for (at, _) in source.match_indices("crate::") {
        let rest = &source[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_alphabetic() || c == '_') => {
                        let name: String = group[i..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        modules.push(name);
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            modules.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    modules
}

/// Whether `source` names the outside crate `name` (`name::…`, not `crate::name::…` or
/// `other::name::…`).
fn uses_crate(source: &str, name: &str) -> bool {
    let pattern = format!("{name}::");
    source.match_indices(&pattern).any(|(at, _)| {
        let before = source[..at].chars().next_back();
        !matches!(before, Some(c) if c.is_alphanumeric() || c == '_' || c == ':')
    })
}

#[test]
fn every_layer_names_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for layer in LAYERS {
        let mut files = Vec::new();
        let dir = src.join(layer.module);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        }
        let file = src.join(format!("{}.rs", layer.module));
        if file.is_file() {
            files.push(file);
        }
        assert!(!files.is_empty(), "no source for {}", layer.module);
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            let shown = file.strip_prefix(&src).unwrap().display();
            for module in crate_modules(&source) {
                if !layer.may_name.contains(&module.as_str()) {
                    violations.push(format!("{shown} names crate::{module}"));
                }
            }
            for outside in layer.must_not_use {
                if uses_crate(&source, outside) {
                    violations.push(format!("{shown} uses {outside}"));
                }
            }
            if layer.module != "store"
                && (source.contains("store::sqlite") || source.contains("store::postgres"))
            {
                violations.push(format!("{shown} names a store backend"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "against the dependency direction of STYLE.md:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_checker_sees_grouped_and_plain_paths() {
    assert_eq!(
        crate_modules("use crate::{model::{A, B}, store::C};\nlet x = crate::keys::f();"),
        ["model", "store", "keys"]
    );
    assert!(uses_crate("let r: axum::Router = todo();", "axum"));
    assert!(!uses_crate("use crate::http::server;", "http"));
    assert!(!uses_crate("reqwest::http::StatusCode", "http"));
}

/// The engine's services, and the services each must not name: sign-in uses none of the others,
/// OAuth uses sign-in, administration uses sign-in (and OAuth's checks of what a client or a
/// claim may hold), provisioning any; the parts they share name none of them.
const SERVICES: &[(&str, &[&str])] = &[
    ("sign_in", &["oauth", "admin", "provisioning"]),
    ("oauth", &["admin", "provisioning"]),
    ("admin", &["provisioning"]),
    (
        "directory.rs",
        &["sign_in", "oauth", "admin", "provisioning"],
    ),
    (
        "lifetimes.rs",
        &["sign_in", "oauth", "admin", "provisioning"],
    ),
    (
        "client_secrets.rs",
        &["sign_in", "oauth", "admin", "provisioning"],
    ),
];

/// Whether `source` names the module `name` as a path segment (`name::…`).
fn names_module(source: &str, name: &str) -> bool {
    let pattern = format!("{name}::");
    source.match_indices(&pattern).any(|(at, _)| {
        let before = source[..at].chars().next_back();
        !matches!(before, Some(c) if c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn engine_services_depend_on_each_other_in_one_direction() {
    let engine = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let mut violations = Vec::new();
    for (service, forbidden) in SERVICES {
        let path = engine.join(service);
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path);
        }
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            for module in *forbidden {
                if names_module(&source, module) {
                    let shown = file.strip_prefix(&engine).unwrap().display();
                    violations.push(format!("engine/{shown} names {module}"));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    assert!(names_module("use crate::engine::admin::Admin;", "admin"));
    assert!(!names_module("let x = sys_admin::f();", "admin"));
}
