//! Fails when `bindings/Interop.cs` is not exactly what the Rust FFI surface generates.

#[test]
fn committed_bindings_match_the_generated_ones() {
    let generated = rds_bindgen::generate().expect("bindings generate");
    let path = rds_bindgen::committed_bindings_path();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `cargo run -p rds-bindgen` and commit the result",
        path.display()
    );
}

#[test]
fn generated_bindings_expose_the_logoff_surface() {
    let generated = rds_bindgen::generate().expect("bindings generate");
    for needle in [
        "class RdsConnection",
        "class SignIn",
        "CompleteAsync",
        "Logoff",
        "SessionActionAsync",
        "ListSessionsAsync",
        "CreateThrottled",
        "rds_version",
        "rds_error_ids",
        "rds_retry_limits",
        "ErrorInfo",
    ] {
        assert!(
            generated.contains(needle),
            "generated bindings lack {needle}"
        );
    }
}
