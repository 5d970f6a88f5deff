//! PKCS#11 keys (HSM), through `cryptoki`. Tested against SoftHSM2.
//!
//! A key pair is found by token label and object label (`CKA_LABEL` on both
//! halves), never by slot ID: SoftHSM2 moves a token to a random slot when it
//! is initialised, and hardware HSMs renumber slots too.
//!
//! Three PKCS#11 rules shape this file:
//!
//! * `C_Initialize` may run once per module per process, so the loaded
//!   modules live in one process-wide table keyed by path and every key on
//!   that module shares the context (the CA opens four keys from one token).
//! * Login is per application and token, not per session: once one session
//!   has logged in, every session of the process on that token is logged in,
//!   until the last of them closes. Each key therefore keeps one *anchor*
//!   session open for its lifetime, and a second key's login answers
//!   `CKR_USER_ALREADY_LOGGED_IN`, which is success.
//! * A session must not be used by two threads at once. Signing takes an
//!   idle session from a small per-key pool (opening one when none is idle)
//!   and puts it back afterwards, so threads sign in parallel.
//!
//! SoftHSM2 has no `CKM_ECDSA_SHA256`, so ECDSA hashes on the host and asks
//! the token for a raw `CKM_ECDSA` signature (r‖s), which becomes the DER
//! `Ecdsa-Sig-Value` X.509 carries. RSA uses `CKM_SHA256_RSA_PKCS`.

use super::algorithm::KeyAlgorithm;
use super::error::KeyError;
use super::source::{Decrypter, KeySource, read_secret_file};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::{RawAuthPin, Ulong};
use der::asn1::{Any, BitString, Null, OctetString, UintRef};
use der::{Decode, Encode};
use sha2::{Digest, Sha256, Sha384};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};
use zeroize::Zeroizing;

/// Which PKCS#11 module and token to use, and where the user PIN is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Config {
    /// Path to the module (e.g. `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// File holding the user PIN.
    pub pin_file: PathBuf,
}

/// A key pair on a PKCS#11 token.
pub struct Pkcs11Key {
    cfg: Pkcs11Config,
    token: String,
    object: String,
    /// `CKA_ID` of the private key, to find the same object again after a reconnect.
    id: Vec<u8>,
    algorithm: KeyAlgorithm,
    spki: SubjectPublicKeyInfoOwned,
    ctx: Pkcs11,
    /// Kept for logging in again when the token forgot the login (HSM restart, token re-inserted).
    pin: RawAuthPin,
    pool: Mutex<Pool>,
}

/// Sessions of one key. Locked only to take or return a session, never while the token signs.
struct Pool {
    slot: Slot,
    key: ObjectHandle,
    /// Open for the key's lifetime so the token stays logged in; never used to sign.
    anchor: Session,
    idle: Vec<Session>,
    /// Bumped on reconnect, so sessions from before it are closed instead of returned.
    generation: u64,
}

/// Idle sessions kept per key; more are opened under load and closed when returned.
const MAX_IDLE_SESSIONS: usize = 8;

impl std::fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Key")
            .field("module", &self.cfg.module)
            .field("token", &self.token)
            .field("object", &self.object)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Key {
    /// Generate a key pair labelled `object` on the token labelled `token`.
    ///
    /// Both halves are token objects with the same `CKA_LABEL` and a random
    /// 16-byte `CKA_ID`; the private key is sensitive, not extractable and may
    /// only sign. Refuses if any object labelled `object` exists already.
    pub fn generate(cfg: &Pkcs11Config, token: &str, object: &str, alg: KeyAlgorithm) -> Result<Self, KeyError> {
        Self::generate_with(cfg, token, object, alg, false)
    }

    /// Like [`Self::generate`], but the private key may also decrypt (CKA_DECRYPT): the SCEP RA key, which
    /// unwraps the content-encryption keys SCEP clients send it ([`Decrypter`]).
    pub fn generate_decrypter(
        cfg: &Pkcs11Config,
        token: &str,
        object: &str,
        alg: KeyAlgorithm,
    ) -> Result<Self, KeyError> {
        if alg.rsa_bits().is_none() {
            return Err(KeyError::UnsupportedKey(format!("{alg} (decryption keys are RSA)")));
        }
        Self::generate_with(cfg, token, object, alg, true)
    }

    fn generate_with(
        cfg: &Pkcs11Config,
        token: &str,
        object: &str,
        alg: KeyAlgorithm,
        decrypt: bool,
    ) -> Result<Self, KeyError> {
        let ctx = module(&cfg.module)?;
        let pin = read_pin(&cfg.pin_file)?;
        let slot = find_token(&ctx, &cfg.module, token)?;
        let session = ctx.open_rw_session(slot).map_err(p11(token, "cannot open a read-write session"))?;
        login(&session, &pin, token, &cfg.pin_file)?;
        let existing = session
            .find_objects(&[Attribute::Label(object.as_bytes().to_vec())])
            .map_err(p11(token, "cannot search objects"))?;
        if !existing.is_empty() {
            return Err(KeyError::Pkcs11ObjectExists { token: token.to_owned(), object: object.to_owned() });
        }
        let mut id = vec![0u8; 16];
        aws_lc_rs::rand::fill(&mut id).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let (mechanism, public, private) = templates(alg, object, &id, decrypt)?;
        let pair = session
            .generate_key_pair(&mechanism, &public, &private)
            .map_err(p11(token, &format!("cannot generate a {alg} key pair labelled {object:?}")))?;
        tracing::info!(token, object, algorithm = %alg, "generated PKCS#11 key pair");
        // The handles the token just returned, not a search by label: SoftHSM's file store may not list an
        // object another session created a moment ago, and a missed public half read as the private one.
        Self::attach(cfg, ctx, pin, slot, session, token, object, Some(pair))
    }

    /// Open the key pair labelled `object` on the token labelled `token`.
    pub fn open(cfg: &Pkcs11Config, token: &str, object: &str) -> Result<Self, KeyError> {
        let ctx = module(&cfg.module)?;
        let pin = read_pin(&cfg.pin_file)?;
        let slot = find_token(&ctx, &cfg.module, token)?;
        let session = ctx.open_ro_session(slot).map_err(p11(token, "cannot open a session"))?;
        login(&session, &pin, token, &cfg.pin_file)?;
        Self::attach(cfg, ctx, pin, slot, session, token, object, None)
    }

    /// Find the pair on a logged-in session (or take the `(public, private)` handles just generated), read its
    /// public half, and keep the session as the anchor.
    #[allow(clippy::too_many_arguments)]
    fn attach(
        cfg: &Pkcs11Config,
        ctx: Pkcs11,
        pin: RawAuthPin,
        slot: Slot,
        session: Session,
        token: &str,
        object: &str,
        generated: Option<(ObjectHandle, ObjectHandle)>,
    ) -> Result<Self, KeyError> {
        let key = match generated {
            Some((_, private)) => private,
            None => find_private_key(&session, token, object, None)?,
        };
        let attrs = session
            .get_attributes(key, &[AttributeType::KeyType, AttributeType::Id, AttributeType::Sign])
            .map_err(p11(token, "cannot read the private key's attributes"))?;
        let (mut key_type, mut id, mut can_sign) = (None, Vec::new(), true);
        for attr in attrs {
            match attr {
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::Id(v) => id = v,
                Attribute::Sign(b) => can_sign = b,
                _ => {}
            }
        }
        if !can_sign {
            return Err(KeyError::Pkcs11(format!(
                "token {token:?}: the private key {object:?} has CKA_SIGN false and cannot sign; generate a signing key"
            )));
        }
        let public = match generated {
            Some((public, _)) => public,
            None => find_public_key(&session, token, object, &id)?.unwrap_or(key),
        };
        let (algorithm, spki) = match key_type {
            Some(t) if t == KeyType::EC => ec_public_key(&session, public, token, object)?,
            Some(t) if t == KeyType::RSA => rsa_public_key(&session, public, token, object)?,
            _ => return Err(KeyError::UnsupportedKey(uri(token, object))),
        };
        let pool = Pool { slot, key, anchor: session, idle: Vec::new(), generation: 0 };
        Ok(Self {
            cfg: cfg.clone(),
            token: token.to_owned(),
            object: object.to_owned(),
            id,
            algorithm,
            spki,
            ctx,
            pin,
            pool: Mutex::new(pool),
        })
    }

    /// Sign `data` with `mechanism`, reconnecting once if the token lost the session or the login.
    fn sign_raw(&self, mechanism: &Mechanism, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.with_key(&self.cannot_sign(), |session, key| session.sign(mechanism, key, data))
    }

    /// Run `op` with the private key on a pooled session, reconnecting once if the token lost the session or
    /// the login.
    fn with_key(
        &self,
        what: &str,
        op: impl Fn(&Session, ObjectHandle) -> Result<Vec<u8>, CkError>,
    ) -> Result<Vec<u8>, KeyError> {
        let (result, generation) = self.once(&op);
        match result {
            Ok(out) => Ok(out),
            Err(e) if connection_lost(&e) => {
                tracing::warn!(token = %self.token, object = %self.object, error = %describe(&e),
                    "PKCS#11 session or login lost; reconnecting");
                self.reconnect(generation)?;
                self.once(&op).0.map_err(p11(&self.token, what))
            }
            Err(e) => Err(p11(&self.token, what)(e)),
        }
    }

    /// One attempt on a pooled session. Returns the pool generation the session came from.
    fn once(
        &self,
        op: &impl Fn(&Session, ObjectHandle) -> Result<Vec<u8>, CkError>,
    ) -> (Result<Vec<u8>, CkError>, u64) {
        let (session, key, generation) = {
            let mut pool = self.lock_pool();
            let generation = pool.generation;
            let session = match pool.idle.pop() {
                Some(s) => s,
                None => match self.ctx.open_ro_session(pool.slot) {
                    Ok(s) => s,
                    Err(e) => return (Err(e), generation),
                },
            };
            (session, pool.key, generation)
        };
        let result = op(&session, key);
        // A session whose call failed is closed (dropped) rather than trusted again.
        if result.is_ok() {
            let mut pool = self.lock_pool();
            if pool.generation == generation && pool.idle.len() < MAX_IDLE_SESSIONS {
                pool.idle.push(session);
            }
        }
        (result, generation)
    }

    /// Find the token and key again and log in, unless another thread already did since `seen`.
    fn reconnect(&self, seen: u64) -> Result<(), KeyError> {
        let mut pool = self.lock_pool();
        if pool.generation != seen {
            return Ok(());
        }
        let slot = find_token(&self.ctx, &self.cfg.module, &self.token)?;
        let session = self.ctx.open_ro_session(slot).map_err(p11(&self.token, "cannot open a session"))?;
        login(&session, &self.pin, &self.token, &self.cfg.pin_file)?;
        let id = (!self.id.is_empty()).then_some(self.id.as_slice());
        let key = find_private_key(&session, &self.token, &self.object, id)?;
        pool.slot = slot;
        pool.key = key;
        pool.anchor = session;
        pool.idle.clear();
        pool.generation = pool.generation.wrapping_add(1);
        Ok(())
    }

    fn lock_pool(&self) -> MutexGuard<'_, Pool> {
        // A panic elsewhere while holding the lock leaves nothing half-updated worth refusing over.
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn cannot_sign(&self) -> String {
        format!("cannot sign with {:?}", self.object)
    }
}

impl Decrypter for Pkcs11Key {
    fn decrypt_pkcs1v15(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        if self.algorithm.rsa_bits().is_none() {
            return Err(KeyError::UnsupportedKey(format!("{} (decryption keys are RSA)", self.algorithm)));
        }
        let what = format!("cannot decrypt with {:?} (a key made with CKA_DECRYPT)", self.object);
        self.with_key(&what, |session, key| session.decrypt(&Mechanism::RsaPkcs, key, ciphertext)).map(Zeroizing::new)
    }
}

impl KeySource for Pkcs11Key {
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self.algorithm {
            KeyAlgorithm::P256 => ecdsa_der(&self.sign_raw(&Mechanism::Ecdsa, &Sha256::digest(message))?, 32),
            KeyAlgorithm::P384 => ecdsa_der(&self.sign_raw(&Mechanism::Ecdsa, &Sha384::digest(message))?, 48),
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
                self.sign_rsa(&Mechanism::Sha256RsaPkcs, message)
            }
        }
    }

    fn sign_pss_sha256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        if self.algorithm.rsa_bits().is_none() {
            return Err(KeyError::UnsupportedKey(format!("{} (RSASSA-PSS needs an RSA key)", self.algorithm)));
        }
        let params =
            PkcsPssParams { hash_alg: MechanismType::SHA256, mgf: PkcsMgfType::MGF1_SHA256, s_len: Ulong::from(32) };
        self.sign_rsa(&Mechanism::Sha256RsaPkcsPss(params), message)
    }
}

impl Pkcs11Key {
    /// An RSA signature, checked to be one modulus long (a token answering otherwise is broken).
    fn sign_rsa(&self, mechanism: &Mechanism, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let sig = self.sign_raw(mechanism, message)?;
        let expected = self.algorithm.rsa_bits().unwrap_or_default() / 8;
        if sig.len() != expected {
            return Err(KeyError::Pkcs11(format!(
                "token {:?} returned a {}-byte RSA signature for a {}-byte modulus",
                self.token,
                sig.len(),
                expected
            )));
        }
        Ok(sig)
    }
}

/// The module at `path`, loaded and initialised once per process.
fn module(path: &Path) -> Result<Pkcs11, KeyError> {
    static MODULES: LazyLock<Mutex<HashMap<PathBuf, Pkcs11>>> = LazyLock::new(Mutex::default);
    let key = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let mut modules = MODULES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(ctx) = modules.get(&key) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(&key).map_err(|e| {
        KeyError::Pkcs11(format!(
            "cannot load module {}: {e}; check [pkcs11] module in hcpki.toml (SoftHSM2: run scripts/deps)",
            path.display()
        ))
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Someone else in this process (another library) initialised it: the module is usable as it is.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(KeyError::Pkcs11(format!("cannot initialise module {}: {}", path.display(), describe(&e))));
        }
    }
    modules.insert(key, ctx.clone());
    Ok(ctx)
}

/// The slot holding the one initialised token labelled `label`.
fn find_token(ctx: &Pkcs11, module: &Path, label: &str) -> Result<Slot, KeyError> {
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| KeyError::Pkcs11(format!("module {}: cannot list slots: {}", module.display(), describe(&e))))?;
    let mut present = Vec::new();
    let mut matching = Vec::new();
    for slot in slots {
        // A slot whose token vanished between the two calls is not the one we want.
        let Ok(info) = ctx.get_token_info(slot) else {
            continue;
        };
        if !info.token_initialized() {
            continue;
        }
        if info.label() == label {
            matching.push(slot);
        }
        present.push(format!("{:?}", info.label()));
    }
    match matching.as_slice() {
        [slot] => Ok(*slot),
        [] => Err(KeyError::Pkcs11NotFound(format!(
            "token {label:?} (module {} has {})",
            module.display(),
            if present.is_empty() {
                "no initialised tokens".to_owned()
            } else {
                format!("tokens {}", present.join(", "))
            }
        ))),
        many => Err(KeyError::Pkcs11(format!(
            "{} tokens are labelled {label:?}; relabel all but one so the CA key is unambiguous",
            many.len()
        ))),
    }
}

/// Log the token's user in. A token the process is logged in to already is fine.
fn login(session: &Session, pin: &RawAuthPin, token: &str, pin_file: &Path) -> Result<(), KeyError> {
    match session.login_with_raw(UserType::User, pin) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
            Err(KeyError::Pkcs11Pin { token: token.to_owned(), pin_file: pin_file.to_owned() })
        }
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(KeyError::Pkcs11(format!(
            "token {token:?}: the user PIN is locked after too many wrong attempts; unlock it with the SO PIN"
        ))),
        Err(CkError::Pkcs11(RvError::PinExpired, _)) => Err(KeyError::Pkcs11(format!(
            "token {token:?}: the user PIN has expired; set a new one (pkcs11-tool --change-pin) and update {}",
            pin_file.display()
        ))),
        Err(e) => Err(p11(token, "cannot log in")(e)),
    }
}

fn read_pin(path: &Path) -> Result<RawAuthPin, KeyError> {
    let mut pin = read_secret_file(path)?;
    // Moved, not copied: the bytes go from one zeroizing owner to the other.
    Ok(RawAuthPin::new(Box::new(std::mem::take(&mut *pin))))
}

/// The one private key labelled `object` (and with `CKA_ID` `id`, when given).
fn find_private_key(session: &Session, token: &str, object: &str, id: Option<&[u8]>) -> Result<ObjectHandle, KeyError> {
    let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Label(object.as_bytes().to_vec())];
    template.extend(id.map(|id| Attribute::Id(id.to_vec())));
    let found = session.find_objects(&template).map_err(p11(token, "cannot search objects"))?;
    match found.as_slice() {
        [key] => Ok(*key),
        [] => {
            let labels = private_key_labels(session).unwrap_or_default();
            Err(KeyError::Pkcs11NotFound(format!(
                "private key {object:?} on token {token:?} ({})",
                if labels.is_empty() {
                    "the token holds no private keys".to_owned()
                } else {
                    format!("private keys: {}", labels.join(", "))
                }
            )))
        }
        many => Err(KeyError::Pkcs11(format!(
            "token {token:?} holds {} private keys labelled {object:?}; delete or relabel the extra ones",
            many.len()
        ))),
    }
}

/// The public key next to the private one: same label and, when the private key has one, same `CKA_ID`.
fn find_public_key(session: &Session, token: &str, object: &str, id: &[u8]) -> Result<Option<ObjectHandle>, KeyError> {
    let mut template = vec![Attribute::Class(ObjectClass::PUBLIC_KEY), Attribute::Label(object.as_bytes().to_vec())];
    if !id.is_empty() {
        template.push(Attribute::Id(id.to_vec()));
    }
    let found = session.find_objects(&template).map_err(p11(token, "cannot search objects"))?;
    match found.as_slice() {
        [] => Ok(None),
        [key] => Ok(Some(*key)),
        many => Err(KeyError::Pkcs11(format!(
            "token {token:?} holds {} public keys labelled {object:?}; delete or relabel the extra ones",
            many.len()
        ))),
    }
}

fn private_key_labels(session: &Session) -> Result<Vec<String>, CkError> {
    let mut labels = Vec::new();
    for key in session.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])? {
        for attr in session.get_attributes(key, &[AttributeType::Label])? {
            if let Attribute::Label(l) = attr {
                labels.push(format!("{:?}", String::from_utf8_lossy(&l)));
            }
        }
    }
    labels.sort();
    Ok(labels)
}

/// Mechanism and templates (public, private) for generating `alg`.
fn templates(
    alg: KeyAlgorithm,
    label: &str,
    id: &[u8],
    decrypt: bool,
) -> Result<(Mechanism<'static>, Vec<Attribute>, Vec<Attribute>), KeyError> {
    let common = |private: bool| {
        vec![
            Attribute::Token(true),
            Attribute::Private(private),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
        ]
    };
    let mut public = common(false);
    public.extend([Attribute::Verify(true), Attribute::Encrypt(decrypt), Attribute::Wrap(false)]);
    let mut private = common(true);
    private.extend([
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Decrypt(decrypt),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
    ]);
    let mechanism = if let Some(curve) = alg.curve_oid() {
        public.push(Attribute::EcParams(curve.to_der()?));
        Mechanism::EccKeyPairGen
    } else {
        let bits = alg.rsa_bits().ok_or_else(|| KeyError::UnsupportedKey(alg.to_string()))?;
        let bits = Ulong::try_from(bits).map_err(|e| KeyError::Crypto(e.to_string()))?;
        public.extend([Attribute::ModulusBits(bits), Attribute::PublicExponent(vec![0x01, 0x00, 0x01])]);
        Mechanism::RsaPkcsKeyPairGen
    };
    Ok((mechanism, public, private))
}

/// P-256/P-384 public key from `CKA_EC_PARAMS` (the curve OID) and `CKA_EC_POINT`.
fn ec_public_key(
    session: &Session,
    key: ObjectHandle,
    token: &str,
    object: &str,
) -> Result<(KeyAlgorithm, SubjectPublicKeyInfoOwned), KeyError> {
    let attrs = session
        .get_attributes(key, &[AttributeType::EcParams, AttributeType::EcPoint])
        .map_err(p11(token, "cannot read the EC public key"))?;
    let (mut params, mut point) = (None, None);
    for attr in attrs {
        match attr {
            Attribute::EcParams(v) => params = Some(v),
            Attribute::EcPoint(v) => point = Some(v),
            _ => {}
        }
    }
    let unsupported = || KeyError::UnsupportedKey(uri(token, object));
    let (Some(params), Some(point)) = (params, point) else {
        return Err(KeyError::Pkcs11NotFound(format!(
            "EC public key {object:?} on token {token:?} (no public key object with CKA_EC_POINT)"
        )));
    };
    let curve = ObjectIdentifier::from_der(&params).map_err(|_| unsupported())?;
    let (algorithm, scalar_len) = if curve == rfc5912::SECP_256_R_1 {
        (KeyAlgorithm::P256, 32)
    } else if curve == rfc5912::SECP_384_R_1 {
        (KeyAlgorithm::P384, 48)
    } else {
        return Err(unsupported());
    };
    let point = sec1_point(&point, scalar_len).ok_or_else(unsupported)?;
    let spki = SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: rfc5912::ID_EC_PUBLIC_KEY,
            parameters: Some(Any::encode_from(&curve)?),
        },
        subject_public_key: BitString::from_bytes(&point)?,
    };
    Ok((algorithm, spki))
}

/// The uncompressed SEC1 point in `CKA_EC_POINT`. PKCS#11 says it is a DER
/// OCTET STRING around the point; some modules return the bare point.
fn sec1_point(ec_point: &[u8], scalar_len: usize) -> Option<Vec<u8>> {
    let uncompressed = |p: &[u8]| p.len() == 1 + 2 * scalar_len && p.first() == Some(&0x04);
    if let Ok(wrapped) = OctetString::from_der(ec_point)
        && uncompressed(wrapped.as_bytes())
    {
        return Some(wrapped.as_bytes().to_vec());
    }
    uncompressed(ec_point).then(|| ec_point.to_vec())
}

/// RSA public key from `CKA_MODULUS` and `CKA_PUBLIC_EXPONENT`.
fn rsa_public_key(
    session: &Session,
    key: ObjectHandle,
    token: &str,
    object: &str,
) -> Result<(KeyAlgorithm, SubjectPublicKeyInfoOwned), KeyError> {
    let attrs = session
        .get_attributes(key, &[AttributeType::Modulus, AttributeType::PublicExponent])
        .map_err(p11(token, "cannot read the RSA public key"))?;
    let (mut modulus, mut exponent) = (None, None);
    for attr in attrs {
        match attr {
            Attribute::Modulus(v) => modulus = Some(v),
            Attribute::PublicExponent(v) => exponent = Some(v),
            _ => {}
        }
    }
    let (Some(modulus), Some(exponent)) = (modulus, exponent) else {
        return Err(KeyError::Pkcs11NotFound(format!(
            "RSA public key {object:?} on token {token:?} (no CKA_MODULUS and CKA_PUBLIC_EXPONENT)"
        )));
    };
    let modulus = UintRef::new(&modulus)?;
    let algorithm = match bit_len(modulus.as_bytes()) {
        2048 => KeyAlgorithm::Rsa2048,
        3072 => KeyAlgorithm::Rsa3072,
        4096 => KeyAlgorithm::Rsa4096,
        _ => return Err(KeyError::UnsupportedKey(uri(token, object))),
    };
    let der = RsaPublicKey { modulus, public_exponent: UintRef::new(&exponent)? }.to_der()?;
    let spki = SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: rfc5912::RSA_ENCRYPTION,
            parameters: Some(Any::encode_from(&Null)?),
        },
        subject_public_key: BitString::from_bytes(&der)?,
    };
    Ok((algorithm, spki))
}

/// Bit length of a big-endian unsigned integer without leading zero bytes.
fn bit_len(be: &[u8]) -> usize {
    match be.first() {
        Some(first) => be.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

/// RSA public key, RFC 8017 §A.1.1.
///
/// ```text
/// RSAPublicKey ::= SEQUENCE {
///     modulus           INTEGER,  -- n
///     publicExponent    INTEGER   -- e
/// }
/// ```
#[derive(der::Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// ECDSA signature value, RFC 3279 §2.2.3.
///
/// ```text
/// Ecdsa-Sig-Value  ::=  SEQUENCE  {
///      r     INTEGER,
///      s     INTEGER  }
/// ```
#[derive(der::Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// Turn `CKM_ECDSA`'s r‖s (each `scalar_len` bytes, big-endian) into DER.
/// `UintRef` drops leading zero bytes and adds one where the high bit is set.
fn ecdsa_der(raw: &[u8], scalar_len: usize) -> Result<Vec<u8>, KeyError> {
    let (r, s) = raw.split_at_checked(scalar_len).filter(|(_, s)| s.len() == scalar_len).ok_or_else(|| {
        KeyError::Crypto(format!("ECDSA signature of {} bytes, expected {}", raw.len(), 2 * scalar_len))
    })?;
    Ok(EcdsaSigValue { r: UintRef::new(r)?, s: UintRef::new(s)? }.to_der()?)
}

/// Errors that a fresh session and login can cure.
fn connection_lost(e: &CkError) -> bool {
    matches!(
        e,
        CkError::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::UserNotLoggedIn
                | RvError::TokenNotPresent
                | RvError::DeviceRemoved
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid,
            _
        )
    )
}

/// `what` failed on `token`, with the PKCS#11 function and return value.
fn p11(token: &str, what: &str) -> impl FnOnce(CkError) -> KeyError {
    let prefix = format!("token {token:?}: {what}");
    move |e| KeyError::Pkcs11(format!("{prefix}: {}", describe(&e)))
}

/// `C_Sign: KeyFunctionNotPermitted` rather than the spec's paragraph-long text.
fn describe(e: &CkError) -> String {
    match e {
        CkError::Pkcs11(rv, function) => format!("C_{function:?}: {rv:?}"),
        other => other.to_string(),
    }
}

fn uri(token: &str, object: &str) -> String {
    format!("pkcs11:token={token};object={object}")
}

#[cfg(test)]
mod tests {
    //! The HSM tests run SoftHSM2 in a child process: SoftHSM reads `SOFTHSM2_CONF` when the module
    //! initialises, which happens once per process, and setting the variable in this process would
    //! need `unsafe` (`std::env::set_var`). `softhsm2_suite` makes a token directory with one token
    //! per test, then runs this test binary again with the `hsm_` tests (ignored otherwise) and
    //! `SOFTHSM2_CONF` set, in parallel threads that share the one loaded module.

    use super::*;
    use crate::keys::verify::verify_signature;
    use std::process::Command;

    const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
    const PIN: &str = "1234";
    /// Set in the child: the directory holding `pin`, `wrong-pin` and the SoftHSM config.
    const DIR_ENV: &str = "HCPKI_TEST_SOFTHSM_DIR";
    /// One token per `hsm_` test, so one test's login never covers another's.
    const TOKENS: [&str; 7] = ["keys", "pss", "threads", "wrong-pin", "objects", "relogin", "unknown-token"];
    /// How many `hsm_` tests the child must report as passed.
    const HSM_TESTS: usize = 7;

    #[test]
    fn softhsm2_suite() {
        assert!(
            Path::new(MODULE).exists(),
            "SoftHSM2 module {MODULE} is missing: run scripts/deps (installs softhsm2 and opensc)"
        );
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("softhsm2.conf");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        std::fs::write(
            &conf,
            format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", tokens.display()),
        )
        .unwrap();
        std::fs::write(dir.path().join("pin"), format!("{PIN}\n")).unwrap();
        std::fs::write(dir.path().join("wrong-pin"), "4321\n").unwrap();
        for label in TOKENS {
            let out = Command::new("softhsm2-util")
                .args(["--init-token", "--free", "--label", label, "--so-pin", "12345678", "--pin", PIN])
                .env("SOFTHSM2_CONF", &conf)
                .output()
                .unwrap_or_else(|e| panic!("softhsm2-util: {e}; run scripts/deps"));
            assert!(
                out.status.success(),
                "softhsm2-util --init-token {label}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let filter = format!("{}::hsm_", module_path!().split_once("::").unwrap().1);
        let out = Command::new(std::env::current_exe().unwrap())
            .args([filter.as_str(), "--ignored", "--nocapture"])
            .env("SOFTHSM2_CONF", &conf)
            .env(DIR_ENV, dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report = format!("stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "SoftHSM2 tests failed\n{report}");
        assert!(
            stdout.contains(&format!("test result: ok. {HSM_TESTS} passed")),
            "expected {HSM_TESTS} passing tests\n{report}"
        );
    }

    /// Config for the child's token directory, with the right or the wrong PIN.
    fn cfg(pin_file: &str) -> Pkcs11Config {
        let dir = std::env::var_os(DIR_ENV).expect("hsm_ tests run inside softhsm2_suite, which sets SOFTHSM2_CONF");
        Pkcs11Config { module: MODULE.into(), pin_file: PathBuf::from(dir).join(pin_file) }
    }

    fn sign_and_verify(key: &Pkcs11Key, message: &[u8]) {
        let sig = key.sign(message).unwrap();
        let alg = key.algorithm().signature_algorithm();
        verify_signature(key.public_key(), &alg, message, &sig).unwrap();
        assert!(verify_signature(key.public_key(), &alg, b"another message", &sig).is_err());
    }

    /// Run OpenSC's pkcs11-tool on the SoftHSM2 module and return its standard output.
    fn pkcs11_tool(args: &[&str]) -> String {
        let out = Command::new("pkcs11-tool")
            .args(["--module", MODULE])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("pkcs11-tool: {e}; run scripts/deps (installs opensc)"));
        assert!(out.status.success(), "pkcs11-tool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The public key as pkcs11-tool reads it from the token (SPKI DER).
    fn pkcs11_tool_public_key(token: &str, object: &str) -> Vec<u8> {
        let out = tempfile::NamedTempFile::new().unwrap();
        let path = out.path().to_str().unwrap();
        pkcs11_tool(&[
            "--token-label",
            token,
            "--read-object",
            "--type",
            "pubkey",
            "--label",
            object,
            "--output-file",
            path,
        ]);
        std::fs::read(out.path()).unwrap()
    }

    /// PS256 token signing: RSASSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt) by the token verifies with
    /// aws-lc-rs; an EC key refuses.
    #[test]
    #[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
    fn hsm_rsa_pss_signatures_verify() {
        use aws_lc_rs::signature::{RSA_PSS_2048_8192_SHA256, UnparsedPublicKey};
        let cfg = cfg("pin");
        let key = Pkcs11Key::generate(&cfg, "pss", "pss", KeyAlgorithm::Rsa2048).unwrap();
        let sig = key.sign_pss_sha256(b"header.payload").unwrap();
        let public = UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, key.public_key().subject_public_key.raw_bytes());
        public.verify(b"header.payload", &sig).unwrap();
        assert!(public.verify(b"other", &sig).is_err());
        let ec = Pkcs11Key::generate(&cfg, "pss", "pss-ec", KeyAlgorithm::P256).unwrap();
        assert!(matches!(ec.sign_pss_sha256(b"x"), Err(KeyError::UnsupportedKey(_))));
    }

    #[test]
    #[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
    fn hsm_generate_reopen_sign_verify_each_algorithm() {
        let cfg = cfg("pin");
        for alg in [KeyAlgorithm::P256, KeyAlgorithm::P384, KeyAlgorithm::Rsa2048] {
            let label = format!("ca-{alg}");
            let generated = Pkcs11Key::generate(&cfg, "keys", &label, alg).unwrap();
            assert_eq!(generated.algorithm(), alg);
            sign_and_verify(&generated, b"tbsCertificate");
            drop(generated);

            let key = Pkcs11Key::open(&cfg, "keys", &label).unwrap();
            assert_eq!(key.algorithm(), alg);
            // OpenSC sees the objects, and reads the same public key from the token.
            let listing = pkcs11_tool(&["--token-label", "keys", "--list-objects"]);
            assert!(listing.contains(&format!("label:      {label}\n")), "{label} not listed:\n{listing}");
            if alg == KeyAlgorithm::P384 {
                // OpenSC 0.23's pkcs11-tool cannot export P-384 public keys ("cannot create EVP_PKEY"), even
                // ones it generated itself; compare the listed CKA_EC_POINT (the wrapped point) instead.
                let point = key.public_key().subject_public_key.raw_bytes();
                let wrapped = hex::encode(OctetString::new(point.to_vec()).unwrap().to_der().unwrap());
                assert!(listing.contains(&format!("EC_POINT:   {wrapped}\n")), "{label}: point not listed:\n{listing}");
            } else {
                assert_eq!(key.public_key().to_der().unwrap(), pkcs11_tool_public_key("keys", &label));
            }
            for i in 0..5u8 {
                sign_and_verify(&key, &[i; 100]);
            }

            // The private half is a sensitive, unextractable signing-only token object; both halves share the ID.
            let pool = key.lock_pool();
            let attrs = pool
                .anchor
                .get_attributes(
                    pool.key,
                    &[
                        AttributeType::Token,
                        AttributeType::Private,
                        AttributeType::Sensitive,
                        AttributeType::Extractable,
                        AttributeType::Sign,
                        AttributeType::Decrypt,
                        AttributeType::Id,
                    ],
                )
                .unwrap();
            let expected = [
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(true),
                Attribute::Decrypt(false),
                Attribute::Id(key.id.clone()),
            ];
            for attr in expected {
                assert!(attrs.contains(&attr), "{alg}: missing {attr:?} in {attrs:?}");
            }
            assert_eq!(key.id.len(), 16);
            let public = find_public_key(&pool.anchor, "keys", &label, &key.id).unwrap();
            assert!(public.is_some(), "{alg}: no public key with the private key's CKA_ID");
            drop(pool);

            let again = Pkcs11Key::generate(&cfg, "keys", &label, alg).unwrap_err();
            assert!(matches!(&again, KeyError::Pkcs11ObjectExists { object, .. } if *object == label), "{again}");
        }
    }

    #[test]
    #[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
    fn hsm_keys_on_one_token_sign_from_many_threads() {
        let cfg = cfg("pin");
        drop(Pkcs11Key::generate(&cfg, "threads", "ec", KeyAlgorithm::P256).unwrap());
        drop(Pkcs11Key::generate(&cfg, "threads", "rsa", KeyAlgorithm::Rsa2048).unwrap());
        // Three keys on one token, as the CA opens its keys: two handles on one pair, one on another.
        let keys = [
            Pkcs11Key::open(&cfg, "threads", "ec").unwrap(),
            Pkcs11Key::open(&cfg, "threads", "rsa").unwrap(),
            Pkcs11Key::open(&cfg, "threads", "ec").unwrap(),
        ];
        assert_eq!(keys[0].public_key(), keys[2].public_key());
        std::thread::scope(|s| {
            for t in 0..4u8 {
                let keys = &keys;
                s.spawn(move || {
                    for i in 0..15u8 {
                        let key = &keys[usize::from(i) % keys.len()];
                        sign_and_verify(key, &[t, i]);
                    }
                });
            }
        });
        // Closing one key's sessions leaves the others logged in.
        let [ec, rsa, ec_again] = keys;
        drop(ec);
        sign_and_verify(&rsa, b"after drop");
        sign_and_verify(&ec_again, b"after drop");
        assert!(rsa.lock_pool().idle.len() <= MAX_IDLE_SESSIONS);
    }

    #[test]
    #[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
    fn hsm_wrong_pin_is_a_clear_error() {
        let wrong = cfg("wrong-pin");
        let err = Pkcs11Key::generate(&wrong, "wrong-pin", "k", KeyAlgorithm::P256).unwrap_err();
        assert!(matches!(&err, KeyError::Pkcs11Pin { token, .. } if token == "wrong-pin"), "{err}");
        let err = Pkcs11Key::open(&wrong, "wrong-pin", "k").unwrap_err();
        assert!(matches!(&err, KeyError::Pkcs11Pin { .. }), "{err}");
        assert!(err.to_string().contains("wrong-pin"), "{err}");
    }

    #[test]
    #[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
    fn hsm_unknown_token_lists_the_tokens_present() {
        let err = Pkcs11Key::open(&cfg("pin"), "no-such-token", "k").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, KeyError::Pkcs11NotFound(_)), "{msg}");
        for label in TOKENS {
            assert!(msg.contains(&format!("{label:?}")), "{label} missing from: {msg}");
        }
    }

    #[test]
    #[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
    fn hsm_unknown_object_lists_the_keys_present() {
        let cfg = cfg("pin");
        let err = Pkcs11Key::open(&cfg, "objects", "absent").unwrap_err();
        assert!(err.to_string().contains("holds no private keys"), "{err}");
        drop(Pkcs11Key::generate(&cfg, "objects", "present", KeyAlgorithm::P256).unwrap());
        let err = Pkcs11Key::open(&cfg, "objects", "absent").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, KeyError::Pkcs11NotFound(_)), "{msg}");
        assert!(msg.contains("\"absent\"") && msg.contains("\"present\""), "{msg}");
    }

    #[test]
    #[ignore = "run by softhsm2_suite with SOFTHSM2_CONF set"]
    fn hsm_logs_in_again_when_the_token_forgets_the_login() {
        let key = Pkcs11Key::generate(&cfg("pin"), "relogin", "k", KeyAlgorithm::P384).unwrap();
        sign_and_verify(&key, b"before");
        // Logging out any session logs the whole token out, as an HSM restart would.
        key.lock_pool().anchor.logout().unwrap();
        sign_and_verify(&key, b"after");
        assert_eq!(key.lock_pool().generation, 1);
    }

    #[test]
    fn ecdsa_der_strips_leading_zeros_and_pads_the_high_bit() {
        let raw = [0x00, 0x00, 0x80, 0x01, 0x7f, 0xff, 0xff, 0xff];
        let der = ecdsa_der(&raw, 4).unwrap();
        assert_eq!(der, [0x30, 0x0b, 0x02, 0x03, 0x00, 0x80, 0x01, 0x02, 0x04, 0x7f, 0xff, 0xff, 0xff]);
        assert!(ecdsa_der(&raw, 3).is_err());
        assert!(ecdsa_der(&raw, 5).is_err());
    }

    #[test]
    fn ec_point_is_unwrapped_or_taken_bare() {
        let point: Vec<u8> = std::iter::once(0x04).chain(std::iter::repeat_n(0x3f, 64)).collect();
        let wrapped = OctetString::new(point.clone()).unwrap().to_der().unwrap();
        assert_eq!(sec1_point(&wrapped, 32), Some(point.clone()));
        assert_eq!(sec1_point(&point, 32), Some(point.clone()));
        assert_eq!(sec1_point(&point, 48), None);
        let compressed = [&[0x02u8][..], &[0x11; 32]].concat();
        assert_eq!(sec1_point(&compressed, 32), None);
    }

    #[test]
    fn rsa_public_key_der_and_bit_length() {
        let der = RsaPublicKey {
            modulus: UintRef::new(&[0x00, 0xc1, 0x02]).unwrap(),
            public_exponent: UintRef::new(&[1, 0, 1]).unwrap(),
        }
        .to_der()
        .unwrap();
        assert_eq!(der, [0x30, 0x0a, 0x02, 0x03, 0x00, 0xc1, 0x02, 0x02, 0x03, 0x01, 0x00, 0x01]);
        assert_eq!(bit_len(&[0x80, 0]), 16);
        assert_eq!(bit_len(&[0x01, 0]), 9);
        assert_eq!(bit_len(&[]), 0);
    }
}
