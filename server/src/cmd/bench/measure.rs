//! Measuring helpers the benchmarks share: quantiles, the raw signing rate, one CRL built without a database,
//! store-shaped CRL entries and a seeded generator. A leaf below `bench` and its national and SSO runs.

use anyhow::Result;
use hcpki_ca::revocation::crl::{self, CrlFields, CrlSigner, Entry};
use hcpki_ca::revocation::{CrlReason, Reason};
use hcpki_pkix::keys::{self, KeyAlgorithm, SoftwareKey};
use hcpki_pkix::time::UnixTime;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The `p` quantile (0–1) of sorted samples, zero when there are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted.get(((sorted.len() as f64 - 1.0) * p) as usize).copied().unwrap_or_default()
}

/// Signatures per second of `key` over `message` on `threads` threads (about `count` in all).
pub fn raw_rate(key: &Arc<dyn keys::KeySource>, message: &[u8], count: usize, threads: usize) -> Result<f64> {
    let per = count.div_ceil(threads.max(1));
    let start = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..per {
                        key.sign(message)?;
                    }
                    Ok::<_, hcpki_pkix::keys::KeyError>(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| anyhow::anyhow!("signing thread panicked"))??;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok((per * threads.max(1)) as f64 / start.elapsed().as_secs_f64())
}

/// One CRL built by `revocation::crl::build` alone, with a fresh software key of `alg`: no database.
pub struct RawCrl {
    /// Seconds to build and sign.
    pub build: f64,
    /// Seconds to encode the TBSCertList alone.
    pub encode: f64,
    /// The CRL.
    pub der: Vec<u8>,
}

pub fn raw_crl(alg: KeyAlgorithm, issuer: &x509_cert::name::Name, entries: &[Entry], now: UnixTime) -> Result<RawCrl> {
    // The CRL encoder takes whole seconds.
    let now = now.as_secs();
    let (key, _) = SoftwareKey::generate_device_key(alg)?;
    let key_id = [0x5au8; 20];
    let signer = CrlSigner { issuer, key_id: &key_id, key: &key };
    let fields = CrlFields { number: 1, this_update: now, next_update: now + 86_400, distribution_point: None };
    let start = Instant::now();
    crl::tbs_der(&signer, entries, &fields)?;
    let encode = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let der = crl::build(&signer, entries, &fields)?;
    Ok(RawCrl { build: start.elapsed().as_secs_f64(), encode, der })
}

/// `n` store-shaped entries: serials as [`hcpki_ca::serial::Serial`] draws them (16 octets, positive, first
/// octet non-zero), sorted like `ORDER BY serial`; reasons mixed roughly as operators revoke (most without a
/// stated reason or superseded by renewal, some key compromises, holds and closures).
pub fn crl_entries(n: usize, now: UnixTime) -> Result<Vec<Entry>> {
    let now = now.as_secs();
    const REASONS: [(CrlReason, u64); 6] = [
        (CrlReason::Unspecified, 40),
        (CrlReason::Superseded, 20),
        (CrlReason::AffiliationChanged, 15),
        (CrlReason::KeyCompromise, 10),
        (CrlReason::CessationOfOperation, 10),
        (CrlReason::CertificateHold, 5),
    ];
    let mut rng = SplitMix::from_os()?;
    let mut next = move || rng.next();
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        let mut serial = [0u8; 16];
        serial[..8].copy_from_slice(&next().to_be_bytes());
        serial[8..].copy_from_slice(&next().to_be_bytes());
        serial[0] = (serial[0] & 0x7f).max(1);
        let r = next();
        let mut pick = r % 100;
        let reason = REASONS
            .iter()
            .find(|(_, w)| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .map_or(CrlReason::Unspecified, |(c, _)| *c);
        let revoked_at = now - ((r >> 8) % (397 * 86_400)) as i64;
        let serial =
            hcpki_ca::serial::SerialHex::from_octets(&serial).ok_or_else(|| anyhow::anyhow!("an empty serial"))?;
        entries.push(Entry { serial, revoked_at, reason: Reason(reason) });
    }
    entries.sort_unstable_by(|a, b| a.serial.cmp(&b.serial));
    Ok(entries)
}

/// SplitMix64: a fast generator for benchmark data, which need to look random and be reproducible from a
/// seed, not be secret.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Seeded from the OS.
    pub fn from_os() -> Result<Self> {
        let seed = hcpki_ca::serial::Serial::generate()?;
        Ok(Self(u64::from_be_bytes(
            seed.number().as_bytes().get(..8).and_then(|b| b.try_into().ok()).unwrap_or([7; 8]),
        )))
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
