//! Property tests of the round trips the client relies on: any model value
//! serialises and decodes to itself; any path parameter is one path segment
//! that the server sees unchanged; any continuation token reaches the server
//! byte for byte, whether resumed from or followed in a next link.

use crate::support;

use pc_api::types::{
    ApiFault, ApiFaultCode, CustomerUser, CustomerUserCollection, KeyValuePair, Link,
    PasswordProfile, ResourceAttributes, ResourceLinks, UserDomainType, UserState,
};
use pc_api::{Secret, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::json;
use wiremock::matchers::any as any_request;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,40}", "[a-zA-Z0-9 ._@/+=,-]{0,40}"]
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text())
}

fn state() -> impl Strategy<Value = Option<UserState>> {
    let unknown = text().prop_filter("not a listed value", |v| {
        !UserState::VALUES.contains(&v.as_str())
    });
    proptest::option::of(prop_oneof![
        Just(UserState::Active),
        Just(UserState::Inactive),
        unknown.prop_map(UserState::Unknown)
    ])
}

fn domain_type() -> impl Strategy<Value = Option<UserDomainType>> {
    let unknown = text().prop_filter("not a listed value", |v| {
        !UserDomainType::VALUES.contains(&v.as_str())
    });
    proptest::option::of(prop_oneof![
        Just(UserDomainType::None),
        Just(UserDomainType::Managed),
        Just(UserDomainType::Federated),
        unknown.prop_map(UserDomainType::Unknown),
    ])
}

fn link() -> impl Strategy<Value = Link> {
    let header = (
        opt_text(),
        proptest::option::of(text().prop_map(Secret::from)),
    )
        .prop_map(|(key, value)| KeyValuePair { key, value });
    (
        opt_text(),
        opt_text(),
        proptest::collection::vec(header, 0..3),
        opt_text(),
    )
        .prop_map(|(uri, method, headers, body)| Link {
            uri,
            method,
            headers,
            body,
        })
}

fn links() -> impl Strategy<Value = Option<ResourceLinks>> {
    proptest::option::of(
        (
            proptest::option::of(link()),
            proptest::option::of(link()),
            proptest::option::of(link()),
        )
            .prop_map(|(self_, next, previous)| ResourceLinks {
                self_,
                next,
                previous,
            }),
    )
}

fn attributes() -> impl Strategy<Value = Option<ResourceAttributes>> {
    proptest::option::of(
        (opt_text(), opt_text())
            .prop_map(|(etag, object_type)| ResourceAttributes { etag, object_type }),
    )
}

fn user() -> impl Strategy<Value = CustomerUser> {
    let names = (
        opt_text(),
        opt_text(),
        opt_text(),
        opt_text(),
        opt_text(),
        opt_text(),
        opt_text(),
        opt_text(),
    );
    let profile = proptest::option::of((
        proptest::option::of(any::<bool>()),
        proptest::option::of(text().prop_map(Secret::from)),
    ))
    .prop_map(|p| {
        p.map(|(force_change_password, password)| PasswordProfile {
            force_change_password,
            password,
        })
    });
    let times = (
        proptest::option::of(text().prop_map(Timestamp::from)),
        proptest::option::of(text().prop_map(Timestamp::from)),
    );
    (
        names,
        profile,
        times,
        state(),
        domain_type(),
        links(),
        attributes(),
    )
        .prop_map(
            |(
                (id, upn, first, last, display, usage, immutable, phone),
                password_profile,
                (sync, deleted),
                state,
                domain,
                links,
                attributes,
            )| CustomerUser {
                id,
                user_principal_name: upn,
                first_name: first,
                last_name: last,
                display_name: display,
                usage_location: usage,
                immutable_id: immutable,
                password_profile,
                phone_number: phone,
                last_directory_sync_time: sync,
                user_domain_type: domain,
                state,
                soft_deletion_time: deleted,
                links,
                attributes,
            },
        )
}

fn collection() -> impl Strategy<Value = CustomerUserCollection> {
    (
        proptest::option::of(any::<i32>()),
        proptest::collection::vec(user(), 0..4),
        links(),
        attributes(),
        proptest::option::of(text().prop_map(Secret::from)),
    )
        .prop_map(
            |(total_count, items, links, attributes, continuation_token)| CustomerUserCollection {
                total_count,
                items,
                links,
                attributes,
                continuation_token,
            },
        )
}

fn fault() -> impl Strategy<Value = ApiFault> {
    let code = proptest::option::of(prop_oneof![
        any::<i64>().prop_map(ApiFaultCode::Integer),
        text().prop_map(ApiFaultCode::String)
    ]);
    let data = proptest::collection::vec(
        prop_oneof![
            text().prop_map(|t| json!(t)),
            any::<i64>().prop_map(|n| json!(n))
        ],
        0..3,
    );
    (code, opt_text(), data, opt_text()).prop_map(|(code, description, data, source)| ApiFault {
        code,
        description,
        data,
        source,
        ..ApiFault::default()
    })
}

proptest! {
    #![proptest_config(Config::with_cases(256))]

    #[test]
    fn any_page_round_trips(page in collection()) {
        let json = serde_json::to_vec(&page).expect("serialises");
        let decoded: CustomerUserCollection = pc_api::decode(&json).expect("decodes");
        prop_assert_eq!(decoded, page);
    }

    #[test]
    fn any_fault_round_trips(fault in fault()) {
        let json = serde_json::to_vec(&fault).expect("serialises");
        let decoded: ApiFault = pc_api::decode(&json).expect("decodes");
        prop_assert_eq!(decoded, fault);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn empty_page() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "items": [] }))
}

#[test]
fn any_path_parameter_is_one_segment_the_server_sees_unchanged() {
    let rt = runtime();
    let server = rt.block_on(support::serve(empty_page()));
    let client = support::client(&server);
    let strategy = "[^\\p{Cc}]{1,60}".prop_filter("not a dot segment", |s| s != "." && s != "..");
    proptest!(Config::with_cases(128), |(customer in strategy)| {
        rt.block_on(client.get_customer_users(customer.as_str()).send()).expect("sent");
        let received = rt.block_on(server.received_requests()).expect("recording");
        let path = received.last().expect("a request").url.path().to_owned();
        let segments: Vec<&str> = path.split('/').collect();
        prop_assert_eq!(segments.len(), 5, "{}", path);
        prop_assert_eq!(&segments[..3], &["", "v1", "customers"]);
        prop_assert_eq!(segments[4], "users");
        let decoded = percent_encoding::percent_decode_str(segments[3]).decode_utf8().expect("utf-8");
        prop_assert_eq!(decoded.as_ref(), customer.as_str());
    });
}

#[test]
fn any_continuation_token_reaches_the_server_byte_for_byte() {
    let rt = runtime();
    // Visible ASCII, spaces inside: what an HTTP header value can carry
    // without being trimmed.
    let strategy = "[!-~]([ -~]{0,150}[!-~])?";
    proptest!(Config::with_cases(64), |(token in strategy)| {
        let server = rt.block_on(MockServer::start());
        let next = token.clone();
        rt.block_on(
            Mock::given(any_request())
                .respond_with(move |request: &Request| {
                    if request.headers.contains_key("ms-continuationtoken") {
                        empty_page()
                    } else {
                        ResponseTemplate::new(200).set_body_json(json!({
                            "items": [],
                            "links": { "next": { "uri": "/customers/c/users?seekOperation=Next", "headers": [{ "key": "MS-ContinuationToken", "value": next }] } },
                            "continuationToken": next
                        }))
                    }
                })
                .mount(&server),
        );
        let client = support::client(&server);
        rt.block_on(futures::TryStreamExt::try_collect::<Vec<_>>(client.get_customer_users("c").stream())).expect("followed");
        rt.block_on(client.get_customer_users("c").resume(token.as_str()).send()).expect("resumed");
        let received = rt.block_on(server.received_requests()).expect("recording");
        prop_assert_eq!(received.len(), 3);
        for request in &received[1..] {
            let sent = request.headers.get("ms-continuationtoken").expect("token header").as_bytes();
            prop_assert_eq!(sent, token.as_bytes());
            prop_assert_eq!(request.url.query(), Some("seekOperation=Next"), "never in the URL");
        }
    });
}
