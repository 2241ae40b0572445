//! Case 2 (KMS unreachable, then back) and case 3 (the access trail table
//! missing or throttled): the release Lambda binary over the runtime
//! protocol, a dependency taken away under it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::Context as _;
use rossignol_core::access::AccessTrail;
use rossignol_core::seal::KmsSealer;
use rossignol_core::store::dynamo::{DynamoStore, DynamoTrail};
use rossignol_core::{Custodian, PrivateKey};
use serde_json::{Value, json};

use super::{mark, title};
use crate::chaos::proxy::{Cut, Link, Throttle};
use crate::chaos::{Case, Ctx, PATIENCE};
use crate::emulator::Emulator;
use crate::invocations::{API_KEY_SHA256, SETTER_EVENT, event, getter_event, request_id, setter_event};
use crate::runtime_api::Spec;
use crate::setup::{REGION, TEST_CREDENTIALS};

/// The Lambda functions' environment: DynamoDB and KMS endpoints, table, key.
pub fn lambda_env(dynamodb: &str, kms: &str, table: &str, key_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", TEST_CREDENTIALS.0.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", TEST_CREDENTIALS.1.to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.to_owned()),
        ("AWS_ENDPOINT_URL_KMS", kms.to_owned()),
        ("DYNAMO_DB_TABLE_NAME", table.to_owned()),
        ("ROSSIGNOL_KMS_KEY_ID", key_id.to_owned()),
        ("ROSSIGNOL_API_KEY_SHA256", API_KEY_SHA256.to_owned()),
    ]
}

/// Starts `handler` with `instances` processes polling one runtime API.
pub fn function(
    ctx: &Ctx,
    handler: &'static str,
    env: &[(&'static str, String)],
    instances: usize,
    tag: &str,
) -> anyhow::Result<Emulator> {
    let spec = Spec {
        binary: &ctx.lambda,
        handler,
        log: ctx.dir.join(format!("{tag}-{handler}.log")),
        env: env.to_vec(),
    };
    Emulator::start(&spec, instances)
}

/// The recorded POST event with a signer body.
pub fn signer_event(request_id: &str, address: &str) -> anyhow::Result<Vec<u8>> {
    let mut value: Value = serde_json::from_str(SETTER_EVENT).context("the recorded event is not JSON")?;
    value["body"] = Value::String(json!({"address": address, "message": "rossignol chaos"}).to_string());
    value["path"] = Value::String("/signer".into());
    event(&value.to_string(), request_id)
}

/// One invocation: (status, body, the raw response text).
pub fn call(
    function: &Emulator,
    event: impl FnOnce(&str) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<(u16, Value, String)> {
    let id = request_id();
    let answer = function.invoke(&id, event(&id)?).wait(PATIENCE)?;
    let (status, body) = answer.http();
    Ok((status, body, answer.response.to_string()))
}

/// An account made in process under `key_id`, through the table's trail;
/// its address and private key (hex, no 0x).
async fn account(ctx: &Ctx, table: &str, key_id: &str) -> anyhow::Result<(String, String)> {
    let store = DynamoStore::new(ctx.client.clone(), table);
    let trail: Arc<dyn AccessTrail> =
        Arc::new(DynamoTrail::new(ctx.client.clone(), DynamoTrail::default_table(table)));
    let sealer = Arc::new(KmsSealer::new(ctx.kms.clone(), key_id.to_owned()));
    let custodian = Custodian::new(Arc::new(store), sealer, trail);
    let key = PrivateKey::generate_os();
    let record = custodian.create_with_key(key.clone(), "chaos").await?;
    Ok((record.address.to_storage(), hex::encode(*key.reveal_bytes())))
}

/// One outage of case 2: the answers during it and after it, and what it wrote.
struct Outage {
    link: Link,
    during: Vec<(u16, Value, String)>,
    after: Vec<(u16, Value, String)>,
    rows: (u64, u64),
    trail: (u64, u64),
}

impl Outage {
    fn holds(&self) -> bool {
        let told = self.during.iter().all(|a| {
            let message = a.1["message"].as_str().unwrap_or_default().to_ascii_lowercase();
            a.0 == 503 && message.contains("kms") && message.contains("try again")
        });
        // The getter and the signer write the trail while they open the key
        // (two round trips), so each records its attempt, one row each,
        // though nothing was handed out; the setter writes nothing.
        told && self.rows.0 == self.rows.1
            && self.trail.1 == self.trail.0 + 2
            && self.after.iter().all(|a| a.0 == 200)
    }

    fn describe(&self) -> String {
        let how = match self.link {
            Link::Refused => "connections refused",
            Link::Dropped => "connections accepted and closed unanswered",
            Link::Up => "up",
        };
        format!(
            "{how}: {} (messages: {}); account rows {} → {}, trail rows {} → {}; back: {} — holds: {}",
            statuses(&self.during),
            self.during
                .iter()
                .map(|a| format!("{:?}", a.1["message"].as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(" / "),
            self.rows.0,
            self.rows.1,
            self.trail.0,
            self.trail.1,
            statuses(&self.after),
            mark(self.holds())
        )
    }
}

fn statuses(answers: &[(u16, Value, String)]) -> String {
    ["setter", "getter", "signer"]
        .iter()
        .zip(answers)
        .map(|(name, answer)| format!("{name} {}", answer.0))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn kms_unreachable(ctx: &mut Ctx) -> anyhow::Result<Case> {
    let (table, _) = ctx.table("chaos_kms", None).await?;
    let trail_table = DynamoTrail::default_table(&table);
    let key_id = ctx.kms_key().await?;
    let (address, secret) = account(ctx, &table, &key_id).await?;
    let cut = Cut::start(&ctx.moto.endpoint())?;
    let env = lambda_env(&ctx.ddb.endpoint(), &cut.endpoint(), &table, &key_id);
    let mut functions = Vec::new();
    for handler in ["setter", "getter", "signer"] {
        functions.push(tokio::task::block_in_place(|| function(ctx, handler, &env, 1, "kms"))?);
    }
    let round = |functions: &[Emulator]| -> anyhow::Result<Vec<(u16, Value, String)>> {
        tokio::task::block_in_place(|| {
            Ok(vec![
                call(&functions[0], setter_event)?,
                call(&functions[1], |id| getter_event(id, &address))?,
                call(&functions[2], |id| signer_event(id, &address))?,
            ])
        })
    };
    let before = round(&functions)?;
    let pids: Vec<Vec<u32>> = functions.iter().map(Emulator::pids).collect();
    let mut outages = Vec::new();
    for link in [Link::Refused, Link::Dropped] {
        let rows = ctx.count(&table).await?;
        let trail = ctx.count(&trail_table).await?;
        cut.set(link);
        let during = round(&functions)?;
        let rows_after = ctx.count(&table).await?;
        let trail_after = ctx.count(&trail_table).await?;
        cut.set(Link::Up);
        let after = round(&functions)?;
        outages.push(Outage { link, during, after, rows: (rows, rows_after), trail: (trail, trail_after) });
    }
    let same_pids = functions.iter().map(Emulator::pids).collect::<Vec<_>>() == pids
        && functions.iter_mut().all(Emulator::all_running);
    let logs: String = functions.iter_mut().map(Emulator::stop).collect();
    let answered: String = outages.iter().flat_map(|o| o.during.iter().map(|a| a.2.clone())).collect();
    let revealed = answered.to_ascii_lowercase().contains(&secret);
    let in_logs = logs.to_ascii_lowercase().contains(&secret);
    let warm = before.iter().all(|a| a.0 == 200);
    let ok = warm && outages.iter().all(Outage::holds) && !revealed && !in_logs && same_pids;
    let yes_no = |b: bool| if b { "YES" } else { "no" };
    Ok(Case {
        number: 2,
        title: title(2),
        done: "setter, getter and signer (the `rossignol-lambda` binary, one instance each, over the runtime \
               protocol) with KMS (moto) reached through a loopback proxy; a round of calls, then KMS cut off \
               (every open connection closed, new ones refused), a round, KMS back, a round; then the same with \
               new connections accepted and closed unanswered"
            .into(),
        expected: "while KMS is cut off each answers 503 with a message naming KMS and saying to try again, no \
                   account row is written, the getter and signer each leave one trail row (the attempt, recorded \
                   while the key was being opened) and nothing else, the key is in no answer and no log; once it is back \
                   the same processes (same PIDs, never restarted) answer 200"
            .into(),
        seen: format!(
            "before: {}. {}. {}. Key in an answer: {}, in a log: {}; the same PIDs {pids:?} throughout: {}",
            statuses(&before),
            outages[0].describe(),
            outages[1].describe(),
            yes_no(revealed),
            yes_no(in_logs),
            mark(same_pids)
        ),
        ok,
    })
}

pub async fn trail_unavailable(ctx: &mut Ctx) -> anyhow::Result<Case> {
    let (table, _) = ctx.table("chaos_trail", None).await?;
    let trail_table = DynamoTrail::default_table(&table);
    let key_id = ctx.kms_key().await?;
    let (address, secret) = account(ctx, &table, &key_id).await?;

    // Missing: the functions name an access table that does not exist.
    let mut env = lambda_env(&ctx.ddb.endpoint(), &ctx.moto.endpoint(), &table, &key_id);
    env.push(("ROSSIGNOL_ACCESS_TABLE_NAME", format!("{table}_missing_access")));
    let missing = tokio::task::block_in_place(|| two_calls(ctx, &env, &address, "trail-missing"))?;

    // Throttled: every request naming the trail table is refused, past the retries.
    let throttle = Throttle::start(&ctx.ddb.endpoint())?;
    throttle.policy.reset(Some(&trail_table));
    throttle.policy.refuse_all.store(true, Ordering::SeqCst);
    let env = lambda_env(&throttle.endpoint(), &ctx.moto.endpoint(), &table, &key_id);
    let throttled = tokio::task::block_in_place(|| two_calls(ctx, &env, &address, "trail-throttled"))?;
    let (refused, _) = throttle.policy.counts();

    let judge = |answers: &Calls| {
        answers.statuses.iter().all(|s| *s == 503) && !answers.text.to_ascii_lowercase().contains(&secret)
    };
    let ok = judge(&missing) && judge(&throttled);
    let trail_rows = ctx.count(&trail_table).await?;
    Ok(Case {
        number: 3,
        title: title(3),
        done: format!(
            "getter and signer (the `rossignol-lambda` binary) asked for an account (a) with the access table named \
             `{table}_missing_access`, which does not exist, and (b) through a DynamoDB proxy that answers \
             every request naming the access table `{trail_table}` with ProvisionedThroughputExceededException"
        ),
        expected:
            "the getter and the signer answer 503 and reveal nothing (the trail is written first and fails \
                   closed)"
                .into(),
        seen: format!(
            "missing: getter {}, signer {}; throttled: getter {}, signer {} ({refused} trail writes refused by \
             the proxy); the key in an answer or log: {}; trail rows: {trail_rows}",
            missing.statuses[0],
            missing.statuses[1],
            throttled.statuses[0],
            throttled.statuses[1],
            if (missing.text + &throttled.text).to_ascii_lowercase().contains(&secret) {
                "YES"
            } else {
                "no"
            },
        ),
        ok,
    })
}

struct Calls {
    statuses: [u16; 2],
    /// The answers and the functions' logs.
    text: String,
}

fn two_calls(ctx: &Ctx, env: &[(&'static str, String)], address: &str, tag: &str) -> anyhow::Result<Calls> {
    let mut getter = function(ctx, "getter", env, 1, tag)?;
    let mut signer = function(ctx, "signer", env, 1, tag)?;
    let g = call(&getter, |id| getter_event(id, address))?;
    let s = call(&signer, |id| signer_event(id, address))?;
    let text = format!("{}\n{}\n{}\n{}", g.2, s.2, getter.stop(), signer.stop());
    Ok(Calls { statuses: [g.0, s.0], text })
}
