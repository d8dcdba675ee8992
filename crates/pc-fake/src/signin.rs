//! Microsoft Entra ID, as far as Partner Center's sign-in needs it: the v2
//! token endpoint of the partner's tenant (`POST /{tenant}/oauth2/v2.0/token`)
//! with the refresh-token grant (the secure application model, App+User
//! tokens, rotated refresh tokens) and the client-credentials grant (app-only
//! tokens), its replies and errors as Entra ID writes them (notes §12), and
//! the check of the access tokens it issued, which the API makes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;

use crate::RecordedRequest;
use crate::tenant::{Rng, mix};

/// The Partner Center resources (audiences) tokens are issued for: the
/// global (and US Government) API and 21Vianet's (notes §12).
const RESOURCES: &[&str] = &[
    "https://api.partnercenter.microsoft.com",
    "https://partner.partnercenterapi.microsoftonline.cn",
];

/// How many access tokens the fake remembers before it forgets expired ones.
const PRUNE_AT: usize = 10_000;

/// The sign-in configuration of a fake.
#[derive(Clone, Debug)]
pub(crate) struct SignInConfig {
    /// The names of the partner tenant (its id, its domains), lowercase.
    pub(crate) tenants: Vec<String>,
    /// Registered applications: (client id, client secret); the first is
    /// the partner's application.
    pub(crate) apps: Vec<(String, String)>,
    /// Refresh tokens valid at the start: (client id, token).
    pub(crate) refresh_tokens: Vec<(String, String)>,
    /// The lifetime of access tokens, whole seconds.
    pub(crate) lifetime: Duration,
    /// How many API requests an access token is good for, if limited.
    pub(crate) uses: Option<u64>,
    /// Whether App+User sign-ins had MFA.
    pub(crate) mfa: bool,
    /// Whether a rotated refresh token stays valid (Entra ID's behaviour).
    pub(crate) keep_rotated: bool,
}

/// A refresh token the fake knows.
struct Grant {
    client_id: String,
    revoked: bool,
}

/// An access token the fake issued.
struct Issued {
    app_only: bool,
    mfa: bool,
    expires: Instant,
    uses: u64,
}

/// What the API makes of a bearer token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    /// Issued, not expired: App-only or App+User, with or without MFA.
    Valid { app_only: bool, mfa: bool },
    /// Issued, but past its lifetime (in time or in requests).
    Expired,
    /// Not a token the fake issued.
    Unknown,
}

struct State {
    grants: HashMap<String, Grant>,
    issued: HashMap<String, Issued>,
    rng: Rng,
}

/// The fake's Entra ID.
pub(crate) struct Entra {
    config: SignInConfig,
    state: Mutex<State>,
}

/// The answer of the token endpoint: status, JSON body, trace id.
pub(crate) struct TokenReply {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
    pub(crate) trace_id: String,
    pub(crate) correlation_id: String,
    /// Whether an access token was issued.
    pub(crate) issued: bool,
}

/// The tenant of a token endpoint path, `/{tenant}/oauth2/v2.0/token`.
pub(crate) fn token_path(path: &str) -> Option<&str> {
    let mut parts = path.strip_prefix('/')?.split('/');
    let tenant = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match rest.as_slice() {
        [oauth, v2, token] | [oauth, v2, token, ""]
            if is(oauth, "oauth2")
                && is(v2, "v2.0")
                && is(token, "token")
                && !tenant.is_empty() =>
        {
            Some(tenant)
        }
        _ => None,
    }
}

impl Entra {
    pub(crate) fn new(config: SignInConfig) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        let grants = config
            .refresh_tokens
            .iter()
            .map(|(client_id, token)| {
                (
                    token.clone(),
                    Grant {
                        client_id: client_id.clone(),
                        revoked: false,
                    },
                )
            })
            .collect();
        Entra {
            config,
            state: Mutex::new(State {
                grants,
                issued: HashMap::new(),
                rng: Rng::new(mix(seed ^ 0xe47a)),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Revokes every refresh token ("revoke all sessions"): the next
    /// exchange of any of them gets `invalid_grant` AADSTS700082. Access
    /// tokens already issued stay valid until they expire, as Entra ID's do.
    pub(crate) fn revoke_refresh_tokens(&self) {
        for grant in self.lock().grants.values_mut() {
            grant.revoked = true;
        }
    }

    /// A new refresh token of the partner's application, as an interactive
    /// sign-in (with MFA unless configured otherwise) would give.
    pub(crate) fn new_refresh_token(&self) -> String {
        let client_id = self.config.apps[0].0.clone();
        let mut state = self.lock();
        let token = refresh_token(&mut state.rng);
        state.grants.insert(
            token.clone(),
            Grant {
                client_id,
                revoked: false,
            },
        );
        token
    }

    /// Makes every access token issued so far expired.
    pub(crate) fn expire_access_tokens(&self) {
        let now = Instant::now();
        for issued in self.lock().issued.values_mut() {
            issued.expires = now;
        }
    }

    /// Checks a bearer token of an API request, counting one use of it.
    pub(crate) fn check(&self, bearer: &str) -> TokenCheck {
        let mut state = self.lock();
        let Some(issued) = state.issued.get_mut(bearer) else {
            return TokenCheck::Unknown;
        };
        issued.uses += 1;
        let used_up = self.config.uses.is_some_and(|limit| issued.uses > limit);
        if used_up || Instant::now() >= issued.expires {
            return TokenCheck::Expired;
        }
        TokenCheck::Valid {
            app_only: issued.app_only,
            mfa: issued.mfa,
        }
    }

    /// Answers a token request to the tenant `tenant`.
    pub(crate) fn token(&self, tenant: &str, request: &RecordedRequest) -> TokenReply {
        let mut state = self.lock();
        let trace_id = state.rng.guid();
        // Entra ID takes the caller's `client-request-id` as correlation id.
        let correlation_id = request
            .header("client-request-id")
            .filter(|id| !id.is_empty() && id.len() <= 64 && id.is_ascii())
            .map(str::to_owned)
            .unwrap_or_else(|| state.rng.guid());
        let outcome = self.grant(&mut state, tenant, request);
        let (status, body, issued) = match outcome {
            Ok(body) => (StatusCode::OK, body, true),
            Err(failure) => (
                failure.status,
                failure.body(&trace_id, &correlation_id),
                false,
            ),
        };
        TokenReply {
            status,
            body,
            trace_id,
            correlation_id,
            issued,
        }
    }

    fn grant(
        &self,
        state: &mut State,
        tenant: &str,
        request: &RecordedRequest,
    ) -> Result<Vec<u8>, Failure> {
        if request.method != "POST" {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900561,
                format!(
                    "The endpoint only accepts POST, OPTIONS requests. Received a {} request.",
                    request.method
                ),
            ));
        }
        let tenant_name = tenant.to_ascii_lowercase();
        if !self.config.tenants.contains(&tenant_name) {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                90002,
                format!(
                    "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
                ),
            ));
        }
        let form: HashMap<String, String> = form_urlencoded::parse(request.body.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
        let missing = |name: &str| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                format!("The request body must contain the following parameter: '{name}'."),
            )
        };
        let grant_type = field("grant_type").ok_or_else(|| missing("grant_type"))?;
        if !matches!(grant_type, "refresh_token" | "client_credentials") {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{grant_type}'."),
            ));
        }
        let client_id = field("client_id").ok_or_else(|| missing("client_id"))?;
        let Some((_, secret)) = self
            .config
            .apps
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(client_id))
        else {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
                ),
            ));
        };
        let Some(sent_secret) = field("client_secret") else {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".to_owned(),
            ));
        };
        if sent_secret != secret {
            return Err(Failure::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            ));
        }
        let scope = field("scope").ok_or_else(|| missing("scope"))?;
        let lifetime = self.config.lifetime.as_secs().max(1);
        if grant_type == "client_credentials" {
            let resource = scope
                .strip_suffix("/.default")
                .filter(|r| RESOURCES.contains(r) && !scope.contains(' '))
                .ok_or_else(|| {
                    Failure::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_scope",
                        1002012,
                        format!(
                            "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                        ),
                    )
                })?;
            let access = self.issue(state, tenant, client_id, resource, true);
            return Ok(ordered(&[
                ("token_type", "Bearer".into()),
                ("expires_in", lifetime.into()),
                ("ext_expires_in", lifetime.into()),
                ("access_token", access.into()),
            ]));
        }
        let resource = user_resource(scope).ok_or_else(|| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                70011,
                format!(
                    "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
                ),
            )
        })?;
        let token = field("refresh_token").ok_or_else(|| missing("refresh_token"))?;
        match state.grants.get(token) {
            Some(grant) if !grant.revoked && !grant.client_id.eq_ignore_ascii_case(client_id) => {
                return Err(Failure::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    700007,
                    "The refresh token was issued to a different client id: the client id of the request does not match the one the token was issued to.".to_owned(),
                ));
            }
            Some(grant) if !grant.revoked => {}
            _ => {
                return Err(Failure::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    700082,
                    "The refresh token has expired due to inactivity. The token was issued on a date pc-fake does not keep and was inactive for 90.00:00:00.".to_owned(),
                ));
            }
        }
        // Rotation: a new refresh token; the old one stays valid unless
        // configured otherwise (notes §12: "the old one is not revoked").
        if !self.config.keep_rotated
            && let Some(old) = state.grants.get_mut(token)
        {
            old.revoked = true;
        }
        let rotated = refresh_token(&mut state.rng);
        state.grants.insert(
            rotated.clone(),
            Grant {
                client_id: client_id.to_owned(),
                revoked: false,
            },
        );
        let access = self.issue(state, tenant, client_id, resource, false);
        Ok(ordered(&[
            ("token_type", "Bearer".into()),
            ("scope", format!("{resource}/user_impersonation").into()),
            ("expires_in", lifetime.into()),
            ("ext_expires_in", lifetime.into()),
            ("access_token", access.into()),
            ("refresh_token", rotated.into()),
        ]))
    }

    /// Issues an access token: JWT-shaped, with plausible claims and a
    /// random signature (the fake knows its tokens; it verifies nothing).
    fn issue(
        &self,
        state: &mut State,
        tenant: &str,
        client_id: &str,
        resource: &str,
        app_only: bool,
    ) -> String {
        let lifetime = Duration::from_secs(self.config.lifetime.as_secs().max(1));
        let mfa = app_only || self.config.mfa;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut claims = serde_json::json!({
            "aud": resource,
            "iss": format!("https://sts.windows.net/{tenant}/"),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime.as_secs(),
            "appid": client_id,
            "tid": tenant,
            "oid": state.rng.guid(),
            "uti": crate::token::base64url(&state.rng.next_u64().to_le_bytes()),
            "ver": "1.0",
        });
        if app_only {
            claims["idtyp"] = "app".into();
            claims["roles"] = serde_json::json!([]);
        } else {
            claims["idtyp"] = "user".into();
            claims["scp"] = "user_impersonation".into();
            claims["upn"] = format!("admin-agent@{tenant}").into();
            claims["amr"] = if mfa {
                serde_json::json!(["pwd", "mfa"])
            } else {
                serde_json::json!(["pwd"])
            };
        }
        let header = br#"{"typ":"JWT","alg":"RS256","kid":"pc-fake"}"#;
        let mut signature = Vec::with_capacity(256);
        for _ in 0..32 {
            signature.extend_from_slice(&state.rng.next_u64().to_le_bytes());
        }
        let token = format!(
            "{}.{}.{}",
            crate::token::base64url(header),
            crate::token::base64url(claims.to_string().as_bytes()),
            crate::token::base64url(&signature)
        );
        let now = Instant::now();
        if state.issued.len() >= PRUNE_AT {
            state.issued.retain(|_, t| t.expires > now);
        }
        state.issued.insert(
            token.clone(),
            Issued {
                app_only,
                mfa,
                expires: now + lifetime,
                uses: 0,
            },
        );
        token
    }
}

/// The resource of an App+User scope list: `{resource}/user_impersonation`
/// or `{resource}/.default` of a Partner Center resource, with the OpenID
/// scopes optionally beside it.
fn user_resource(scope: &str) -> Option<&str> {
    let mut resource = None;
    for item in scope.split_whitespace() {
        if matches!(item, "offline_access" | "openid" | "profile" | "email") {
            continue;
        }
        let found = item
            .strip_suffix("/user_impersonation")
            .or_else(|| item.strip_suffix("/.default"))
            .filter(|r| RESOURCES.contains(r))?;
        if resource.is_some_and(|r| r != found) {
            return None;
        }
        resource = Some(found);
    }
    resource
}

/// A refresh token: opaque, `0.A` and URL-safe base64, like Entra ID's.
fn refresh_token(rng: &mut Rng) -> String {
    let mut bytes = Vec::with_capacity(96);
    for _ in 0..12 {
        bytes.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    format!("0.A{}", crate::token::base64url(&bytes))
}

/// A JSON object with its keys in the order given, as Entra ID orders them.
fn ordered(fields: &[(&str, serde_json::Value)]) -> Vec<u8> {
    let mut out = b"{".to_vec();
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(serde_json::Value::from(*key).to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(value.to_string().as_bytes());
    }
    out.push(b'}');
    out
}

/// A refused token request.
struct Failure {
    status: StatusCode,
    error: &'static str,
    code: u64,
    message: String,
}

impl Failure {
    fn new(status: StatusCode, error: &'static str, code: u64, message: String) -> Self {
        Failure {
            status,
            error,
            code,
            message,
        }
    }

    /// The error as Entra ID writes it (notes §12).
    fn body(&self, trace_id: &str, correlation_id: &str) -> Vec<u8> {
        let timestamp = crate::server::now().replace('T', " ");
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            self.code, self.message
        );
        ordered(&[
            ("error", self.error.into()),
            ("error_description", description.into()),
            ("error_codes", serde_json::json!([self.code])),
            ("timestamp", timestamp.into()),
            ("trace_id", trace_id.into()),
            ("correlation_id", correlation_id.into()),
            (
                "error_uri",
                format!("https://login.microsoftonline.com/error?code={}", self.code).into(),
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SignInConfig {
        SignInConfig {
            tenants: vec!["contoso-partner.onmicrosoft.com".to_owned()],
            apps: vec![
                ("app-1".to_owned(), "secret-1".to_owned()),
                ("app-2".to_owned(), "secret-2".to_owned()),
            ],
            refresh_tokens: vec![("app-1".to_owned(), "rt-1".to_owned())],
            lifetime: Duration::from_secs(60),
            uses: Some(2),
            mfa: true,
            keep_rotated: true,
        }
    }

    fn post(form: &[(&str, &str)]) -> RecordedRequest {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form {
            body.append_pair(k, v);
        }
        RecordedRequest {
            method: "POST".to_owned(),
            path: "/contoso-partner.onmicrosoft.com/oauth2/v2.0/token".to_owned(),
            query: None,
            headers: vec![("client-request-id".to_owned(), "corr-1".to_owned())],
            body: body.finish(),
        }
    }

    fn json(reply: &TokenReply) -> serde_json::Value {
        serde_json::from_slice(&reply.body).expect("json")
    }

    const SCOPE: &str = "https://api.partnercenter.microsoft.com/user_impersonation";

    #[test]
    fn paths() {
        assert_eq!(
            token_path("/contoso.onmicrosoft.com/oauth2/v2.0/token"),
            Some("contoso.onmicrosoft.com")
        );
        assert_eq!(token_path("/t/OAuth2/V2.0/Token/"), Some("t"));
        assert_eq!(token_path("/t/oauth2/token"), None);
        assert_eq!(token_path("/v1/customers"), None);
        assert_eq!(token_path("//oauth2/v2.0/token"), None);
    }

    #[test]
    fn exchange_rotates_and_tokens_expire_after_their_uses() {
        let entra = Entra::new(config());
        let tenant = "Contoso-Partner.onmicrosoft.com";
        let reply = entra.token(
            tenant,
            &post(&[
                ("grant_type", "refresh_token"),
                ("client_id", "app-1"),
                ("client_secret", "secret-1"),
                ("scope", SCOPE),
                ("refresh_token", "rt-1"),
            ]),
        );
        assert_eq!(reply.status, StatusCode::OK);
        let body = json(&reply);
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], SCOPE);
        assert_eq!(body["expires_in"], 60);
        assert_eq!(body["ext_expires_in"], 60);
        let rotated = body["refresh_token"].as_str().expect("rotated");
        assert!(rotated.starts_with("0.A"), "{rotated}");
        let access = body["access_token"].as_str().expect("access");
        assert_eq!(access.split('.').count(), 3);
        assert_eq!(
            entra.check(access),
            TokenCheck::Valid {
                app_only: false,
                mfa: true
            }
        );
        assert!(matches!(entra.check(access), TokenCheck::Valid { .. }));
        assert_eq!(entra.check(access), TokenCheck::Expired);
        assert_eq!(entra.check("made-up"), TokenCheck::Unknown);
        // The old refresh token still works (kept), and so does the new one.
        for token in ["rt-1", rotated] {
            let reply = entra.token(
                tenant,
                &post(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", "app-1"),
                    ("client_secret", "secret-1"),
                    (
                        "scope",
                        "https://api.partnercenter.microsoft.com/.default offline_access",
                    ),
                    ("refresh_token", token),
                ]),
            );
            assert_eq!(reply.status, StatusCode::OK);
        }
        entra.revoke_refresh_tokens();
        let reply = entra.token(
            tenant,
            &post(&[
                ("grant_type", "refresh_token"),
                ("client_id", "app-1"),
                ("client_secret", "secret-1"),
                ("scope", SCOPE),
                ("refresh_token", "rt-1"),
            ]),
        );
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        let body = json(&reply);
        assert_eq!(body["error"], "invalid_grant");
        assert_eq!(body["error_codes"], serde_json::json!([700082]));
        assert_eq!(body["correlation_id"], "corr-1");
        let description = body["error_description"].as_str().expect("description");
        assert!(description.starts_with("AADSTS700082: "), "{description}");
        assert!(
            description.contains(&format!(
                "\r\nTrace ID: {}\r\nCorrelation ID: corr-1\r\nTimestamp: ",
                reply.trace_id
            )),
            "{description}"
        );
    }

    #[test]
    fn each_error() {
        let entra = Entra::new(config());
        let tenant = "contoso-partner.onmicrosoft.com";
        // The refresh grant with some fields replaced ("" drops one).
        let send = |tenant: &str, changes: &[(&'static str, &'static str)]| {
            let mut form: Vec<(&str, &str)> = vec![
                ("grant_type", "refresh_token"),
                ("client_id", "app-1"),
                ("client_secret", "secret-1"),
                ("scope", SCOPE),
                ("refresh_token", "rt-1"),
            ];
            for (key, value) in changes {
                form.retain(|(k, _)| k != key);
                if !value.is_empty() {
                    form.push((key, value));
                }
            }
            let reply = entra.token(tenant, &post(&form));
            let body = json(&reply);
            (
                reply.status.as_u16(),
                body["error"].as_str().map(str::to_owned),
                body["error_codes"][0].as_u64(),
            )
        };
        let cases: [(_, u16, &str, u64); 8] = [
            (
                send("fabrikam.onmicrosoft.com", &[]),
                400,
                "invalid_request",
                90002,
            ),
            (
                send(tenant, &[("client_secret", "wrong")]),
                401,
                "invalid_client",
                7000215,
            ),
            (
                send(tenant, &[("client_id", "app-9")]),
                400,
                "unauthorized_client",
                700016,
            ),
            (
                send(
                    tenant,
                    &[("client_id", "app-2"), ("client_secret", "secret-2")],
                ),
                400,
                "invalid_grant",
                700007,
            ),
            (
                send(tenant, &[("refresh_token", "unknown")]),
                400,
                "invalid_grant",
                700082,
            ),
            (
                send(tenant, &[("grant_type", "password")]),
                400,
                "unsupported_grant_type",
                70003,
            ),
            (
                send(tenant, &[("scope", "https://graph.microsoft.com/.default")]),
                400,
                "invalid_scope",
                70011,
            ),
            (
                send(tenant, &[("refresh_token", "")]),
                400,
                "invalid_request",
                900144,
            ),
        ];
        for ((status, error, code), want_status, want_error, want_code) in cases {
            assert_eq!(
                (status, error.as_deref(), code),
                (want_status, Some(want_error), Some(want_code))
            );
        }
        let app = entra.token(
            tenant,
            &post(&[
                ("grant_type", "client_credentials"),
                ("client_id", "app-2"),
                ("client_secret", "secret-2"),
                ("scope", "https://api.partnercenter.microsoft.com/.default"),
            ]),
        );
        let body = json(&app);
        assert!(body.get("refresh_token").is_none());
        assert_eq!(
            entra.check(body["access_token"].as_str().expect("token")),
            TokenCheck::Valid {
                app_only: true,
                mfa: true
            }
        );
        let wrong_scope = entra.token(
            tenant,
            &post(&[
                ("grant_type", "client_credentials"),
                ("client_id", "app-2"),
                ("client_secret", "secret-2"),
                ("scope", SCOPE),
            ]),
        );
        assert_eq!(json(&wrong_scope)["error_codes"][0], 1002012);
    }
}
