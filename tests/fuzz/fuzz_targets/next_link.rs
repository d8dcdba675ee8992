//! Next-link resolution, the pure function the listings use: any page gives
//! a request to the base URL's origin under `/v1`, without the link
//! overriding the credentials or the client's ids, or an error.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pc_api::Paged;
use pc_api::types::CustomerUserCollection;
use pc_api_runtime::__codegen::{Method, PagingRules, Request, Url, resolve_next};

/// The paging of `getCustomerUsers`, as the spec declares it.
static RULES: PagingRules = PagingRules {
    token_header: "MS-ContinuationToken",
    seek: Some(("seekOperation", "Next")),
    path_prefix: "/v1",
};

fn base() -> &'static Url {
    static BASE: OnceLock<Url> = OnceLock::new();
    BASE.get_or_init(|| Url::parse("https://api.partnercenter.microsoft.com").expect("base"))
}

fn first() -> Request {
    let mut request = Request::new(Method::GET, "getCustomerUsers");
    request.push_path("/v1/customers/c/users");
    request
}

fuzz_target!(|data: &[u8]| {
    let Ok(page) = pc_api::decode::<CustomerUserCollection>(data) else { return };
    let link = page.next_link();
    if let Ok(Some(next)) = resolve_next(base(), &RULES, &first(), link.as_ref(), page.continuation_token()) {
        let url = &next.url;
        assert_eq!(url.scheme(), "https", "{url}");
        assert_eq!(url.host_str(), Some("api.partnercenter.microsoft.com"), "{url}");
        assert_eq!(url.port_or_known_default(), Some(443), "{url}");
        assert!(url.path().to_ascii_lowercase().starts_with("/v1"), "{url}");
        let headers = next.request.headers();
        for reserved in ["authorization", "host", "ms-requestid", "cookie"] {
            assert!(headers.get(reserved).is_none(), "{reserved}");
        }
        assert!(headers.get_all("ms-continuationtoken").iter().count() <= 1);
    }
});
