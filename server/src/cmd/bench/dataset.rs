//! The national dataset of `hcpki bench national`: facilities drawn by kind and prefecture, each with a valid
//! 医療機関コード and the number of routers and PCs a facility of its kind has.
//!
//! The mix follows the shape of Japan's registers (厚生労働省 医療施設調査 and 衛生行政報告例, rounded):
//! clinics are the largest group, then dental clinics and pharmacies, hospitals are few but each runs many PCs;
//! prefectures are weighted by population (2020 census, 10,000s). With these weights a facility has 6.08
//! certificates on average, the "~6" of issue #9.

use super::measure::SplitMix;
use anyhow::{Context, Result};
use hcpki_ca::facility::{Allocation, FacilityKind, MedicalCodeError, MedicalInstitutionCode, NewFacility};
use std::collections::HashMap;

/// 都道府県 in 都道府県番号 order (01–47) with their population in 10,000s.
const PREFECTURES: [(&str, u64); 47] = [
    ("北海道", 522),
    ("青森県", 124),
    ("岩手県", 121),
    ("宮城県", 230),
    ("秋田県", 96),
    ("山形県", 107),
    ("福島県", 183),
    ("茨城県", 287),
    ("栃木県", 193),
    ("群馬県", 194),
    ("埼玉県", 734),
    ("千葉県", 628),
    ("東京都", 1405),
    ("神奈川県", 924),
    ("新潟県", 220),
    ("富山県", 103),
    ("石川県", 113),
    ("福井県", 77),
    ("山梨県", 81),
    ("長野県", 205),
    ("岐阜県", 198),
    ("静岡県", 363),
    ("愛知県", 754),
    ("三重県", 177),
    ("滋賀県", 141),
    ("京都府", 258),
    ("大阪府", 884),
    ("兵庫県", 547),
    ("奈良県", 132),
    ("和歌山県", 92),
    ("鳥取県", 55),
    ("島根県", 67),
    ("岡山県", 189),
    ("広島県", 280),
    ("山口県", 134),
    ("徳島県", 72),
    ("香川県", 95),
    ("愛媛県", 133),
    ("高知県", 69),
    ("福岡県", 514),
    ("佐賀県", 81),
    ("長崎県", 131),
    ("熊本県", 174),
    ("大分県", 112),
    ("宮崎県", 107),
    ("鹿児島県", 159),
    ("沖縄県", 147),
];

/// One kind of facility in the mix.
struct KindMix {
    kind: FacilityKind,
    /// Share of all facilities, in percent.
    percent: u64,
    /// What the name ends with.
    suffix: &'static str,
    /// Router certificates (IPsec gateways) per facility.
    routers: u16,
    /// PC certificates per facility.
    pcs: u16,
}

const KINDS: [KindMix; 6] = [
    KindMix { kind: FacilityKind::Hospital, percent: 3, suffix: "病院", routers: 2, pcs: 28 },
    KindMix { kind: FacilityKind::Clinic, percent: 40, suffix: "クリニック", routers: 1, pcs: 5 },
    KindMix { kind: FacilityKind::Dental, percent: 26, suffix: "歯科医院", routers: 1, pcs: 4 },
    KindMix { kind: FacilityKind::Pharmacy, percent: 24, suffix: "薬局", routers: 1, pcs: 4 },
    KindMix { kind: FacilityKind::Care, percent: 6, suffix: "訪問看護ステーション", routers: 1, pcs: 3 },
    KindMix { kind: FacilityKind::ServiceProvider, percent: 1, suffix: "医療情報サービス", routers: 1, pcs: 3 },
];

/// A facility to register and the certificates it will have.
pub struct Planned {
    pub new: NewFacility,
    pub pcs: u16,
    /// Its routers' addresses (one each), inside the /29 it is registered with (D174).
    pub router_addresses: Vec<String>,
}

/// Draws facilities; the same seed gives the same dataset. Codes are numbered per prefecture and score table,
/// so every code is new within one generator.
pub struct Generator {
    rng: SplitMix,
    next_number: HashMap<(usize, u8), u32>,
    drawn: u64,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Self { rng: SplitMix(seed), next_number: HashMap::new(), drawn: 0 }
    }

    /// The next facility of the dataset.
    pub fn facility(&mut self) -> Result<Planned> {
        let mix = pick(&mut self.rng, &KINDS, |k| k.percent).unwrap_or(&KINDS[1]);
        let prefecture = pick_index(&mut self.rng, &PREFECTURES, |p| p.1);
        let (pref_name, _) = PREFECTURES.get(prefecture).copied().unwrap_or(PREFECTURES[12]);
        self.drawn += 1;
        let name = format!("{pref_name} 第{}{}", self.drawn, mix.suffix);
        let code = match score_table(mix.kind) {
            Some(table) => {
                let slot = self.next_number.entry((prefecture, table)).or_insert(0);
                let number = *slot;
                *slot += 1;
                Some(medical_code(prefecture + 1, table, number)?)
            }
            None => None,
        };
        let address = format!("{pref_name}某市1-{}", self.drawn % 1000 + 1);
        let mut new = NewFacility::new(&name, mix.kind, code.as_deref(), Some(&address), Some("03-0000-0000"))?;
        // A /29 of 10.0.0.0/8 per facility, in the order drawn (2,097,152 of them: far past 600,000), and its
        // routers' addresses in it, so the router register is filled as a network plan would (D174).
        let base = u32::try_from(self.drawn.saturating_mul(8)).context("more facilities than 10.0.0.0/8 holds")?;
        anyhow::ensure!(base < (1 << 24), "more facilities than 10.0.0.0/8 holds");
        let ip = |offset: u32| std::net::Ipv4Addr::from((10u32 << 24) | (base + offset));
        new.allocations.push(Allocation::parse(&format!("{}/29", ip(0)))?);
        let router_addresses = (0..u32::from(mix.routers)).map(|n| ip(1 + n).to_string()).collect();
        Ok(Planned { new, pcs: mix.pcs, router_addresses })
    }

    /// A uniform draw in `0..n`, from the dataset's own generator (which certificates are revoked).
    pub fn below(&mut self, n: u64) -> u64 {
        self.rng.below(n)
    }
}

/// The 点数表番号 a kind's code carries, or none for kinds without a code.
fn score_table(kind: FacilityKind) -> Option<u8> {
    [1, 3, 4, 6].into_iter().find(|t| kind.accepts_score_table(*t))
}

/// The `number`th code of a prefecture (1–47) and score table: 郡市区番号 and 医療機関番号 count up, and the
/// check digit is the one [`MedicalInstitutionCode::parse`] asks for, so no second Luhn implementation is needed.
fn medical_code(prefecture: usize, table: u8, number: u32) -> Result<String> {
    anyhow::ensure!(number < 1_000_000, "more than 1,000,000 facilities of one score table in one prefecture");
    let payload = format!("{prefecture:02}{table}{:02}{:04}", number / 10_000, number % 10_000);
    match MedicalInstitutionCode::parse(&format!("{payload}0")) {
        Ok(code) => Ok(code.to_string()),
        Err(MedicalCodeError::CheckDigit(_, digit)) => Ok(format!("{payload}{digit}")),
        Err(e) => Err(e.into()),
    }
}

/// A weighted draw.
fn pick<'a, T>(rng: &mut SplitMix, items: &'a [T], weight: impl Fn(&T) -> u64) -> Option<&'a T> {
    items.get(pick_index(rng, items, weight))
}

fn pick_index<T>(rng: &mut SplitMix, items: &[T], weight: impl Fn(&T) -> u64) -> usize {
    let total: u64 = items.iter().map(&weight).sum();
    let mut at = rng.below(total);
    for (i, item) in items.iter().enumerate() {
        let w = weight(item);
        if at < w {
            return i;
        }
        at -= w;
    }
    0
}
