//! Verification of the OIDC tokens Pub/Sub push attaches (`Authorization: Bearer <JWT>`): RS256 signature
//! against a JWKS (Google's `oauth2/v3/certs` format), then issuer, audience, expiry and optionally the
//! service-account email.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

/// Accepted clock skew.
const LEEWAY_SECS: u64 = 60;

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("not a JWT")]
    Format,
    #[error("unsupported algorithm {0}")]
    Algorithm(String),
    #[error("unknown signing key {0:?}")]
    UnknownKey(Option<String>),
    #[error("bad signature")]
    Signature,
    #[error("issuer {0:?} not accepted")]
    Issuer(Option<String>),
    #[error("audience does not match")]
    Audience,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("email {0:?} not accepted")]
    Email(Option<String>),
}

#[derive(Debug, Clone, Deserialize)]
struct Jwk {
    #[serde(default)]
    kid: Option<String>,
    kty: String,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

/// RSA public keys by key id.
#[derive(Debug, Clone, Default)]
pub struct Jwks {
    keys: Vec<(Option<String>, Vec<u8>, Vec<u8>)>,
}

impl Jwks {
    /// Parses a JWKS document (`{"keys":[{"kty":"RSA","kid":..,"n":..,"e":..}]}`); non-RSA keys are ignored.
    pub fn parse(doc: &[u8]) -> Result<Jwks, String> {
        #[derive(Deserialize)]
        struct Doc {
            keys: Vec<Jwk>,
        }
        let doc: Doc = serde_json::from_slice(doc).map_err(|e| format!("JWKS: {e}"))?;
        let mut keys = Vec::new();
        for k in doc.keys.into_iter().filter(|k| k.kty == "RSA") {
            let (Some(n), Some(e)) = (k.n, k.e) else { continue };
            let n = URL_SAFE_NO_PAD
                .decode(n.trim_end_matches('='))
                .map_err(|e| format!("JWKS n: {e}"))?;
            let e = URL_SAFE_NO_PAD
                .decode(e.trim_end_matches('='))
                .map_err(|e| format!("JWKS e: {e}"))?;
            keys.push((k.kid, n, e));
        }
        Ok(Jwks { keys })
    }

    pub fn has_key(&self, kid: Option<&str>) -> bool {
        self.keys.iter().any(|(k, _, _)| kid.is_none() || k.as_deref() == kid)
    }
}

/// What a token must carry.
#[derive(Debug, Clone)]
pub struct Expectations {
    pub issuers: Vec<String>,
    pub audience: Option<String>,
    pub email: Option<String>,
}

/// The `kid` of a token's header (to decide whether the key set must be refreshed).
pub fn key_id(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let v: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    v.get("kid").and_then(Value::as_str).map(str::to_string)
}

/// Verifies `token`, returning its claims.
pub fn verify(token: &str, keys: &Jwks, want: &Expectations, now_secs: u64) -> Result<Value, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::Format);
    };
    let decode = |p: &str| URL_SAFE_NO_PAD.decode(p).map_err(|_| JwtError::Format);
    let header: Value = serde_json::from_slice(&decode(h)?).map_err(|_| JwtError::Format)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or_default();
    if alg != "RS256" {
        return Err(JwtError::Algorithm(alg.to_string()));
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let signature = decode(s)?;
    let signed = &token.as_bytes()[..h.len() + 1 + c.len()];
    let candidates: Vec<_> = keys
        .keys
        .iter()
        .filter(|(k, _, _)| kid.is_none() || k.as_deref() == kid)
        .collect();
    if candidates.is_empty() {
        return Err(JwtError::UnknownKey(kid.map(str::to_string)));
    }
    let valid = candidates.iter().any(|(_, n, e)| {
        ring::signature::RsaPublicKeyComponents { n, e }
            .verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, signed, &signature)
            .is_ok()
    });
    if !valid {
        return Err(JwtError::Signature);
    }
    let claims: Value = serde_json::from_slice(&decode(c)?).map_err(|_| JwtError::Format)?;
    check_claims(&claims, want, now_secs)?;
    Ok(claims)
}

fn check_claims(claims: &Value, want: &Expectations, now: u64) -> Result<(), JwtError> {
    let iss = claims.get("iss").and_then(Value::as_str);
    if !want.issuers.iter().any(|i| Some(i.as_str()) == iss) {
        return Err(JwtError::Issuer(iss.map(str::to_string)));
    }
    if let Some(aud) = &want.audience {
        let ok = match claims.get("aud") {
            Some(Value::String(a)) => a == aud,
            Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(aud)),
            _ => false,
        };
        if !ok {
            return Err(JwtError::Audience);
        }
    }
    match claims.get("exp").and_then(Value::as_u64) {
        Some(exp) if exp + LEEWAY_SECS >= now => {}
        _ => return Err(JwtError::Expired),
    }
    if claims
        .get("iat")
        .and_then(Value::as_u64)
        .is_some_and(|iat| iat > now + LEEWAY_SECS)
    {
        return Err(JwtError::NotYetValid);
    }
    if let Some(email) = &want.email {
        let got = claims.get("email").and_then(Value::as_str);
        let verified = claims.get("email_verified").and_then(Value::as_bool).unwrap_or(true);
        if got != Some(email.as_str()) || !verified {
            return Err(JwtError::Email(got.map(str::to_string)));
        }
    }
    Ok(())
}
