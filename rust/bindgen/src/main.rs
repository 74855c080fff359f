//! `rds-bindgen`: writes the C# bindings of the `rds_sessions` native library.
//!
//! ```text
//! cargo run -p rds-bindgen            # regenerate bindings/Interop.cs
//! cargo run -p rds-bindgen -- --check # exit 1 if the committed file differs
//! ```
//! The generated file is committed and never edited by hand; `cargo test -p rds-bindgen`
//! fails when it is stale.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let check = std::env::args().skip(1).any(|a| a == "--check");
    let path = rds_bindgen::committed_bindings_path();
    let generated = match rds_bindgen::generate() {
        Ok(text) => text,
        Err(e) => {
            eprintln!("rds-bindgen: generating the bindings failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    if check {
        return match std::fs::read_to_string(&path) {
            Ok(committed) if committed == generated => {
                eprintln!("rds-bindgen: {} is up to date", display(&path));
                ExitCode::SUCCESS
            }
            Ok(_) => {
                eprintln!(
                    "rds-bindgen: {} differs from what the Rust code generates; run `cargo run -p rds-bindgen` and commit it",
                    display(&path)
                );
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("rds-bindgen: cannot read {}: {e}", display(&path));
                ExitCode::FAILURE
            }
        };
    }
    match std::fs::write(&path, generated) {
        Ok(()) => {
            eprintln!("rds-bindgen: wrote {}", display(&path));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rds-bindgen: cannot write {}: {e}", display(&path));
            ExitCode::FAILURE
        }
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
