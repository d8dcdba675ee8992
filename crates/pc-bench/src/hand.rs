//! A hand-written Partner Center client: reqwest + serde structs, the loop a
//! careful engineer would write. The baseline of the benchmarks.

use serde::Deserialize;

/// A page of users.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    /// Users in the page.
    pub total_count: Option<i64>,
    /// The users.
    #[serde(default)]
    pub items: Vec<User>,
    /// Links to this and the next page.
    pub links: Option<Links>,
    /// The continuation token.
    pub continuation_token: Option<String>,
}

/// A user.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Object id.
    pub id: Option<String>,
    /// User principal name.
    pub user_principal_name: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Usage location.
    pub usage_location: Option<String>,
    /// Immutable id.
    pub immutable_id: Option<String>,
    /// Phone number.
    pub phone_number: Option<String>,
    /// Last directory sync.
    pub last_directory_sync_time: Option<String>,
    /// Domain type.
    pub user_domain_type: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Deletion time.
    pub soft_deletion_time: Option<String>,
    /// Password settings.
    pub password_profile: Option<PasswordProfile>,
    /// Links.
    pub links: Option<Links>,
    /// Attributes.
    pub attributes: Option<Attributes>,
}

/// Password settings.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordProfile {
    /// Force a change.
    pub force_change_password: Option<bool>,
    /// The password.
    pub password: Option<String>,
}

/// Links of a resource.
#[derive(Debug, Deserialize)]
pub struct Links {
    /// This resource.
    #[serde(rename = "self")]
    pub self_: Option<Link>,
    /// The next page.
    pub next: Option<Link>,
    /// The previous page.
    pub previous: Option<Link>,
}

/// A link.
#[derive(Debug, Deserialize)]
pub struct Link {
    /// Its URI.
    pub uri: Option<String>,
    /// Its method.
    pub method: Option<String>,
    /// Headers to send.
    #[serde(default)]
    pub headers: Vec<Header>,
}

/// A header of a link.
#[derive(Debug, Deserialize)]
pub struct Header {
    /// Name.
    pub key: String,
    /// Value.
    pub value: String,
}

/// Attributes of a resource.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attributes {
    /// Object type.
    pub object_type: Option<String>,
    /// Entity tag.
    pub etag: Option<String>,
}

/// Lists every user, calling `each` on each: one request per page, the next
/// link followed with its headers, `/v1` added when missing.
pub async fn list(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    customer: &str,
    size: u32,
    mut each: impl FnMut(User),
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let correlation = uuid::Uuid::new_v4().to_string();
    let mut url = format!("{base}/v1/customers/{customer}/users?size={size}");
    let mut headers: Vec<Header> = Vec::new();
    let mut count = 0;
    loop {
        let mut request = http
            .get(&url)
            .bearer_auth(token)
            .header("Accept", "application/json")
            .header("MS-RequestId", uuid::Uuid::new_v4().to_string())
            .header("MS-CorrelationId", &correlation);
        for header in &headers {
            request = request.header(&header.key, &header.value);
        }
        let bytes = request.send().await?.error_for_status()?.bytes().await?;
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let page: Page = serde_json::from_slice(body)?;
        count += page.items.len();
        let next = page.links.and_then(|links| links.next);
        page.items.into_iter().for_each(&mut each);
        match next {
            Some(Link {
                uri: Some(uri),
                headers: next_headers,
                ..
            }) => {
                let path = if uri.starts_with("/v1/") {
                    uri
                } else {
                    format!("/v1{uri}")
                };
                url = format!("{base}{path}");
                headers = next_headers;
            }
            _ => return Ok(count),
        }
    }
}
