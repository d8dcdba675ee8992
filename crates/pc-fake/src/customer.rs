//! The partner's customers as the fake lists them: company profile, access
//! (a relationship, none, a deleted tenant) and the `StartsWith` filter of
//! `GET /v1/customers`.

use crate::tenant::{FakeUser, Rng};
use crate::token;

/// Whether the partner may act in a customer's tenant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CustomerAccess {
    /// A reseller relationship with delegated access: everything works.
    #[default]
    Granted,
    /// The customer removed the partner: 403 with fault code 20002.
    NoRelationship,
    /// The tenant was deleted: 404 with fault code 60003.
    Deleted,
}

/// A customer of the partner, as `GET /v1/customers` describes it.
#[derive(Clone, Debug)]
pub(crate) struct Customer {
    pub(crate) id: String,
    pub(crate) commerce_id: String,
    pub(crate) company_name: String,
    pub(crate) domain: String,
    pub(crate) access: CustomerAccess,
}

impl Customer {
    /// A customer with an explicit company name and domain, or with ones
    /// derived from its users (see [`derived_domain`]).
    pub(crate) fn new(
        id: String,
        users: &[FakeUser],
        company: Option<(String, String)>,
        access: CustomerAccess,
    ) -> Self {
        let (company_name, domain) = company.unwrap_or_else(|| {
            let domain = derived_domain(&id, users);
            (company_name_of(&domain), domain)
        });
        let mut rng = Rng::new(u64::from(token::customer_hash(&id)) ^ 0xc0_33e7_ce1d);
        Customer {
            commerce_id: rng.guid(),
            id,
            company_name,
            domain,
            access,
        }
    }

    /// The `Customer` JSON (notes §14; learn get-a-list-of-customers).
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "commerceId": self.commerce_id,
            "companyProfile": {
                "tenantId": self.id,
                "domain": self.domain,
                "companyName": self.company_name,
                "attributes": { "objectType": "CustomerCompanyProfile" }
            },
            "relationshipToPartner": "reseller",
            // A customer that removed the partner is still listed (so that a
            // partner-wide run meets its 403), without delegated access: a guess.
            "allowDelegatedAccess": self.access != CustomerAccess::NoRelationship,
            "customDomains": [],
            "links": { "self": { "uri": format!("/customers/{}", self.id), "method": "GET", "headers": [] } },
            "attributes": { "objectType": "Customer" }
        })
    }

    /// Whether the customer passes a filter in the fake's own form (see
    /// [`parse_filter`]).
    pub(crate) fn matches(&self, filter: &str) -> bool {
        let Some((field, prefix)) = filter.split_once(':') else {
            return true;
        };
        let prefix = prefix.to_lowercase();
        match field {
            "c" => self.company_name.to_lowercase().starts_with(&prefix),
            "d" => self.domain.to_lowercase().starts_with(&prefix),
            // The fake's customers have no indirect reseller or provider.
            _ => false,
        }
    }
}

/// The domain of a customer given without one: the most common domain of
/// its users' principal names, or `customer<first 8 characters of the
/// id>.onmicrosoft.com` for a customer without users.
pub(crate) fn derived_domain(id: &str, users: &[FakeUser]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for user in users {
        let Some((_, domain)) = user.user_principal_name.rsplit_once('@') else {
            continue;
        };
        match counts
            .iter_mut()
            .find(|(d, _)| d.eq_ignore_ascii_case(domain))
        {
            Some((_, count)) => *count += 1,
            None => counts.push((domain, 1)),
        }
    }
    // The first of the most common, so the same users give the same domain.
    let mut best: Option<(&str, usize)> = None;
    for (domain, count) in counts {
        if best.is_none_or(|(_, most)| count > most) {
            best = Some((domain, count));
        }
    }
    match best {
        Some((domain, _)) => domain.to_ascii_lowercase(),
        None => {
            let label: String = id
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(8)
                .collect();
            format!("customer{}.onmicrosoft.com", label.to_ascii_lowercase())
        }
    }
}

/// The company name derived from a domain: its first label, capitalised,
/// and ` Ltd.` (`contoso.onmicrosoft.com` → `Contoso Ltd.`).
pub(crate) fn company_name_of(domain: &str) -> String {
    let label = domain.split('.').next().unwrap_or(domain);
    let mut chars = label.chars();
    match chars.next() {
        Some(first) => format!("{}{} Ltd.", first.to_uppercase(), chars.as_str()),
        None => "Unnamed Ltd.".to_owned(),
    }
}

/// The value of `key` in a JSON object, the key matched case-insensitively
/// (the service binds `Field` and `field` alike).
pub(crate) fn get_ci<'a>(
    object: &'a serde_json::Value,
    key: &str,
) -> Option<&'a serde_json::Value> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// The customers' `filter`, URL-decoded JSON text such as
/// `{"Field":"CompanyName","Value":"Contoso","Operator":"starts_with"}`, in
/// the fake's own form: `c:<prefix>` (company name), `d:<prefix>` (domain),
/// `r:<prefix>` (indirect reseller), `p:<prefix>` (indirect provider).
pub(crate) fn parse_filter(text: &str) -> Result<String, &'static str> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| "The filter is not valid JSON.")?;
    if !value.is_object() {
        return Err("The filter must be a JSON object with Field, Value and Operator.");
    }
    let text_of = |key: &str| get_ci(&value, key).and_then(serde_json::Value::as_str);
    let field = match text_of("Field").map(str::to_ascii_lowercase).as_deref() {
        Some("companyname") => 'c',
        Some("domain") => 'd',
        Some("indirectreseller") => 'r',
        Some("indirectcloudsolutionprovider") => 'p',
        _ => {
            return Err(
                "The filter's Field must be CompanyName, Domain, IndirectReseller or IndirectCloudSolutionProvider.",
            );
        }
    };
    let operator = text_of("Operator")
        .map(|o| o.replace('_', "").to_ascii_lowercase())
        .unwrap_or_default();
    if operator != "startswith" {
        return Err("The only operator of a customer filter is starts_with.");
    }
    let Some(prefix) = text_of("Value") else {
        return Err("The filter's Value must be a string.");
    };
    Ok(format!("{field}:{prefix}"))
}

/// The JSON text of a filter in the fake's own form, for the links.
pub(crate) fn filter_text(filter: &str) -> Option<String> {
    let (field, prefix) = filter.split_once(':')?;
    let field = match field {
        "c" => "CompanyName",
        "d" => "Domain",
        "r" => "IndirectReseller",
        _ => "IndirectCloudSolutionProvider",
    };
    let value = serde_json::to_string(prefix).unwrap_or_else(|_| "\"\"".to_owned());
    Some(format!(
        r#"{{"Field":"{field}","Value":{value},"Operator":"starts_with"}}"#
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::generate_users;

    #[test]
    fn derived_from_the_users() {
        let users = generate_users(20, 1, "contoso.onmicrosoft.com");
        assert_eq!(derived_domain("x", &users), "contoso.onmicrosoft.com");
        assert_eq!(company_name_of("contoso.onmicrosoft.com"), "Contoso Ltd.");
        assert_eq!(
            derived_domain("4d3cf487-70f4", &[]),
            "customer4d3cf487.onmicrosoft.com"
        );
    }

    #[test]
    fn filters() {
        let customer = Customer::new(
            "id".to_owned(),
            &[],
            Some((
                "Contoso Ltd.".to_owned(),
                "contoso.onmicrosoft.com".to_owned(),
            )),
            CustomerAccess::Granted,
        );
        let parse = |text: &str| parse_filter(text);
        let company = parse(r#"{"Field":"CompanyName","Value":"cONTO","Operator":"starts_with"}"#)
            .expect("valid");
        assert!(customer.matches(&company));
        let domain = parse(r#"{"field":"Domain","value":"contoso.on","operator":"StartsWith"}"#)
            .expect("valid");
        assert!(customer.matches(&domain));
        let other = parse(r#"{"Field":"CompanyName","Value":"Fabrikam","Operator":"starts_with"}"#)
            .expect("valid");
        assert!(!customer.matches(&other));
        let reseller = parse(r#"{"Field":"IndirectReseller","Value":"","Operator":"starts_with"}"#)
            .expect("valid");
        assert!(!customer.matches(&reseller));
        for bad in [
            r#"{"Field":"CompanyName","Value":"C","Operator":"equals"}"#,
            r#"{"Field":"Name","Value":"C","Operator":"starts_with"}"#,
            r#"{"Field":"CompanyName","Value":7,"Operator":"starts_with"}"#,
            r#"["CompanyName"]"#,
            "{not json",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            filter_text(&company).and_then(|t| parse_filter(&t).ok()),
            Some(company)
        );
    }
}
