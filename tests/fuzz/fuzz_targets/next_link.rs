//! Next-link resolution: any `links.next` gives a request to the base URL's
//! origin, without the link overriding the credentials, or an error.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pc_api::types::CustomerUserCollection;

const BASE: &str = "https://api.partnercenter.microsoft.com";

fn client() -> &'static pc_api::Client {
    static CLIENT: OnceLock<pc_api::Client> = OnceLock::new();
    CLIENT.get_or_init(|| pc_api::Client::builder().base_url(BASE).bearer_token("fuzz").build().expect("client"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(page) = pc_api::decode::<CustomerUserCollection>(data) else { return };
    if let Ok(Some((url, headers))) = pc_api::next_request_for_fuzzing(client(), &page) {
        assert_eq!(url.scheme(), "https", "{url}");
        assert_eq!(url.host_str(), Some("api.partnercenter.microsoft.com"), "{url}");
        assert_eq!(url.port_or_known_default(), Some(443), "{url}");
        assert!(url.path().to_ascii_lowercase().starts_with("/v1"), "{url}");
        assert!(headers.get("authorization").is_none());
        assert!(headers.get("host").is_none());
    }
});
