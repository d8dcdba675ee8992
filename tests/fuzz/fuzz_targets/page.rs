//! The response decoder: any bytes give a page or an error, never a panic;
//! a decoded page serialises and decodes to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pc_api::types::CustomerUserCollection;

fuzz_target!(|data: &[u8]| {
    if let Ok(page) = pc_api::decode::<CustomerUserCollection>(data) {
        let json = serde_json::to_vec(&page).expect("a decoded page serialises");
        let again: CustomerUserCollection = pc_api::decode(&json).expect("and decodes again");
        assert_eq!(page, again);
    }
});
