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

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A number in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// Shuffles `items` (Fisher–Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    pub(crate) fn guid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        guid_text(a, b, None)
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
pub(crate) fn ascii_fold(name: &str) -> String {
    let mut out = Vec::with_capacity(name.len());
    ascii_fold_into(name, &mut out);
    String::from_utf8(out).unwrap_or_default()
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
        let user = generate_user(&mut rng, index, domain, None);
        active += usize::from(!user.is_inactive());
        users.push(user);
        index += 1;
    }
    users
}

/// The random draws of one user, in the order they are drawn (the same
/// seed gives the same user whether it is built or written directly).
struct Draws {
    first: &'static str,
    last: &'static str,
    domain_type: &'static str,
    inactive: bool,
    synced: bool,
    date: (u64, u64, u64, u64, u64, u64, u64),
    without_names: bool,
    guid: (u64, u64),
    usage_location: Option<&'static str>,
    immutable_id: Option<u64>,
    phone_number: Option<u64>,
}

impl Draws {
    fn new(rng: &mut Rng) -> Self {
        let first = rng.pick(FIRST_NAMES);
        let last = rng.pick(LAST_NAMES);
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
        let guid = (rng.next_u64(), rng.next_u64());
        let usage_location = rng.percent(85).then(|| rng.pick(COUNTRIES));
        let immutable_id = synced.then(|| rng.next_u64());
        let phone_number = rng.percent(20).then(|| rng.below(10_000));
        Draws {
            first,
            last,
            domain_type,
            inactive,
            synced,
            date: (year, month, day, hour, minute, second, fraction),
            without_names,
            guid,
            usage_location,
            immutable_id,
            phone_number,
        }
    }

    fn sync_time(&self) -> String {
        let (year, month, day, hour, minute, second, fraction) = self.date;
        format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{fraction:07}Z")
    }

    fn deletion_time(&self) -> String {
        let (year, month, day, hour, minute, second, _) = self.date;
        format!("{year}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
    }
}

/// A GUID from two draws, as [`Rng::guid`] writes it; `last` replaces the
/// last group.
fn guid_text(a: u64, b: u64, last: Option<u64>) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        8 + (b >> 62),
        (b >> 48) & 0xfff,
        last.unwrap_or(b & 0xffff_ffff_ffff)
    )
}

/// One user; `inactive`, when given, replaces the drawn state (the draws
/// are the same either way).
fn generate_user(rng: &mut Rng, index: usize, domain: &str, inactive: Option<bool>) -> FakeUser {
    user_of(&Draws::new(rng), index, domain, inactive, None)
}

fn user_of(
    draws: &Draws,
    index: usize,
    domain: &str,
    inactive: Option<bool>,
    last_group: Option<u64>,
) -> FakeUser {
    let (first, last) = (draws.first, draws.last);
    let inactive = inactive.unwrap_or(draws.inactive);
    FakeUser {
        id: guid_text(draws.guid.0, draws.guid.1, last_group),
        user_principal_name: format!("{}.{}{index}@{domain}", ascii_fold(first), ascii_fold(last)),
        first_name: (!draws.without_names).then(|| first.to_owned()),
        last_name: (!draws.without_names).then(|| last.to_owned()),
        display_name: format!("{first} {last}"),
        usage_location: draws.usage_location.map(str::to_owned),
        immutable_id: draws.immutable_id.map(|v| format!("{v:016x}==")),
        phone_number: draws.phone_number.map(|n| format!("+1 425 555 {n:04}")),
        last_directory_sync_time: draws.synced.then(|| draws.sync_time()),
        user_domain_type: draws.domain_type.to_owned(),
        state: if inactive { "inactive" } else { "active" }.to_owned(),
        soft_deletion_time: inactive.then(|| draws.deletion_time()),
    }
}

/// Appends `text` escaped as the inside of a JSON string (as `serde_json`
/// escapes it: `"`, `\\` and control characters).
fn push_json_text(out: &mut Vec<u8>, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.extend_from_slice(text.as_bytes());
    } else if let Ok(quoted) = serde_json::to_string(text) {
        out.extend_from_slice(&quoted.as_bytes()[1..quoted.len() - 1]);
    }
}

/// Appends `value` in lowercase hexadecimal, at least `width` digits.
fn hex(out: &mut Vec<u8>, value: u64, width: usize) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buffer = [b'0'; 16];
    let mut n = value;
    let mut used = 0;
    while n > 0 || used == 0 {
        buffer[15 - used] = DIGITS[(n & 15) as usize];
        n >>= 4;
        used += 1;
    }
    out.extend_from_slice(&buffer[16 - used.max(width)..]);
}

/// Appends `value` in decimal, zero-padded to at least `width` digits.
fn decimal(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut buffer = [b'0'; 20];
    let mut n = value;
    let mut used = 0;
    while n > 0 || used == 0 {
        buffer[19 - used] = b'0' + (n % 10) as u8;
        n /= 10;
        used += 1;
    }
    out.extend_from_slice(&buffer[20 - used.max(width)..]);
}

/// [`ascii_fold`], appended to `out`.
fn ascii_fold_into(name: &str, out: &mut Vec<u8>) {
    for c in name.chars() {
        let folded: &[u8] = match c {
            'ä' | 'á' | 'à' | 'â' | 'å' | 'ã' | 'Ä' | 'Á' | 'Å' => b"a",
            'æ' | 'Æ' => b"ae",
            'ç' | 'č' | 'Ç' | 'Č' => b"c",
            'é' | 'è' | 'ê' | 'ë' | 'ę' | 'ế' => b"e",
            'í' | 'ï' | 'î' => b"i",
            'ł' | 'Ł' => b"l",
            'ñ' | 'ń' => b"n",
            'ö' | 'ó' | 'ø' | 'ô' | 'õ' | 'Ø' | 'Ö' | 'ọ' => b"o",
            'ü' | 'ú' | 'ù' | 'û' | 'ũ' => b"u",
            'ř' => b"r",
            'š' | 'ś' => b"s",
            'ý' => b"y",
            'ž' => b"z",
            'ß' => b"ss",
            'ễ' => b"e",
            c if c.is_ascii_alphanumeric() => {
                out.push(c.to_ascii_lowercase() as u8);
                continue;
            }
            _ => b"",
        };
        out.extend_from_slice(folded);
    }
}

/// The 48 bits of the last group of a GUID.
const MASK48: u64 = (1 << 48) - 1;
const MUL_A: u64 = 0x9e37_79b9_7f4b;
const MUL_B: u64 = 0xc2b2_ae3d_27d5;

/// The inverse of an odd number modulo 2^64 (Newton's iteration).
const fn inverse(a: u64) -> u64 {
    let mut x = a;
    let mut i = 0;
    while i < 6 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
        i += 1;
    }
    x
}

/// A bijection of the 48-bit numbers that looks random, so that the last
/// group of derived object ids does not count up, yet gives the index back.
fn permute(x: u64) -> u64 {
    let mut v = x.wrapping_mul(MUL_A) & MASK48;
    v ^= v >> 24;
    v = v.wrapping_mul(MUL_B) & MASK48;
    v ^ (v >> 24)
}

fn unpermute(v: u64) -> u64 {
    let mut x = (v ^ (v >> 24)) & MASK48;
    x = x.wrapping_mul(inverse(MUL_B)) & MASK48;
    x ^= x >> 24;
    x.wrapping_mul(inverse(MUL_A)) & MASK48
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
pub(crate) fn mix(x: u64) -> u64 {
    Rng::new(x).next_u64()
}

/// The users of a generated tenant, never stored: user `index` is derived
/// on demand from (partner seed, tenant, index). Users `0..active` are
/// active and `active..active + deleted` deleted, in creation order; the
/// last group of each object id encodes its index (a keyed bijection), so a
/// user is found by id without a table.
#[derive(Clone, Debug)]
pub(crate) struct Derived {
    seed: u64,
    salt: u64,
    pub(crate) active: u32,
    pub(crate) deleted: u32,
    pub(crate) domain: String,
}

impl Derived {
    /// The tenant number `tenant` of the partner `seed`, with `active`
    /// users and about 5% more deleted ones.
    pub(crate) fn new(seed: u64, tenant: u64, active: u32, domain: String) -> Self {
        let seed = mix(seed ^ mix(tenant.wrapping_add(0x007e_4a47)));
        Derived {
            seed,
            salt: mix(seed ^ 0x5a17) & MASK48,
            active,
            deleted: (active + 10) / 20,
            domain,
        }
    }

    /// Every user, active and deleted.
    pub(crate) fn total(&self) -> u32 {
        self.active + self.deleted
    }

    fn rng(&self, index: u32) -> Rng {
        Rng::new(mix(
            self.seed ^ u64::from(index).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ))
    }

    fn last_group(&self, index: u32) -> u64 {
        permute(u64::from(index).wrapping_add(self.salt) & MASK48)
    }

    /// The user `index` (below [`total`](Self::total)).
    pub(crate) fn user(&self, index: u32) -> FakeUser {
        let draws = Draws::new(&mut self.rng(index));
        user_of(
            &draws,
            index as usize,
            &self.domain,
            Some(index >= self.active),
            Some(self.last_group(index)),
        )
    }

    /// Appends the JSON of user `index` as a list item of the customer
    /// `customer` (the same bytes as serialising [`user`](Self::user) with
    /// its links and attributes), without building the user or allocating:
    /// the hot path of a listing.
    pub(crate) fn write_item(&self, index: u32, customer: &str, out: &mut Vec<u8>) {
        let d = Draws::new(&mut self.rng(index));
        let inactive = index >= self.active;
        let last = self.last_group(index);
        let id = |out: &mut Vec<u8>| {
            let (a, b) = d.guid;
            hex(out, a >> 32, 8);
            out.push(b'-');
            hex(out, (a >> 16) & 0xffff, 4);
            out.extend_from_slice(b"-4");
            hex(out, a & 0xfff, 3);
            out.push(b'-');
            hex(out, 8 + (b >> 62), 1);
            hex(out, (b >> 48) & 0xfff, 3);
            out.push(b'-');
            hex(out, last, 12);
        };
        out.extend_from_slice(b"{\"id\":\"");
        id(out);
        out.extend_from_slice(b"\",\"userPrincipalName\":\"");
        ascii_fold_into(d.first, out);
        out.push(b'.');
        ascii_fold_into(d.last, out);
        decimal(out, u64::from(index), 1);
        out.push(b'@');
        push_json_text(out, &self.domain);
        out.push(b'"');
        if !d.without_names {
            out.extend_from_slice(b",\"firstName\":\"");
            push_json_text(out, d.first);
            out.extend_from_slice(b"\",\"lastName\":\"");
            push_json_text(out, d.last);
            out.push(b'"');
        }
        out.extend_from_slice(b",\"displayName\":\"");
        push_json_text(out, d.first);
        out.push(b' ');
        push_json_text(out, d.last);
        out.push(b'"');
        if let Some(location) = d.usage_location {
            out.extend_from_slice(b",\"usageLocation\":\"");
            push_json_text(out, location);
            out.push(b'"');
        }
        if let Some(immutable) = d.immutable_id {
            out.extend_from_slice(b",\"immutableId\":\"");
            hex(out, immutable, 16);
            out.extend_from_slice(b"==\"");
        }
        if let Some(phone) = d.phone_number {
            out.extend_from_slice(b",\"phoneNumber\":\"+1 425 555 ");
            decimal(out, phone, 4);
            out.push(b'"');
        }
        let (year, month, day, hour, minute, second, fraction) = d.date;
        let date = |out: &mut Vec<u8>| {
            decimal(out, year, 4);
            out.push(b'-');
            decimal(out, month, 2);
            out.push(b'-');
            decimal(out, day, 2);
            out.push(b'T');
            decimal(out, hour, 2);
            out.push(b':');
            decimal(out, minute, 2);
            out.push(b':');
            decimal(out, second, 2);
        };
        if d.synced {
            out.extend_from_slice(b",\"lastDirectorySyncTime\":\"");
            date(out);
            out.push(b'.');
            decimal(out, fraction, 7);
            out.extend_from_slice(b"Z\"");
        }
        out.extend_from_slice(b",\"userDomainType\":\"");
        out.extend_from_slice(d.domain_type.as_bytes());
        if inactive {
            out.extend_from_slice(b"\",\"state\":\"inactive\",\"softDeletionTime\":\"");
            date(out);
            out.extend_from_slice(b"Z\"");
        } else {
            out.extend_from_slice(b"\",\"state\":\"active\"");
        }
        out.extend_from_slice(
            b",\"links\":{\"self\":{\"headers\":[],\"method\":\"GET\",\"uri\":\"/customers/",
        );
        push_json_text(out, customer);
        out.extend_from_slice(b"/users/");
        id(out);
        out.extend_from_slice(b"\"}},\"attributes\":{\"objectType\":\"CustomerUser\"}}");
    }

    /// The display name and user principal name of user `index`, lowercase
    /// (the sort keys), without deriving the rest.
    pub(crate) fn sort_keys(&self, index: u32) -> (String, String) {
        let mut rng = self.rng(index);
        let first = rng.pick(FIRST_NAMES);
        let last = rng.pick(LAST_NAMES);
        (
            format!("{first} {last}").to_lowercase(),
            format!(
                "{}.{}{index}@{}",
                ascii_fold(first),
                ascii_fold(last),
                self.domain
            )
            .to_lowercase(),
        )
    }

    /// The index of the user whose object id is `id` (case-insensitive).
    pub(crate) fn find(&self, id: &str) -> Option<u32> {
        let last = id.get(id.len().checked_sub(12)?..)?;
        let v = u64::from_str_radix(last, 16).ok()?;
        let index = unpermute(v).wrapping_sub(self.salt) & MASK48;
        let index = u32::try_from(index).ok().filter(|&i| i < self.total())?;
        self.user(index)
            .id
            .eq_ignore_ascii_case(id)
            .then_some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_users_are_found_by_id_and_stable() {
        assert_eq!(unpermute(permute(12_345)), 12_345);
        assert_eq!(unpermute(permute(MASK48)), MASK48);
        let tenant = Derived::new(7, 3, 200, "fabrikam.onmicrosoft.com".to_owned());
        assert_eq!(tenant.total(), 210);
        let mut ids = std::collections::HashSet::new();
        for index in 0..tenant.total() {
            let user = tenant.user(index);
            assert_eq!(user, tenant.user(index));
            assert_eq!(user.is_inactive(), index >= 200);
            assert_eq!(tenant.find(&user.id), Some(index));
            assert_eq!(tenant.find(&user.id.to_uppercase()), Some(index));
            let (display, upn) = tenant.sort_keys(index);
            assert_eq!(display, user.display_name.to_lowercase());
            assert_eq!(upn, user.user_principal_name.to_lowercase());
            assert!(ids.insert(user.id));
        }
        let other = Derived::new(7, 4, 200, "fabrikam.onmicrosoft.com".to_owned());
        assert_eq!(other.find(&tenant.user(5).id), None);
        assert_eq!(tenant.find("not-an-id"), None);
        assert_eq!(tenant.find("00000000-0000-4000-8000-ffffffffffff"), None);
    }

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
