//! Password hashes (argon2id, PHC strings), the same on the server and on a terminal that
//! remembers its users for offline sign-in. The caller supplies the random salt, so this module
//! stays free of I/O.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// The argon2id hash of `password` with a 16-byte random `salt`, as a PHC string.
pub fn hash_password(password: &str, salt: [u8; 16]) -> String {
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2id hashing").to_string()
}

/// Whether `password` matches `hash`; false for anything that is not a valid PHC string.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_the_same_password() {
        let hash = hash_password("s3cret", [7; 16]);
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("s3cret", &hash));
        assert!(!verify_password("S3cret", &hash));
        assert!(!verify_password("s3cret", "garbage"));
        assert_ne!(hash, hash_password("s3cret", [8; 16]), "the salt changes the hash");
    }
}
