//! The whole customer-users surface against `pc-fake`: one user's life from
//! creation to roles, with the documented errors on the way; and the
//! acceptance scenario, from nothing but a customer's name to a user with a
//! role and a license.

use futures::TryStreamExt;
use pc_api::types::{
    Customer, CustomerFilter, CustomerSearchField, CustomerUser, FieldFilterOperation,
    LicenseAssignment, LicenseUpdate, PasswordProfile, UserFilter, UserMember, UserState,
};
use pc_api::{Client, ErrorKind, Secret};
use pc_fake::{DEFAULT_CUSTOMER, FakePartnerCenter, generate_users};

const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
const E5: &str = "c7df2760-2c81-4ef7-b578-5b5392b571df";

/// A recorded request's body as JSON.
fn body_of(request: &pc_fake::RecordedRequest) -> serde_json::Value {
    serde_json::from_str(&request.body).expect("a JSON body")
}

async fn ids_of(listing: pc_api::builder::GetCustomerUsers) -> Vec<String> {
    let users: Vec<CustomerUser> = listing.stream().try_collect().await.expect("listing");
    users.into_iter().filter_map(|u| u.id).collect()
}

#[tokio::test]
async fn a_users_life_from_creation_to_roles() {
    let fake = FakePartnerCenter::builder()
        .customer(
            DEFAULT_CUSTOMER,
            generate_users(250, 1, "contoso.onmicrosoft.com"),
        )
        .bom(true)
        .start()
        .await
        .expect("fake");
    let client = Client::builder()
        .base_url(fake.base_url())
        .bearer_token("t")
        .build()
        .expect("client");
    let customer = DEFAULT_CUSTOMER;

    // Create.
    let new_user = CustomerUser {
        user_principal_name: Some("zoë.new@contoso.onmicrosoft.com".to_owned()),
        first_name: Some("Zoë".to_owned()),
        last_name: Some("New".to_owned()),
        display_name: Some("Zoë New".to_owned()),
        usage_location: Some("DE".to_owned()),
        password_profile: Some(PasswordProfile {
            force_change_password: Some(true),
            password: Some(Secret::from("abCD123*")),
        }),
        ..CustomerUser::default()
    };
    let created = client
        .create_customer_user(customer, new_user)
        .send()
        .await
        .expect("created");
    assert_eq!(created.status(), 201);
    let id = created.id.clone().expect("an id");
    assert_eq!(created.state, Some(UserState::Active));

    // Listed.
    assert!(
        ids_of(client.get_customer_users(customer).size(500))
            .await
            .contains(&id)
    );

    // Update: only the fields set are sent.
    fake.clear_requests();
    let change = CustomerUser {
        display_name: Some("Zoë Renamed".to_owned()),
        ..CustomerUser::default()
    };
    let updated = client
        .update_customer_user(customer, &id, change)
        .send()
        .await
        .expect("updated");
    assert_eq!(updated.display_name.as_deref(), Some("Zoë Renamed"));
    assert_eq!(
        body_of(&fake.requests()[0]),
        serde_json::json!({ "displayName": "Zoë Renamed", "attributes": { "objectType": "CustomerUser" } })
    );
    let fetched = client
        .get_customer_user(customer, &id)
        .send()
        .await
        .expect("fetched");
    assert_eq!(fetched.display_name.as_deref(), Some("Zoë Renamed"));
    assert_eq!(fetched.usage_location.as_deref(), Some("DE"));

    // Delete: gone from the listing, present among the deleted users.
    client.delete_user(customer, &id).await.expect("deleted");
    assert!(
        !ids_of(client.get_customer_users(customer).size(500))
            .await
            .contains(&id)
    );
    let deleted: Vec<CustomerUser> = client
        .list_deleted_users(customer)
        .stream()
        .try_collect()
        .await
        .expect("deleted users");
    let gone = deleted
        .iter()
        .find(|u| u.id.as_deref() == Some(id.as_str()))
        .expect("listed as deleted");
    assert_eq!(gone.state, Some(UserState::Inactive));
    assert!(
        gone.soft_deletion_time
            .as_ref()
            .is_some_and(|t| t.is_valid())
    );
    assert!(deleted.iter().all(|u| u.state == Some(UserState::Inactive)));

    // Restore: active again, and the PATCH said nothing but the state.
    fake.clear_requests();
    let restored = client.restore_user(customer, &id).await.expect("restored");
    assert_eq!(restored.state, Some(UserState::Active));
    assert_eq!(
        body_of(&fake.requests()[0]),
        serde_json::json!({ "state": "active", "attributes": { "objectType": "CustomerUser" } })
    );
    assert!(
        ids_of(client.get_customer_users(customer).size(500))
            .await
            .contains(&id)
    );
    let filter = UserFilter {
        field: "UserState".to_owned(),
        value: "Active".to_owned(),
        operator: FieldFilterOperation::Equals,
    };
    assert!(
        ids_of(client.get_customer_users(customer).filter(filter))
            .await
            .contains(&id)
    );

    // Licenses: assign, read, then run the pool dry.
    let update = LicenseUpdate {
        licenses_to_assign: vec![LicenseAssignment {
            sku_id: Some(E5.to_owned()),
            excluded_plans: Vec::new(),
        }],
        ..LicenseUpdate::default()
    };
    let applied = client
        .update_customer_user_licenses(customer, &id, update.clone())
        .send()
        .await
        .expect("assigned");
    assert_eq!(applied.status(), 201);
    let licenses = client
        .get_customer_user_licenses(customer, &id)
        .license_group_ids(["Group1"])
        .send()
        .await
        .expect("licenses");
    assert_eq!(licenses.items.len(), 1);
    assert_eq!(
        licenses.items[0]
            .product_sku
            .as_ref()
            .and_then(|s| s.id.as_deref()),
        Some(E5)
    );
    let none = client
        .get_customer_user_licenses(customer, &id)
        .license_group_ids(["Group2"])
        .send()
        .await
        .expect("none");
    assert!(none.items.is_empty());
    let others: Vec<CustomerUser> = client
        .get_customer_users(customer)
        .size(5)
        .send()
        .await
        .expect("page")
        .into_inner()
        .items;
    let mut exhausted = None;
    for other in &others {
        let other_id = other.id.clone().expect("id");
        if let Err(error) = client
            .update_customer_user_licenses(customer, other_id, update.clone())
            .send()
            .await
        {
            exhausted = Some(error);
            break;
        }
    }
    let error = exhausted.expect("the E5 pool (3 licenses) runs out");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(error.code().as_deref(), Some("60012"));

    // Roles: add, read, remove.
    let member = UserMember {
        id: Some(id.clone()),
        display_name: restored.display_name.clone(),
        user_principal_name: restored.user_principal_name.clone(),
        ..UserMember::default()
    };
    let added = client
        .add_user_to_directory_role(customer, USER_ADMINISTRATOR, member)
        .send()
        .await
        .expect("added");
    assert_eq!(added.status(), 201);
    assert_eq!(added.role_id.as_deref(), Some(USER_ADMINISTRATOR));
    let roles = client
        .get_customer_user_directory_roles(customer, &id)
        .send()
        .await
        .expect("roles");
    assert_eq!(
        roles
            .items
            .iter()
            .filter_map(|r| r.name.as_deref())
            .collect::<Vec<_>>(),
        ["User Administrator"]
    );
    let removed = client
        .remove_user_from_directory_role(customer, USER_ADMINISTRATOR, &id)
        .send()
        .await
        .expect("removed");
    assert_eq!(removed.status(), 204);
    let roles = client
        .get_customer_user_directory_roles(customer, &id)
        .send()
        .await
        .expect("roles");
    assert!(roles.items.is_empty());

    // An unknown user is a 404 with fault code 60002.
    let error = client
        .get_customer_user(customer, "00000000-0000-0000-0000-000000000000")
        .send()
        .await
        .expect_err("404");
    assert_eq!(error.kind(), ErrorKind::Status);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(error.code().as_deref(), Some("60002"));
}

/// The acceptance scenario: the caller knows a customer's name and nothing
/// else. It finds the customer, lists its users, finds the role by name and
/// adds a user to it, finds a SKU and assigns it, and reads it all back,
/// with the client alone.
#[tokio::test]
async fn from_a_customer_name_to_a_user_with_a_role_and_a_license() {
    const NORTHWIND: &str = "6b5c4d3e-2f1a-4b9c-8d7e-6f5a4b3c2d1e";
    const FABRIKAM: &str = "0f6c1e2a-5d5e-4b7a-9a51-2f7a6c1d9e01";
    let fake = FakePartnerCenter::builder()
        .customer(
            NORTHWIND,
            generate_users(40, 3, "northwindtraders.onmicrosoft.com"),
        )
        .company(
            NORTHWIND,
            "Northwind Traders",
            "northwindtraders.onmicrosoft.com",
        )
        .customer(
            DEFAULT_CUSTOMER,
            generate_users(250, 1, "contoso.onmicrosoft.com"),
        )
        .customer(FABRIKAM, generate_users(30, 2, "fabrikam.onmicrosoft.com"))
        .company(FABRIKAM, "Fabrikam, Inc.", "fabrikam.onmicrosoft.com")
        .bom(true)
        .start()
        .await
        .expect("fake");
    let client = Client::builder()
        .base_url(fake.base_url())
        .bearer_token("t")
        .build()
        .expect("client");

    // 1. The customer, by a prefix of its name in any case.
    let found: Vec<Customer> = client
        .get_customers()
        .filter(CustomerFilter {
            field: CustomerSearchField::CompanyName,
            value: "contoso".into(),
            operator: FieldFilterOperation::StartsWith,
        })
        .stream()
        .try_collect()
        .await
        .expect("customers");
    assert_eq!(found.len(), 1, "{found:?}");
    let profile = found[0].company_profile.clone().expect("a company profile");
    assert_eq!(profile.company_name.as_deref(), Some("Contoso Ltd."));
    let customer = found[0].id.clone().expect("a customer id");
    assert_eq!(customer, DEFAULT_CUSTOMER);

    // 2. Its users, every page.
    let users: Vec<CustomerUser> = client
        .get_customer_users(&customer)
        .stream()
        .try_collect()
        .await
        .expect("users");
    assert_eq!(users.len(), 250);
    let user = users
        .iter()
        .find(|u| u.state == Some(UserState::Active))
        .expect("an active user")
        .clone();
    let user_id = user.id.clone().expect("a user id");

    // 3. The role's id, by its name.
    let roles = client
        .get_customer_directory_roles(&customer)
        .send()
        .await
        .expect("roles");
    let role_id = roles
        .items
        .iter()
        .find(|r| r.name.as_deref() == Some("User Administrator"))
        .and_then(|r| r.id.clone())
        .expect("the User Administrator role");

    // 4. The user joins the role, and is among its members (with others,
    // over several pages).
    for other in users.iter().skip(1).take(4) {
        let member = UserMember {
            id: other.id.clone(),
            ..UserMember::default()
        };
        client
            .add_user_to_directory_role(&customer, &role_id, member)
            .send()
            .await
            .expect("added");
    }
    let member = UserMember {
        id: Some(user_id.clone()),
        display_name: user.display_name.clone(),
        user_principal_name: user.user_principal_name.clone(),
        ..UserMember::default()
    };
    let added = client
        .add_user_to_directory_role(&customer, &role_id, member)
        .send()
        .await
        .expect("added");
    assert_eq!(added.status(), 201);
    assert_eq!(added.role_id.as_deref(), Some(role_id.as_str()));
    let members: Vec<UserMember> = client
        .get_customer_directory_role_user_members(&customer, &role_id)
        .size(2)
        .stream()
        .try_collect()
        .await
        .expect("members");
    assert_eq!(members.len(), 5);
    let listed = members
        .iter()
        .find(|m| m.id.as_deref() == Some(user_id.as_str()))
        .expect("the user is a member of the role");
    assert_eq!(listed.user_principal_name, user.user_principal_name);
    assert_eq!(listed.role_id.as_deref(), Some(role_id.as_str()));

    // 5. A SKU's id, by its part number, and its counts.
    let sku_of = |skus: &pc_api::types::SubscribedSkuCollection| {
        skus.items
            .iter()
            .find(|s| {
                s.product_sku
                    .as_ref()
                    .and_then(|p| p.sku_part_number.as_deref())
                    == Some("ENTERPRISEPACK")
            })
            .cloned()
            .expect("Office 365 E3")
    };
    let before = sku_of(
        &client
            .get_customer_subscribed_skus(&customer)
            .send()
            .await
            .expect("skus"),
    );
    let sku_id = before
        .product_sku
        .as_ref()
        .and_then(|p| p.id.clone())
        .expect("a SKU id");
    let consumed = before.consumed_units.expect("consumedUnits");
    let available = before.available_units.expect("availableUnits");

    // 6. Assign it.
    let update = LicenseUpdate {
        licenses_to_assign: vec![LicenseAssignment {
            sku_id: Some(sku_id.clone()),
            excluded_plans: Vec::new(),
        }],
        ..LicenseUpdate::default()
    };
    let applied = client
        .update_customer_user_licenses(&customer, &user_id, update)
        .send()
        .await
        .expect("assigned");
    assert_eq!(applied.status(), 201);
    assert!(applied.license_warnings.is_empty());

    // 7. Read it back: the user has it, the pool has one fewer.
    let licenses = client
        .get_customer_user_licenses(&customer, &user_id)
        .send()
        .await
        .expect("licenses");
    assert!(licenses.items.iter().any(|l| {
        l.product_sku.as_ref().and_then(|p| p.id.as_deref()) == Some(sku_id.as_str())
    }));
    let after = sku_of(
        &client
            .get_customer_subscribed_skus(&customer)
            .send()
            .await
            .expect("skus"),
    );
    assert_eq!(after.consumed_units, Some(consumed + 1));
    assert_eq!(after.available_units, Some(available - 1));
    let roles = client
        .get_customer_user_directory_roles(&customer, &user_id)
        .send()
        .await
        .expect("the user's roles");
    assert!(
        roles
            .items
            .iter()
            .any(|r| r.id.as_deref() == Some(role_id.as_str()))
    );
}
