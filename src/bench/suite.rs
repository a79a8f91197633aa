//! Runs every scenario in order and assembles the summary object of
//! `interfaces.md`, printing one human-readable line per scenario as it ends.
//! A scenario that fails, or cannot run because the one it builds on failed,
//! carries `{"error": "why"}`; the others still run.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

use crate::roster::write_sample_bundle;
use crate::store::Store;

use super::world::{Directory, FreshDb};
use super::{BenchScale, autocomplete, drain, edit, import, machine, reset, signin};

const SCENARIOS_SQLITE: &[&str] = &[
    "import_sqlite",
    "autocomplete_sqlite",
    "edit_submit_sqlite",
    "reset_throughput",
    "autocomplete_under_resets",
];
const SCENARIOS_POSTGRES: &[&str] = &["import_postgres", "autocomplete_postgres"];
const SCENARIOS_OTHER: &[&str] = &["outbox_drain", "signin"];

/// Refuses an `--only` name that is not a scenario, naming those that are.
pub fn check_scenarios(only: &[String]) -> Result<()> {
    let known = || {
        SCENARIOS_SQLITE
            .iter()
            .chain(SCENARIOS_POSTGRES)
            .chain(SCENARIOS_OTHER)
    };
    match only.iter().find(|n| !known().any(|k| k == n)) {
        Some(unknown) => Err(anyhow::anyhow!(
            "There is no benchmark scenario {unknown:?}; the scenarios are {}.",
            known().copied().collect::<Vec<_>>().join(", ")
        )),
        None => Ok(()),
    }
}

/// Runs the suite at `scale`; human lines go to `out`, the summary is returned.
pub async fn run_suite(scale: &BenchScale, out: &mut dyn Write) -> Value {
    let mut summary = Summary {
        fields: Map::new(),
        out,
    };
    summary.put("machine", Ok(machine::machine()));
    match bundle(scale.users) {
        Ok(bundle) => {
            if scale.wants_any(SCENARIOS_SQLITE) {
                sqlite(scale, bundle.path(), &mut summary).await;
            }
            if scale.wants_any(SCENARIOS_POSTGRES) {
                postgres(scale, bundle.path(), &mut summary).await;
            }
        }
        Err(e) => {
            for name in SCENARIOS_SQLITE.iter().chain(SCENARIOS_POSTGRES) {
                summary.fail(name, &e);
            }
        }
    }
    if scale.wants("outbox_drain") {
        let drained = drain::scenario(scale.drain_requests).await;
        summary.put("outbox_drain", drained);
    }
    if scale.wants("signin") {
        summary.put("signin", signin::scenario(scale).await);
    }
    summary.peak_rss();
    Value::Object(summary.fields)
}

struct Summary<'a> {
    fields: Map<String, Value>,
    out: &'a mut dyn Write,
}

impl Summary<'_> {
    fn put(&mut self, name: &str, result: Result<Value>) {
        let value = match result {
            Ok(value) => value,
            Err(e) => json!({"error": format!("{e:#}")}),
        };
        let _ = writeln!(self.out, "{name}: {}", human(&value));
        let _ = self.out.flush();
        self.fields.insert(name.to_owned(), value);
    }

    /// `peak_rss_mib`: the largest peak of the serving processes (the
    /// autocomplete scenarios'); `bench_peak_rss_mib`: this process's own,
    /// which holds the generated roster, the imports and the load generator.
    fn peak_rss(&mut self) {
        let served = ["autocomplete_sqlite", "autocomplete_postgres"]
            .iter()
            .filter_map(|name| self.fields.get(*name)?.get("server_peak_rss_mib")?.as_f64())
            .reduce(f64::max);
        match served {
            Some(mib) => {
                let _ = writeln!(self.out, "peak_rss_mib: {mib}");
                self.fields.insert("peak_rss_mib".into(), json!(mib));
            }
            None => self.put(
                "peak_rss_mib",
                Err(anyhow::anyhow!("no serving process was measured")),
            ),
        }
        match machine::peak_rss_mib() {
            Ok(mib) => {
                let _ = writeln!(self.out, "bench_peak_rss_mib: {mib}");
                self.fields.insert("bench_peak_rss_mib".into(), json!(mib));
            }
            Err(e) => self.put("bench_peak_rss_mib", Err(e)),
        }
    }

    fn fail(&mut self, name: &str, cause: &anyhow::Error) {
        self.put(name, Err(anyhow::anyhow!("{cause:#}")));
    }
}

/// `key=value key=value` for a terminal.
fn human(value: &Value) -> String {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

fn bundle(users: usize) -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir().context("Failed to create a directory for the roster")?;
    write_sample_bundle(dir.path(), users, 1).context("Failed to write the roster bundle")?;
    // The import's floor is `users.csv` loaded into a plain table (issue 8),
    // so the measured import reads the orgs and users alone, as it did before
    // bundles carried classes.
    for classes in ["classes.csv", "enrollments.csv"] {
        let path = dir.path().join(classes);
        if path.exists() {
            std::fs::remove_file(&path).with_context(|| format!("Failed to remove {classes}"))?;
        }
    }
    Ok(dir)
}

/// Imports into a fresh database and builds the directory on it.
async fn imported(
    db: &FreshDb,
    bundle: &Path,
    users: usize,
    name: &str,
    summary: &mut Summary<'_>,
) -> Result<(Store, Arc<Directory>)> {
    let store = db.open().await?;
    let result = import::import_scenario(&store, bundle, users).await;
    let failed = result.as_ref().err().map(|e| anyhow::anyhow!("{e:#}"));
    summary.put(name, result);
    if let Some(e) = failed {
        store.close().await;
        return Err(e.context("the directory could not be imported"));
    }
    match Directory::prepare(&store).await {
        Ok(dir) => Ok((store, Arc::new(dir))),
        Err(e) => {
            store.close().await;
            Err(e.context("the imported directory could not be prepared"))
        }
    }
}

async fn sqlite(scale: &BenchScale, bundle: &Path, summary: &mut Summary<'_>) {
    let db = match FreshDb::sqlite().await {
        Ok(db) => db,
        Err(e) => {
            SCENARIOS_SQLITE.iter().for_each(|n| summary.fail(n, &e));
            return;
        }
    };
    let (store, dir) = match imported(&db, bundle, scale.users, "import_sqlite", summary).await {
        Ok(done) => done,
        Err(e) => {
            SCENARIOS_SQLITE[1..]
                .iter()
                .for_each(|n| summary.fail(n, &e));
            return;
        }
    };
    if scale.wants("autocomplete_sqlite") {
        let alone = autocomplete::scenario(&dir, scale, scale.users, db.url()).await;
        summary.put("autocomplete_sqlite", alone);
    }
    if scale.wants("edit_submit_sqlite") {
        summary.put("edit_submit_sqlite", edit::scenario(&dir, scale).await);
    }
    if scale.wants("reset_throughput") {
        summary.put("reset_throughput", reset::scenario(&dir, scale).await);
    }
    if scale.wants("autocomplete_under_resets") {
        let under = autocomplete::under_resets(&dir, scale).await;
        summary.put("autocomplete_under_resets", under);
    }
    store.close().await;
}

async fn postgres(scale: &BenchScale, bundle: &Path, summary: &mut Summary<'_>) {
    let db = match FreshDb::postgres(&scale.postgres_url).await {
        Ok(db) => db,
        Err(e) => {
            SCENARIOS_POSTGRES.iter().for_each(|n| summary.fail(n, &e));
            return;
        }
    };
    match imported(&db, bundle, scale.users, "import_postgres", summary).await {
        Ok((store, dir)) => {
            if scale.wants("autocomplete_postgres") {
                let result = autocomplete::scenario(&dir, scale, scale.users, db.url()).await;
                summary.put("autocomplete_postgres", result);
            }
            store.close().await;
        }
        Err(e) => summary.fail("autocomplete_postgres", &e),
    }
    if let Err(e) = db.remove().await {
        let _ = writeln!(summary.out, "warning: {e:#}");
    }
}
