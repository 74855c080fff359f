//! Azure role-based access control and management locks as ARM applies them to a request:
//! whether a principal may perform an action at a scope, and which locks refuse an operation.
//!
//! Scopes are paths (`/subscriptions/{sub}[/resourceGroups/{rg}[/providers/...]]`) compared
//! segment by segment, case-insensitively; an assignment or lock applies to its scope and
//! everything below it. Actions match Azure's wildcard patterns (`*` matches any run of
//! characters, `*/read` every read), case-insensitively.

use super::arm_config::{BuiltInRole, LockLevel, ResourceLock, RoleAssignment};

/// `Microsoft.DesktopVirtualization/hostpools/read`: get or list host pools.
pub(crate) const READ_HOST_POOLS: &str = "Microsoft.DesktopVirtualization/hostpools/read";
/// Get or list session hosts.
pub(crate) const READ_SESSION_HOSTS: &str =
    "Microsoft.DesktopVirtualization/hostpools/sessionhosts/read";
/// Update a session host (drain mode).
pub(crate) const WRITE_SESSION_HOSTS: &str =
    "Microsoft.DesktopVirtualization/hostpools/sessionhosts/write";
/// Get or list user sessions.
pub(crate) const READ_USER_SESSIONS: &str =
    "Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions/read";
/// Log a user off.
pub(crate) const DELETE_USER_SESSIONS: &str =
    "Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions/delete";
/// Disconnect a user session.
pub(crate) const DISCONNECT_USER_SESSIONS: &str =
    "Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions/disconnect/action";
/// Send a message to a user session.
pub(crate) const MESSAGE_USER_SESSIONS: &str =
    "Microsoft.DesktopVirtualization/hostpools/sessionhosts/usersessions/sendMessage/action";

/// What a lock may refuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockedOperation {
    /// `DELETE` (refused by both lock levels).
    Delete,
    /// `PUT`, `PATCH`, `POST` (refused by `ReadOnly` locks).
    Write,
}

impl LockedOperation {
    /// `delete` or `write`, as ARM's `ScopeLocked` message names it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Write => "write",
        }
    }
}

/// Whether the principal (`is_principal` says whether a `principalId` names it) may perform
/// `action` at `scope`. With no role assignment configured at all, everything is allowed.
pub(crate) fn is_allowed(
    assignments: &[RoleAssignment],
    is_principal: impl Fn(&str) -> bool,
    action: &str,
    scope: &str,
) -> bool {
    assignments.is_empty()
        || assignments.iter().any(|assignment| {
            is_principal(&assignment.principal_id)
                && scope_covers(&assignment.scope, scope)
                && grants(assignment, action)
        })
}

/// Whether the principal may perform `action` somewhere at or below `scope` (a list at a scope
/// the principal cannot read as a whole still shows what it may read).
pub(crate) fn is_allowed_below(
    assignments: &[RoleAssignment],
    is_principal: impl Fn(&str) -> bool,
    action: &str,
    scope: &str,
) -> bool {
    assignments.is_empty()
        || assignments.iter().any(|assignment| {
            is_principal(&assignment.principal_id)
                && (scope_covers(&assignment.scope, scope)
                    || scope_covers(scope, &assignment.scope))
                && grants(assignment, action)
        })
}

fn grants(assignment: &RoleAssignment, action: &str) -> bool {
    BuiltInRole::parse(&assignment.role_definition_name).is_some_and(|role| {
        role.actions()
            .iter()
            .any(|pattern| action_matches(pattern, action))
    })
}

/// The locks that refuse `operation` at `scope` (a lock at or above it, of a level that
/// refuses the operation).
pub(crate) fn locks_refusing<'l>(
    locks: &'l [ResourceLock],
    scope: &str,
    operation: LockedOperation,
) -> Vec<&'l ResourceLock> {
    locks
        .iter()
        .filter(|lock| {
            let refuses = match lock.level {
                LockLevel::CanNotDelete => operation == LockedOperation::Delete,
                LockLevel::ReadOnly => true,
            };
            refuses && scope_covers(&lock.scope, scope)
        })
        .collect()
}

/// Whether `outer` is `inner` or one of its ancestors (segment-wise, case-insensitive).
pub(crate) fn scope_covers(outer: &str, inner: &str) -> bool {
    let segments = |scope: &str| -> Vec<String> {
        scope
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    };
    let (outer, inner) = (segments(outer), segments(inner));
    outer.len() <= inner.len() && outer.iter().zip(&inner).all(|(a, b)| a == b)
}

/// Whether an Azure action pattern matches `action`: `*` matches any run of characters,
/// everything else compares case-insensitively.
pub(crate) fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let action = action.to_ascii_lowercase();
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = action.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else {
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOL: &str =
        "/subscriptions/S/resourceGroups/RG/providers/Microsoft.DesktopVirtualization/hostPools/HP";

    fn assignment(role: &str, scope: &str) -> RoleAssignment {
        RoleAssignment {
            principal_id: "me".into(),
            role_definition_name: role.into(),
            scope: scope.into(),
        }
    }

    fn me(id: &str) -> bool {
        id == "me"
    }

    #[test]
    fn wildcards_match_as_azure_does() {
        assert!(action_matches("*", DELETE_USER_SESSIONS));
        assert!(action_matches("*/read", READ_HOST_POOLS));
        assert!(!action_matches("*/read", DELETE_USER_SESSIONS));
        assert!(action_matches(
            "Microsoft.DesktopVirtualization/hostpools/sessionhosts/*",
            MESSAGE_USER_SESSIONS
        ));
        assert!(action_matches(
            "microsoft.desktopvirtualization/*/read",
            READ_USER_SESSIONS
        ));
        assert!(!action_matches(
            "Microsoft.DesktopVirtualization/hostpools/read",
            READ_SESSION_HOSTS
        ));
    }

    #[test]
    fn roles_apply_at_and_below_their_scope_for_their_principal() {
        let operator = [assignment(
            "Desktop Virtualization User Session Operator",
            "/subscriptions/s/resourcegroups/rg",
        )];
        let session = format!("{POOL}/sessionHosts/h/userSessions/1");
        assert!(is_allowed(&operator, me, DELETE_USER_SESSIONS, &session));
        assert!(is_allowed(&operator, me, READ_HOST_POOLS, POOL));
        assert!(!is_allowed(
            &operator,
            me,
            WRITE_SESSION_HOSTS,
            &format!("{POOL}/sessionHosts/h")
        ));
        assert!(!is_allowed(
            &operator,
            |id| id == "other",
            READ_HOST_POOLS,
            POOL
        ));
        assert!(!is_allowed(
            &operator,
            me,
            READ_HOST_POOLS,
            "/subscriptions/s"
        ));
        assert!(is_allowed_below(
            &operator,
            me,
            READ_HOST_POOLS,
            "/subscriptions/s"
        ));
        assert!(!is_allowed_below(
            &operator,
            me,
            READ_HOST_POOLS,
            "/subscriptions/t"
        ));
        // Azure's Session Host Operator covers everything below session hosts.
        let host_operator = [assignment(
            "Desktop Virtualization Session Host Operator",
            POOL,
        )];
        assert!(is_allowed(&host_operator, me, WRITE_SESSION_HOSTS, POOL));
        assert!(is_allowed(
            &host_operator,
            me,
            DELETE_USER_SESSIONS,
            &session
        ));
        let reader = [assignment("Reader", "/subscriptions/S")];
        assert!(is_allowed(&reader, me, READ_USER_SESSIONS, &session));
        assert!(!is_allowed(&reader, me, DISCONNECT_USER_SESSIONS, &session));
        assert!(
            is_allowed(&[], me, DELETE_USER_SESSIONS, &session),
            "no assignments: open"
        );
    }

    #[test]
    fn locks_refuse_by_level_and_scope() {
        let locks = [
            ResourceLock {
                name: None,
                scope: "/subscriptions/s/resourceGroups/rg".into(),
                level: LockLevel::CanNotDelete,
            },
            ResourceLock {
                name: Some("ro".into()),
                scope: POOL.into(),
                level: LockLevel::ReadOnly,
            },
        ];
        let session = format!("{POOL}/sessionHosts/h/userSessions/1");
        assert_eq!(
            locks_refusing(&locks, &session, LockedOperation::Delete).len(),
            2
        );
        assert_eq!(
            locks_refusing(&locks, &session, LockedOperation::Write).len(),
            1
        );
        let elsewhere = "/subscriptions/s/resourceGroups/other";
        assert!(locks_refusing(&locks, elsewhere, LockedOperation::Delete).is_empty());
        assert!(scope_covers(
            "/subscriptions/S/",
            "/subscriptions/s/resourceGroups/x"
        ));
        assert!(!scope_covers(
            "/subscriptions/s/resourceGroups/x",
            "/subscriptions/s"
        ));
        assert!(!scope_covers(
            "/subscriptions/s/resourceGroups/rg",
            "/subscriptions/s/resourceGroups/rg2"
        ));
    }
}
