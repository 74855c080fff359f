//! The broker's semantics, free of HTTP: finding objects by name and applying operations.
//!
//! Lookups run top-down and stop at the first missing level, so a client always learns the
//! outermost thing that is wrong (tenant group, then tenant, then host pool, ...), exactly in
//! the order documented for the real broker.

use crate::activity::Action;
use crate::errors::BrokerError;
use crate::model::{HostPool, Seed, SentMessage, Session, SessionHost, SessionView};

/// The names addressing one host pool, as decoded from the path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PoolAddress<'a> {
    pub tenant_group: &'a str,
    pub tenant: &'a str,
    pub host_pool: &'a str,
}

/// Finds a host pool, checking the tenant's `forbidden` flag on the way.
pub(crate) fn find_pool<'s>(
    seed: &'s mut Seed,
    address: PoolAddress<'_>,
) -> Result<&'s mut HostPool, BrokerError> {
    let group = seed
        .tenant_groups
        .iter_mut()
        .find(|g| g.name == address.tenant_group)
        .ok_or_else(|| BrokerError::tenant_group_not_found(address.tenant_group))?;
    let tenant = group
        .tenants
        .iter_mut()
        .find(|t| t.name == address.tenant)
        .ok_or_else(|| BrokerError::tenant_not_found(address.tenant, address.tenant_group))?;
    // Authorization is per tenant in classic WVD: a forbidden tenant hides its host pools.
    if tenant.forbidden {
        return Err(BrokerError::Forbidden {
            tenant: tenant.name.clone(),
        });
    }
    tenant
        .host_pools
        .iter_mut()
        .find(|p| p.name == address.host_pool)
        .ok_or_else(|| BrokerError::host_pool_not_found(address.host_pool, address.tenant))
}

/// The sessions of a host pool in wire form, ordered by session host, then by session.
pub(crate) fn list_sessions<'s>(
    seed: &'s mut Seed,
    address: PoolAddress<'s>,
) -> Result<Vec<SessionView<'s>>, BrokerError> {
    let pool: &'s HostPool = find_pool(seed, address)?;
    Ok(pool
        .session_hosts
        .iter()
        .flat_map(|host| {
            host.sessions.iter().map(move |session| SessionView {
                tenant_group_name: address.tenant_group,
                tenant_name: address.tenant,
                host_pool_name: &pool.name,
                session_host_name: &host.name,
                session_id: session.session_id,
                user_principal_name: &session.user_principal_name,
                ad_user_name: &session.ad_user_name,
                application_type: &session.application_type,
                session_state: &session.session_state,
                create_time: &session.create_time,
            })
        })
        .collect())
}

/// Finds a session host in a host pool.
fn find_host<'s>(
    seed: &'s mut Seed,
    pool: PoolAddress<'_>,
    session_host: &str,
) -> Result<&'s mut SessionHost, BrokerError> {
    find_pool(seed, pool)?
        .session_hosts
        .iter_mut()
        .find(|h| h.name == session_host)
        .ok_or_else(|| BrokerError::session_host_not_found(session_host, pool.host_pool))
}

/// The position of a session on its host (404 `SessionNotFound` when it is not there).
fn find_session(host: &SessionHost, session_id: i32, text: &str) -> Result<usize, BrokerError> {
    host.sessions
        .iter()
        .position(|s| s.session_id == session_id)
        .ok_or_else(|| BrokerError::session_not_found(text))
}

/// What a logoff request asks for, after the path and query were parsed.
#[derive(Clone, Debug)]
pub(crate) struct LogoffRequest<'a> {
    pub pool: PoolAddress<'a>,
    pub session_host: &'a str,
    /// The id segment as sent, used for error messages and the 404 target.
    pub session_id_text: &'a str,
    /// The parsed id, or the 400 error for an id that is not an `i32`.
    pub session_id: Result<i32, BrokerError>,
    /// The parsed `force` flag, or the 400 error for an invalid value.
    pub force: Result<bool, BrokerError>,
}

/// Logs a user off: removes the session from its host.
///
/// The checks run in the documented order: host pool path, session host, session id format,
/// `force` format, session existence, then reachability of the host.
pub(crate) fn logoff_user(seed: &mut Seed, request: LogoffRequest<'_>) -> Result<(), BrokerError> {
    let (host, index) = logoff_target(seed, &request)?;
    host.sessions.remove(index);
    Ok(())
}

/// Runs every check of [`logoff_user`] without logging anybody off.
pub(crate) fn check_logoff(
    seed: &mut Seed,
    request: &LogoffRequest<'_>,
) -> Result<(), BrokerError> {
    logoff_target(seed, request).map(|_| ())
}

/// The host and position of the session a logoff would remove, after all of its checks.
fn logoff_target<'s>(
    seed: &'s mut Seed,
    request: &LogoffRequest<'_>,
) -> Result<(&'s mut SessionHost, usize), BrokerError> {
    let host = find_host(seed, request.pool, request.session_host)?;
    let session_id = request.session_id.clone()?;
    let force = request.force.clone()?;
    let index = find_session(host, session_id, request.session_id_text)?;
    // An unreachable host cannot be asked to end the session; only a forced logoff may drop
    // the broker's record of it (the "stale session" clean-up admins use -Force for).
    if !host.reachable && !force {
        return Err(BrokerError::SessionHostUnreachable {
            session_host: host.name.clone(),
            action: Action::Logoff,
        });
    }
    Ok((host, index))
}

/// What a disconnect or send-message request names, after the path was parsed.
#[derive(Clone, Debug)]
pub(crate) struct SessionRequest<'a> {
    pub pool: PoolAddress<'a>,
    pub session_host: &'a str,
    /// The id segment as sent, used for error messages and the 404 target.
    pub session_id_text: &'a str,
    /// The parsed id, or the 400 error for an id that is not an `i32`.
    pub session_id: Result<i32, BrokerError>,
}

impl SessionRequest<'_> {
    /// Runs the lookups in the documented order (host pool path, session host, session id
    /// format, `extra` request values, session existence, reachability of the host) and
    /// returns the session.
    fn session<'s, T>(
        &self,
        seed: &'s mut Seed,
        extra: Result<T, BrokerError>,
        action: Action,
    ) -> Result<(&'s mut Session, T), BrokerError> {
        let host = find_host(seed, self.pool, self.session_host)?;
        let session_id = self.session_id.clone()?;
        let extra = extra?;
        let index = find_session(host, session_id, self.session_id_text)?;
        // Disconnecting or messaging needs the host itself; there is no forced variant.
        if !host.reachable {
            return Err(BrokerError::SessionHostUnreachable {
                session_host: host.name.clone(),
                action,
            });
        }
        Ok((&mut host.sessions[index], extra))
    }
}

/// The state of a session after `disconnect-user`.
pub(crate) const DISCONNECTED: &str = "Disconnected";

/// Disconnects a session: it stays on its host with `sessionState` `Disconnected`.
pub(crate) fn disconnect_user(
    seed: &mut Seed,
    request: &SessionRequest<'_>,
) -> Result<(), BrokerError> {
    let (session, ()) = request.session(seed, Ok(()), Action::Disconnect)?;
    DISCONNECTED.clone_into(&mut session.session_state);
    Ok(())
}

/// Runs every check of [`disconnect_user`] without disconnecting anybody.
pub(crate) fn check_disconnect(
    seed: &mut Seed,
    request: &SessionRequest<'_>,
) -> Result<(), BrokerError> {
    request
        .session(seed, Ok(()), Action::Disconnect)
        .map(|_| ())
}

/// Runs every check of [`send_message_user`] (`message` is the outcome of parsing the title
/// and body) without delivering anything.
pub(crate) fn check_send_message(
    seed: &mut Seed,
    request: &SessionRequest<'_>,
    message: Result<(), BrokerError>,
) -> Result<(), BrokerError> {
    request.session(seed, message, Action::Message).map(|_| ())
}

/// Delivers a message to a session (kept in its `messages`). `message` is the decoded title
/// and body, or the 400 error for a missing or invalid query parameter.
pub(crate) fn send_message_user(
    seed: &mut Seed,
    request: &SessionRequest<'_>,
    message: Result<SentMessage, BrokerError>,
) -> Result<(), BrokerError> {
    let (session, message) = request.session(seed, message, Action::Message)?;
    session.messages.push(message);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTOSO_DESKTOP: PoolAddress<'static> = PoolAddress {
        tenant_group: "Default Tenant Group",
        tenant: "Contoso",
        host_pool: "Pool-Desktop",
    };

    fn logoff(host: &'static str, id: i32, force: bool) -> LogoffRequest<'static> {
        LogoffRequest {
            pool: PoolAddress {
                host_pool: if host.starts_with("sh") {
                    "Pool-Desktop"
                } else {
                    "Pool-Apps"
                },
                ..CONTOSO_DESKTOP
            },
            session_host: host,
            session_id_text: "n/a",
            session_id: Ok(id),
            force: Ok(force),
        }
    }

    #[test]
    fn list_is_ordered_by_host_then_session() {
        let mut seed = Seed::sample();
        let views = list_sessions(&mut seed, CONTOSO_DESKTOP).expect("pool exists");
        let keys: Vec<(String, i32)> = views
            .iter()
            .map(|v| (v.session_host_name.to_owned(), v.session_id))
            .collect();
        // Shared with the HTTP test of the same listing (tests/broker.rs).
        let expected: Vec<(String, i32)> =
            serde_json::from_str(include_str!("../tests/fixtures/sample-list-order.json"))
                .expect("fixture parses");
        assert_eq!(keys, expected);
    }

    #[test]
    fn lookups_report_the_outermost_missing_level() {
        let mut seed = Seed::sample();
        let missing_group = PoolAddress {
            tenant_group: "Nope",
            tenant: "AlsoNope",
            ..CONTOSO_DESKTOP
        };
        assert_eq!(
            find_pool(&mut seed, missing_group).expect_err("missing"),
            BrokerError::tenant_group_not_found("Nope")
        );
        let missing_tenant = PoolAddress {
            tenant: "AlsoNope",
            host_pool: "x",
            ..CONTOSO_DESKTOP
        };
        assert_eq!(
            find_pool(&mut seed, missing_tenant).expect_err("missing"),
            BrokerError::tenant_not_found("AlsoNope", "Default Tenant Group")
        );
    }

    #[test]
    fn session_id_errors_come_after_the_host_lookup() {
        let mut seed = Seed::sample();
        let bad_id = BrokerError::InvalidData {
            message: "bad".into(),
        };
        let request = LogoffRequest {
            session_host: "nohost",
            session_id: Err(bad_id.clone()),
            ..logoff("sh1.contoso.com", 0, false)
        };
        assert_eq!(
            logoff_user(&mut seed, request).expect_err("no host"),
            BrokerError::session_host_not_found("nohost", "Pool-Desktop")
        );
        let request = LogoffRequest {
            session_id: Err(bad_id.clone()),
            ..logoff("sh1.contoso.com", 0, false)
        };
        assert_eq!(logoff_user(&mut seed, request).expect_err("bad id"), bad_id);
    }

    fn target(host: &'static str, id: i32) -> SessionRequest<'static> {
        let logoff = logoff(host, id, false);
        SessionRequest {
            pool: logoff.pool,
            session_host: host,
            session_id_text: "n/a",
            session_id: Ok(id),
        }
    }

    fn message() -> SentMessage {
        SentMessage {
            title: "t".into(),
            body: "b".into(),
            sent_at: "now".into(),
        }
    }

    #[test]
    fn disconnect_keeps_the_session_and_marks_it_disconnected() {
        let mut seed = Seed::sample();
        disconnect_user(&mut seed, &target("sh1.contoso.com", 2)).expect("disconnects");
        let host = &seed.tenant_groups[0].tenants[0].host_pools[0].session_hosts[0];
        assert_eq!(host.sessions[0].session_state, "Disconnected");
        assert_eq!(host.sessions.len(), 4);
        assert!(matches!(
            disconnect_user(&mut seed, &target("stale1.contoso.com", 3)),
            Err(BrokerError::SessionHostUnreachable {
                action: Action::Disconnect,
                ..
            })
        ));
        assert!(matches!(
            disconnect_user(&mut seed, &target("sh1.contoso.com", 4)),
            Err(BrokerError::NotFound {
                code: "SessionNotFound",
                ..
            })
        ));
    }

    #[test]
    fn message_parameter_errors_come_after_the_id_and_before_the_session() {
        let mut seed = Seed::sample();
        let missing = BrokerError::InvalidData {
            message: "missing".into(),
        };
        // Unknown session and missing parameter: the parameter is reported.
        assert_eq!(
            send_message_user(
                &mut seed,
                &target("sh1.contoso.com", 4),
                Err(missing.clone())
            ),
            Err(missing.clone())
        );
        let bad_id = SessionRequest {
            session_id: Err(BrokerError::InvalidData {
                message: "id".into(),
            }),
            ..target("sh1.contoso.com", 4)
        };
        assert_eq!(
            send_message_user(&mut seed, &bad_id, Err(missing)),
            Err(BrokerError::InvalidData {
                message: "id".into()
            })
        );
        send_message_user(&mut seed, &target("sh1.contoso.com", 2), Ok(message())).expect("sent");
        let host = &seed.tenant_groups[0].tenants[0].host_pools[0].session_hosts[0];
        assert_eq!(host.sessions[0].messages, [message()]);
    }

    #[test]
    fn unreachable_host_needs_force() {
        let mut seed = Seed::sample();
        assert!(matches!(
            logoff_user(&mut seed, logoff("stale1.contoso.com", 3, false)),
            Err(BrokerError::SessionHostUnreachable { .. })
        ));
        logoff_user(&mut seed, logoff("stale1.contoso.com", 3, true)).expect("forced");
        assert!(matches!(
            logoff_user(&mut seed, logoff("stale1.contoso.com", 3, true)),
            Err(BrokerError::NotFound {
                code: "SessionNotFound",
                ..
            })
        ));
    }
}
