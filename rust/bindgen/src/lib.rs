//! Generation of `bindings/Interop.cs` from [`rds_sessions::ffi_inventory`].

use interoptopus_csharp::RustLibrary;
use interoptopus_csharp::config::HeaderConfig;
use interoptopus_csharp::dispatch::Dispatch;
use interoptopus_csharp::output::Target;
use std::path::PathBuf;

/// File name of the generated bindings inside `bindings/`.
pub const FILE_NAME: &str = "Interop.cs";

/// C# namespace of the generated code. The cmdlets live in `RdsSessions.Commands`.
pub const NAMESPACE: &str = "RdsSessions.Native";

/// `<repo>/bindings/Interop.cs`.
pub fn committed_bindings_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../bindings")
        .join(FILE_NAME)
}

/// The C# source the current Rust FFI surface generates.
pub fn generate() -> Result<String, Box<dyn std::error::Error>> {
    let output = RustLibrary::builder(rds_sessions::ffi_inventory())
        .dll_name("rds_sessions")
        // Everything in one file and namespace: one artefact to diff and to compile.
        .dispatch(Dispatch::custom(|_, _| Target::new(FILE_NAME, NAMESPACE)))
        // No generator version or timestamp in the header, so the file is reproducible.
        .headers(HeaderConfig {
            emit_version: false,
        })
        .build()
        .process()?;
    let text = output
        .buffer(FILE_NAME)
        .ok_or("the generator produced no Interop.cs")?;
    Ok(text.to_string())
}
