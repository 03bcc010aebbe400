//! A PostgreSQL server of a test's own, for what the shared one cannot be made to do: accept
//! only TLS, or not be running yet.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A PostgreSQL instance of its own, stopped when dropped. PostgreSQL refuses to run as root,
/// so it runs as the `postgres` user that the distribution's package creates.
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    data: PathBuf,
    /// The port it listens on, on 127.0.0.1, once started.
    pub port: u16,
}

/// A server certificate and its key, as PEM files.
pub struct ServerCertificate<'a> {
    pub certificate: &'a Path,
    pub key: &'a Path,
}

fn as_postgres(program: &str) -> Command {
    let mut command = Command::new("runuser");
    command.args(["-u", "postgres", "--", program]);
    command
}

fn postgres_binary(name: &str) -> String {
    let output = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .expect("pg_config runs");
    let bindir = String::from_utf8(output.stdout).unwrap();
    format!("{}/{name}", bindir.trim())
}

fn chown_to_postgres(path: &Path) {
    let status = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

impl PrivatePostgres {
    /// A new cluster on a free port, not started. With a certificate it accepts only TLS
    /// connections; without, only plain ones. Either way the `postgres` user is trusted.
    pub fn init(tls: Option<ServerCertificate<'_>>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        chown_to_postgres(dir.path());
        let initialized = as_postgres(&postgres_binary("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(initialized.success(), "initdb");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             fsync = off\n",
            dir.path().display()
        );
        let hba = if let Some(tls) = tls {
            for (from, to) in [(tls.certificate, "server.crt"), (tls.key, "server.key")] {
                std::fs::copy(from, data.join(to)).unwrap();
            }
            std::fs::set_permissions(
                data.join("server.key"),
                std::os::unix::fs::PermissionsExt::from_mode(0o600),
            )
            .unwrap();
            config
                .push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
            "hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n"
        } else {
            "host all all 127.0.0.1/32 trust\n"
        };
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .unwrap();
        std::io::Write::write_all(&mut conf, config.as_bytes()).unwrap();
        std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
        chown_to_postgres(dir.path());
        PrivatePostgres { dir, data, port }
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) {
        let started = as_postgres(&postgres_binary("pg_ctl"))
            .args(["-w", "-l"])
            .arg(self.dir.path().join("log"))
            .arg("-D")
            .arg(&self.data)
            .arg("start")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(
            started.success(),
            "PostgreSQL did not start: {}",
            std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = as_postgres(&postgres_binary("pg_ctl"))
            .args(["-m", "immediate", "-D"])
            .arg(&self.data)
            .arg("stop")
            .stdout(Stdio::null())
            .status();
    }
}
