//! The `hallpass` binary: wiring only. Usage errors exit 2 (clap), failures
//! exit 1 with a one-line reason on standard error, and an import that
//! refused rows exits 3 (`RowsRefused`).

use std::process::ExitCode;

use clap::Parser;
use hallpass::cli::{Cli, Command, RowsRefused, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo | Command::Console { .. } | Command::Bench { .. } => {
            hallpass::telemetry::init_with_default("warn")
        }
        _ => hallpass::telemetry::init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("hallpass: Failed to start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<RowsRefused>().is_some() => {
            eprintln!("hallpass: {e:#}");
            ExitCode::from(RowsRefused::EXIT_STATUS)
        }
        Err(e) => {
            eprintln!("hallpass: {e:#}");
            ExitCode::FAILURE
        }
    }
}
