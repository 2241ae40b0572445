#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ROSSIGNOL_LOG` cannot lift the ceiling on the SDK, HTTP and TLS
//! crates: `rossignol get ADDRESS` (no `--reveal`) on DynamoDB Local, with
//! a target-specific `trace` directive for each of them in turn, never
//! prints a legacy row's plaintext key or a sealed row's blob. Before the
//! fix, `aws_smithy_runtime::client::orchestrator=trace` printed the
//! GetItem response, key and all.

use base64::Engine as _;
use rossignol_core::store::AccountStore as _;
use rossignol_core::store::dynamo::DynamoStore;

mod cli_support;

use cli_support::{Sandbox, dynamodb_endpoint, json_lines, legacy_row, random_table, raw_client};

/// The directives to try, one a line (see the file's header).
fn directives() -> impl Iterator<Item = &'static str> {
    include_str!("../../core/tests/vectors/log-directives.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

#[test]
fn no_log_directive_prints_a_key_or_a_sealed_blob() {
    let Some(endpoint) = dynamodb_endpoint() else { return };
    let sandbox = Sandbox::new();
    let table = random_table("logs");
    let config = sandbox.config(&format!(
        "default = \"dev\"\n[environments.dev]\ntable = \"{table}\"\nregion = \"eu-central-1\"\n\
         endpoint_url = \"{endpoint}\"\nlocal_key_file = \"dev.key\"\n"
    ));
    sandbox.ok(Some(&config), &["init"]);
    let created = sandbox.ok(Some(&config), &["create", "--json"]);
    let sealed_address = json_lines(&created)[0]["address"].as_str().unwrap().to_ascii_lowercase();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = runtime.block_on(raw_client(&endpoint));
    let (item, legacy_address, legacy_key) = legacy_row();
    runtime.block_on(DynamoStore::new(client.clone(), &table).create(&item)).unwrap();
    let sealed = runtime
        .block_on(client.get_item().table_name(&table).key("address", attr(&sealed_address)).send())
        .unwrap()
        .item
        .unwrap();
    let blob = base64::engine::general_purpose::STANDARD
        .encode(sealed["sealed_private_key"].as_b().unwrap().as_ref());

    for directive in directives() {
        for (address, secret) in [(&legacy_address, &legacy_key), (&sealed_address, &blob)] {
            let output = sandbox
                .command(Some(&config), &["get", address])
                .env("ROSSIGNOL_LOG", directive)
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{directive}: {stderr}");
            assert!(stdout.to_ascii_lowercase().contains(address.as_str()), "{directive}: {stdout}");
            for text in [&stdout, &stderr] {
                assert!(
                    !text.contains(&secret[..40]),
                    "{directive} let a key or sealed blob into the output"
                );
            }
        }
    }
    for name in [format!("{table}_access"), table] {
        let _ = runtime.block_on(client.delete_table().table_name(name).send());
    }
}

fn attr(text: &str) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::S(text.to_owned())
}
