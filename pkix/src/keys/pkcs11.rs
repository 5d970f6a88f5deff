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
//! * An HSM that goes away and comes back (a network HSM restarted, a token
//!   pulled and put back) may leave the process's view of it dead: SoftHSM2
//!   answers `CKR_OBJECT_HANDLE_INVALID` for the re-found key until the module
//!   is initialised again. Only `C_Finalize` + `C_Initialize` cures that, and
//!   it ends every session of every key on the module, so the module carries an
//!   *epoch*: every call into it holds the module's gate shared, the
//!   re-initialisation holds it exclusively and bumps the epoch, and each key
//!   notices the new epoch before its next call and connects again. Sessions of
//!   an old epoch are forgotten, never closed: their handles may have been
//!   handed out again by the new initialisation (D154).
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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};
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
    module: Arc<Module>,
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
    /// The module's epoch these sessions and handles belong to.
    epoch: u64,
}

impl Pool {
    /// Drop every session of this pool: closed while the module's epoch is theirs, forgotten after it moved on
    /// (their handle numbers may belong to another key's sessions now).
    fn replace(&mut self, slot: Slot, key: ObjectHandle, anchor: Session, epoch: u64) {
        let old_anchor = std::mem::replace(&mut self.anchor, anchor);
        let old_idle = std::mem::take(&mut self.idle);
        if self.epoch == epoch {
            drop(old_anchor);
            drop(old_idle);
        } else {
            std::mem::forget(old_anchor);
            old_idle.into_iter().for_each(std::mem::forget);
        }
        self.slot = slot;
        self.key = key;
        self.epoch = epoch;
        self.generation = self.generation.wrapping_add(1);
    }
}

/// One loaded PKCS#11 module, shared by every key on it.
struct Module {
    ctx: Pkcs11,
    path: PathBuf,
    /// Shared by every call into the module, exclusive while it is initialised again.
    gate: RwLock<()>,
    /// Bumped by each re-initialisation.
    epoch: AtomicU64,
    /// When the module was last initialised again: not more than once per [`REINIT_INTERVAL`], so an HSM that
    /// stays away costs each request one failed search, not a re-initialisation.
    reinitialised: Mutex<Option<Instant>>,
}

/// The least time between two re-initialisations of one module.
const REINIT_INTERVAL: Duration = Duration::from_secs(1);

impl Module {
    fn shared(&self) -> RwLockReadGuard<'_, ()> {
        // A panic while holding the gate leaves the module as it was; the next call finds out how it is.
        self.gate.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// `C_Finalize` and `C_Initialize`, unless another key did it since `seen` or it was done a moment ago.
    /// Returns whether the module is now at a later epoch than `seen`.
    fn reinitialise(&self, seen: u64) -> bool {
        let _exclusive = self.gate.write().unwrap_or_else(PoisonError::into_inner);
        if self.epoch() != seen {
            return true;
        }
        let mut last = self.reinitialised.lock().unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < REINIT_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        // Finalising ends every session of the process on this module; nothing else is inside it (the gate).
        match self.ctx.clone().finalize() {
            // A module whose last initialisation failed (the HSM was still away) has nothing to finalise.
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiNotInitialized, _)) => {}
            Err(e) => {
                tracing::warn!(module = %self.path.display(), error = %describe(&e), "C_Finalize failed; initialising anyway");
            }
        }
        match self.ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {
                self.epoch.fetch_add(1, Ordering::AcqRel);
                tracing::warn!(module = %self.path.display(), "PKCS#11 module initialised again after losing the token");
                true
            }
            Err(e) => {
                tracing::error!(module = %self.path.display(), error = %describe(&e),
                    "C_Initialize failed (the HSM is still away?); trying again at the next signature");
                // Still a new epoch: whatever sessions existed are gone either way.
                self.epoch.fetch_add(1, Ordering::AcqRel);
                true
            }
        }
    }
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
        let module = module(&cfg.module)?;
        let _shared = module.shared();
        let ctx = &module.ctx;
        let pin = read_pin(&cfg.pin_file)?;
        let slot = find_token(ctx, &cfg.module, token)?;
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
        Self::attach(cfg, Arc::clone(&module), pin, slot, session, token, object, Some(pair))
    }

    /// Open the key pair labelled `object` on the token labelled `token`.
    pub fn open(cfg: &Pkcs11Config, token: &str, object: &str) -> Result<Self, KeyError> {
        let module = module(&cfg.module)?;
        let _shared = module.shared();
        let pin = read_pin(&cfg.pin_file)?;
        let slot = find_token(&module.ctx, &cfg.module, token)?;
        let session = module.ctx.open_ro_session(slot).map_err(p11(token, "cannot open a session"))?;
        login(&session, &pin, token, &cfg.pin_file)?;
        Self::attach(cfg, Arc::clone(&module), pin, slot, session, token, object, None)
    }

    /// Find the pair on a logged-in session (or take the `(public, private)` handles just generated), read its
    /// public half, and keep the session as the anchor.
    #[allow(clippy::too_many_arguments)]
    fn attach(
        cfg: &Pkcs11Config,
        module: Arc<Module>,
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
        let pool = Pool { slot, key, anchor: session, idle: Vec::new(), generation: 0, epoch: module.epoch() };
        Ok(Self {
            cfg: cfg.clone(),
            token: token.to_owned(),
            object: object.to_owned(),
            id,
            algorithm,
            spki,
            module,
            pin,
            pool: Mutex::new(pool),
        })
    }

    /// Sign `data` with `mechanism`, reconnecting once if the token lost the session or the login.
    fn sign_raw(&self, mechanism: &Mechanism, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.with_key(&self.cannot_sign(), |session, key| session.sign(mechanism, key, data))
    }

    /// Run `op` with the private key on a pooled session. A lost session or login is cured by connecting again;
    /// when that does not cure it (the HSM went away and came back), by initialising the module again and then
    /// connecting; an HSM that is still away is [`KeyError::DeviceUnavailable`].
    fn with_key(
        &self,
        what: &str,
        op: impl Fn(&Session, ObjectHandle) -> Result<Vec<u8>, CkError>,
    ) -> Result<Vec<u8>, KeyError> {
        let (mut reconnected, mut reinitialised) = (false, false);
        loop {
            let epoch = self.module.epoch();
            let attempt = {
                let _shared = self.module.shared();
                self.follow_epoch().map(|()| self.once(&op))
            };
            // What went wrong, if a fresh connection (or module) may cure it, and the pool generation seen.
            let (lost, generation) = match attempt {
                Ok((Ok(out), _)) => return Ok(out),
                Ok((Err(e), generation)) if connection_lost(&e) => (self.unavailable(&describe(&e)), Some(generation)),
                Ok((Err(e), _)) => return Err(p11(&self.token, what)(e)),
                Err(e) if device_gone(&e) => (self.unavailable_from(e), None),
                Err(e) => return Err(e),
            };
            if let (false, Some(generation)) = (reconnected, generation) {
                reconnected = true;
                tracing::warn!(token = %self.token, object = %self.object, error = %lost,
                    "PKCS#11 session or login lost; reconnecting");
                let _shared = self.module.shared();
                match self.reconnect(generation) {
                    Ok(()) => continue,
                    Err(e) if device_gone(&e) => {}
                    Err(e) => return Err(e),
                }
            }
            if reinitialised || !self.module.reinitialise(epoch) {
                return Err(lost);
            }
            reinitialised = true;
        }
    }

    fn unavailable(&self, detail: &str) -> KeyError {
        KeyError::DeviceUnavailable { token: self.token.clone(), detail: detail.to_owned() }
    }

    /// A reconnect's "not there" as [`KeyError::DeviceUnavailable`], once (not wrapped in itself).
    fn unavailable_from(&self, e: KeyError) -> KeyError {
        match e {
            KeyError::DeviceUnavailable { .. } => e,
            other => self.unavailable(&other.to_string()),
        }
    }

    /// Connect again if the module was initialised again since this key's sessions were opened. Called with the
    /// module's gate held shared.
    fn follow_epoch(&self) -> Result<(), KeyError> {
        let generation = {
            let pool = self.lock_pool();
            if pool.epoch == self.module.epoch() {
                return Ok(());
            }
            pool.generation
        };
        self.reconnect(generation)
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
                None => match self.module.ctx.open_ro_session(pool.slot) {
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

    /// Find the token and key again and log in, unless another thread already did since `seen`. Called with the
    /// module's gate held shared, so the epoch read here is the one the new session belongs to.
    fn reconnect(&self, seen: u64) -> Result<(), KeyError> {
        let mut pool = self.lock_pool();
        let epoch = self.module.epoch();
        if pool.generation != seen && pool.epoch == epoch {
            return Ok(());
        }
        let ctx = &self.module.ctx;
        let slot = find_token(ctx, &self.cfg.module, &self.token)?;
        let session = ctx.open_ro_session(slot).map_err(p11_or_gone(&self.token, "cannot open a session"))?;
        login(&session, &self.pin, &self.token, &self.cfg.pin_file)?;
        let id = (!self.id.is_empty()).then_some(self.id.as_slice());
        let key = find_private_key(&session, &self.token, &self.object, id)?;
        pool.replace(slot, key, session, epoch);
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
fn module(path: &Path) -> Result<Arc<Module>, KeyError> {
    static MODULES: LazyLock<Mutex<HashMap<PathBuf, Arc<Module>>>> = LazyLock::new(Mutex::default);
    let key = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let mut modules = MODULES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(module) = modules.get(&key) {
        return Ok(Arc::clone(module));
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
    let module = Arc::new(Module {
        ctx,
        path: key.clone(),
        gate: RwLock::new(()),
        epoch: AtomicU64::new(0),
        reinitialised: Mutex::new(None),
    });
    modules.insert(key, Arc::clone(&module));
    Ok(module)
}

/// The slot holding the one initialised token labelled `label`.
fn find_token(ctx: &Pkcs11, module: &Path, label: &str) -> Result<Slot, KeyError> {
    let slots = ctx.get_slots_with_token().map_err(|e| {
        let what = format!("module {}: cannot list slots", module.display());
        p11_or_gone(label, &what)(e)
    })?;
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
        Err(e) => Err(p11_or_gone(token, "cannot log in")(e)),
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
                | RvError::ObjectHandleInvalid
                | RvError::CryptokiNotInitialized
                | RvError::DeviceError,
            _
        )
    )
}

/// A reconnect that failed because the token or its key is not there (now), rather than a PIN or a setting.
fn device_gone(e: &KeyError) -> bool {
    matches!(e, KeyError::Pkcs11NotFound(_) | KeyError::DeviceUnavailable { .. })
}

/// Like [`p11`], but an error that says the token or the module is gone is [`KeyError::DeviceUnavailable`].
fn p11_or_gone(token: &str, what: &str) -> impl FnOnce(CkError) -> KeyError {
    let token = token.to_owned();
    let what = what.to_owned();
    move |e| {
        if connection_lost(&e) {
            KeyError::DeviceUnavailable { token, detail: format!("{what}: {}", describe(&e)) }
        } else {
            p11(&token, &what)(e)
        }
    }
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
mod tests;
