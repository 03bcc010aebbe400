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
    crate::engine::constant_time_eq(derived.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn s256(verifier: &str) -> String {
        URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            verifier.as_bytes(),
        ))
    }

    proptest! {
        #[test]
        fn a_verifier_verifies_its_own_challenge_and_no_other(
            verifier in "[A-Za-z0-9._~-]{43,128}",
            other in "[A-Za-z0-9._~-]{43,128}",
        ) {
            prop_assert!(verify(&verifier, &s256(&verifier), CodeChallengeMethod::S256));
            prop_assert!(verify(&verifier, &verifier, CodeChallengeMethod::Plain));
            prop_assert!(!verify(&verifier, &verifier, CodeChallengeMethod::S256));
            if other != verifier {
                prop_assert!(!verify(&other, &s256(&verifier), CodeChallengeMethod::S256));
                prop_assert!(!verify(&other, &verifier, CodeChallengeMethod::Plain));
            }
        }

        #[test]
        fn a_verifier_of_the_wrong_length_or_alphabet_never_verifies(
            verifier in "\\PC{0,42}|\\PC{129,140}|[A-Za-z0-9]{20}[^A-Za-z0-9._~-][A-Za-z0-9]{30}",
        ) {
            prop_assert!(!is_valid_verifier(&verifier));
            prop_assert!(!verify(&verifier, &s256(&verifier), CodeChallengeMethod::S256));
            prop_assert!(!verify(&verifier, &verifier, CodeChallengeMethod::Plain));
        }
    }

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
