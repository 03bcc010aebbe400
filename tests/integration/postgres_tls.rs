//! authd on a PostgreSQL server that accepts only TLS, as managed services do: a private
//! PostgreSQL instance with `ssl = on`, a certificate from a CA this test makes, and a
//! `pg_hba.conf` that refuses connections without TLS.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::common::private_postgres::{PrivatePostgres, ServerCertificate};

/// A CA, and a certificate it issued for `localhost` and `127.0.0.1`, as PEM files in `dir`.
struct TestCertificates {
    ca: PathBuf,
    certificate: PathBuf,
    key: PathBuf,
}

fn make_certificates(dir: &Path) -> TestCertificates {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "authd test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let certificate = params.signed_by(&key, &issuer).unwrap();
    let files = TestCertificates {
        ca: dir.join("ca.pem"),
        certificate: dir.join("server.crt"),
        key: dir.join("server.key"),
    };
    std::fs::write(&files.ca, ca.pem()).unwrap();
    std::fs::write(&files.certificate, certificate.pem()).unwrap();
    std::fs::write(&files.key, key.serialize_pem()).unwrap();
    files
}

const SEED: &str = "[[authorization_servers]]\nid = \"default\"\nscopes = [\"api.read\"]\n\n\
                    [[apps]]\nclient_id = \"0oatlsservice0000001\"\n\
                    client_secret = \"tls-service-secret-0123\"\nlabel = \"Service\"\n\
                    application_type = \"service\"\ngrant_types = [\"client_credentials\"]\n";

/// Starts `authd` on `database_url`: its base URL once ready, or what it printed when it
/// exited instead.
async fn start_authd(
    dir: &Path,
    database_url: &str,
) -> Result<(tokio::process::Child, String), String> {
    let seed = dir.join("seed.toml");
    std::fs::write(&seed, SEED).unwrap();
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base_url = format!("http://{address}");
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_authd"))
        .current_dir(dir)
        .env_clear()
        .env("AUTHD_LISTEN", address.to_string())
        .env("AUTHD_BASE_URL", &base_url)
        .env("AUTHD_DATABASE_URL", database_url)
        .env("AUTHD_SECRET_KEY", "22".repeat(32))
        .env("AUTHD_SEED_FILE", &seed)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Some(_status) = server.try_wait().unwrap() {
            let output = server.wait_with_output().await.unwrap();
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        if crate::common::answers_ok_within(
            &format!("{base_url}/health/ready"),
            Duration::from_millis(100),
        )
        .await
        {
            return Ok((server, base_url));
        }
    }
    panic!("authd neither became ready nor exited");
}

#[tokio::test]
async fn authd_reaches_a_postgresql_that_accepts_only_tls_and_verifies_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let certificates = make_certificates(dir.path());
    let postgres = PrivatePostgres::init(Some(ServerCertificate {
        certificate: &certificates.certificate,
        key: &certificates.key,
    }));
    postgres.start();
    let url = |query: &str| {
        format!(
            "postgres://postgres@localhost:{}/postgres?{query}",
            postgres.port
        )
    };

    // Without TLS the server turns authd away, so what follows goes over TLS.
    let refused = start_authd(dir.path(), &url("sslmode=disable"))
        .await
        .expect_err("a connection without TLS is refused");
    assert!(refused.contains("no encryption"), "{refused}");

    // verify-full with the wrong roots: the server's certificate is not trusted, at once:
    // waiting for the database (AUTHD_DATABASE_STARTUP_WAIT, 30 s) would not mend it.
    let started = std::time::Instant::now();
    let untrusted = start_authd(dir.path(), &url("sslmode=verify-full"))
        .await
        .expect_err("a certificate from an unknown CA is refused");
    assert!(
        untrusted.to_lowercase().contains("certificate"),
        "{untrusted}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refused only after {:?}",
        started.elapsed()
    );
    assert!(
        !untrusted.contains("does not accept connections yet"),
        "{untrusted}"
    );

    let (server, base_url) = start_authd(
        dir.path(),
        &url(&format!(
            "sslmode=verify-full&sslrootcert={}",
            certificates.ca.display()
        )),
    )
    .await
    .expect("authd starts over verified TLS");
    crate::common::client_credentials_token(
        &base_url,
        ("0oatlsservice0000001", "tls-service-secret-0123"),
        "api.read",
    )
    .await;
    drop(server);

    // sslmode=require encrypts without checking the certificate, as libpq does.
    let (server, _) = start_authd(dir.path(), &url("sslmode=require"))
        .await
        .expect("authd starts over unverified TLS");
    drop(server);
}
