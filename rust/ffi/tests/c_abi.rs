//! The C ABI exercised as a C caller does: load the built `librds_sessions` with `dlopen`
//! (libloading), look the exported symbols up by name and call them through plain
//! `extern "C"` function pointers, against a real emulator on its own thread.

use interoptopus::ffi;
use rds_emulator::{BackgroundEmulator, DEFAULT_ACCESS_TOKEN, EmulatorConfig, Seed};
use rds_sessions::{
    ErrorInfo, ErrorKind, RetrySettings, SessionActionDone, SignInMode, SignInOptions,
};
use std::ffi::c_void;
use std::path::PathBuf;

type Connection = *const c_void;
type SignIn = *const c_void;
type CreateSignIn = unsafe extern "C" fn(SignInOptions) -> ffi::Result<SignIn, ErrorInfo>;
type CreateConnection = unsafe extern "C" fn(SignIn) -> ffi::Result<Connection, ErrorInfo>;
type DefaultRetrySettings = unsafe extern "C" fn() -> RetrySettings;
type Logoff = unsafe extern "C" fn(
    Connection,
    ffi::String,
    ffi::String,
    ffi::String,
    i32,
    ffi::Bool,
) -> ffi::Result<SessionActionDone, ErrorInfo>;
type Destroy = unsafe extern "C" fn(Connection);
type Version = unsafe extern "C" fn() -> ffi::String;
type TenantGroup = unsafe extern "C" fn(Connection) -> ffi::String;
type PanicBarrier = unsafe extern "C" fn() -> ffi::Result<u32, ErrorInfo>;
type WithRetrySettings =
    unsafe extern "C" fn(Connection, RetrySettings) -> ffi::Result<Connection, ErrorInfo>;
type GetRetrySettings = unsafe extern "C" fn(Connection) -> RetrySettings;

/// `target/<profile>/librds_sessions.so` next to this test's `deps/` folder.
fn library_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    profile_dir.join(libloading::library_filename("rds_sessions"))
}

struct Abi {
    _lib: libloading::Library,
    create_sign_in: CreateSignIn,
    destroy_sign_in: Destroy,
    create_connection: CreateConnection,
    default_retry: DefaultRetrySettings,
    logoff: Logoff,
    destroy: Destroy,
    version: Version,
    tenant_group: TenantGroup,
}

fn load() -> Abi {
    let path = library_path();
    // SAFETY: loading our own library; its initialisers are Rust statics only.
    let lib = unsafe { libloading::Library::new(&path) }
        .unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()));
    // SAFETY: the symbol types mirror the `#[ffi]` signatures in rust/ffi/src/lib.rs.
    unsafe {
        let create_sign_in = *lib.get::<CreateSignIn>(b"sign_in_create").expect("symbol");
        let destroy_sign_in = *lib.get::<Destroy>(b"sign_in_destroy").expect("symbol");
        let create_connection = *lib
            .get::<CreateConnection>(b"rds_connection_create")
            .expect("symbol");
        let default_retry = *lib
            .get::<DefaultRetrySettings>(b"rds_default_retry_settings")
            .expect("symbol");
        let logoff = *lib.get::<Logoff>(b"rds_connection_logoff").expect("symbol");
        let destroy = *lib
            .get::<Destroy>(b"rds_connection_destroy")
            .expect("symbol");
        let version = *lib.get::<Version>(b"rds_version").expect("symbol");
        let tenant_group = *lib
            .get::<TenantGroup>(b"rds_connection_tenant_group")
            .expect("symbol");
        Abi {
            _lib: lib,
            create_sign_in,
            destroy_sign_in,
            create_connection,
            default_retry,
            logoff,
            destroy,
            version,
            tenant_group,
        }
    }
}

fn s(text: &str) -> ffi::String {
    ffi::String::from_string(text.to_owned())
}

impl Abi {
    /// A connection with a token obtained elsewhere, as `Add-RdsAccount -AccessToken` makes
    /// it: the sign-in options struct by value, then the connection (nothing is sent).
    fn create(
        &self,
        url: &str,
        tenant_group: &str,
        token: &str,
    ) -> ffi::Result<Connection, ErrorInfo> {
        // SAFETY: the options move into the call; the sign-in handle is destroyed once.
        unsafe {
            let options = SignInOptions {
                mode: SignInMode::AccessToken,
                deployment_url: s(url),
                tenant_group: s(tenant_group),
                authority_host: s(""),
                tenant_id: s(""),
                client_id: s(""),
                user_name: s(""),
                secret: s(token),
                certificate_path: s(""),
                identity_endpoint: s(""),
                imds_endpoint: s(""),
                retry: (self.default_retry)(),
                arm_mapping_json: s(""),
                arm_mapping_source: s(""),
                default_mapping_path: s(""),
            };
            let sign_in = match (self.create_sign_in)(options) {
                ffi::Ok(sign_in) => sign_in,
                ffi::Err(e) => return ffi::Err(e),
                _ => panic!("sign_in_create panicked"),
            };
            let connection = (self.create_connection)(sign_in);
            (self.destroy_sign_in)(sign_in);
            connection
        }
    }
}

fn emulator() -> BackgroundEmulator {
    let seed = Seed::from_json(
        r#"{"tenantGroups":[{"name":"Default Tenant Group","tenants":[{"name":"Contoso","hostPools":[{"name":"Pool1","sessionHosts":[
            {"name":"sh1","sessions":[
              {"sessionId":17,"userPrincipalName":"a","adUserName":"C\\a","applicationType":"Desktop","sessionState":"Active","createTime":"2026-11-23T00:00:00Z"},
              {"sessionId":18,"userPrincipalName":"b","adUserName":"C\\b","applicationType":"Desktop","sessionState":"Active","createTime":"2026-11-23T00:00:00Z"}]}]}]}]}]}"#,
    )
    .expect("seed");
    BackgroundEmulator::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .expect("emulator")
}

fn sessions_left(emu: &BackgroundEmulator) -> Vec<i32> {
    emu.state().tenant_groups[0].tenants[0].host_pools[0].session_hosts[0]
        .sessions
        .iter()
        .map(|s| s.session_id)
        .collect()
}

#[test]
fn version_is_the_workspace_version() {
    let abi = load();
    // SAFETY: no arguments; returns an owned string.
    let v = unsafe { (abi.version)() };
    assert_eq!(v.as_str(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn create_logoff_destroy_through_the_c_abi() {
    let emu = emulator();
    let abi = load();
    let created = abi.create(&emu.url(), "Default Tenant Group", DEFAULT_ACCESS_TOKEN);
    let connection = match created {
        ffi::Ok(c) => c,
        _ => panic!("create failed"),
    };
    // SAFETY: `connection` is a live handle from `create`.
    let group = unsafe { (abi.tenant_group)(connection) };
    assert_eq!(group.as_str(), "Default Tenant Group");

    // SAFETY: as above.
    let done = unsafe {
        (abi.logoff)(
            connection,
            s("Contoso"),
            s("Pool1"),
            s("sh1"),
            17,
            ffi::Bool::from(false),
        )
    };
    match done {
        ffi::Ok(d) => assert_eq!(d.http_status, 200),
        ffi::Err(e) => panic!("logoff failed: {}", e.message()),
        _ => panic!("logoff panicked"),
    }
    assert_eq!(sessions_left(&emu), vec![18]);

    // SAFETY: as above.
    let missing = unsafe {
        (abi.logoff)(
            connection,
            s("Contoso"),
            s("Pool1"),
            s("sh1"),
            17,
            ffi::Bool::from(false),
        )
    };
    match missing {
        ffi::Err(e) => {
            assert_eq!(e.error_kind(), ErrorKind::NotFound);
            assert_eq!(e.error_id(), "SessionNotFound");
            assert_eq!(e.http_status, 404);
            assert_eq!(e.service_code.as_str(), "SessionNotFound");
        }
        _ => panic!("expected a typed NotFound"),
    }

    // SAFETY: destroying the handle once.
    unsafe { (abi.destroy)(connection) };
}

#[test]
fn invalid_input_is_a_typed_error_not_a_crash() {
    let abi = load();
    for (url, token, needle) in [
        ("http://example.com", "t", "https is required"),
        ("https://u:p@example.com", "t", "user name or password"),
        ("https://example.com", "   ", "AccessToken"),
        ("", "t", "empty"),
    ] {
        let created = abi.create(url, "Default Tenant Group", token);
        match created {
            ffi::Err(e) => {
                assert_eq!(e.error_kind(), ErrorKind::InvalidInput, "{url}");
                assert!(e.message().contains(needle), "{url}: {}", e.message());
                assert!(
                    !e.message().contains("u:p@"),
                    "the user-info must not be echoed"
                );
            }
            _ => panic!("{url}: expected InvalidInput"),
        }
    }
}

#[test]
fn a_panic_inside_the_library_comes_back_as_a_typed_error() {
    let abi = load();
    // SAFETY: the symbol type mirrors `rds_check_panic_barrier`.
    let check = unsafe {
        *abi._lib
            .get::<PanicBarrier>(b"rds_check_panic_barrier")
            .expect("symbol")
    };
    for _ in 0..3 {
        // SAFETY: no arguments.
        match unsafe { check() } {
            ffi::Err(e) => {
                assert_eq!(e.error_kind(), ErrorKind::Internal);
                assert!(e.message().contains("deliberate panic"), "{}", e.message());
            }
            _ => panic!("the panic was not turned into an error"),
        }
    }
    // The library still works after the panics.
    // SAFETY: no arguments.
    assert_eq!(
        unsafe { (abi.version)() }.as_str(),
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn retry_settings_cross_the_abi_by_value_and_are_validated() {
    let abi = load();
    // SAFETY: the symbol types mirror `create_with_retry_settings` and `retry_settings`.
    let (with_settings, settings_of) = unsafe {
        (
            *abi._lib
                .get::<WithRetrySettings>(b"rds_connection_create_with_retry_settings")
                .expect("symbol"),
            *abi._lib
                .get::<GetRetrySettings>(b"rds_connection_retry_settings")
                .expect("symbol"),
        )
    };
    // Nothing is sent.
    let source = match abi.create("https://broker.example.com", "Default Tenant Group", "t") {
        ffi::Ok(c) => c,
        _ => panic!("create failed"),
    };
    // SAFETY: live handle.
    let defaults = unsafe { settings_of(source) };
    assert_eq!(
        (
            defaults.max_retries,
            defaults.initial_delay_ms,
            defaults.total_deadline_ms,
            defaults.request_timeout_ms
        ),
        (4, 500, 120_000, 60_000)
    );

    let wanted = RetrySettings {
        max_retries: 0,
        initial_delay_ms: 50,
        total_deadline_ms: 5_000,
        request_timeout_ms: 9_000,
    };
    // SAFETY: live handle, settings by value.
    let changed = match unsafe { with_settings(source, wanted) } {
        ffi::Ok(c) => c,
        ffi::Err(e) => panic!("refused: {}", e.message()),
        _ => panic!("panicked"),
    };
    // SAFETY: live handles.
    unsafe {
        assert_eq!(settings_of(changed), wanted);
        assert_eq!(
            settings_of(source),
            defaults,
            "the source keeps its settings"
        );
    }

    let too_many = RetrySettings {
        max_retries: 21,
        ..wanted
    };
    // SAFETY: live handle.
    match unsafe { with_settings(source, too_many) } {
        ffi::Err(e) => {
            assert_eq!(e.error_kind(), ErrorKind::InvalidInput);
            assert!(e.message().contains("MaximumRetryCount"), "{}", e.message());
        }
        _ => panic!("21 retries were accepted"),
    }

    // SAFETY: each handle destroyed once.
    unsafe {
        (abi.destroy)(changed);
        (abi.destroy)(source);
    }
}
