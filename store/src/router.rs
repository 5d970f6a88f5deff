//! The router register as the store keeps it (issue #50 item 2, D168): each facility's routers and the
//! operating body's list of approved router models. Checking a router against the list and the facility's
//! allocations is `hcpki_ca::router_register`; these are the rows.

use crate::facility::FacilityId;

/// How a router authenticates its tunnels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RouterAuth {
    /// An hcpki router certificate (RFC 4945).
    Certificate,
    /// A pre-shared key made by hcpki (D156).
    Psk,
}

impl RouterAuth {
    /// The name on the command line, in the API and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Certificate => "certificate",
            Self::Psk => "psk",
        }
    }
}

impl std::str::FromStr for RouterAuth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "certificate" => Ok(Self::Certificate),
            "psk" => Ok(Self::Psk),
            other => Err(format!("authentication method {other:?}: use certificate or psk")),
        }
    }
}

impl std::fmt::Display for RouterAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One approved router model.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RouterModelRecord {
    /// Its id (`yamaha-rtx`, `cisco-ios-xe`, …), what a router's `model` names.
    pub model: String,
    /// Its name for people.
    pub name: String,
    /// Who makes it (empty when not given).
    pub vendor: String,
    /// The firmware versions it was approved for, as the operating body writes them (`Rev.15.02 以降`; empty:
    /// any). Information for the facility's administrator, not compared with a router's firmware.
    pub firmware: String,
    /// The methods the operating body approved it for.
    pub auth_methods: Vec<RouterAuth>,
    /// The pre-shared key syntax (`hcpki_ca::psk::Vendor`) of its configuration, if it takes PSKs.
    pub psk_vendor: Option<String>,
    /// What was tested, and where (here, or vendor documentation only).
    pub tested: String,
    /// Its configuration guide under `docs/routers/`.
    pub guide: String,
    /// Who approved it (audit actor form; `migration:0044` for the seeded list).
    pub approved_by: String,
    /// When (Unix seconds; 0 for the seeded list).
    pub approved_at: i64,
}

/// One router of a facility.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RouterRecord {
    /// The facility it belongs to.
    pub facility_id: FacilityId,
    /// Its name inside the facility (`gw1`).
    pub name: String,
    /// Its model (a [`RouterModelRecord::model`], or one off the list where the list is not enforced).
    pub model: String,
    /// Its firmware version as the facility reports it.
    pub firmware: String,
    /// How it authenticates.
    pub auth: RouterAuth,
    /// The addresses it uses, canonical, each inside the facility's allocations.
    pub addresses: Vec<String>,
    /// Who registered it.
    pub created_by: String,
    /// When (Unix seconds).
    pub created_at: i64,
}
