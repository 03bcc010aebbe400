//! What the manifest promises a user: the minimum Rust version it states is at least that of
//! every locked dependency, and the README states the same one. Clippy's `incompatible_msrv`
//! lint checks the crate's own code against it.

use std::process::Command;

/// `1.89` and `1.89.0` alike, as three numbers.
fn version(text: &str) -> [u32; 3] {
    let mut parts = text.split('.').map(|part| part.parse().unwrap());
    std::array::from_fn(|_| parts.next().unwrap_or(0))
}

#[test]
fn the_stated_minimum_rust_version_covers_every_dependency_and_the_readme_says_it() {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let stated = env!("CARGO_PKG_RUST_VERSION");
    let needed = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|package| {
            let needs = package["rust_version"].as_str()?;
            Some((version(needs), package["name"].as_str().unwrap().to_owned()))
        })
        .max()
        .unwrap();
    assert!(
        version(stated) >= needed.0,
        "Cargo.toml states rust-version {stated}, but {} needs {:?}",
        needed.1,
        needed.0
    );
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&format!("Rust toolchain ({stated} or newer)")),
        "the README does not state Rust {stated}"
    );
}
