//! The Windows Virtual Desktop (classic) broker: `/RdsManagement/V1/TenantGroups/{tg}/...`
//! routes, its bare-array session list, and what its error answers mean (docs/service-facts.md §1).

use super::{Operation, SessionAction};
use crate::error::{ApiError, BrokerObject, Error, ErrorCode, shown};
use crate::model::{SessionTarget, UserSession};
use crate::route::{DeploymentUrl, Name, PathPart};
use crate::transport::{Answer, BodyLimit, MAX_ACTION_BODY_BYTES, MAX_LIST_BODY_BYTES, Request};
use crate::wire::parse_error_body;
use reqwest::Method;

/// Body sent with action POSTs. The broker ignores it, but observed clients always send a
/// JSON body with `Content-Type: application/json`; whether an empty body is accepted is
/// UNCONFIRMED (docs/service-facts.md §1.4), so send the safe `{}`.
const ACTION_BODY: &str = "{}";

/// A classic deployment and the tenant group of the context.
#[derive(Clone, Debug)]
pub(crate) struct Classic {
    pub base: DeploymentUrl,
    pub tenant_group: Name,
}

impl Classic {
    /// The route prefix `TenantGroups/{tg}/Tenants/{t}/HostPools/{hp}`.
    fn host_pool_parts<'a>(&'a self, tenant: &'a Name, host_pool: &'a Name) -> Vec<PathPart<'a>> {
        vec![
            PathPart::Literal("TenantGroups"),
            PathPart::Name(&self.tenant_group),
            PathPart::Literal("Tenants"),
            PathPart::Name(tenant),
            PathPart::Literal("HostPools"),
            PathPart::Name(host_pool),
        ]
    }

    /// `POST .../SessionHosts/{sh}/Sessions/{id}/actions/{logoff-user|disconnect-user|send-message-user}`.
    pub fn action_request(
        &self,
        target: &SessionTarget,
        action: &SessionAction,
    ) -> Result<Request, Error> {
        let names = TargetNames::validate(target)?;
        let session_id = Name::new("SessionId", &target.session_id.to_string())?;
        let mut parts = self.host_pool_parts(&names.tenant, &names.host_pool);
        parts.extend([
            PathPart::Literal("SessionHosts"),
            PathPart::Name(&names.session_host),
            PathPart::Literal("Sessions"),
            PathPart::Name(&session_id),
            PathPart::Literal("actions"),
            PathPart::Literal(match action {
                SessionAction::Logoff { .. } => "logoff-user",
                SessionAction::Disconnect => "disconnect-user",
                SessionAction::SendMessage { .. } => "send-message-user",
            }),
        ]);
        let mut url = self.base.join(&parts);
        match action {
            // Lowercase `true`: the literal the broker expects is UNCONFIRMED (docs/service-facts.md §1.3);
            // lowercase matches .NET Uri formatting used by the client the route was taken from.
            SessionAction::Logoff { force: true } => {
                url.query_pairs_mut().append_pair("force", "true");
            }
            // Title and body travel URL-encoded in the query (docs/service-facts.md §1.3).
            SessionAction::SendMessage { title, body } => {
                url.query_pairs_mut()
                    .append_pair("MessageTitle", title)
                    .append_pair("MessageBody", body);
            }
            _ => {}
        }
        Ok(Request {
            method: Method::POST,
            url,
            json_body: Some(ACTION_BODY.to_owned()),
            limit: BodyLimit::Truncate(MAX_ACTION_BODY_BYTES),
        })
    }

    /// `GET .../HostPools/{hp}/Sessions`: the whole host pool in one bare JSON array.
    pub fn list_sessions_request(&self, tenant: &str, host_pool: &str) -> Result<Request, Error> {
        let tenant = Name::new("TenantName", tenant)?;
        let host_pool = Name::new("HostPoolName", host_pool)?;
        let mut parts = self.host_pool_parts(&tenant, &host_pool);
        parts.push(PathPart::Literal("Sessions"));
        Ok(Request {
            method: Method::GET,
            url: self.base.join(&parts),
            json_body: None,
            limit: BodyLimit::Fail(MAX_LIST_BODY_BYTES),
        })
    }

    /// `GET .../TenantGroups/{tg}/Tenants[/{t}]`.
    pub fn tenants_request(&self, name: Option<&str>) -> Result<Request, Error> {
        let tenant = name.map(|n| Name::new("Name", n)).transpose()?;
        let mut parts = vec![
            PathPart::Literal("TenantGroups"),
            PathPart::Name(&self.tenant_group),
            PathPart::Literal("Tenants"),
        ];
        if let Some(tenant) = &tenant {
            parts.push(PathPart::Name(tenant));
        }
        Ok(get(self.base.join(&parts)))
    }

    /// `GET .../Tenants/{t}/HostPools[/{hp}]`.
    pub fn host_pools_request(&self, tenant: &str, name: Option<&str>) -> Result<Request, Error> {
        let tenant = Name::new("TenantName", tenant)?;
        let pool = name.map(|n| Name::new("Name", n)).transpose()?;
        let mut parts = vec![
            PathPart::Literal("TenantGroups"),
            PathPart::Name(&self.tenant_group),
            PathPart::Literal("Tenants"),
            PathPart::Name(&tenant),
            PathPart::Literal("HostPools"),
        ];
        if let Some(pool) = &pool {
            parts.push(PathPart::Name(pool));
        }
        Ok(get(self.base.join(&parts)))
    }

    /// `GET .../HostPools/{hp}/SessionHosts[/{sh}]`, or with `allow_new_session` the drain
    /// switch `PATCH .../SessionHosts/{sh}` `{"allowNewSession": bool}` (the route and body
    /// of the classic update are UNCONFIRMED beyond the management sample; see
    /// docs/service-facts.md §1.9).
    pub fn session_hosts_request(
        &self,
        tenant: &str,
        host_pool: &str,
        name: Option<&str>,
        allow_new_session: Option<bool>,
    ) -> Result<Request, Error> {
        let tenant = Name::new("TenantName", tenant)?;
        let host_pool = Name::new("HostPoolName", host_pool)?;
        let host = name.map(|n| Name::new("Name", n)).transpose()?;
        let mut parts = self.host_pool_parts(&tenant, &host_pool);
        parts.push(PathPart::Literal("SessionHosts"));
        if let Some(host) = &host {
            parts.push(PathPart::Name(host));
        }
        let url = self.base.join(&parts);
        Ok(match allow_new_session {
            None => get(url),
            Some(allow) => Request {
                method: Method::PATCH,
                url,
                json_body: Some(serde_json::json!({ "allowNewSession": allow }).to_string()),
                limit: BodyLimit::Fail(MAX_ACTION_BODY_BYTES),
            },
        })
    }

    /// A bare JSON array of `T`, or one `T` (a request for one object by name).
    pub fn parse_objects<T: serde::de::DeserializeOwned>(
        &self,
        answer: &Answer,
        what: &str,
    ) -> Result<Vec<T>, Error> {
        let value: serde_json::Value = serde_json::from_slice(&answer.body)
            .map_err(|e| protocol(answer, what, &e.to_string()))?;
        let items = match value {
            serde_json::Value::Array(items) => items,
            one @ serde_json::Value::Object(_) => vec![one],
            _ => return Err(protocol(answer, what, "neither an object nor an array")),
        };
        items
            .into_iter()
            .map(|item| {
                serde_json::from_value(item).map_err(|e| protocol(answer, what, &e.to_string()))
            })
            .collect()
    }

    pub fn parse_sessions(&self, answer: &Answer) -> Result<Vec<UserSession>, Error> {
        serde_json::from_slice::<Vec<UserSession>>(&answer.body).map_err(|e| {
            Error::new(
                ErrorCode::BrokerProtocolError,
                format!(
                    "the broker's answer is not a JSON array of sessions ({e}). Correlation id: {}.",
                    answer.correlation_id
                ),
            )
            .with_source(e)
        })
    }

    /// What a non-2xx answer means, as an error with its final ErrorId.
    pub fn classify(&self, answer: &Answer, operation: &Operation<'_>) -> Error {
        let parsed = parse_error_body(&answer.body);
        let status = answer.status.as_u16();
        let object = match status {
            404 => not_found_object(parsed.code.as_deref(), parsed.message.as_deref()),
            _ => BrokerObject::Unknown,
        };
        let code = super::status_code(status, object);
        let api = ApiError {
            status,
            code: parsed.code,
            message: parsed.message,
            target: parsed.target,
            retry_after_secs: answer.retry_after().map(|d| d.as_secs()),
            correlation_id: Some(answer.correlation_id.clone()),
        };
        let explanation = match (&api.message, code) {
            (_, ErrorCode::BrokerRedirectRefused) => super::redirect_text(answer),
            (Some(m), _) => m.clone(),
            (None, code) if code.kind() == crate::ErrorKind::NotFound => {
                not_found_text(object, operation.target)
            }
            (None, ErrorCode::BrokerUnauthorized) => {
                "the broker rejected the access token (missing, expired, or issued for another audience); run Add-RdsAccount again".to_owned()
            }
            (None, ErrorCode::BrokerForbidden) => {
                "the signed-in identity has no RDS role that allows this (see New-RdsRoleAssignment)".to_owned()
            }
            (None, ErrorCode::BrokerThrottled) => {
                "the broker is throttling requests; try again later".to_owned()
            }
            (None, ErrorCode::BrokerServerError) => {
                "the broker failed to process the request".to_owned()
            }
            (None, ErrorCode::BrokerConflict) => {
                "the request conflicts with the current state of the session".to_owned()
            }
            (None, _) => "the broker rejected the request".to_owned(),
        };
        super::http_error(code, explanation, api)
    }
}

fn get(url: url::Url) -> Request {
    Request {
        method: Method::GET,
        url,
        json_body: None,
        limit: BodyLimit::Fail(MAX_LIST_BODY_BYTES),
    }
}

fn protocol(answer: &Answer, what: &str, why: &str) -> Error {
    Error::new(
        ErrorCode::BrokerProtocolError,
        format!(
            "the broker's answer is not {what} ({}). Correlation id: {}.",
            crate::error::service_text(why),
            answer.correlation_id
        ),
    )
}

/// Classifies a broker error code such as `TenantNotFound` (docs/service-facts.md §1.6), falling back to
/// the message text the broker uses for vanished sessions ("User session ID not found").
fn not_found_object(code: Option<&str>, message: Option<&str>) -> BrokerObject {
    let code = code.unwrap_or_default().to_ascii_lowercase();
    match code.as_str() {
        "tenantgroupnotfound" => return BrokerObject::TenantGroup,
        "tenantnotfound" => return BrokerObject::Tenant,
        "hostpoolnotfound" => return BrokerObject::HostPool,
        "sessionhostnotfound" => return BrokerObject::SessionHost,
        "sessionnotfound" | "usersessionnotfound" => return BrokerObject::Session,
        _ => {}
    }
    let message = message.unwrap_or_default().to_ascii_lowercase();
    if message.contains("session id not found") || message.contains("session not found") {
        BrokerObject::Session
    } else {
        BrokerObject::Unknown
    }
}

fn not_found_text(object: BrokerObject, target: Option<&SessionTarget>) -> String {
    match (object, target) {
        (BrokerObject::Tenant, Some(t)) => format!("tenant {} does not exist", shown(&t.tenant)),
        (BrokerObject::HostPool, Some(t)) => {
            format!("host pool {} does not exist", shown(&t.host_pool))
        }
        (BrokerObject::SessionHost, Some(t)) => {
            format!("session host {} does not exist", shown(&t.session_host))
        }
        (BrokerObject::Session, Some(t)) => format!(
            "session {} does not exist (already logged off?)",
            t.session_id
        ),
        (object, _) => format!("the {} does not exist", object.as_str()),
    }
}

/// Validated names of a [`SessionTarget`].
pub(crate) struct TargetNames {
    pub tenant: Name,
    pub host_pool: Name,
    pub session_host: Name,
}

impl TargetNames {
    pub fn validate(target: &SessionTarget) -> Result<TargetNames, Error> {
        if target.session_id < 0 {
            return Err(Error::invalid_input(
                "SessionId",
                format!(
                    "{} is negative; session ids are 0 or greater",
                    target.session_id
                ),
            ));
        }
        Ok(TargetNames {
            tenant: Name::new("TenantName", &target.tenant)?,
            host_pool: Name::new("HostPoolName", &target.host_pool)?,
            session_host: Name::new("SessionHostName", &target.session_host)?,
        })
    }
}
