//! The device authorization grant (RFC 8628) as Entra runs it: codes, approval and polling.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use rand::RngCore as _;

use super::audience::Resource;
use super::config::DeviceCodeConfig;
use crate::secret::constant_time_eq;

/// Characters of user codes: upper-case letters and digits without look-alikes (0/O, 1/I).
const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const USER_CODE_LENGTH: usize = 8;

/// Where a device code stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Decision {
    Pending,
    Approved {
        username: String,
    },
    Denied,
    /// The token was handed out; the code cannot be used again.
    Redeemed,
}

/// One device code issued by `/devicecode`.
#[derive(Clone, Debug)]
pub(crate) struct DeviceCode {
    /// The secret the client polls with. Never logged.
    device_code: String,
    /// What the user types, e.g. `FHTR7YJQ`.
    user_code: String,
    client_id: String,
    /// The resource the token will be for (the scope of the device code request).
    resource: Resource,
    expires_at: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
    /// Polls answered so far (not counting `slow_down` answers).
    polls: u32,
    decision: Decision,
}

/// The answer to one poll of the token endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PollOutcome {
    /// No code with this value (or it belongs to another client).
    Unknown,
    Expired,
    SlowDown,
    Pending,
    Declined,
    AlreadyRedeemed,
    /// Approved: issue a token for this user and resource (the code is now redeemed).
    Approved {
        username: String,
        resource: Resource,
    },
}

/// All device codes of one emulator.
#[derive(Debug, Default)]
pub(crate) struct DeviceCodes {
    codes: Vec<DeviceCode>,
}

impl DeviceCodes {
    /// Creates a code for `client_id` and `resource`; returns `(device_code, user_code)`.
    pub(crate) fn issue(
        &mut self,
        client_id: &str,
        resource: Resource,
        config: &DeviceCodeConfig,
        now: Instant,
    ) -> (String, String) {
        // Expired codes are only kept around long enough to answer `expired_token`.
        self.codes
            .retain(|c| now.saturating_duration_since(c.expires_at) < Duration::from_secs(3600));
        let mut rng = rand::rngs::OsRng;
        let mut secret = [0u8; 48];
        rng.fill_bytes(&mut secret);
        let device_code = format!("DAQAB{}", URL_SAFE_NO_PAD.encode(secret));
        let user_code = loop {
            let candidate: String = (0..USER_CODE_LENGTH)
                .map(|_| char::from(USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())]))
                .collect();
            if !self.codes.iter().any(|c| c.user_code == candidate) {
                break candidate;
            }
        };
        self.codes.push(DeviceCode {
            device_code: device_code.clone(),
            user_code: user_code.clone(),
            client_id: client_id.to_owned(),
            resource,
            expires_at: now + Duration::from_secs(config.expires_in_seconds),
            interval: Duration::from_secs(config.interval_seconds),
            last_poll: None,
            polls: 0,
            decision: Decision::Pending,
        });
        (device_code, user_code)
    }

    /// Approves a pending, unexpired code for `username`. False when there is no such code.
    pub(crate) fn approve(&mut self, user_code: &str, username: &str, now: Instant) -> bool {
        self.decide(
            user_code,
            now,
            Decision::Approved {
                username: username.to_owned(),
            },
        )
    }

    /// Denies a pending, unexpired code. False when there is no such code.
    pub(crate) fn deny(&mut self, user_code: &str, now: Instant) -> bool {
        self.decide(user_code, now, Decision::Denied)
    }

    fn decide(&mut self, user_code: &str, now: Instant, decision: Decision) -> bool {
        let wanted = normalize_user_code(user_code);
        match self
            .codes
            .iter_mut()
            .find(|c| c.user_code == wanted && now < c.expires_at)
        {
            Some(code) if code.decision == Decision::Pending => {
                code.decision = decision;
                true
            }
            _ => false,
        }
    }

    /// One poll with `device_code` by `client_id`. `auto_approve` is the configured automatic
    /// approval (user, on which poll).
    pub(crate) fn poll(
        &mut self,
        device_code: &str,
        client_id: &str,
        auto_approve: Option<(&str, u32)>,
        now: Instant,
    ) -> PollOutcome {
        let Some(code) = self
            .codes
            .iter_mut()
            .find(|c| constant_time_eq(c.device_code.as_bytes(), device_code.as_bytes()))
        else {
            return PollOutcome::Unknown;
        };
        if !code.client_id.eq_ignore_ascii_case(client_id) {
            return PollOutcome::Unknown;
        }
        if code.decision == Decision::Redeemed {
            return PollOutcome::AlreadyRedeemed;
        }
        if now >= code.expires_at {
            return PollOutcome::Expired;
        }
        let previous = code.last_poll.replace(now);
        if previous.is_some_and(|last| now.saturating_duration_since(last) < code.interval) {
            return PollOutcome::SlowDown;
        }
        code.polls += 1;
        if let Some((username, on_poll)) = auto_approve
            && code.decision == Decision::Pending
            && code.polls >= on_poll.max(1)
        {
            code.decision = Decision::Approved {
                username: username.to_owned(),
            };
        }
        match &code.decision {
            Decision::Pending => PollOutcome::Pending,
            Decision::Denied => PollOutcome::Declined,
            Decision::Redeemed => PollOutcome::AlreadyRedeemed,
            Decision::Approved { username } => {
                let username = username.clone();
                code.decision = Decision::Redeemed;
                PollOutcome::Approved {
                    username,
                    resource: code.resource,
                }
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.codes.clear();
    }
}

/// Upper-cases and drops separators, so `abcd-efgh` and `ABCDEFGH` name the same code.
pub(crate) fn normalize_user_code(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::audience::BROKER;

    fn config(interval: u64, expires: u64) -> DeviceCodeConfig {
        DeviceCodeConfig {
            interval_seconds: interval,
            expires_in_seconds: expires,
            ..DeviceCodeConfig::default()
        }
    }

    #[test]
    fn pending_slow_down_approve_redeem() {
        let mut codes = DeviceCodes::default();
        let t0 = Instant::now();
        let (device, user) = codes.issue("cli", BROKER, &config(5, 900), t0);
        assert_eq!(user.len(), USER_CODE_LENGTH);
        assert_eq!(codes.poll(&device, "cli", None, t0), PollOutcome::Pending);
        let soon = t0 + Duration::from_secs(1);
        assert_eq!(
            codes.poll(&device, "cli", None, soon),
            PollOutcome::SlowDown
        );
        assert!(codes.approve(&user.to_lowercase(), "u@x", soon));
        assert!(!codes.deny(&user, soon), "already decided");
        let later = soon + Duration::from_secs(5);
        assert_eq!(
            codes.poll(&device, "cli", None, later),
            PollOutcome::Approved {
                username: "u@x".into(),
                resource: BROKER
            }
        );
        let much_later = later + Duration::from_secs(5);
        assert_eq!(
            codes.poll(&device, "cli", None, much_later),
            PollOutcome::AlreadyRedeemed
        );
        assert_eq!(
            codes.poll("nope", "cli", None, much_later),
            PollOutcome::Unknown
        );
    }

    #[test]
    fn deny_expiry_and_other_clients() {
        let mut codes = DeviceCodes::default();
        let t0 = Instant::now();
        let (device, user) = codes.issue("cli", BROKER, &config(0, 10), t0);
        assert_eq!(codes.poll(&device, "other", None, t0), PollOutcome::Unknown);
        assert!(codes.deny(&user, t0));
        assert_eq!(codes.poll(&device, "cli", None, t0), PollOutcome::Declined);
        let (device, user) = codes.issue("cli", BROKER, &config(0, 10), t0);
        let expired = t0 + Duration::from_secs(10);
        assert!(!codes.approve(&user, "u", expired));
        assert_eq!(
            codes.poll(&device, "cli", None, expired),
            PollOutcome::Expired
        );
    }

    #[test]
    fn auto_approval_on_the_nth_poll() {
        let mut codes = DeviceCodes::default();
        let t0 = Instant::now();
        let (device, _) = codes.issue("cli", BROKER, &config(0, 900), t0);
        let auto = Some(("bot@x", 3));
        assert_eq!(codes.poll(&device, "cli", auto, t0), PollOutcome::Pending);
        assert_eq!(codes.poll(&device, "cli", auto, t0), PollOutcome::Pending);
        assert_eq!(
            codes.poll(&device, "cli", auto, t0),
            PollOutcome::Approved {
                username: "bot@x".into(),
                resource: BROKER
            }
        );
    }

    #[test]
    fn user_codes_normalize() {
        assert_eq!(normalize_user_code(" abcd-efgh "), "ABCDEFGH");
    }
}
