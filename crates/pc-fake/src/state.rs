//! The in-memory state of one fake customer: its users (active and deleted),
//! directory roles and license pools, changed by the operations.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::tenant::FakeUser;

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

#[derive(Serialize)]
struct WireUser<'a> {
    #[serde(flatten)]
    user: &'a FakeUser,
    links: serde_json::Value,
    attributes: serde_json::Value,
}

/// One customer.
pub(crate) struct Tenant {
    pub(crate) id: String,
    pub(crate) users: Vec<FakeUser>,
    /// Each user as the JSON of a list item, serialised once per change.
    pub(crate) json: Vec<Bytes>,
    by_id: HashMap<String, usize>,
    /// User indices per (sort, inactive): 3 sorts × 2 filters, rebuilt after a change.
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

    fn serialise(&self, user: &FakeUser) -> Bytes {
        let wire = WireUser {
            user,
            links: serde_json::json!({ "self": { "uri": format!("/customers/{}/users/{}", self.id, user.id), "method": "GET", "headers": [] } }),
            attributes: serde_json::json!({ "objectType": "CustomerUser" }),
        };
        Bytes::from(serde_json::to_vec(&wire).unwrap_or_default())
    }

    /// Adds a user.
    pub(crate) fn push(&mut self, user: FakeUser) -> usize {
        let index = self.users.len();
        self.json.push(self.serialise(&user));
        self.by_id.insert(user.id.to_ascii_lowercase(), index);
        self.users.push(user);
        self.orders = Default::default();
        index
    }

    /// The index of the user `id` (case-insensitive).
    pub(crate) fn find(&self, id: &str) -> Option<usize> {
        self.by_id.get(&id.to_ascii_lowercase()).copied()
    }

    /// The index of the user whose object id or user principal name is
    /// `user` (case-insensitive): `licenseupdates` takes either (notes §13).
    pub(crate) fn find_by_id_or_upn(&self, user: &str) -> Option<usize> {
        self.find(user).or_else(|| {
            self.users
                .iter()
                .position(|u| u.user_principal_name.eq_ignore_ascii_case(user))
        })
    }

    /// Changes a user and refreshes what depends on it.
    pub(crate) fn update(&mut self, index: usize, change: impl FnOnce(&mut FakeUser)) {
        change(&mut self.users[index]);
        self.json[index] = self.serialise(&self.users[index]);
        self.orders = Default::default();
    }

    /// The users of a listing in order: active or deleted ones, by `sort`
    /// (0: as created, 1: display name, 2: user principal name).
    pub(crate) fn order(&mut self, sort: u8, inactive: bool) -> &[u32] {
        let slot = usize::from(sort.min(2)) * 2 + usize::from(inactive);
        let users = &self.users;
        self.orders[slot].get_or_insert_with(|| {
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
        })
    }

    /// How many licenses of a SKU are assigned.
    pub(crate) fn assigned(&self, sku: &str) -> usize {
        self.licenses
            .values()
            .filter(|skus| skus.contains(sku))
            .count()
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
