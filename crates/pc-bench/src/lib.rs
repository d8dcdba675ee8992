//! The three clients the benchmarks compare, listing the same users from
//! the same server: `pc-api`, a hand-written reqwest + serde client (what a
//! careful engineer would write alone), and the client progenitor 0.15
//! generates from the same spec.

pub mod hand;

/// The client progenitor 0.15 generates from `spec/partner-center.yaml`
/// (reduced to the listing, see `build.rs`). Third-party generated code.
#[allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    unused
)]
pub mod progenitor {
    include!(concat!(env!("OUT_DIR"), "/progenitor.rs"));
}

/// The reduced spec progenitor was generated from, as JSON.
pub const REDUCED_SPEC: &str = include_str!(concat!(env!("OUT_DIR"), "/reduced-spec.json"));

/// The lines of the progenitor client.
pub const PROGENITOR_SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/progenitor.rs"));

/// Lists every user with the progenitor client, following the seek paging
/// by hand (progenitor cannot): `seekOperation=Next` with the continuation
/// token of the previous page. Calls `each` on every user.
pub async fn progenitor_list(
    client: &progenitor::Client,
    customer: &str,
    size: u32,
    mut each: impl FnMut(progenitor::types::CustomerUser),
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let size = i32::try_from(size).map_err(|_| "size out of range")?;
    let mut token: Option<String> = None;
    let mut count = 0;
    loop {
        let seek = token
            .as_ref()
            .map(|_| progenitor::types::SeekOperation::Next);
        let page = client
            .get_customer_users(
                customer,
                None,
                None,
                None,
                seek,
                Some(size),
                None,
                token.as_deref(),
                None,
                None,
                None,
            )
            .await
            .map_err(|e| e.to_string())?
            .into_inner();
        let next = page
            .links
            .as_ref()
            .and_then(|links| links.next.as_ref())
            .and_then(|next| {
                next.headers
                    .iter()
                    .find(|h| h.key.as_deref() == Some("MS-ContinuationToken"))
            })
            .and_then(|h| h.value.clone());
        count += page.items.len();
        page.items.into_iter().for_each(&mut each);
        match next {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(count),
        }
    }
}

/// A page of `users` users shaped independently of pc-fake's generator, so
/// that the decoding figures do not depend on one page's shape: longer
/// names, `lastDirectorySyncTime` with 7 fractional digits on 70% of the
/// users (absent on the rest), a `passwordProfile` on every fifth, an
/// `immutableId` and phone number on some, and the next link of a seek page.
/// Deterministic.
pub fn second_page(users: usize) -> Vec<u8> {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const GIVEN: &[&str] = &[
        "Maximilian",
        "Anastasiya",
        "Bartholomew",
        "Guðrún",
        "Oluwaseun",
        "Jean-Baptiste",
        "Siobhán",
        "Konstantinos",
        "Xiaoling",
        "Aleksandra",
        "Thiruvengadam",
        "Zoë",
    ];
    const FAMILY: &[&str] = &[
        "Vanderschoot-Amundsen",
        "Papadopoulou",
        "Ó Súilleabháin",
        "Wojciechowski",
        "Nakamura-Lindqvist",
        "Abubakar",
        "Castellanos de la Vega",
        "Østergaard",
        "Srinivasan",
    ];
    let mut items = Vec::with_capacity(users);
    for i in 0..users {
        let given = GIVEN[(next() % GIVEN.len() as u64) as usize];
        let family = FAMILY[(next() % FAMILY.len() as u64) as usize];
        let upn = format!(
            "{}.{}.{i}@northwind-traders-international-holdings.onmicrosoft.com",
            given.to_lowercase().replace(' ', ""),
            family.to_lowercase().replace(' ', "")
        );
        let department = [
            "Finance",
            "Research & Development",
            "Customer Success EMEA",
            "Legal",
        ][i % 4];
        let location = ["DE", "US", "IE", "JP", "NG"][i % 5];
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            next() as u32,
            next() as u16,
            next() % 0x1000,
            next() % 0x1000,
            next() % 0x1_0000_0000_0000
        );
        let mut user = serde_json::json!({
            "id": id,
            "userPrincipalName": upn,
            "firstName": given,
            "lastName": family,
            "displayName": format!("{given} {family} ({department})"),
            "usageLocation": location,
            "userDomainType": if i % 3 == 0 { "federated" } else { "managed" },
            "state": "active",
            "softDeletionTime": null,
            "links": { "self": { "uri": format!("/customers/0f5b2e6c-6f43-4c4c-9a7e-1d3d1f0a2b3c/users/{i}"), "method": "GET", "headers": [] } },
            "attributes": { "objectType": "CustomerUser" }
        });
        if next() % 10 < 7 {
            user["lastDirectorySyncTime"] = serde_json::json!(format!(
                "2026-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
                1 + next() % 12,
                1 + next() % 28,
                next() % 24,
                next() % 60,
                next() % 60,
                next() % 10_000_000
            ));
        }
        if i % 5 == 0 {
            user["passwordProfile"] =
                serde_json::json!({ "forceChangePassword": i % 2 == 0, "password": null });
        }
        if i % 4 == 1 {
            user["immutableId"] = serde_json::json!(format!("{:016x}{:016x}", next(), next()));
            user["phoneNumber"] = serde_json::json!(format!("+49 30 {:08}", next() % 100_000_000));
        }
        items.push(user);
    }
    let page = serde_json::json!({
        "totalCount": users,
        "items": items,
        "links": {
            "self": { "uri": "/customers/0f5b2e6c-6f43-4c4c-9a7e-1d3d1f0a2b3c/users?size=500", "method": "GET", "headers": [] },
            "next": { "uri": "/customers/0f5b2e6c-6f43-4c4c-9a7e-1d3d1f0a2b3c/users?size=500&seekOperation=Next", "method": "GET",
                      "headers": [{ "key": "MS-ContinuationToken", "value": "d19617b8-fbe5-4684-a5d8-0230972fb0cf,0705c4a9_a4ayc/80/OGda4BO/1o/V0etpOqiLx1JwB5S3beHW0s=" }] }
        },
        "attributes": { "objectType": "Collection" }
    });
    serde_json::to_vec(&page).unwrap_or_default()
}
