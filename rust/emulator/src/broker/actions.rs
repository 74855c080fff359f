//! The broker's session actions: logging a user off, disconnecting a session, sending it a
//! message, each with a check-only twin that runs every check without changing anything.
//!
//! Every action runs its checks in the order documented for the real broker: host pool path,
//! session host, session id format, the action's own request values, session existence, then
//! reachability of the host. The part that works on one session host (`*_on_host`) is shared
//! with the ARM flavour, which finds the host by its ARM coordinates instead.

use super::error::BrokerError;
use super::lookup::{PoolAddress, find_host, find_session};
use crate::model::{Action, Seed, SentMessage, Session, SessionHost};

/// What a session action names, after the path was parsed.
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
    /// format, `extra` request values, session existence) and returns the session's host, its
    /// position there and `extra`.
    fn locate<'s, T>(
        &self,
        seed: &'s mut Seed,
        extra: Result<T, BrokerError>,
    ) -> Result<(&'s mut SessionHost, usize, T), BrokerError> {
        let host = find_host(seed, self.pool, self.session_host)?;
        let session_id = self.session_id.clone()?;
        let extra = extra?;
        let index = find_session(host, session_id, self.session_id_text)?;
        Ok((host, index, extra))
    }

    /// [`Self::locate`], then the reachability of the host, and returns the session.
    fn session<'s, T>(
        &self,
        seed: &'s mut Seed,
        extra: Result<T, BrokerError>,
        action: Action,
    ) -> Result<(&'s mut Session, T), BrokerError> {
        let (host, index, extra) = self.locate(seed, extra)?;
        // Disconnecting or messaging needs the host itself; there is no forced variant.
        if !host.reachable {
            return Err(unreachable(host, action));
        }
        Ok((&mut host.sessions[index], extra))
    }
}

/// 409: `host` cannot be asked to carry out `action`.
fn unreachable(host: &SessionHost, action: Action) -> BrokerError {
    BrokerError::SessionHostUnreachable {
        session_host: host.name.clone(),
        action,
    }
}

/// Logs session `session_id` off `host` (its id as sent is `id_text`, for the 404): refused
/// when the host is unreachable unless `force`, which drops the broker's record of the session
/// (the "stale session" clean-up admins use -Force for).
pub(crate) fn logoff_on_host(
    host: &mut SessionHost,
    session_id: i32,
    id_text: &str,
    force: bool,
) -> Result<(), BrokerError> {
    let index = logoff_index(host, session_id, id_text, force)?;
    host.sessions.remove(index);
    Ok(())
}

/// Runs every check of [`logoff_on_host`] without logging anybody off.
pub(crate) fn check_logoff_on_host(
    host: &SessionHost,
    session_id: i32,
    id_text: &str,
    force: bool,
) -> Result<(), BrokerError> {
    logoff_index(host, session_id, id_text, force).map(|_| ())
}

fn logoff_index(
    host: &SessionHost,
    session_id: i32,
    id_text: &str,
    force: bool,
) -> Result<usize, BrokerError> {
    let index = find_session(host, session_id, id_text)?;
    if !host.reachable && !force {
        return Err(unreachable(host, Action::Logoff));
    }
    Ok(index)
}

/// The session `session_id` of `host`, when the host can be asked to act on it (disconnect,
/// message: there is no forced variant).
pub(crate) fn reachable_session<'h>(
    host: &'h mut SessionHost,
    session_id: i32,
    id_text: &str,
    action: Action,
) -> Result<&'h mut Session, BrokerError> {
    let index = find_session(host, session_id, id_text)?;
    if !host.reachable {
        return Err(unreachable(host, action));
    }
    Ok(&mut host.sessions[index])
}

/// Disconnects a session found by [`reachable_session`].
pub(crate) fn disconnect(session: &mut Session) {
    DISCONNECTED.clone_into(&mut session.session_state);
}

/// What a logoff request asks for, after the path and query were parsed.
#[derive(Clone, Debug)]
pub(crate) struct LogoffRequest<'a> {
    /// The session to log off.
    pub session: SessionRequest<'a>,
    /// The parsed `force` flag, or the 400 error for an invalid value.
    pub force: Result<bool, BrokerError>,
}

/// Logs a user off: removes the session from its host.
///
/// The checks run in the documented order: host pool path, session host, session id format,
/// `force` format, session existence, then reachability of the host.
pub(crate) fn logoff_user(seed: &mut Seed, request: &LogoffRequest<'_>) -> Result<(), BrokerError> {
    let (host, index) = logoff_target(seed, request)?;
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
    let (host, index, force) = request.session.locate(seed, request.force.clone())?;
    // An unreachable host cannot be asked to end the session; only a forced logoff may drop
    // the broker's record of it.
    if !host.reachable && !force {
        return Err(unreachable(host, Action::Logoff));
    }
    Ok((host, index))
}

/// The state of a session after `disconnect-user`.
pub(crate) const DISCONNECTED: &str = "Disconnected";

/// Disconnects a session: it stays on its host with `sessionState` `Disconnected`.
pub(crate) fn disconnect_user(
    seed: &mut Seed,
    request: &SessionRequest<'_>,
) -> Result<(), BrokerError> {
    let (session, ()) = request.session(seed, Ok(()), Action::Disconnect)?;
    disconnect(session);
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

/// Delivers a message to a session (kept in its `messages`) and returns it. `message` is the
/// decoded title and body, or the 400 error for a missing or invalid query parameter.
pub(crate) fn send_message_user<'s>(
    seed: &'s mut Seed,
    request: &SessionRequest<'_>,
    message: Result<SentMessage, BrokerError>,
) -> Result<&'s SentMessage, BrokerError> {
    let (session, message) = request.session(seed, message, Action::Message)?;
    session.messages.push(message);
    Ok(&session.messages[session.messages.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::lookup::CONTOSO_DESKTOP;

    fn target(host: &'static str, id: i32) -> SessionRequest<'static> {
        SessionRequest {
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
        }
    }

    fn logoff(host: &'static str, id: i32, force: bool) -> LogoffRequest<'static> {
        LogoffRequest {
            session: target(host, id),
            force: Ok(force),
        }
    }

    #[test]
    fn session_id_errors_come_after_the_host_lookup() {
        let mut seed = Seed::sample();
        let bad_id = BrokerError::InvalidData {
            message: "bad".into(),
        };
        let request = LogoffRequest {
            session: SessionRequest {
                session_host: "nohost",
                session_id: Err(bad_id.clone()),
                ..target("sh1.contoso.com", 0)
            },
            force: Ok(false),
        };
        assert_eq!(
            logoff_user(&mut seed, &request).expect_err("no host"),
            BrokerError::session_host_not_found("nohost", "Pool-Desktop")
        );
        let request = LogoffRequest {
            session: SessionRequest {
                session_id: Err(bad_id.clone()),
                ..target("sh1.contoso.com", 0)
            },
            force: Ok(false),
        };
        assert_eq!(
            logoff_user(&mut seed, &request).expect_err("bad id"),
            bad_id
        );
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
            logoff_user(&mut seed, &logoff("stale1.contoso.com", 3, false)),
            Err(BrokerError::SessionHostUnreachable { .. })
        ));
        logoff_user(&mut seed, &logoff("stale1.contoso.com", 3, true)).expect("forced");
        assert!(matches!(
            logoff_user(&mut seed, &logoff("stale1.contoso.com", 3, true)),
            Err(BrokerError::NotFound {
                code: "SessionNotFound",
                ..
            })
        ));
    }
}
