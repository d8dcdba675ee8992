//! Wire tests of the lookups (customers, a tenant's roles and their members,
//! subscribed SKUs) and of the wire corrections: the exact request of each,
//! and the decoded response.

use futures::TryStreamExt;
use pc_api::types::{
    CapabilityStatus, CustomerFilter, CustomerPartnerRelationship, LicenseGroupId, LicenseUpdate,
    UserMember,
};
use pc_api::{Client, Cloud, ErrorKind, Server};
use serde_json::json;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{self, CUSTOMER, client, json, redactions, requests, serve};

const ROLE: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
const USER: &str = "a9ef48bb-8758-4590-a312-d4a47bfaded4";

fn customer(id: &str, name: &str, domain: &str) -> serde_json::Value {
    json!({
        "id": id,
        "commerceId": "9d73d1b4-dcc4-4df3-a8a0-9e7b6a2e8b12",
        "companyProfile": {
            "tenantId": id,
            "domain": domain,
            "companyName": name,
            "attributes": { "objectType": "CustomerCompanyProfile" }
        },
        "relationshipToPartner": "reseller",
        "allowDelegatedAccess": true,
        "customDomains": [],
        "links": { "self": { "uri": format!("/customers/{id}"), "method": "GET", "headers": [] } },
        "attributes": { "objectType": "Customer" }
    })
}

/// `GET /v1/customers` with a name filter and `size=0` (the service's
/// default, as the SDKs send it): the exact request, the decoded customers,
/// and the next page followed with its token.
#[tokio::test]
async fn customers_by_name_page_after_page() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(|request: &Request| {
            if request.headers.contains_key("ms-continuationtoken") {
                return ResponseTemplate::new(200).set_body_json(json!({
                    "totalCount": 1,
                    "items": [customer("7b2e8d3c-1f6a-4e2b-9c5d-0a1b2c3d4e5f", "Contoso Pharma", "contosopharma.onmicrosoft.com")],
                    "attributes": { "objectType": "Collection" }
                }));
            }
            ResponseTemplate::new(200).set_body_json(json!({
                "totalCount": 1,
                "items": [customer(CUSTOMER, "Contoso Ltd.", "contoso.onmicrosoft.com")],
                "links": {
                    "self": { "uri": "/v1/customers?size=0", "method": "GET", "headers": [] },
                    "next": {
                        "uri": "/v1/customers?size=0&seekOperation=Next",
                        "method": "GET",
                        "headers": [{ "key": "MS-ContinuationToken", "value": "cust/2+=" }]
                    }
                },
                "continuationToken": "cust/2+=",
                "attributes": { "objectType": "Collection" }
            }))
        })
        .mount(&server)
        .await;
    let customers: Vec<_> = client(&server)
        .get_customers()
        .size(0)
        .filter(CustomerFilter::company_name_starts_with("Contoso"))
        .correlation_id("6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9")
        .stream()
        .try_collect()
        .await
        .expect("customers");
    assert_eq!(customers.len(), 2);
    let first = &customers[0];
    assert_eq!(first.id.as_deref(), Some(CUSTOMER));
    let profile = first.company_profile.as_ref().expect("companyProfile");
    assert_eq!(profile.company_name.as_deref(), Some("Contoso Ltd."));
    assert_eq!(profile.domain.as_deref(), Some("contoso.onmicrosoft.com"));
    assert_eq!(
        first.relationship_to_partner,
        Some(CustomerPartnerRelationship::Reseller)
    );
    assert_eq!(first.allow_delegated_access, Some(true));
    let _guard = redactions().bind_to_scope();
    insta::assert_snapshot!("customers_by_name_requests", requests(&server).await);
}

/// An unknown relationship is kept, not a failed page.
#[test]
fn an_unknown_relationship_is_kept() {
    let mut value = customer(CUSTOMER, "Contoso Ltd.", "contoso.onmicrosoft.com");
    value["relationshipToPartner"] = json!("distributor");
    let decoded: pc_api::types::Customer =
        pc_api::decode(&serde_json::to_vec(&value).expect("json")).expect("decoded");
    assert_eq!(
        decoded.relationship_to_partner,
        Some(CustomerPartnerRelationship::UnknownValue(
            "distributor".to_owned()
        ))
    );
}

/// `GET /v1/customers/{id}`, and a customer without a relationship: 403 with
/// the documented fault code 20002.
#[tokio::test]
async fn one_customer_and_one_without_a_relationship() {
    let server = serve(json(
        200,
        serde_json::to_vec(&customer(
            CUSTOMER,
            "Contoso Ltd.",
            "contoso.onmicrosoft.com",
        ))
        .expect("json"),
    ))
    .await;
    let found = client(&server)
        .get_customer(CUSTOMER)
        .send()
        .await
        .expect("customer");
    assert_eq!(
        found.commerce_id.as_deref(),
        Some("9d73d1b4-dcc4-4df3-a8a0-9e7b6a2e8b12")
    );
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received[0].url.path(), format!("/v1/customers/{CUSTOMER}"));

    let body = r#"{"code":20002,"description":"No relationship between caller and account.","data":[],"source":"PartnerFD"}"#;
    let server = serve(json(403, body)).await;
    let error = client(&server)
        .get_customer(CUSTOMER)
        .send()
        .await
        .expect_err("403");
    assert_eq!(error.kind(), ErrorKind::Status);
    assert_eq!(error.code().as_deref(), Some("20002"));
    assert_eq!(
        error.message(),
        Some("No relationship between caller and account.")
    );
}

/// `GET /v1/customers/{id}/directoryroles`: the tenant's roles with their ids.
#[tokio::test]
async fn a_tenants_roles() {
    let server = serve(json(
        200,
        serde_json::to_vec(&json!({
            "totalCount": 2,
            "items": [
                { "id": ROLE, "name": "User Administrator", "attributes": { "objectType": "DirectoryRole" } },
                { "id": "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "name": "Global Reader", "attributes": { "objectType": "DirectoryRole" } }
            ],
            "attributes": { "objectType": "Collection" }
        }))
        .expect("json"),
    ))
    .await;
    let roles = client(&server)
        .get_customer_directory_roles(CUSTOMER)
        .send()
        .await
        .expect("roles");
    let admin = roles
        .items
        .iter()
        .find(|r| r.name.as_deref() == Some("User Administrator"))
        .expect("User Administrator");
    assert_eq!(admin.id.as_deref(), Some(ROLE));
    let received = server.received_requests().await.expect("recording");
    assert_eq!(
        received[0].url.path(),
        format!("/v1/customers/{CUSTOMER}/directoryroles")
    );
}

/// `GET .../directoryroles/{role}/usermembers`, seek-paged: two pages, the
/// second fetched with the token of the first.
#[tokio::test]
async fn the_members_of_a_role_page_after_page() {
    let member = |id: &str| {
        json!({ "id": id, "userPrincipalName": format!("{id}@contoso.onmicrosoft.com"),
                "displayName": id, "roleId": ROLE, "attributes": { "objectType": "UserMember" } })
    };
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(move |request: &Request| {
            if request.headers.contains_key("ms-continuationtoken") {
                return ResponseTemplate::new(200)
                    .set_body_json(json!({ "totalCount": 1, "items": [member("b")] }));
            }
            ResponseTemplate::new(200).set_body_json(json!({
                "totalCount": 1,
                "items": [member("a")],
                "links": { "next": {
                    "uri": format!("/customers/{CUSTOMER}/directoryroles/{ROLE}/usermembers?size=1&seekOperation=Next"),
                    "method": "GET",
                    "headers": [{ "key": "MS-ContinuationToken", "value": "members-2" }]
                } },
                "continuationToken": "members-2"
            }))
        })
        .mount(&server)
        .await;
    let members: Vec<UserMember> = client(&server)
        .get_customer_directory_role_user_members(CUSTOMER, ROLE)
        .size(1)
        .stream()
        .try_collect()
        .await
        .expect("members");
    let ids: Vec<_> = members.iter().filter_map(|m| m.id.as_deref()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(members[0].role_id.as_deref(), Some(ROLE));
    let received = server.received_requests().await.expect("recording");
    assert_eq!(
        received[0]
            .url
            .as_str()
            .split_once("/v1")
            .map(|(_, rest)| rest),
        Some(format!("/customers/{CUSTOMER}/directoryroles/{ROLE}/usermembers?size=1").as_str())
    );
    assert_eq!(received[1].headers["ms-continuationtoken"], "members-2");
}

/// `GET .../subscribedskus` with repeated `licenseGroupIds` (any case is
/// accepted: the typed value goes out lowercase, a string as written); the
/// SKU id, counts and the lowercase group of the response decoded.
#[tokio::test]
async fn subscribed_skus_by_license_group() {
    let server = serve(json(
        200,
        serde_json::to_vec(&json!({
            "totalCount": 1,
            "items": [{
                "availableUnits": 22, "activeUnits": 25, "consumedUnits": 3,
                "suspendedUnits": 0, "totalUnits": 25, "warningUnits": 0,
                "productSku": { "id": "6fd2c87f-b296-42f0-b197-1e91e994b900", "name": "Office 365 E3",
                                "skuPartNumber": "ENTERPRISEPACK", "targetType": "User", "licenseGroupId": "group1" },
                "servicePlans": [{ "displayName": "Exchange Online (Plan 2)", "serviceName": "EXCHANGE_S_ENTERPRISE",
                                   "id": "efb87545-963c-4e0d-99df-69c6916d9eb0", "capabilityStatus": "Enabled", "targetType": "User" }],
                "capabilityStatus": "Enabled",
                "attributes": { "objectType": "SubscribedSku" }
            }],
            "attributes": { "objectType": "Collection" }
        }))
        .expect("json"),
    ))
    .await;
    let skus = client(&server)
        .get_customer_subscribed_skus(CUSTOMER)
        .license_group_ids([LicenseGroupId::Group1, "Group2".into()])
        .send()
        .await
        .expect("skus");
    let sku = &skus.items[0];
    assert_eq!(sku.available_units, Some(22));
    assert_eq!(sku.consumed_units, Some(3));
    assert_eq!(sku.capability_status, Some(CapabilityStatus::Enabled));
    let product = sku.product_sku.as_ref().expect("productSku");
    assert_eq!(
        product.id.as_deref(),
        Some("6fd2c87f-b296-42f0-b197-1e91e994b900")
    );
    assert_eq!(product.license_group_id, Some(LicenseGroupId::Group1));
    let received = server.received_requests().await.expect("recording");
    assert_eq!(
        received[0].url.query(),
        Some("licenseGroupIds=group1&licenseGroupIds=Group2")
    );
}

/// A license warning's text is in `message` (it was dropped when the model
/// read `description`).
#[tokio::test]
async fn a_license_warnings_message_reaches_the_caller() {
    let server = serve(json(
        201,
        r#"{"licensesToAssign":[{"skuId":"sku"}],"licenseWarnings":[{"code":"W1","message":"The plan needs a usage location.","servicePlans":["EXCHANGE_S_ENTERPRISE"]}],"attributes":{"objectType":"LicenseUpdate"}}"#,
    ))
    .await;
    let update = client(&server)
        .update_customer_user_licenses(CUSTOMER, USER, LicenseUpdate::default())
        .send()
        .await
        .expect("update");
    let warning = &update.license_warnings[0];
    assert_eq!(
        warning.message.as_deref(),
        Some("The plan needs a usage location.")
    );
    assert_eq!(warning.service_plans, ["EXCHANGE_S_ENTERPRISE"]);
}

/// Create, update, add-to-role and license updates carry
/// `attributes.objectType` without the caller setting it, as the .NET SDK
/// sends them (`x-request-constants` in the spec).
#[tokio::test]
async fn request_bodies_carry_their_object_type() {
    let server = serve(json(201, "{}")).await;
    let client = client(&server);
    client
        .create_customer_user(CUSTOMER, Default::default())
        .send()
        .await
        .expect("create");
    client
        .update_customer_user(CUSTOMER, USER, Default::default())
        .send()
        .await
        .expect("update");
    client
        .add_user_to_directory_role(CUSTOMER, ROLE, Default::default())
        .send()
        .await
        .expect("add");
    client
        .update_customer_user_licenses(CUSTOMER, USER, Default::default())
        .send()
        .await
        .expect("licenses");
    let bodies: Vec<serde_json::Value> = server
        .received_requests()
        .await
        .expect("recording")
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("JSON body"))
        .collect();
    let types: Vec<&str> = bodies
        .iter()
        .map(|b| b["attributes"]["objectType"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "CustomerUser",
            "CustomerUser",
            "UserMember",
            "LicenseUpdate"
        ]
    );
    // A PATCH still sends only what was set, plus the object type.
    assert_eq!(
        bodies[1],
        json!({ "attributes": { "objectType": "CustomerUser" } })
    );
}

/// `size=0` asks for the service's default page size, as the official SDKs
/// send it: the client sends it, never refuses it.
#[tokio::test]
async fn size_zero_is_sent() {
    let server = serve(json(200, r#"{"totalCount":0,"items":[]}"#)).await;
    client(&server)
        .list_deleted_users(CUSTOMER)
        .size(0)
        .send()
        .await
        .expect("page");
    let received = server.received_requests().await.expect("recording");
    assert!(
        received[0]
            .url
            .query()
            .unwrap_or_default()
            .starts_with("size=0&"),
        "{:?}",
        received[0].url.query()
    );
}

/// The newer fault shape: `errorName`, `message`, `isRetryable` and
/// `parameters` are kept, and `Error::is_retryable` reads `isRetryable`.
#[tokio::test]
async fn the_newer_fault_shape_is_kept() {
    let server = serve(json(
        409,
        r#"{"description":"Conflict","errorName":"ConsentAlreadyExists","message":"Consent already exists.","isRetryable":false,"parameters":{"customerId":"c"}}"#,
    ))
    .await;
    let error = client(&server)
        .get_customer(CUSTOMER)
        .send()
        .await
        .expect_err("409");
    assert_eq!(error.is_retryable(), Some(false));
    let fault = error
        .body()
        .and_then(pc_api::ErrorBody::as_api_fault)
        .expect("ApiFault");
    assert_eq!(fault.error_name.as_deref(), Some("ConsentAlreadyExists"));
    assert_eq!(fault.message.as_deref(), Some("Consent already exists."));
    assert_eq!(fault.parameters.as_ref().map(|p| p.len()), Some(1));
}

/// `MS-PartnerCenter-Application`, when set, goes with every request.
#[tokio::test]
async fn the_application_name_goes_with_every_request() {
    let server = serve(json(200, r#"{"totalCount":0,"items":[]}"#)).await;
    let client = support::builder(server.uri())
        .application("Contoso Inventory 1.2")
        .build()
        .expect("client");
    client.get_customers().send().await.expect("customers");
    client
        .get_customer_directory_roles(CUSTOMER)
        .send()
        .await
        .expect("roles");
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received.len(), 2);
    for request in &received {
        assert_eq!(
            request.headers["ms-partnercenter-application"],
            "Contoso Inventory 1.2"
        );
    }
    let error = support::builder(server.uri())
        .application("naïve")
        .build()
        .expect_err("not ASCII");
    assert_eq!(error.kind(), ErrorKind::Config);
}

/// A cloud instead of a URL: 21Vianet's endpoint for `Cloud::China`, the
/// same as the spec's second server.
#[test]
fn clouds_and_servers() {
    let china = Client::builder()
        .cloud(Cloud::China)
        .bearer_token("t")
        .build()
        .expect("client");
    assert_eq!(
        china.base_url(),
        "https://partner.partnercenterapi.microsoftonline.cn"
    );
    assert_eq!(Cloud::China.api_endpoint(), Server::China.url());
    assert_eq!(Cloud::Global.api_endpoint(), Server::Global.url());
    assert_eq!(Cloud::UsGovernment.api_endpoint(), Server::Global.url());
    assert_eq!(Server::default().url(), pc_api::DEFAULT_BASE_URL);
    let by_server = Client::builder()
        .base_url(Server::China)
        .bearer_token("t")
        .build()
        .expect("client");
    assert_eq!(by_server.base_url(), china.base_url());
}
