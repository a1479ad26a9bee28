//! `vane import`, `export`, `data info`, `resample` and `demo`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use vane_core::{Bars, Interval, Symbol, Timestamp};
use vane_market_data::{Gap, ParquetStore, gap_report, read_csv, write_csv};

use crate::DataDir;

#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// The CSV file (`open_time_ms,open,high,low,close,volume[,...]`).
    #[arg(long)]
    csv: PathBuf,
    /// The symbol the file holds.
    #[arg(long)]
    symbol: Symbol,
    /// The bar interval of the file.
    #[arg(long)]
    interval: Interval,
    #[command(flatten)]
    data: DataDir,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct ImportReport {
    symbol: Symbol,
    interval: Interval,
    path: PathBuf,
    rows_read: usize,
    added: usize,
    replaced: usize,
    total: usize,
}

pub(crate) fn import(a: ImportArgs) -> Result<()> {
    let store = ParquetStore::new(&a.data.data_dir);
    let r = import_into(&store, &a.csv, &a.symbol, a.interval)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "imported {} rows of {} {} from {}: {} added, {} replaced, {} stored in {}",
            r.rows_read,
            r.symbol,
            r.interval,
            a.csv.display(),
            r.added,
            r.replaced,
            r.total,
            r.path.display()
        );
    }
    Ok(())
}

fn import_into(store: &ParquetStore, csv: &Path, symbol: &Symbol, interval: Interval) -> Result<ImportReport> {
    let bars = read_csv(csv, Some(interval))?;
    let s = store.append(symbol, interval, &bars)?;
    Ok(ImportReport {
        symbol: symbol.clone(),
        interval,
        path: store.path(symbol, interval),
        rows_read: bars.len(),
        added: s.added,
        replaced: s.replaced,
        total: s.total,
    })
}

#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// The stored symbol.
    #[arg(long)]
    symbol: Symbol,
    /// The stored interval.
    #[arg(long)]
    interval: Interval,
    /// Output CSV file.
    #[arg(long)]
    csv: PathBuf,
    /// Only bars opening at or after this time (YYYY-MM-DD or ms).
    #[arg(long)]
    from: Option<Timestamp>,
    /// Only bars opening before this time.
    #[arg(long)]
    to: Option<Timestamp>,
    #[command(flatten)]
    data: DataDir,
}

pub(crate) fn export(a: ExportArgs) -> Result<()> {
    let store = ParquetStore::new(&a.data.data_dir);
    let bars = store.read_range(
        &a.symbol,
        a.interval,
        a.from.unwrap_or(Timestamp(i64::MIN)),
        a.to.unwrap_or(Timestamp(i64::MAX)),
    )?;
    write_csv(&a.csv, &bars, Some(a.interval))?;
    println!("exported {} rows of {} {} to {}", bars.len(), a.symbol, a.interval, a.csv.display());
    Ok(())
}

#[derive(Debug, clap::Args)]
pub(crate) struct InfoArgs {
    #[command(flatten)]
    data: DataDir,
    /// Print JSON: `{"files":[{symbol, interval, rows, first_open_time_ms, last_open_time_ms, gaps, duplicates, misaligned}]}`.
    #[arg(long)]
    json: bool,
}

/// One line of `data info`.
#[derive(Debug, Serialize)]
struct FileInfo {
    symbol: Symbol,
    interval: Interval,
    rows: usize,
    first_open_time_ms: Option<i64>,
    last_open_time_ms: Option<i64>,
    gaps: Vec<Gap>,
    duplicates: usize,
    misaligned: usize,
}

fn collect_info(store: &ParquetStore) -> Result<Vec<FileInfo>> {
    let mut files = Vec::new();
    for s in store.list()? {
        let bars = store.read(&s.symbol, s.interval)?;
        let rep = gap_report(bars.open_time(), s.interval);
        files.push(FileInfo {
            symbol: s.symbol,
            interval: s.interval,
            rows: bars.len(),
            first_open_time_ms: bars.first_open_time().map(|t| t.0),
            last_open_time_ms: bars.last_open_time().map(|t| t.0),
            gaps: rep.gaps,
            duplicates: rep.duplicates,
            misaligned: rep.misaligned,
        });
    }
    Ok(files)
}

pub(crate) fn info(a: InfoArgs) -> Result<()> {
    let store = ParquetStore::new(&a.data.data_dir);
    let files = collect_info(&store)?;
    if a.json {
        println!("{}", serde_json::to_string(&serde_json::json!({ "files": files }))?);
    } else {
        print_table(&store, &files);
    }
    Ok(())
}

fn print_table(store: &ParquetStore, files: &[FileInfo]) {
    if files.is_empty() {
        println!("no candle files in {}", store.dir().display());
        return;
    }
    println!(
        "{:<12} {:>4} {:>8}  {:<20}  {:<20}  {:>5} {:>8} {:>5}",
        "symbol", "int", "rows", "first open (UTC)", "last open (UTC)", "gaps", "missing", "dups"
    );
    let t = |v: Option<i64>| v.map(|x| Timestamp(x).to_string()).unwrap_or_else(|| "-".into());
    for f in files {
        println!(
            "{:<12} {:>4} {:>8}  {:<20}  {:<20}  {:>5} {:>8} {:>5}",
            f.symbol.as_str(),
            f.interval.as_str(),
            f.rows,
            t(f.first_open_time_ms),
            t(f.last_open_time_ms),
            f.gaps.len(),
            f.gaps.iter().map(|g| g.missing_bars).sum::<i64>(),
            f.duplicates
        );
        for g in f.gaps.iter().take(5) {
            println!("    gap after {}: {} missing bar(s)", Timestamp(g.after_open_time_ms), g.missing_bars);
        }
        if f.gaps.len() > 5 {
            println!("    ... {} more gap(s)", f.gaps.len() - 5);
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct ResampleArgs {
    /// Source: a stored symbol (with --from) ...
    #[arg(long, required_unless_present = "input")]
    symbol: Option<Symbol>,
    /// ... or a CSV file.
    #[arg(long, conflicts_with = "symbol")]
    input: Option<PathBuf>,
    /// Interval of the source bars.
    #[arg(long)]
    from: Interval,
    /// Target interval (a whole multiple of --from).
    #[arg(long)]
    to: Interval,
    /// Write a CSV here instead of storing `<SYMBOL>_<to>.parquet`.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Keep incomplete buckets at the start and end of the data.
    #[arg(long)]
    keep_partial: bool,
    #[command(flatten)]
    data: DataDir,
}

pub(crate) fn resample(a: ResampleArgs) -> Result<()> {
    let store = ParquetStore::new(&a.data.data_dir);
    let src: Bars = match (&a.input, &a.symbol) {
        (Some(p), _) => read_csv(p, Some(a.from))?,
        (None, Some(s)) => store.read(s, a.from)?,
        (None, None) => bail!("give --symbol or --input"),
    };
    let out = vane_market_data::resample(&src, a.from, a.to, a.keep_partial)?;
    match (&a.output, &a.symbol) {
        (Some(p), _) => {
            write_csv(p, &out, Some(a.to))?;
            println!("resampled {} {} bars into {} {} bars in {}", src.len(), a.from, out.len(), a.to, p.display());
        }
        (None, Some(s)) => {
            store.write(s, a.to, &out)?;
            println!(
                "resampled {} {} bars into {} {} bars in {}",
                src.len(),
                a.from,
                out.len(),
                a.to,
                store.path(s, a.to).display()
            );
        }
        (None, None) => bail!("--output is required when reading from --input"),
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// Where the demo writes its store and artifacts.
    #[arg(long, default_value = "vane-demo")]
    dir: PathBuf,
    /// The bundled fixtures folder (default: ./fixtures, else the one in the source tree).
    #[arg(long)]
    fixtures: Option<PathBuf>,
}

/// The bundled real candles the demo imports: (file under fixtures/, symbol, interval).
const DEMO_FILES: [(&str, &str, Interval); 3] = [
    ("BTCUSDT_4h.csv", "BTCUSDT", Interval::H4),
    ("ETHUSDT_4h.csv", "ETHUSDT", Interval::H4),
    ("SOLUSDT_15m.csv", "SOLUSDT", Interval::M15),
];

pub(crate) fn fixtures_dir(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    let local = PathBuf::from("fixtures");
    if local.join("BTCUSDT_4h.csv").is_file() {
        return Ok(local);
    }
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    if built_in.join("BTCUSDT_4h.csv").is_file() {
        return Ok(built_in);
    }
    bail!("cannot find the bundled fixtures: run from the repository root or pass --fixtures DIR")
}

pub(crate) fn demo(a: DemoArgs) -> Result<()> {
    let fixtures = fixtures_dir(a.fixtures.as_deref())?;
    let store = ParquetStore::new(a.dir.join("data"));
    println!("vane demo: bundled real candles from {} (provenance: SOURCES.md there)\n", fixtures.display());
    println!("1. import");
    for (file, sym, iv) in DEMO_FILES {
        let symbol = Symbol::new(sym)?;
        let path = fixtures.join(file);
        let r = import_into(&store, &path, &symbol, iv).with_context(|| format!("importing {}", path.display()))?;
        println!("   {file:<16} -> {} ({} rows, {} new)", r.path.display(), r.total, r.added);
    }
    println!("\n2. resample SOLUSDT 15m -> 1h, 4h");
    let sol = Symbol::new("SOLUSDT")?;
    let m15 = store.read(&sol, Interval::M15)?;
    for to in [Interval::H1, Interval::H4] {
        let out = vane_market_data::resample(&m15, Interval::M15, to, false)?;
        store.write(&sol, to, &out)?;
        println!("   SOLUSDT {to:<3} {} bars", out.len());
    }
    println!("\n3. data report ({})", store.dir().display());
    print_table(&store, &collect_info(&store)?);
    // Seed 001: one global 4h model over BTCUSDT and ETHUSDT (fast mode, offline).
    println!(
        "\n4. train seed 001 (v1 features, fixed-horizon labels H = 6, θ by walk-forward macro-F1, GBDT with the symbol as a categorical, min_conf by net edge)"
    );
    let arts = a.dir.join("artifacts");
    let cfg = vane_pipeline::TrainConfig::default();
    let report = vane_pipeline::train(&store, &arts, &cfg, vane_pipeline::Mode::Fast, false)?;
    crate::pipeline::print_report(&report);
    println!("\n5. predict the last closed bar");
    for s in &cfg.symbols {
        let bars = store.read(s, cfg.interval)?;
        let p = vane_pipeline::Predictor::for_symbol(&arts, s)?.predict(s, &bars)?;
        println!("   {}", serde_json::to_string(&p)?);
    }
    println!(
        "\n6. a sequence model: seed 000's HRM (64/64, high period 10) over 30-bar windows of v1 features, seed 002's trainer (quick_experiment, 3 epochs)"
    );
    let job = vane_pipeline::sequence::SequenceJob::from_toml(
        "[data]\nsymbols = [\"BTCUSDT\", \"ETHUSDT\"]\nseq_len = 30\n[model]\nkind = \"hrm\"\n\
         [train]\npreset = \"quick_experiment\"\nepochs = 3\nlearning_rate = 1e-3\n",
    )?;
    let r = vane_pipeline::sequence::train_sequence(&store, &arts, &job, &[], false, &mut vane_models::train::Quiet)?;
    let m = &r.metrics;
    println!(
        "   {} params, {} training / {} validation windows; best epoch {}: validation loss {:.4}, accuracy {:.3}, macro-F1 {:.3}",
        m.param_count, m.n_train, m.n_valid, m.best_epoch, m.val_loss, m.val_accuracy, m.val_macro_f1
    );
    let passed = r.checklist.items.iter().filter(|i| i.ok).count();
    println!("   seed 002 checklist: {passed}/{} pass; {}", r.checklist.items.len(), r.dir.display());
    println!("\nartifacts: {}", arts.join("models").display());
    Ok(())
}
