//! Cosign-compatible signing and verification of container images in an OCI registry. Keys use cosign's formats
//! ([`PrivateKey`]: `ENCRYPTED SIGSTORE PRIVATE KEY` PEM, scrypt + NaCl secretbox around PKCS#8 ECDSA P-256;
//! [`PublicKey`]: PKIX `PUBLIC KEY` PEM). [`sign_image`] signs the simple-signing payload ([`SimpleSigning`]) naming
//! the image's manifest digest and stores it as a layer of the OCI manifest tagged `sha256-<hex>.sig` in the image's
//! repository, with the base64 DER signature in the `dev.cosignproject.cosign/signature` annotation, appending to
//! signatures already there. [`verify_image`] fetches that manifest and checks every signature layer: payload
//! digest, signed digest equal to the image's, repository identity, and the ECDSA signature — so images signed by
//! cosign verify here and images signed here verify with `cosign verify --key`.

mod error;
mod keys;
mod payload;
mod registry;
mod signatures;

pub use error::SignError;
pub use keys::{
    PrivateKey, PublicKey, ScryptCost, LEGACY_COSIGN_PRIVATE_KEY_LABEL, PUBLIC_KEY_LABEL, SIGSTORE_PRIVATE_KEY_LABEL,
};
/// Registry credentials and references, from mamoru-oci, so callers need not depend on it directly.
pub use mamoru_oci::{Reference, RegistryAuth};
pub use payload::{Critical, Identity, ImageId, SimpleSigning, COSIGN_SIGNATURE_TYPE};
pub use registry::Repository;
pub use signatures::{
    docker_reference, sign_image, signature_tag, verify_image, verify_image_report, LayerVerdict, SignOptions,
    SignedImage, VerifiedSignature, VerifyOptions, VerifyReport, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE,
};
