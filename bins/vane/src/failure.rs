//! How a failed run ends: the error's class decides the exit code (documented in
//! `docs/reliability.md`), the message goes to stderr once (each cause once, even where a
//! library error already prints its source), as JSON under `--json`, and a panic becomes an
//! "internal error" with exit code 70 instead of a backtrace.

use std::io::Write;

use vane_core::ErrorClass;

/// An error the CLI itself raises: a bad argument found by a command rather than by clap (exit
/// code 2), or a run that finished and reported a failure in its output, a partial download say
/// (exit code 1).
#[derive(Debug)]
pub(crate) enum Marked {
    /// A bad argument.
    Usage(String),
    /// A failure the run's own output reports.
    Reported(String),
}

impl std::fmt::Display for Marked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Marked::Usage(m) | Marked::Reported(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Marked {}

/// A bad argument: `return Err(usage(format!(...)))`.
pub(crate) fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Marked::Usage(msg.into()))
}

/// What the process does with an error.
pub(crate) enum Outcome {
    /// Exit quietly with success: the reader of our stdout went away (`vane ... | head`).
    ClosedPipe,
    /// The run reported its own failure: exit 1.
    Reported,
    /// An error of a class.
    Class(ErrorClass),
}

/// Classifies `e` by the first error in its chain that knows its class. Errors built from a
/// bare message (`Option::context` on a missing flag) are usage errors.
pub(crate) fn outcome(e: &anyhow::Error) -> Outcome {
    macro_rules! typed {
        ($cause:expr, $($t:ty),+) => {
            $(if let Some(x) = $cause.downcast_ref::<$t>() { return Outcome::Class(x.class()); })+
        };
    }
    if e.chain()
        .any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
    {
        return Outcome::ClosedPipe;
    }
    for cause in e.chain() {
        match cause.downcast_ref::<Marked>() {
            Some(Marked::Reported(_)) => return Outcome::Reported,
            Some(Marked::Usage(_)) => return Outcome::Class(ErrorClass::Usage),
            None => {}
        }
        typed!(
            cause,
            vane_pipeline::JobError,
            vane_pipeline::PipelineError,
            vane_models::ModelError,
            vane_tabular::TabularError,
            vane_tabular::TableError,
            vane_postgres::PgError,
            vane_market_data::MarketDataError,
            vane_calibration::CalibrationError,
            vane_backtest::BacktestError,
            vane_report::ReportError,
            vane_validation::ValidationError,
            vane_labeling::LabelError,
            vane_indicators::IndicatorError,
            vane_costs::CostError,
            vane_server::ServerError,
            vane_server::jobs::JobError,
            vane_artifact::ArtifactError,
            vane_core::CoreError
        );
        if cause.is::<std::io::Error>() {
            return Outcome::Class(ErrorClass::Io);
        }
        if cause.is::<serde_json::Error>() {
            return Outcome::Class(ErrorClass::Data);
        }
    }
    Outcome::Class(ErrorClass::Usage)
}

/// The error's messages, outermost first, leaving out a cause whose text the message before it
/// already contains (library errors print their source inline, anyhow would print it again).
pub(crate) fn messages(e: &anyhow::Error) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for cause in e.chain() {
        let m = cause.to_string();
        if out.last().is_some_and(|prev| prev.contains(&m)) {
            continue;
        }
        out.push(m);
    }
    out
}

/// Prints `e` to stderr (one line `error: a: b: c`, or a JSON object under `--json`) and returns
/// the exit code.
pub(crate) fn report(e: &anyhow::Error, json: bool) -> u8 {
    let class = match outcome(e) {
        Outcome::ClosedPipe => return 0,
        Outcome::Reported => None,
        Outcome::Class(c) => Some(c),
    };
    let code = class.map_or(1, ErrorClass::exit_code);
    let msgs = messages(e);
    let mut err = std::io::stderr().lock();
    if json {
        let v = serde_json::json!({
            "error": {
                "class": class.map_or("failure", ErrorClass::name),
                "exit_code": code,
                "message": msgs.join(": "),
                "causes": msgs,
            }
        });
        let _ = writeln!(err, "{v}");
    } else {
        let _ = writeln!(err, "error: {}", msgs.join(": "));
    }
    code
}

/// Installs a panic hook that prints one "internal error" line (with `--json`, a JSON object)
/// instead of Rust's panic message; `run` turns the unwound panic into exit code 70.
pub(crate) fn install_panic_hook(json: bool) {
    std::panic::set_hook(Box::new(move |info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let message =
            format!("internal error (a bug in vane; please report it with the command you ran): {payload}{place}");
        let mut err = std::io::stderr().lock();
        if json {
            let v = serde_json::json!({
                "error": {"class": "internal", "exit_code": ErrorClass::Internal.exit_code(), "message": message}
            });
            let _ = writeln!(err, "{v}");
        } else {
            let _ = writeln!(err, "error: {message}");
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(e: &anyhow::Error) -> Option<ErrorClass> {
        match outcome(e) {
            Outcome::Class(c) => Some(c),
            _ => None,
        }
    }

    #[test]
    fn classes_come_from_the_first_typed_error_in_the_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e =
            anyhow::Error::new(vane_artifact::ArtifactError::io("reading", "x.json", io)).context("loading the model");
        assert_eq!(class(&e), Some(ErrorClass::Io));
        let e = anyhow::Error::new(vane_core::CoreError::InvalidSymbol("x".into())).context("a.csv");
        assert_eq!(class(&e), Some(ErrorClass::Data));
        assert_eq!(class(&anyhow::anyhow!("--symbol needs --interval")), Some(ErrorClass::Usage));
        let pipe = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe");
        assert!(matches!(outcome(&anyhow::Error::new(pipe).context("writing")), Outcome::ClosedPipe));
        assert!(matches!(outcome(&Marked::Reported("1 failed".into()).into()), Outcome::Reported));
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file (os error 2)");
        let e = anyhow::Error::new(vane_artifact::ArtifactError::io("reading", "x.json", io)).context("loading");
        assert_eq!(messages(&e), vec!["loading".to_string(), "reading x.json: No such file (os error 2)".to_string()]);
    }
}
