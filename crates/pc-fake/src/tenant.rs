//! Deterministic, realistic tenants: the same seed gives the same users.
//!
//! The users look like the ones the real service returns: non-ASCII names,
//! users without `usageLocation` or `phoneNumber`, managed, federated and
//! `none` domain types, inactive (deleted) users with a `softDeletionTime`,
//! and `lastDirectorySyncTime` with 7 fractional digits.

use serde::Serialize;

/// A user of a fake tenant, serialised the way Partner Center sends it:
/// camelCase, absent fields omitted.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FakeUser {
    /// Object id (a GUID).
    pub id: String,
    /// User principal name.
    pub user_principal_name: String,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Display name.
    pub display_name: String,
    /// Two-letter country code, absent on some users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_location: Option<String>,
    /// On-premises anchor of synchronised users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immutable_id: Option<String>,
    /// Phone number, absent on most users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Last directory sync, 7 fractional digits, for synchronised users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_directory_sync_time: Option<String>,
    /// `none`, `managed` or `federated`.
    pub user_domain_type: String,
    /// `active`, or `inactive` for a deleted user.
    pub state: String,
    /// When a deleted user was deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soft_deletion_time: Option<String>,
}

impl FakeUser {
    /// Whether the user is deleted (`state: inactive`).
    pub fn is_inactive(&self) -> bool {
        self.state == "inactive"
    }
}

/// A small, fast, seedable generator (SplitMix64), so tenants are the same on
/// every machine.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    pub(crate) fn guid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            8 + (b >> 62),
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }
}

const FIRST_NAMES: &[&str] = &[
    "Daniel",
    "Jürgen",
    "Zoë",
    "José",
    "Łukasz",
    "Søren",
    "François",
    "Ærwin",
    "Ana",
    "Chloé",
    "Mikael",
    "Ngọc",
    "Yuki",
    "Olga",
    "Björn",
    "Siobhán",
    "Amélie",
    "Øystein",
    "Anaïs",
    "Wei",
    "Priya",
    "Fatma",
    "Kenji",
    "Maria",
    "Tomáš",
];
const LAST_NAMES: &[&str] = &[
    "Tsai",
    "Müller",
    "Dvořák",
    "Núñez",
    "Kowalski",
    "Ødegård",
    "Lefèvre",
    "García",
    "O'Brien",
    "Nguyễn",
    "Yamamoto",
    "Ivanova",
    "Åberg",
    "Smith",
    "Schäfer",
    "Łęcki",
    "Çelik",
    "Jensen",
    "Rossi",
    "Patel",
    "Kim",
    "van der Berg",
    "Håkansson",
    "Fernández",
    "Chen",
];
const COUNTRIES: &[&str] = &["US", "DE", "FR", "GB", "NL", "PL", "SE", "JP", "ES", "DK"];

/// Folds a name to the ASCII letters a user principal name allows.
fn ascii_fold(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let folded = match c {
            'ä' | 'á' | 'à' | 'â' | 'å' | 'ã' => "a",
            'Ä' | 'Á' | 'Å' => "a",
            'æ' | 'Æ' => "ae",
            'ç' | 'č' | 'Ç' | 'Č' => "c",
            'é' | 'è' | 'ê' | 'ë' | 'ę' | 'ế' => "e",
            'í' | 'ï' | 'î' => "i",
            'ł' | 'Ł' => "l",
            'ñ' | 'ń' => "n",
            'ö' | 'ó' | 'ø' | 'ô' | 'õ' | 'Ø' | 'Ö' | 'ọ' => "o",
            'ü' | 'ú' | 'ù' | 'û' | 'ũ' => "u",
            'ř' => "r",
            'š' | 'ś' => "s",
            'ý' => "y",
            'ž' => "z",
            'ß' => "ss",
            'ễ' => "e",
            c if c.is_ascii_alphanumeric() => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            _ => "",
        };
        out.push_str(folded);
    }
    out
}

/// The users of the tenant `domain`: `count` active users, plus the deleted
/// (inactive) users created along the way, about 5% more. The same `seed`
/// gives the same users.
pub fn generate_users(count: usize, seed: u64, domain: &str) -> Vec<FakeUser> {
    let mut rng = Rng::new(seed);
    let mut users = Vec::with_capacity(count + count / 16 + 1);
    let mut active = 0;
    let mut index = 0;
    while active < count {
        let user = generate_user(&mut rng, index, domain);
        active += usize::from(!user.is_inactive());
        users.push(user);
        index += 1;
    }
    users
}

fn generate_user(rng: &mut Rng, index: usize, domain: &str) -> FakeUser {
    {
        {
            let first = rng.pick(FIRST_NAMES);
            let last = rng.pick(LAST_NAMES);
            let upn = format!("{}.{}{index}@{domain}", ascii_fold(first), ascii_fold(last));
            let federated = rng.percent(30);
            let domain_type = if federated {
                "federated"
            } else if rng.percent(90) {
                "managed"
            } else {
                "none"
            };
            let inactive = rng.percent(5);
            let synced = federated || rng.percent(10);
            let year = 2019 + rng.below(7);
            let (month, day) = (1 + rng.below(12), 1 + rng.below(28));
            let (hour, minute, second) = (rng.below(24), rng.below(60), rng.below(60));
            let fraction = rng.below(10_000_000);
            let without_names = rng.percent(3);
            FakeUser {
                id: rng.guid(),
                user_principal_name: upn,
                first_name: (!without_names).then(|| first.to_owned()),
                last_name: (!without_names).then(|| last.to_owned()),
                display_name: format!("{first} {last}"),
                usage_location: rng.percent(85).then(|| rng.pick(COUNTRIES).to_owned()),
                immutable_id: synced.then(|| format!("{:016x}==", rng.next_u64())),
                phone_number: rng.percent(20).then(|| format!("+1 425 555 {:04}", rng.below(10_000))),
                last_directory_sync_time: synced.then(|| {
                    format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{fraction:07}Z")
                }),
                user_domain_type: domain_type.to_owned(),
                state: if inactive { "inactive" } else { "active" }.to_owned(),
                soft_deletion_time: inactive.then(|| format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_users() {
        assert_eq!(
            generate_users(50, 7, "t.onmicrosoft.com"),
            generate_users(50, 7, "t.onmicrosoft.com")
        );
        assert_ne!(
            generate_users(50, 7, "t.onmicrosoft.com"),
            generate_users(50, 8, "t.onmicrosoft.com")
        );
    }

    #[test]
    fn realistic_variety() {
        let users = generate_users(2000, 1, "t.onmicrosoft.com");
        assert_eq!(users.iter().filter(|u| !u.is_inactive()).count(), 2000);
        assert!(users.iter().any(|u| !u.display_name.is_ascii()));
        assert!(users.iter().any(|u| u.usage_location.is_none()));
        assert!(users.iter().any(|u| u.phone_number.is_none()));
        assert!(users.iter().any(|u| u.user_domain_type == "federated"));
        assert!(users.iter().any(|u| u.user_domain_type == "managed"));
        assert!(
            users
                .iter()
                .any(|u| u.is_inactive() && u.soft_deletion_time.is_some())
        );
        let sync = users
            .iter()
            .find_map(|u| u.last_directory_sync_time.as_ref())
            .expect("a synced user");
        assert_eq!(sync.split('.').nth(1).map(str::len), Some(8), "{sync}");
        assert!(users.iter().all(|u| u.user_principal_name.is_ascii()));
        let ids: std::collections::HashSet<&str> = users.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids.len(), users.len());
    }
}
