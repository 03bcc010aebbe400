//! Proof Key for Code Exchange (RFC 7636).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::model::CodeChallengeMethod;

/// Whether a `code_verifier` is 43 to 128 unreserved characters (RFC 7636 §4.1).
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether a `code_challenge` has the shape a verifier's S256 or plain form can have.
pub fn is_valid_challenge(challenge: &str) -> bool {
    is_valid_verifier(challenge)
}

/// Whether the verifier matches the challenge (RFC 7636 §4.6), compared in constant time.
pub fn verify(verifier: &str, challenge: &str, method: CodeChallengeMethod) -> bool {
    if !is_valid_verifier(verifier) {
        return false;
    }
    let derived = match method {
        CodeChallengeMethod::S256 => URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            verifier.as_bytes(),
        )),
        CodeChallengeMethod::Plain => verifier.to_owned(),
    };
    super::constant_time_eq(derived.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_verifies() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify(verifier, challenge, CodeChallengeMethod::S256));
        assert!(!verify(verifier, challenge, CodeChallengeMethod::Plain));
        assert!(verify(verifier, verifier, CodeChallengeMethod::Plain));
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX";
        assert!(!verify(other, challenge, CodeChallengeMethod::S256));
    }

    #[test]
    fn verifiers_outside_the_alphabet_or_length_are_refused() {
        assert!(!is_valid_verifier("short"));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(43))));
        assert!(is_valid_verifier(&"a~._-".repeat(10)));
    }
}
