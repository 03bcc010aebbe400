//! The README's quick start, run word for word: its server block starts the `authd` this
//! build made (on `PATH`, as `cargo install` leaves it) in a copy of the repository's `config/`,
//! and each of its other blocks runs in bash, stopping at the first failing command. It runs in
//! a network namespace of its own (`unshare -rn`, as the storage tests do), so that the
//! README's port 8080 is free whatever else the machine runs.

use std::path::Path;

/// The shell blocks that follow `marker` in the README, in order.
fn blocks_after(readme: &str, marker: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = readme;
    while let Some(at) = rest.find(marker) {
        let after = &rest[at + marker.len()..];
        // The marker is the whole comment: `<!-- walkthrough -->` is not the server's.
        if !after.starts_with(" -->") {
            rest = after;
            continue;
        }
        let start = after
            .find("```sh\n")
            .expect("a ```sh block after the marker")
            + 6;
        let end = after[start..].find("```").expect("the block ends") + start;
        blocks.push(after[start..end].to_owned());
        rest = &after[end..];
    }
    blocks
}

#[test]
fn the_quick_start_works_word_for_word() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let server = blocks_after(&readme, "<!-- walkthrough: server");
    let clients = blocks_after(&readme, "<!-- walkthrough");
    assert_eq!(server.len(), 1, "one server block");
    assert!(clients.len() >= 2, "the client blocks");

    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_authd"), bin.join("authd")).unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/seed.example.toml"),
        dir.path().join("config/seed.example.toml"),
    )
    .unwrap();
    let mut script = String::from(
        "set -euo pipefail\nip link set lo up\n\
         ( ",
    );
    script.push_str(server[0].trim());
    script.push_str(
        " ) > server.log 2>&1 &\n\
         server=$!\n\
         trap 'kill $server 2>/dev/null || true' EXIT\n\
         for _ in $(seq 1 300); do curl -sf localhost:8080/health/ready >/dev/null && break; sleep 0.1; done\n",
    );
    for (index, block) in clients.iter().enumerate() {
        script.push_str(&format!("echo '==> block {index}'\n{block}\n"));
    }
    script.push_str("echo '==> done'\n");
    let output = std::process::Command::new("unshare")
        .args(["-rn", "bash", "-c", &script])
        .current_dir(dir.path())
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .output()
        .expect("unshare (util-linux) runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
    assert!(
        output.status.success() && stdout.contains("==> done"),
        "the quick start failed:\n{stdout}\n{}\nserver:\n{log}",
        String::from_utf8_lossy(&output.stderr)
    );
    // What each step is there to show.
    for expected in [
        r#""issuer":"http://localhost:8080/oauth2/api""#,
        r#""keys":[{"#,
        r#""token_type":"Bearer""#,
        r#""scope":"example.read""#,
        r#""sessionToken":""#,
        r#""status":"SUCCESS""#,
        r#""login":"alice@example.com""#,
        r#""client_id":"0oaexamplewebapp0001""#,
        r#""eventType":"user.session.start""#,
        r#""id_token":"#,
        r#""refresh_token":"#,
    ] {
        assert!(stdout.contains(expected), "{expected} not in:\n{stdout}");
    }
    assert!(!stdout.contains("errorCode"), "{stdout}");
    assert!(!stdout.contains("\"error\""), "{stdout}");
}
