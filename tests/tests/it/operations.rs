//! Wire tests of every operation beyond the listing: the exact request (path,
//! query, headers, JSON body), the decoded response of the documented
//! example, and a documented error.

use crate::support;

use crate::support::{CUSTOMER, client, json, redactions, requests, serve};
use insta::assert_snapshot;
use pc_api::types::{
    CustomerUser, LicenseAssignment, LicenseUpdate, PasswordProfile, UserMember, UserState,
};
use pc_api::{ErrorKind, Secret};
use serde_json::json;

const USER: &str = "a9ef48bb-8758-4590-a312-d4a47bfaded4";
const ROLE: &str = "f023fd81-a637-4b56-95fd-791ac0226033";

fn created_user() -> serde_json::Value {
    // The create example of the partner-center notes, as JSON.
    json!({
        "usageLocation": "country/region code",
        "id": "4b10bf41-ab11-40e3-8c53-cd67849b50de",
        "userPrincipalName": "userid@domain.onmicrosoft.com",
        "firstName": "First",
        "lastName": "Last",
        "displayName": "User name",
        "immutableId": "Some unique ID",
        "passwordProfile": { "forceChangePassword": true, "password": "abCD123*" },
        "lastDirectorySyncTime": null,
        "userDomainType": "none",
        "state": "active",
        "softDeletionTime": null,
        "attributes": { "objectType": "CustomerUser" }
    })
}

fn fault(code: u64, description: &str) -> Vec<u8> {
    serde_json::to_vec(
        &json!({ "code": code, "description": description, "data": [], "source": "PartnerFD" }),
    )
    .expect("json")
}

#[tokio::test]
async fn create_a_user_accepts_200_and_201() {
    for status in [200, 201] {
        let server = serve(json(
            status,
            serde_json::to_vec(&created_user()).expect("json"),
        ))
        .await;
        let user = CustomerUser {
            user_principal_name: Some("userid@domain.onmicrosoft.com".to_owned()),
            first_name: Some("First".to_owned()),
            last_name: Some("Last".to_owned()),
            display_name: Some("User name".to_owned()),
            usage_location: Some("US".to_owned()),
            immutable_id: Some("Some unique ID".to_owned()),
            password_profile: Some(PasswordProfile {
                force_change_password: Some(true),
                password: Some(Secret::from("abCD123*")),
            }),
            ..CustomerUser::default()
        };
        let created = client(&server)
            .create_customer_user(CUSTOMER, user)
            .send()
            .await
            .expect("created");
        assert_eq!(created.status(), status);
        assert_eq!(
            created.id.as_deref(),
            Some("4b10bf41-ab11-40e3-8c53-cd67849b50de")
        );
        assert_eq!(created.last_directory_sync_time, None);
        let _guard = redactions().bind_to_scope();
        assert_snapshot!("create_user_request", requests(&server).await);
    }
}

#[tokio::test]
async fn create_a_user_conflict_keeps_the_fault() {
    // No source documents the code of this conflict: the test's own code
    // (12345) only checks that whatever code the service sends is kept.
    let server = serve(json(
        409,
        fault(
            12345,
            "A user with this user principal name already exists.",
        ),
    ))
    .await;
    let error = client(&server)
        .create_customer_user(CUSTOMER, CustomerUser::default())
        .send()
        .await
        .expect_err("409");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(409));
    assert_eq!(error.code().as_deref(), Some("12345"));
    assert_eq!(
        support::request_count(&server).await,
        1,
        "409 is not retried"
    );
}

#[tokio::test]
async fn get_a_user_and_an_unknown_one() {
    let server = serve(json(
        200,
        serde_json::to_vec(&created_user()).expect("json"),
    ))
    .await;
    let user = client(&server)
        .get_customer_user(CUSTOMER, USER)
        .send()
        .await
        .expect("user");
    assert_eq!(user.display_name.as_deref(), Some("User name"));
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("get_user_request", requests(&server).await);
    let server = serve(json(404, fault(60002, "User object Id is not found."))).await;
    let error = client(&server)
        .get_customer_user(CUSTOMER, USER)
        .send()
        .await
        .expect_err("404");
    assert_eq!(error.code().as_deref(), Some("60002"));
    assert_eq!(error.message(), Some("User object Id is not found."));
}

#[tokio::test]
async fn update_sends_only_the_fields_set() {
    let server = serve(json(
        200,
        serde_json::to_vec(&created_user()).expect("json"),
    ))
    .await;
    let change = CustomerUser {
        usage_location: Some("DE".to_owned()),
        ..CustomerUser::default()
    };
    client(&server)
        .update_customer_user(CUSTOMER, USER, change)
        .send()
        .await
        .expect("updated");
    let reset = CustomerUser {
        password_profile: Some(PasswordProfile {
            force_change_password: Some(true),
            password: Some(Secret::from("n3w-P@ss")),
        }),
        ..CustomerUser::default()
    };
    client(&server)
        .update_customer_user(CUSTOMER, USER, reset)
        .send()
        .await
        .expect("password reset");
    let received = server.received_requests().await.expect("recording");
    // Only the fields set, plus the object type every request body carries
    // (`x-request-constants`, as the .NET SDK sends it).
    assert_eq!(
        received[0].body,
        br#"{"attributes":{"objectType":"CustomerUser"},"usageLocation":"DE"}"#
    );
    assert_eq!(
        received[1].body,
        br#"{"attributes":{"objectType":"CustomerUser"},"passwordProfile":{"forceChangePassword":true,"password":"n3w-P@ss"}}"#
    );
    assert!(
        received
            .iter()
            .all(|r| !String::from_utf8_lossy(&r.body).contains("state")),
        "a PATCH never sends state unless asked"
    );
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("update_user_requests", requests(&server).await);
}

#[tokio::test]
async fn restore_sends_state_and_object_type_only() {
    let server = serve(json(
        200,
        serde_json::to_vec(&created_user()).expect("json"),
    ))
    .await;
    let user = client(&server)
        .restore_user(CUSTOMER, USER)
        .await
        .expect("restored");
    assert_eq!(user.state, Some(UserState::Active));
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received[0].method.as_str(), "PATCH");
    assert_eq!(
        received[0].body,
        br#"{"attributes":{"objectType":"CustomerUser"},"state":"active"}"#
    );
}

#[tokio::test]
async fn delete_a_user_is_204_without_a_body() {
    let server = serve(wiremock::ResponseTemplate::new(204)).await;
    let response = client(&server)
        .delete_customer_user(CUSTOMER, USER)
        .send()
        .await
        .expect("deleted");
    assert_eq!(response.status(), 204);
    client(&server)
        .delete_user(CUSTOMER, USER)
        .await
        .expect("deleted again");
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("delete_user_requests", requests(&server).await);
}

#[tokio::test]
async fn list_deleted_users_sends_the_typed_filter() {
    let server = serve(json(200, support::fixture("responses/deleted-users.json"))).await;
    let page = client(&server)
        .list_deleted_users(CUSTOMER)
        .size(500)
        .send()
        .await
        .expect("deleted users");
    assert_eq!(page.items[0].state, Some(UserState::Inactive));
    let received = server.received_requests().await.expect("recording");
    assert_eq!(
        received[0].url.query(),
        Some(
            "size=500&filter=%7B%22Field%22%3A%22UserState%22%2C%22Value%22%3A%22Inactive%22%2C%22Operator%22%3A%22equals%22%7D"
        )
    );
}

#[tokio::test]
async fn directory_roles_of_a_user() {
    let body = json!({
        "totalCount": 1,
        "items": [{ "name": "Helpdesk Administrator", "id": "729827e3-9c14-49f7-bb1b-9608f156bbb8", "attributes": { "objectType": "DirectoryRole" } }],
        "attributes": { "objectType": "Collection" }
    });
    let server = serve(json(200, serde_json::to_vec(&body).expect("json"))).await;
    let roles = client(&server)
        .get_customer_user_directory_roles(CUSTOMER, USER)
        .send()
        .await
        .expect("roles");
    assert_eq!(
        roles.items[0].name.as_deref(),
        Some("Helpdesk Administrator")
    );
    assert!(roles.links.is_none());
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("directory_roles_request", requests(&server).await);
}

#[tokio::test]
async fn add_a_user_to_a_role_and_remove_it() {
    let member = json!({ "displayName": "Daniel Tsai", "userPrincipalName": "Daniel@contoso.onmicrosoft.com", "roleId": ROLE, "id": USER, "attributes": { "objectType": "UserMember" } });
    let server = serve(json(201, serde_json::to_vec(&member).expect("json"))).await;
    let request = UserMember {
        id: Some(USER.to_owned()),
        display_name: Some("Daniel Tsai".to_owned()),
        user_principal_name: Some("Daniel@contoso.onmicrosoft.com".to_owned()),
        ..UserMember::default()
    };
    let added = client(&server)
        .add_user_to_directory_role(CUSTOMER, ROLE, request)
        .send()
        .await
        .expect("added");
    assert_eq!(added.status(), 201);
    assert_eq!(added.role_id.as_deref(), Some(ROLE));
    let server_remove = serve(wiremock::ResponseTemplate::new(204)).await;
    client(&server_remove)
        .remove_user_from_directory_role(CUSTOMER, ROLE, USER)
        .send()
        .await
        .expect("removed");
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("add_to_role_request", requests(&server).await);
    assert_snapshot!("remove_from_role_request", requests(&server_remove).await);
}

#[tokio::test]
async fn licenses_of_a_user_with_repeated_group_ids() {
    let body =
        json!({ "totalCount": 0, "items": [], "attributes": { "objectType": "Collection" } });
    let server = serve(json(200, serde_json::to_vec(&body).expect("json"))).await;
    let licenses = client(&server)
        .get_customer_user_licenses(CUSTOMER, USER)
        .license_group_ids(["Group1", "Group2"])
        .send()
        .await
        .expect("licenses");
    assert!(licenses.items.is_empty());
    let received = server.received_requests().await.expect("recording");
    assert_eq!(
        received[0].url.query(),
        Some("licenseGroupIds=Group1&licenseGroupIds=Group2")
    );
}

#[tokio::test]
async fn assign_licenses_and_run_out_of_them() {
    let update = LicenseUpdate {
        licenses_to_assign: vec![LicenseAssignment {
            sku_id: Some("f8a1db68-be16-40ed-86d5-cb42ce701560".to_owned()),
            excluded_plans: Vec::new(),
        }],
        ..LicenseUpdate::default()
    };
    let echoed = json!({ "licensesToAssign": [{ "excludedPlans": null, "skuId": "f8a1db68-be16-40ed-86d5-cb42ce701560" }], "licenseWarnings": [], "attributes": { "objectType": "LicenseUpdate" } });
    let server = serve(json(201, serde_json::to_vec(&echoed).expect("json"))).await;
    let applied = client(&server)
        .update_customer_user_licenses(CUSTOMER, USER, update.clone())
        .send()
        .await
        .expect("applied");
    assert_eq!(applied.status(), 201);
    assert_eq!(
        applied.licenses_to_assign[0].excluded_plans,
        Vec::<String>::new()
    );
    let _guard = redactions().bind_to_scope();
    assert_snapshot!("license_update_request", requests(&server).await);
    // The documented 400 when the pool is empty (notes §5, verbatim).
    let out = json!({
        "code": 60012,
        "description": "We&#39;re sorry, it looks like you've run out of licenses. Buy more licenses, and then try again.",
        "data": ["LicenseQuotaExceededException : Subscription with Account 0c39d6d5-c70d-4c55-bc02-f620844f3fd1 and SKU f8a1db68-be16-40ed-86d5-cb42ce701560 does not have any available licenses left."],
        "source": "PartnerFD"
    });
    let server = serve(json(400, serde_json::to_vec(&out).expect("json"))).await;
    let error = client(&server)
        .update_customer_user_licenses(CUSTOMER, USER, update)
        .send()
        .await
        .expect_err("400");
    assert_eq!(error.kind(), ErrorKind::Status);
    assert_eq!(error.code().as_deref(), Some("60012"));
    assert!(error.to_string().contains("run out of licenses"), "{error}");
}
