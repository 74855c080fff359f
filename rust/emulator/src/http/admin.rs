//! The admin routes under `/_emulator`: thin HTTP calls into [`Admin`]. No authentication,
//! never logged. For tests and demos only.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::app::App;
use crate::admin::{Admin, ArmUpdate, SettingsUpdate};
use crate::broker::arm_config::{ArmConfig, ArmHostPool, ResourceLock, RoleAssignment};
use crate::identity::jwt::IssuedToken;
use crate::knobs::activity::Activity;
use crate::knobs::fault_sequence::FaultStats;
use crate::knobs::faults::FaultConfig;
use crate::knobs::generate::GenerateSpec;
use crate::knobs::latency::LatencyConfig;
use crate::knobs::rate_limits::RateLimitConfig;
use crate::model::Seed;
use crate::record::RequestRecord;
use crate::state::EmulatorSettings;

/// Largest accepted `PUT /_emulator/state` body: big enough for scale tests with tens of
/// thousands of sessions, small enough to refuse a runaway upload.
const MAX_STATE_BODY: usize = 64 * 1024 * 1024;

/// The admin routes.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/_emulator/health", get(health))
        .route(
            "/_emulator/state",
            get(state)
                .put(set_state)
                .layer(DefaultBodyLimit::max(MAX_STATE_BODY)),
        )
        .route("/_emulator/requests", get(requests).delete(clear_requests))
        .route("/_emulator/activity", get(activity).delete(clear_activity))
        .route("/_emulator/latency", optional_setting::<LatencyConfig>())
        .route("/_emulator/settings", get(settings).put(update_settings))
        .route("/_emulator/faults", optional_setting::<FaultConfig>())
        .route("/_emulator/faults/stats", get(fault_stats))
        .route("/_emulator/generate", post(generate))
        .route("/_emulator/tokens", get(tokens))
        .route("/_emulator/devicecode/approve", post(approve_device_code))
        .route("/_emulator/devicecode/deny", post(deny_device_code))
        .route("/_emulator/arm", get(arm).put(update_arm))
        .route("/_emulator/arm/hostPools", get(arm_host_pools))
        .route(
            "/_emulator/arm/ratelimits",
            get(rate_limits)
                .put(set_rate_limits)
                .delete(default_rate_limits),
        )
        .route("/_emulator/arm/ratelimits/reset", post(reset_rate_limits))
        .route(
            "/_emulator/arm/roleAssignments",
            get(role_assignments)
                .put(set_role_assignments)
                .post(add_role_assignment)
                .delete(clear_role_assignments),
        )
        .route(
            "/_emulator/arm/locks",
            get(locks).put(set_locks).post(add_lock).delete(clear_locks),
        )
}

/// `GET /_emulator/arm`: the ARM settings in force.
async fn arm(State(admin): State<Admin>) -> Json<ArmConfig> {
    Json(admin.arm())
}

/// `GET /_emulator/arm/hostPools`: where every host pool is under ARM.
async fn arm_host_pools(State(admin): State<Admin>) -> Json<Vec<ArmHostPool>> {
    Json(admin.arm_host_pools())
}

/// `PUT /_emulator/arm`: changes the named ARM settings, answers all of them.
async fn update_arm(State(admin): State<Admin>, body: Bytes) -> Response {
    apply_admin_body(
        &body,
        "InvalidArmSettings",
        "ARM settings update",
        |update: Option<ArmUpdate>| match admin.update_arm(update.unwrap_or_default()) {
            Ok(config) => Json(config).into_response(),
            Err(reason) => admin_error(
                StatusCode::BAD_REQUEST,
                "InvalidArmSettings",
                format!("The body is not a valid ARM settings update: {reason}"),
            ),
        },
    )
}

async fn rate_limits(State(admin): State<Admin>) -> Json<RateLimitConfig> {
    Json(admin.arm().rate_limits)
}

/// `PUT /_emulator/arm/ratelimits`: sets the rate limits (fields left out take their
/// defaults; an empty body or `null` restores every default) and refills the buckets.
async fn set_rate_limits(State(admin): State<Admin>, body: Bytes) -> Response {
    apply_admin_body(
        &body,
        "InvalidRateLimits",
        "rate limit configuration",
        |limits: Option<Option<RateLimitConfig>>| {
            Json(admin.set_rate_limits(limits.flatten())).into_response()
        },
    )
}

/// `DELETE /_emulator/arm/ratelimits`: restores the default rate limits (refilled).
async fn default_rate_limits(State(admin): State<Admin>) -> StatusCode {
    admin.set_rate_limits(None);
    StatusCode::NO_CONTENT
}

/// `POST /_emulator/arm/ratelimits/reset`: refills every bucket.
async fn reset_rate_limits(State(admin): State<Admin>) -> StatusCode {
    admin.reset_rate_limits();
    StatusCode::NO_CONTENT
}

async fn role_assignments(State(admin): State<Admin>) -> Json<Vec<RoleAssignment>> {
    Json(admin.arm().role_assignments)
}

/// `PUT /_emulator/arm/roleAssignments` `[...]`: replaces them all, answers them.
async fn set_role_assignments(State(admin): State<Admin>, body: Bytes) -> Response {
    with_required_body(&body, |assignments: Vec<RoleAssignment>| {
        Json(admin.set_role_assignments(assignments)).into_response()
    })
}

/// `POST /_emulator/arm/roleAssignments` `{...}`: adds one, answers them all.
async fn add_role_assignment(State(admin): State<Admin>, body: Bytes) -> Response {
    with_required_body(&body, |assignment: RoleAssignment| {
        Json(admin.add_role_assignment(assignment)).into_response()
    })
}

/// `DELETE /_emulator/arm/roleAssignments`: removes them all, so everything is allowed again.
async fn clear_role_assignments(State(admin): State<Admin>) -> StatusCode {
    admin.set_role_assignments(Vec::new());
    StatusCode::NO_CONTENT
}

async fn locks(State(admin): State<Admin>) -> Json<Vec<ResourceLock>> {
    Json(admin.arm().locks)
}

/// `PUT /_emulator/arm/locks` `[...]`: replaces them all, answers them.
async fn set_locks(State(admin): State<Admin>, body: Bytes) -> Response {
    with_required_body(&body, |locks: Vec<ResourceLock>| {
        Json(admin.set_locks(locks)).into_response()
    })
}

/// `POST /_emulator/arm/locks` `{...}`: adds one, answers them all.
async fn add_lock(State(admin): State<Admin>, body: Bytes) -> Response {
    with_required_body(&body, |lock: ResourceLock| {
        Json(admin.add_lock(lock)).into_response()
    })
}

/// `DELETE /_emulator/arm/locks`: removes every lock.
async fn clear_locks(State(admin): State<Admin>) -> StatusCode {
    admin.set_locks(Vec::new());
    StatusCode::NO_CONTENT
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

async fn state(State(admin): State<Admin>) -> Json<Seed> {
    Json(admin.state())
}

async fn requests(State(admin): State<Admin>) -> Json<Vec<RequestRecord>> {
    Json(admin.requests())
}

async fn clear_requests(State(admin): State<Admin>) -> StatusCode {
    admin.clear_requests();
    StatusCode::NO_CONTENT
}

async fn activity(State(admin): State<Admin>) -> Json<Activity> {
    Json(admin.activity())
}

async fn clear_activity(State(admin): State<Admin>) -> StatusCode {
    admin.clear_activity();
    StatusCode::NO_CONTENT
}

async fn settings(State(admin): State<Admin>) -> Json<EmulatorSettings> {
    Json(admin.settings())
}

async fn fault_stats(State(admin): State<Admin>) -> Json<FaultStats> {
    Json(admin.fault_stats())
}

/// Every issued token (metadata only).
async fn tokens(State(admin): State<Admin>) -> Json<Vec<IssuedToken>> {
    Json(admin.tokens_issued())
}

async fn set_state(State(admin): State<Admin>, body: Bytes) -> Response {
    // Parsed by hand (not with the Json extractor) to accept any content type and to give
    // the serde error, with its line and column, back to whoever wrote the seed.
    let parsed = std::str::from_utf8(&body)
        .map_err(|e| format!("the body is not UTF-8: {e}"))
        .and_then(|text| Seed::from_json(text).map_err(|e| e.to_string()));
    match parsed {
        Ok(seed) => {
            admin.set_state(seed);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(reason) => admin_error(
            StatusCode::BAD_REQUEST,
            "InvalidState",
            format!("The body is not a valid emulator state: {reason}"),
        ),
    }
}

/// Updates the named settings only. Answers with all settings.
async fn update_settings(State(admin): State<Admin>, body: Bytes) -> Response {
    apply_admin_body(
        &body,
        "InvalidSettings",
        "settings update",
        |update: Option<SettingsUpdate>| {
            Json(admin.update_settings(update.unwrap_or_default())).into_response()
        },
    )
}

/// Adds or replaces a generated host pool; an empty body uses every default.
async fn generate(State(admin): State<Admin>, body: Bytes) -> Response {
    apply_admin_body(
        &body,
        "InvalidGenerateSpec",
        "generate request",
        |spec: Option<GenerateSpec>| match admin.generate(&spec.unwrap_or_default()) {
            Ok(summary) => Json(summary).into_response(),
            Err(error) => admin_error(
                StatusCode::BAD_REQUEST,
                "InvalidGenerateSpec",
                format!("The generate request cannot be applied: {error}"),
            ),
        },
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApproveBody {
    user_code: String,
    username: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DenyBody {
    user_code: String,
}

/// `POST /_emulator/devicecode/approve` `{"userCode", "username"}` → 204, or 404.
async fn approve_device_code(State(admin): State<Admin>, body: Bytes) -> Response {
    with_required_body(&body, |request: ApproveBody| {
        decided(
            admin.approve_device_code(&request.user_code, &request.username),
            format!(
                "No pending device code '{}' or no user '{}'.",
                request.user_code, request.username
            ),
        )
    })
}

/// `POST /_emulator/devicecode/deny` `{"userCode"}` → 204, or 404.
async fn deny_device_code(State(admin): State<Admin>, body: Bytes) -> Response {
    with_required_body(&body, |request: DenyBody| {
        decided(
            admin.deny_device_code(&request.user_code),
            format!("No pending device code '{}'.", request.user_code),
        )
    })
}

/// 204 when a device code was decided, else 404 with `message`.
fn decided(done: bool, message: String) -> Response {
    if done {
        StatusCode::NO_CONTENT.into_response()
    } else {
        admin_error(StatusCode::NOT_FOUND, "NotFound", message)
    }
}

/// An admin error in the nested shape every admin route uses.
fn admin_error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(serde_json::json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// Parses an admin JSON body (any content type); an empty body is `None`.
fn parse_admin_body<T: DeserializeOwned>(body: &[u8]) -> Result<Option<T>, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("the body is not UTF-8: {e}"))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// The body of every admin `PUT`/`POST` that takes optional JSON: parses it (see
/// [`parse_admin_body`]) and hands the value to `apply`, or answers 400 with `code` and "The
/// body is not a valid `what`: <reason>".
fn apply_admin_body<T: DeserializeOwned>(
    body: &[u8],
    code: &str,
    what: &str,
    apply: impl FnOnce(Option<T>) -> Response,
) -> Response {
    match parse_admin_body::<T>(body) {
        Ok(value) => apply(value),
        Err(reason) => admin_error(
            StatusCode::BAD_REQUEST,
            code,
            format!("The body is not a valid {what}: {reason}"),
        ),
    }
}

/// The body of the device code routes, which is required: parses it and hands it to `apply`,
/// or answers 400 `InvalidRequest` "The body is not valid: <reason>".
fn with_required_body<T: DeserializeOwned>(
    body: &[u8],
    apply: impl FnOnce(T) -> Response,
) -> Response {
    match serde_json::from_slice(body) {
        Ok(value) => apply(value),
        Err(e) => admin_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            format!("The body is not valid: {e}"),
        ),
    }
}

/// A setting that is either in force or absent, with `GET`, `PUT` and `DELETE` admin routes
/// that behave alike for every such setting (the latency and the fault injection).
trait OptionalSetting: Serialize + DeserializeOwned + Default + Clone + Send + 'static {
    /// The `error.code` of a 400 for an invalid body.
    const INVALID: &'static str;
    /// What the body should have been, for the 400's message.
    const WHAT: &'static str;
    fn get(admin: &Admin) -> Option<Self>;
    /// Stores the setting (`None`: removes it), restarting what depends on it.
    fn set(admin: &Admin, value: Option<Self>);
}

impl OptionalSetting for LatencyConfig {
    const INVALID: &'static str = "InvalidLatency";
    const WHAT: &'static str = "latency setting";

    fn get(admin: &Admin) -> Option<Self> {
        admin.latency()
    }

    /// The jitter sequence restarts from its seed.
    fn set(admin: &Admin, value: Option<Self>) {
        admin.set_latency(value);
    }
}

impl OptionalSetting for FaultConfig {
    const INVALID: &'static str = "InvalidFaults";
    const WHAT: &'static str = "fault configuration";

    fn get(admin: &Admin) -> Option<Self> {
        admin.faults()
    }

    /// The fault counters are zeroed and the fault sequence restarts.
    fn set(admin: &Admin, value: Option<Self>) {
        admin.set_faults(value);
    }
}

/// The routes of an [`OptionalSetting`]: `GET` answers the setting in force (its default when
/// there is none); `PUT` sets it, a `null` or empty body removing it, and answers like `GET`;
/// `DELETE` removes it (204).
fn optional_setting<T: OptionalSetting>() -> MethodRouter<App> {
    get(get_setting::<T>)
        .put(put_setting::<T>)
        .delete(delete_setting::<T>)
}

async fn get_setting<T: OptionalSetting>(State(admin): State<Admin>) -> Json<T> {
    Json(T::get(&admin).unwrap_or_default())
}

async fn put_setting<T: OptionalSetting>(State(admin): State<Admin>, body: Bytes) -> Response {
    apply_admin_body(&body, T::INVALID, T::WHAT, |value: Option<Option<T>>| {
        let value = value.flatten();
        T::set(&admin, value.clone());
        Json(value.unwrap_or_default()).into_response()
    })
}

async fn delete_setting<T: OptionalSetting>(State(admin): State<Admin>) -> StatusCode {
    T::set(&admin, None);
    StatusCode::NO_CONTENT
}
