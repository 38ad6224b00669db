//! Keys in cosign's formats. The private key is a PKCS#8 DER ECDSA P-256 key sealed in a JSON envelope
//! (`{"kdf":{"name":"scrypt","params":{"N","r","p"},"salt"},"cipher":{"name":"nacl/secretbox","nonce"},"ciphertext"}`,
//! byte fields in standard base64) inside an `ENCRYPTED SIGSTORE PRIVATE KEY` PEM block; the secretbox key is
//! scrypt(password, salt) and the sealed box is tag followed by ciphertext, as NaCl lays it out. The public key is a
//! PKIX `PUBLIC KEY` PEM block.

use crate::error::SignError;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The PEM label cosign writes today.
pub const SIGSTORE_PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The label older cosign releases wrote; still accepted when reading.
pub const LEGACY_COSIGN_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
pub const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

const KDF_NAME: &str = "scrypt";
const CIPHER_NAME: &str = "nacl/secretbox";
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;
/// Upper bounds on scrypt cost read from a key file, so a hostile file cannot ask for gigabytes of memory.
const MAX_LOG_N: u8 = 20;
const MAX_R: u32 = 32;
const MAX_P: u32 = 16;

/// scrypt cost parameters (N is a power of two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScryptCost {
    pub log_n: u8,
    pub r: u32,
    pub p: u32,
}

impl ScryptCost {
    /// What cosign's `generate-key-pair` writes (N=65536, r=8, p=1).
    pub const COSIGN: ScryptCost = ScryptCost { log_n: 16, r: 8, p: 1 };
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: KdfSection,
    cipher: CipherSection,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct KdfSection {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct CipherSection {
    name: String,
    nonce: String,
}

/// A P-256 signing key.
pub struct PrivateKey {
    key: SigningKey,
}

/// A P-256 verification key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
}

impl PrivateKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        PrivateKey {
            key: SigningKey::random(&mut OsRng),
        }
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            key: *self.key.verifying_key(),
        }
    }

    /// Reads an encrypted cosign private key file.
    pub fn read_encrypted(path: &Path, password: &[u8]) -> Result<Self, SignError> {
        let text = read_file(path)?;
        Self::from_encrypted_pem(&text, password, &path.display().to_string())
    }

    /// Decrypts an `ENCRYPTED SIGSTORE PRIVATE KEY` (or legacy `ENCRYPTED COSIGN PRIVATE KEY`) PEM; `what` names
    /// the source in errors.
    pub fn from_encrypted_pem(pem: &str, password: &[u8], what: &str) -> Result<Self, SignError> {
        let (label, body) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(|e| SignError::key(what, e))?;
        if label != SIGSTORE_PRIVATE_KEY_LABEL && label != LEGACY_COSIGN_PRIVATE_KEY_LABEL {
            return Err(SignError::key(
                what,
                format!("PEM block is {label:?}, expected {SIGSTORE_PRIVATE_KEY_LABEL:?}"),
            ));
        }
        let der = open_envelope(&body, password, what)?;
        let key =
            SigningKey::from_pkcs8_der(&der).map_err(|e| SignError::key(what, format!("not a P-256 key: {e}")))?;
        Ok(PrivateKey { key })
    }

    /// Encrypts the key as cosign does, with the given scrypt cost.
    pub fn to_encrypted_pem(&self, password: &[u8], cost: ScryptCost) -> Result<String, SignError> {
        let der = self
            .key
            .to_pkcs8_der()
            .map_err(|e| SignError::key("private key", format!("PKCS#8 encoding: {e}")))?;
        let envelope = seal_envelope(der.as_bytes(), password, cost)?;
        pem_rfc7468::encode_string(SIGSTORE_PRIVATE_KEY_LABEL, pem_rfc7468::LineEnding::LF, &envelope)
            .map_err(|e| SignError::key("private key", format!("PEM encoding: {e}")))
    }

    /// ECDSA P-256 over SHA-256 of `payload`, ASN.1 DER encoded (what cosign stores, base64, in the annotation).
    pub fn sign(&self, payload: &[u8]) -> Vec<u8> {
        let signature: Signature = self.key.sign(payload);
        let der: DerSignature = signature.to_der();
        der.as_bytes().to_vec()
    }
}

impl PublicKey {
    /// Reads a PKIX `PUBLIC KEY` PEM file such as cosign.pub.
    pub fn read(path: &Path) -> Result<Self, SignError> {
        let text = read_file(path)?;
        Self::from_pem(&text, &path.display().to_string())
    }

    pub fn from_pem(pem: &str, what: &str) -> Result<Self, SignError> {
        let key = VerifyingKey::from_public_key_pem(pem.trim())
            .map_err(|e| SignError::key(what, format!("not a P-256 PUBLIC KEY PEM: {e}")))?;
        Ok(PublicKey { key })
    }

    pub fn to_pem(&self) -> Result<String, SignError> {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| SignError::key("public key", format!("PEM encoding: {e}")))
    }

    /// Checks a DER (or, leniently, raw r||s) ECDSA signature over `payload`.
    pub fn verify(&self, payload: &[u8], signature: &[u8]) -> Result<(), SignError> {
        let signature = Signature::from_der(signature)
            .or_else(|_| Signature::from_slice(signature))
            .map_err(|_| SignError::Signature("not an ECDSA P-256 signature (neither DER nor r||s)".to_string()))?;
        self.key
            .verify(payload, &signature)
            .map_err(|_| SignError::Signature("does not verify with the given public key".to_string()))
    }
}

fn read_file(path: &Path) -> Result<String, SignError> {
    std::fs::read_to_string(path).map_err(|source| SignError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn derive_secretbox_key(password: &[u8], salt: &[u8], cost: ScryptCost) -> Result<[u8; KEY_LEN], SignError> {
    let params =
        scrypt::Params::new(cost.log_n, cost.r, cost.p, KEY_LEN).map_err(|e| SignError::key("scrypt parameters", e))?;
    let mut key = [0u8; KEY_LEN];
    scrypt::scrypt(password, salt, &params, &mut key).map_err(|e| SignError::key("scrypt", e))?;
    Ok(key)
}

fn seal_envelope(plaintext: &[u8], password: &[u8], cost: ScryptCost) -> Result<Vec<u8>, SignError> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut nonce);
    let key = derive_secretbox_key(password, &salt, cost)?;
    let cipher = XSalsa20Poly1305::new(&key.into());
    let sealed = cipher
        .encrypt(&nonce.into(), plaintext)
        .map_err(|_| SignError::key("private key", "secretbox sealing failed"))?;
    let envelope = Envelope {
        kdf: KdfSection {
            name: KDF_NAME.to_string(),
            params: KdfParams {
                n: 1u64 << cost.log_n,
                r: cost.r,
                p: cost.p,
            },
            salt: B64.encode(salt),
        },
        cipher: CipherSection {
            name: CIPHER_NAME.to_string(),
            nonce: B64.encode(nonce),
        },
        ciphertext: B64.encode(sealed),
    };
    serde_json::to_vec(&envelope).map_err(|e| SignError::key("private key", e))
}

fn open_envelope(body: &[u8], password: &[u8], what: &str) -> Result<Vec<u8>, SignError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| SignError::key(what, format!("encrypted key envelope: {e}")))?;
    if envelope.kdf.name != KDF_NAME {
        return Err(SignError::key(what, format!("unsupported kdf {:?}", envelope.kdf.name)));
    }
    if envelope.cipher.name != CIPHER_NAME {
        return Err(SignError::key(
            what,
            format!("unsupported cipher {:?}", envelope.cipher.name),
        ));
    }
    let cost = checked_cost(&envelope.kdf.params, what)?;
    let decode = |field: &str, text: &str| {
        B64.decode(text)
            .map_err(|e| SignError::key(what, format!("{field}: invalid base64: {e}")))
    };
    let salt = decode("kdf.salt", &envelope.kdf.salt)?;
    let nonce = decode("cipher.nonce", &envelope.cipher.nonce)?;
    let sealed = decode("ciphertext", &envelope.ciphertext)?;
    let nonce: [u8; NONCE_LEN] = nonce.as_slice().try_into().map_err(|_| {
        SignError::key(
            what,
            format!("cipher.nonce: {} bytes, expected {NONCE_LEN}", nonce.len()),
        )
    })?;
    let key = derive_secretbox_key(password, &salt, cost)?;
    XSalsa20Poly1305::new(&key.into())
        .decrypt(&nonce.into(), sealed.as_slice())
        .map_err(|_| SignError::WrongPassword(what.to_string()))
}

fn checked_cost(params: &KdfParams, what: &str) -> Result<ScryptCost, SignError> {
    if !params.n.is_power_of_two() || params.n < 2 {
        return Err(SignError::key(
            what,
            format!("kdf.params.N={} is not a power of two", params.n),
        ));
    }
    let log_n = params.n.trailing_zeros() as u8;
    if log_n > MAX_LOG_N || params.r == 0 || params.r > MAX_R || params.p == 0 || params.p > MAX_P {
        return Err(SignError::key(
            what,
            format!(
                "scrypt cost N={} r={} p={} outside the accepted range (N<=2^{MAX_LOG_N}, r<={MAX_R}, p<={MAX_P})",
                params.n, params.r, params.p
            ),
        ));
    }
    Ok(ScryptCost {
        log_n,
        r: params.r,
        p: params.p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap cost so debug-build tests stay quick; the format is identical.
    const FAST: ScryptCost = ScryptCost { log_n: 10, r: 8, p: 1 };

    #[test]
    fn encrypted_key_round_trips() {
        let key = PrivateKey::generate();
        let pem = key.to_encrypted_pem(b"hunter2", FAST).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let back = PrivateKey::from_encrypted_pem(&pem, b"hunter2", "test").unwrap();
        assert_eq!(back.public_key(), key.public_key());
        let body = pem_rfc7468::decode_vec(pem.as_bytes()).unwrap().1;
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["kdf"]["name"], "scrypt");
        assert_eq!(json["kdf"]["params"]["N"], 1024);
        assert_eq!(json["cipher"]["name"], "nacl/secretbox");
    }

    #[test]
    fn wrong_password_is_reported() {
        let pem = PrivateKey::generate().to_encrypted_pem(b"right", FAST).unwrap();
        let err = PrivateKey::from_encrypted_pem(&pem, b"wrong", "cosign.key")
            .err()
            .unwrap();
        assert!(matches!(err, SignError::WrongPassword(_)), "{err}");
    }

    #[test]
    fn hostile_cost_and_labels_are_refused() {
        let body = br#"{"kdf":{"name":"scrypt","params":{"N":1073741824,"r":8,"p":1},"salt":"AA=="},"cipher":{"name":"nacl/secretbox","nonce":"AA=="},"ciphertext":"AA=="}"#;
        let pem = pem_rfc7468::encode_string(SIGSTORE_PRIVATE_KEY_LABEL, pem_rfc7468::LineEnding::LF, body).unwrap();
        let err = PrivateKey::from_encrypted_pem(&pem, b"", "k").err().unwrap();
        assert!(err.to_string().contains("outside the accepted range"), "{err}");
        let pem = pem_rfc7468::encode_string("PRIVATE KEY", pem_rfc7468::LineEnding::LF, body).unwrap();
        assert!(PrivateKey::from_encrypted_pem(&pem, b"", "k").is_err());
    }

    #[test]
    fn public_key_pem_round_trips() {
        let key = PrivateKey::generate().public_key();
        let pem = key.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(PublicKey::from_pem(&pem, "t").unwrap(), key);
        assert!(PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "t").is_err());
    }

    #[test]
    fn signatures_verify_only_with_the_right_key_and_payload() {
        let key = PrivateKey::generate();
        let sig = key.sign(b"payload");
        key.public_key().verify(b"payload", &sig).unwrap();
        assert!(key.public_key().verify(b"payloaD", &sig).is_err());
        assert!(PrivateKey::generate().public_key().verify(b"payload", &sig).is_err());
        assert!(key.public_key().verify(b"payload", b"garbage").is_err());
    }

    /// A key generated by cosign itself (empty password, N=65536), from sigstore-rs's test data:
    /// https://github.com/sigstore/sigstore-rs/blob/main/tests/data/keys/cosign_generated_encrypted_empty_private.key
    /// Decrypting it proves the scrypt + secretbox envelope and the PKCS#8 payload match cosign's.
    #[test]
    fn decrypts_a_cosign_generated_key() {
        let pem = include_str!("../tests/data/cosign_generated_encrypted_empty_private.key");
        let key = PrivateKey::from_encrypted_pem(pem, b"", "cosign_generated_encrypted_empty_private.key").unwrap();
        let sig = key.sign(b"x");
        key.public_key().verify(b"x", &sig).unwrap();
        assert!(matches!(
            PrivateKey::from_encrypted_pem(pem, b"not empty", "k"),
            Err(SignError::WrongPassword(_))
        ));
    }
}
