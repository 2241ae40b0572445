//! `rossignol-bench chaos`: faults injected into real servers and real
//! processes, each case printed as what was done, what was expected and
//! what was seen, with its figures. `scripts/chaos` starts nothing itself
//! beyond building: this module starts DynamoDB Local (on disk, so that it
//! can be killed and restarted) and moto, and stops them by PID.

mod cases;
mod process;
mod proxy;
mod servers;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;
use aws_sdk_dynamodb::Client;

use crate::setup;
use servers::{DynamoLocal, Moto};

/// How long any single wait in a case may last before it fails.
pub const PATIENCE: Duration = Duration::from_secs(300);

#[derive(Debug, clap::Args)]
pub struct ChaosArgs {
    /// Smaller counts, for CI (2,000 creates, 1,000 load events, 10,000 soak)
    #[arg(long)]
    quick: bool,
    /// DynamoDB Local's directory (holding DynamoDBLocal.jar and DynamoDBLocal_lib)
    #[arg(long, env = "ROSSIGNOL_CHAOS_DYNAMODB_DIR")]
    dynamodb_dir: PathBuf,
    /// The command that runs moto's server
    #[arg(long, env = "ROSSIGNOL_CHAOS_MOTO", default_value = "moto_server")]
    moto: String,
    /// Where the `rossignol` and `rossignol-lambda` binaries are [default: this binary's directory]
    #[arg(long, value_name = "DIR")]
    binaries: Option<PathBuf>,
    /// Only these cases (numbers, comma-separated)
    #[arg(long, value_delimiter = ',')]
    only: Vec<u32>,
    /// Lambda instances per function in the load case
    #[arg(long, default_value_t = 3)]
    instances: usize,
}

/// The counts of one run.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub creates: u64,
    pub load_events: u64,
    pub soak: u64,
    pub lifecycle_rows: u64,
}

impl Sizes {
    fn of(quick: bool) -> Self {
        if quick {
            Sizes { creates: 2_000, load_events: 1_000, soak: 10_000, lifecycle_rows: 1_000 }
        } else {
            Sizes { creates: 20_000, load_events: 10_000, soak: 100_000, lifecycle_rows: 10_000 }
        }
    }
}

/// What the cases share: the servers, the binaries and a scratch directory.
#[derive(Debug)]
pub struct Ctx {
    pub dir: PathBuf,
    pub rossignol: PathBuf,
    pub lambda: PathBuf,
    pub ddb: DynamoLocal,
    pub moto: Moto,
    pub client: Client,
    pub kms: aws_sdk_kms::Client,
    pub key: [u8; 32],
    pub sizes: Sizes,
    pub instances: usize,
}

/// One case's outcome.
#[derive(Debug)]
pub struct Case {
    pub number: u32,
    pub title: &'static str,
    pub done: String,
    pub expected: String,
    pub seen: String,
    pub ok: bool,
}

impl Ctx {
    /// `rossignol --config CONFIG ARGS...`, with test credentials.
    pub fn rossignol(&self, config: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(&self.rossignol);
        command
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", setup::REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("ROSSIGNOL_ENV")
            .arg("--config")
            .arg(config)
            .args(args);
        command
    }

    /// A fresh table (and its access trail) on DynamoDB Local, and a
    /// configuration file for it reached through `endpoint`.
    pub async fn table(&self, prefix: &str, endpoint: Option<&str>) -> anyhow::Result<(String, PathBuf)> {
        let table = setup::unique(prefix);
        setup::table(&self.client, &self.ddb.endpoint(), &table).await?;
        let config = setup::config(&self.dir, endpoint.unwrap_or(&self.ddb.endpoint()), &table, &self.key)?;
        Ok((table, config))
    }

    /// Every address stored in `table`, lowercase.
    pub async fn stored(&self, table: &str) -> anyhow::Result<HashSet<String>> {
        let mut addresses = HashSet::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(table)
                .projection_expression("address")
                .set_exclusive_start_key(start)
                .send()
                .await
                .with_context(|| format!("scanning {table}"))?;
            for item in page.items.unwrap_or_default() {
                if let Some(address) = item.get("address").and_then(|a| a.as_s().ok()) {
                    addresses.insert(address.to_ascii_lowercase());
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(addresses);
            }
        }
    }

    /// The number of items in `table`.
    pub async fn count(&self, table: &str) -> anyhow::Result<u64> {
        Ok(crate::measure::raw_scan(&self.client, table, 4).await?.0)
    }

    /// A KMS key in moto.
    pub async fn kms_key(&self) -> anyhow::Result<String> {
        self.kms
            .create_key()
            .description("rossignol chaos")
            .send()
            .await
            .context("creating a KMS key in moto")?
            .key_metadata
            .map(|m| m.key_id)
            .context("moto answered CreateKey without key metadata")
    }
}

pub async fn run(args: &ChaosArgs) -> anyhow::Result<()> {
    let sizes = Sizes::of(args.quick);
    let dir = std::env::temp_dir().join(setup::unique("rossignol-chaos"));
    std::fs::create_dir_all(&dir)?;
    let rossignol = setup::binary(args.binaries.as_deref(), "rossignol")?;
    let lambda = setup::binary(args.binaries.as_deref(), "rossignol-lambda")?;
    eprintln!("chaos: scratch and logs in {}", dir.display());
    let ddb =
        DynamoLocal::start(&args.dynamodb_dir, &dir.join("dynamodb-data"), &dir.join("dynamodb-local.log"))?;
    let moto = Moto::start(&args.moto, &dir.join("moto.log"))?;
    eprintln!(
        "chaos: DynamoDB Local (pid {}) on {}, moto on {}",
        ddb.pid().unwrap_or_default(),
        ddb.endpoint(),
        moto.endpoint()
    );
    let client = setup::client(&ddb.endpoint()).await;
    let kms = setup::kms_client(&moto.endpoint()).await;
    let mut ctx = Ctx {
        dir: dir.clone(),
        rossignol,
        lambda,
        ddb,
        moto,
        client,
        kms,
        key: rossignol_core::secret::random_bytes(),
        sizes,
        instances: args.instances.max(1),
    };
    let wanted = |n: u32| args.only.is_empty() || args.only.contains(&n);
    let mut cases = Vec::new();
    for number in 1..=7 {
        if !wanted(number) {
            continue;
        }
        eprintln!("chaos: case {number}");
        let outcome = cases::run(number, &mut ctx).await;
        let case = outcome.unwrap_or_else(|e| Case {
            number,
            title: cases::title(number),
            done: "the case stopped early".into(),
            expected: "the case to run to its end".into(),
            seen: format!("{e:#}"),
            ok: false,
        });
        print_case(&case);
        cases.push(case);
    }
    drop(ctx);
    let failed: Vec<u32> = cases.iter().filter(|c| !c.ok).map(|c| c.number).collect();
    println!(
        "{} of {} case(s) as expected{}",
        cases.len() - failed.len(),
        cases.len(),
        if failed.is_empty() { String::new() } else { format!("; not as expected: {failed:?}") }
    );
    if failed.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    } else {
        anyhow::bail!("chaos: case(s) {failed:?} did not go as expected; logs are in {}", dir.display())
    }
}

fn print_case(case: &Case) {
    println!(
        "### {}. {} — {}\n",
        case.number,
        case.title,
        if case.ok { "as expected" } else { "NOT as expected" }
    );
    println!("- **Done:** {}", case.done);
    println!("- **Expected:** {}", case.expected);
    println!("- **Seen:** {}\n", case.seen);
}
