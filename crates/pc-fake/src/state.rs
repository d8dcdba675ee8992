//! The in-memory state of one fake customer: its users (active and deleted),
//! directory roles and license pools, changed by the operations.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::tenant::{Derived, FakeUser};

/// A directory role every fake tenant has: (id, name).
pub(crate) const ROLES: &[(&str, &str)] = &[
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
    ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader"),
    ("88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers"),
    (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Helpdesk Administrator",
    ),
    // The role of the spec's `role_id` example.
    (
        "f023fd81-a637-4b56-95fd-791ac0226033",
        "Service Support Administrator",
    ),
];

/// A license pool of every fake tenant.
pub(crate) struct Sku {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) part_number: &'static str,
    /// The license group, lowercase as responses carry it.
    pub(crate) group: &'static str,
    pub(crate) total: usize,
    pub(crate) plans: &'static [(&'static str, &'static str, &'static str)],
}

pub(crate) const SKUS: &[Sku] = &[
    Sku {
        id: "c7df2760-2c81-4ef7-b578-5b5392b571df",
        name: "Office 365 E5",
        part_number: "ENTERPRISEPREMIUM",
        group: "group1",
        total: 3,
        plans: &[
            (
                "efb87545-963c-4e0d-99df-69c6916d9eb0",
                "EXCHANGE_S_ENTERPRISE",
                "Exchange Online (Plan 2)",
            ),
            (
                "5dbe027f-2339-4123-9542-606e4d348a72",
                "SHAREPOINTENTERPRISE",
                "SharePoint Online (Plan 2)",
            ),
        ],
    },
    Sku {
        id: "6fd2c87f-b296-42f0-b197-1e91e994b900",
        name: "Office 365 E3",
        part_number: "ENTERPRISEPACK",
        group: "group1",
        total: 25,
        plans: &[(
            "efb87545-963c-4e0d-99df-69c6916d9eb0",
            "EXCHANGE_S_ENTERPRISE",
            "Exchange Online (Plan 2)",
        )],
    },
    Sku {
        id: "bc946dac-7877-4271-b2f7-99d2db13cd2c",
        name: "Minecraft Education Edition",
        part_number: "MEE_STUDENT",
        group: "group2",
        total: 10,
        plans: &[(
            "4c246bbc-f513-4311-beff-eba54c353256",
            "MINECRAFT_EDUCATION_EDITION",
            "Minecraft Education Edition",
        )],
    },
];

/// One customer. The users of a generated tenant are derived on demand
/// ([`Derived`]) until something changes them; then they are materialized.
pub(crate) struct Tenant {
    pub(crate) id: String,
    /// The users of an untouched generated tenant, never stored.
    derived: Option<Derived>,
    /// The users, once materialized (always, for a tenant given its users).
    users: Vec<FakeUser>,
    /// Each user as the JSON of a list item, serialised once per change.
    json: Vec<Bytes>,
    by_id: HashMap<String, usize>,
    /// User indices per (sort, inactive): 3 sorts × 2 filters, rebuilt after
    /// a change (an untouched generated tenant needs them only when sorted).
    orders: [Option<Vec<u32>>; 6],
    /// Role id → member user ids.
    pub(crate) members: HashMap<&'static str, BTreeSet<String>>,
    /// User id → assigned SKU ids.
    pub(crate) licenses: HashMap<String, BTreeSet<&'static str>>,
}

impl Tenant {
    pub(crate) fn new(id: String, users: Vec<FakeUser>) -> Self {
        let mut tenant = Tenant {
            id,
            derived: None,
            users: Vec::new(),
            json: Vec::new(),
            by_id: HashMap::new(),
            orders: Default::default(),
            members: HashMap::new(),
            licenses: HashMap::new(),
        };
        for user in users {
            tenant.push(user);
        }
        tenant
    }

    /// A generated tenant whose users are derived on demand.
    pub(crate) fn derived(id: String, derived: Derived) -> Self {
        let mut tenant = Tenant::new(id, Vec::new());
        tenant.derived = Some(derived);
        tenant
    }

    /// Whether the users are still derived on demand (nothing changed them).
    #[cfg(test)]
    pub(crate) fn is_derived(&self) -> bool {
        self.derived.is_some()
    }

    /// Stores every user of a generated tenant, before a change.
    pub(crate) fn materialize(&mut self) {
        if let Some(derived) = self.derived.take() {
            let total = derived.total();
            self.users.reserve(total as usize);
            self.json.reserve(total as usize);
            for index in 0..total {
                self.push(derived.user(index));
            }
        }
    }

    /// The user as a list item: its fields, then `links.self` and
    /// `attributes` (keys as `serde_json` orders them), written directly (pages of generated tenants are
    /// serialised on every request, so this is on the hot path).
    fn serialise(&self, user: &FakeUser) -> Bytes {
        let mut out = Vec::with_capacity(640);
        if serde_json::to_writer(&mut out, user).is_err() || out.pop() != Some(b'}') {
            return Bytes::new();
        }
        let uri = format!("/customers/{}/users/{}", self.id, user.id);
        out.extend_from_slice(b",\"links\":{\"self\":{\"headers\":[],\"method\":\"GET\",\"uri\":");
        if serde_json::to_writer(&mut out, &uri).is_err() {
            return Bytes::new();
        }
        out.extend_from_slice(b"}},\"attributes\":{\"objectType\":\"CustomerUser\"}}");
        Bytes::from(out)
    }

    /// How many users are active and how many deleted.
    pub(crate) fn counts(&self) -> (usize, usize) {
        match &self.derived {
            Some(derived) => (derived.active as usize, derived.deleted as usize),
            None => {
                let deleted = self.users.iter().filter(|u| u.is_inactive()).count();
                (self.users.len() - deleted, deleted)
            }
        }
    }

    /// The user `index`.
    pub(crate) fn user(&self, index: usize) -> Cow<'_, FakeUser> {
        match &self.derived {
            Some(derived) => Cow::Owned(derived.user(index as u32)),
            None => Cow::Borrowed(&self.users[index]),
        }
    }

    /// The users, materialized (for changes).
    pub(crate) fn users_mut(&mut self) -> &[FakeUser] {
        self.materialize();
        &self.users
    }

    /// The JSON of the user `index` as a list item.
    pub(crate) fn item_json(&self, index: usize) -> Bytes {
        match &self.derived {
            Some(derived) => {
                let mut out = Vec::with_capacity(640);
                derived.write_item(index as u32, &self.id, &mut out);
                Bytes::from(out)
            }
            None => self.json[index].clone(),
        }
    }

    /// Adds a user.
    pub(crate) fn push(&mut self, user: FakeUser) -> usize {
        self.materialize();
        let index = self.users.len();
        self.json.push(self.serialise(&user));
        self.by_id.insert(user.id.to_ascii_lowercase(), index);
        self.users.push(user);
        self.orders = Default::default();
        index
    }

    /// The index of the user `id` (case-insensitive).
    pub(crate) fn find(&self, id: &str) -> Option<usize> {
        match &self.derived {
            Some(derived) => derived.find(id).map(|i| i as usize),
            None => self.by_id.get(&id.to_ascii_lowercase()).copied(),
        }
    }

    /// The index of the user whose object id or user principal name is
    /// `user` (case-insensitive): `licenseupdates` takes either (notes §13).
    pub(crate) fn find_by_id_or_upn(&mut self, user: &str) -> Option<usize> {
        self.materialize();
        self.find(user).or_else(|| {
            self.users
                .iter()
                .position(|u| u.user_principal_name.eq_ignore_ascii_case(user))
        })
    }

    /// Changes a user and refreshes what depends on it.
    pub(crate) fn update(&mut self, index: usize, change: impl FnOnce(&mut FakeUser)) {
        self.materialize();
        change(&mut self.users[index]);
        self.json[index] = self.serialise(&self.users[index]);
        self.orders = Default::default();
    }

    /// The users of a listing in order: active or deleted ones, by `sort`
    /// (0: as created, 1: display name, 2: user principal name). An
    /// untouched generated tenant lists in creation order without a table.
    pub(crate) fn order(&mut self, sort: u8, inactive: bool) -> Order<'_> {
        if let Some(derived) = &self.derived
            && sort == 0
        {
            let (start, end) = if inactive {
                (derived.active, derived.total())
            } else {
                (0, derived.active)
            };
            return Order::Range(start, end);
        }
        let slot = usize::from(sort.min(2)) * 2 + usize::from(inactive);
        let users = &self.users;
        let derived = &self.derived;
        Order::Table(self.orders[slot].get_or_insert_with(|| {
            if let Some(derived) = derived {
                let (start, end) = if inactive {
                    (derived.active, derived.total())
                } else {
                    (0, derived.active)
                };
                let mut keyed: Vec<(String, u32)> = (start..end)
                    .map(|i| {
                        let (display, upn) = derived.sort_keys(i);
                        (if sort == 1 { display } else { upn }, i)
                    })
                    .collect();
                keyed.sort();
                return keyed.into_iter().map(|(_, i)| i).collect();
            }
            let mut order: Vec<u32> = (0..users.len() as u32)
                .filter(|&i| users[i as usize].is_inactive() == inactive)
                .collect();
            match sort {
                1 => order.sort_by_cached_key(|&i| users[i as usize].display_name.to_lowercase()),
                2 => order
                    .sort_by_cached_key(|&i| users[i as usize].user_principal_name.to_lowercase()),
                _ => {}
            }
            order
        }))
    }

    /// How many licenses of a SKU are assigned.
    pub(crate) fn assigned(&self, sku: &str) -> usize {
        self.licenses
            .values()
            .filter(|skus| skus.contains(sku))
            .count()
    }
}

/// The users of a listing, in order.
pub(crate) enum Order<'a> {
    /// The indices `start..end`.
    Range(u32, u32),
    /// These indices.
    Table(&'a [u32]),
}

impl Order<'_> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Order::Range(start, end) => (end - start) as usize,
            Order::Table(table) => table.len(),
        }
    }

    /// The index of the `n`-th user of the listing.
    pub(crate) fn get(&self, n: usize) -> u32 {
        match self {
            Order::Range(start, _) => start + n as u32,
            Order::Table(table) => table[n],
        }
    }
}

/// A field that may be absent but, when present, must not be `null` (the
/// spec's non-nullable properties): `null` is refused like a wrong type.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// `attributes` of a request body: `objectType` (`CustomerUser`,
/// `UserMember`, `LicenseUpdate`, as the .NET SDK sends it) is accepted, not
/// required; its type is checked.
// Some fields are read only by serde, to check the types of a request.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AttributesInput {
    #[serde(default, deserialize_with = "present")]
    pub(crate) etag: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) object_type: Option<String>,
}

/// `links` of a request body (ignored; its type is checked).
// Some fields are read only by serde, to check the types of a request.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LinksInput {
    #[serde(default, rename = "self", deserialize_with = "present")]
    pub(crate) this: Option<LinkInput>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) next: Option<LinkInput>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) previous: Option<LinkInput>,
}

// Some fields are read only by serde, to check the types of a request.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LinkInput {
    #[serde(default, deserialize_with = "present")]
    pub(crate) uri: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) method: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) headers: Option<Vec<KeyValueInput>>,
    #[serde(default)]
    pub(crate) body: Option<String>,
}

// Some fields are read only by serde, to check the types of a request.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
pub(crate) struct KeyValueInput {
    #[serde(default, deserialize_with = "present")]
    pub(crate) key: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) value: Option<String>,
}

/// A user as a create or update request sends it. Keys are matched
/// case-insensitively by the caller (the live service binds `State` and
/// `state` alike); types are checked (`null` only where the spec allows it),
/// unknown fields ignored.
// Some fields are read only by serde, to check the types of a request.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserInput {
    #[serde(default, deserialize_with = "present")]
    pub(crate) id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) user_principal_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) first_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) last_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) display_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) usage_location: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) immutable_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) phone_number: Option<String>,
    #[serde(default)]
    pub(crate) last_directory_sync_time: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) user_domain_type: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) state: Option<String>,
    #[serde(default)]
    pub(crate) soft_deletion_time: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) password_profile: Option<PasswordInput>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) links: Option<LinksInput>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) attributes: Option<AttributesInput>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PasswordInput {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) force_change_password: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) password: Option<String>,
}

// Some fields are read only by serde, to check the types of a request.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MemberInput {
    #[serde(default, deserialize_with = "present")]
    pub(crate) id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) display_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) user_principal_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) role_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) attributes: Option<AttributesInput>,
}

// Some fields are read only by serde, to check the types of a request.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LicenseUpdateInput {
    #[serde(default, deserialize_with = "present")]
    pub(crate) licenses_to_assign: Option<Vec<AssignInput>>,
    #[serde(default)]
    pub(crate) licenses_to_remove: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) license_warnings: Option<Vec<WarningInput>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) attributes: Option<AttributesInput>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AssignInput {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) sku_id: Option<String>,
    /// Echoed as `null` when absent, as the live service does.
    #[serde(default)]
    pub(crate) excluded_plans: Option<Vec<String>>,
}

/// `licenseWarnings` of a request (the service's output; ignored, its type
/// is checked).
// Some fields are read only by serde, to check the types of a request.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WarningInput {
    #[serde(default, deserialize_with = "present")]
    pub(crate) code: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) message: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) service_plans: Option<Vec<String>>,
}

/// A JSON value with the first letter of every object key lower-cased, so
/// that `{"State": ..., "Attributes": {"ObjectType": ...}}` reads as camelCase.
pub(crate) fn camel_keys(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let mut chars = key.chars();
                    let key = match chars.next() {
                        Some(first) => first.to_lowercase().chain(chars).collect(),
                        None => key,
                    };
                    (key, camel_keys(value))
                })
                .collect(),
        ),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(camel_keys).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written list item is the JSON of the user with its links
    /// and attributes.
    #[test]
    fn list_items_are_the_users_json() {
        let users = crate::tenant::generate_users(50, 3, "contoso.onmicrosoft.com");
        let tenant = Tenant::new("c-1".to_owned(), users.clone());
        for (index, user) in users.iter().enumerate() {
            let mut expected = serde_json::to_value(user).expect("user");
            expected["links"] = serde_json::json!({ "self": { "uri": format!("/customers/c-1/users/{}", user.id), "method": "GET", "headers": [] } });
            expected["attributes"] = serde_json::json!({ "objectType": "CustomerUser" });
            let item = tenant.item_json(index);
            let parsed: serde_json::Value = serde_json::from_slice(&item).expect("valid JSON");
            assert_eq!(parsed, expected);
        }
    }

    /// A generated tenant writes each item directly: the same bytes as the
    /// user it derives, serialised, active and deleted.
    #[test]
    fn derived_items_are_written_as_their_users_serialise() {
        let derived = Derived::new(11, 4, 3_000, "wingtiplogistics.onmicrosoft.com".to_owned());
        let total = derived.total();
        let tenant = Tenant::derived("c-2".to_owned(), derived.clone());
        let stored = Tenant::new("c-2".to_owned(), Vec::new());
        for index in 0..total {
            let user = derived.user(index);
            assert_eq!(
                tenant.item_json(index as usize),
                stored.serialise(&user),
                "{index}"
            );
        }
    }
}
