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
    let size = std::num::NonZeroU32::new(size).ok_or("size 0")?;
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
