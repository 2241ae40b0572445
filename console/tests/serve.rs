//! `rossignol serve --rpc`: ethers, viem and foundry's cast, unchanged,
//! sign through it (`scripts/rpc-clients/all.sh`), every signature lands
//! in the environment's access trail, and the environment's policy refuses
//! by rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_support;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use cli_support::Sandbox;
use serde_json::{Value, json};

/// A tool `scripts/test` provides; in CI its absence fails the test.
fn provided(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("{what} is required in CI, but {var} is not set; run the tests with `scripts/test`")
        }
        _ => {
            eprintln!("SKIPPED: {what} is missing ({var} is unset); `scripts/test` installs it");
            None
        }
    }
}

/// `rossignol serve --rpc 127.0.0.1:0` and the base URL it prints once it
/// listens. Killed on drop.
struct Serve {
    child: Child,
    base: String,
}

impl Serve {
    fn start(sandbox: &Sandbox, config: Option<&std::path::Path>) -> Self {
        let mut child = sandbox
            .command(config, &["serve", "--rpc", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // The first line is written after the socket is bound: no race.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line
            .split_whitespace()
            .find_map(|word| word.strip_prefix("http://"))
            .and_then(|rest| rest.split("/rpc").next())
            .map(|host| format!("http://{host}"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"));
        Serve { child, base }
    }

    fn call(&self, path: &str, body: &Value) -> Value {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut response = agent.post(format!("{}{path}", self.base)).send(body.to_string()).unwrap();
        assert_eq!(response.status().as_u16(), 200);
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where `scripts/test` put the clients: ethers and viem's node_modules,
/// and cast's binary.
struct Clients {
    modules: String,
    cast: String,
}

impl Clients {
    fn provided() -> Option<Self> {
        let modules = provided("ROSSIGNOL_TEST_NODE_MODULES", "ethers and viem (node_modules)")?;
        let cast = provided("ROSSIGNOL_TEST_CAST", "foundry's cast")?;
        Some(Clients { modules, cast })
    }
}

/// A sandbox whose `local` environment holds one account, and its address.
fn sandbox_with_an_account() -> (Sandbox, String) {
    let sandbox = Sandbox::new();
    let address = sandbox.json(None, &["create", "--json"])["address"].as_str().unwrap().to_owned();
    (sandbox, address)
}

/// The access trail of `address` in an embedded store, newest first.
fn trail_of(path: &std::path::Path, table: &str, address: &str) -> Vec<rossignol_core::access::AccessRecord> {
    use rossignol_core::access::AccessTrail as _;
    let store = rossignol_core::store::embedded::EmbeddedStore::open(path, table).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(store.latest(&rossignol_core::Address::parse(address).unwrap(), 100)).unwrap()
}

#[test]
fn ethers_viem_and_foundry_sign_through_serve_and_the_trail_has_each() {
    let Some(Clients { modules, cast }) = Clients::provided() else { return };
    let (sandbox, address) = sandbox_with_an_account();
    let serve = Serve::start(&sandbox, None);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/rpc-clients/all.sh");
    let output = Command::new("bash")
        .args([script, &serve.base, &address, "11155111"])
        .env("ROSSIGNOL_TEST_NODE_MODULES", &modules)
        .env("CAST", &cast)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "a client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!stdout.contains("FAIL"), "{stdout}");
    let signatures = stdout.lines().filter(|l| l.starts_with("ok") && l.contains("sign")).count();
    assert!(signatures >= 18, "{stdout}");
    drop(serve);

    // Every signature, by every client, is in the trail, with its method.
    let trail = trail_of(&sandbox.path().join("data/local.redb"), "rossignol_local", &address);
    let count = |method: &str| trail.iter().filter(|r| r.action == format!("serve:{method}")).count();
    // ethers 2 + viem 2 + cast 1 messages; one permit each; 5 + 4 + 2 transactions.
    let counts = [count("personal_sign"), count("eth_signTypedData_v4"), count("eth_signTransaction")];
    assert_eq!(counts, [5, 3, 11], "{stdout}");
    assert!(trail.iter().all(|r| r.digest.is_some() && r.source_ip.as_deref() == Some("127.0.0.1")));
}

#[test]
fn the_environments_policy_refuses_by_rule_and_the_trail_says_so() {
    let sandbox = Sandbox::new();
    let config = sandbox.config(
        r#"
default = "dev"
[environments.dev]
store = "embedded"
[environments.dev.policy]
chain_ids = [1]
kinds = ["message", "transaction"]
max_value_wei = "1000"
"#,
    );
    let address = sandbox.json(Some(&config), &["create", "--json"])["address"].as_str().unwrap().to_owned();
    let serve = Serve::start(&sandbox, Some(&config));
    let call = |method: &str, params: Value| {
        serve.call(
            &format!("/rpc/1/{address}"),
            &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}),
        )
    };
    let tx = |value: &str| json!([{"from": address, "to": address, "nonce": 0, "gas": 21000, "gasPrice": 1, "value": value}]);
    assert!(call("personal_sign", json!(["0x01", address]))["result"].is_string());
    assert!(call("eth_signTransaction", tx("1000"))["result"].is_string());
    let over = call("eth_signTransaction", tx("1001"));
    assert_eq!(
        (over["error"]["code"].clone(), over["error"]["data"]["rule"].clone()),
        (json!(-32001), json!("max_value_wei"))
    );
    let typed = json!({"types": {"M": [{"name": "a", "type": "uint8"}]}, "primaryType": "M", "domain": {"chainId": 1}, "message": {"a": 1}});
    let kinds = call("eth_signTypedData_v4", json!([address, typed]));
    assert_eq!(kinds["error"]["data"]["rule"], "kinds", "{kinds}");
    // The path's chain stands in for the missing chainId, and is judged.
    let elsewhere = serve.call(
        &format!("/rpc/10/{address}"),
        &json!({"jsonrpc": "2.0", "id": 1, "method": "eth_signTransaction", "params": tx("1")}),
    );
    assert_eq!(elsewhere["error"]["data"]["rule"], "chain_ids", "{elsewhere}");
    drop(serve);

    // The CLI is held to the same policy.
    let file = sandbox.path().join("typed.json");
    std::fs::write(&file, typed.to_string()).unwrap();
    let refused = sandbox.run(Some(&config), &["sign", &address, "--typed-data", file.to_str().unwrap()]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("`kinds` rule"), "{stderr}");

    let trail = trail_of(&sandbox.path().join("data/dev.redb"), "rossignol_dev", &address);
    let refused: Vec<(&str, &str)> =
        trail.iter().filter_map(|r| Some((r.action.as_str(), r.refused.as_deref()?))).collect();
    assert_eq!(
        refused,
        [
            ("cli-sign", "kinds"),
            ("serve:eth_signTransaction", "chain_ids"),
            ("serve:eth_signTypedData_v4", "kinds"),
            ("serve:eth_signTransaction", "max_value_wei")
        ]
    );
}

#[test]
fn serve_listens_on_loopback_only() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(None, &["serve", "--rpc", "0.0.0.0:0"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a loopback address"), "{stderr}");
}

/// The README's "Use it from ethers, viem or foundry" blocks, as written,
/// with only the URL's host and port replaced by the running server's.
fn readme_snippet(name: &str) -> String {
    let readme = include_str!("../../README.md");
    let start = format!("<!-- rpc-snippet {name} -->");
    let block = readme.split(&start).nth(1).and_then(|rest| rest.split("<!-- /rpc-snippet -->").next());
    let block = block.unwrap_or_else(|| panic!("the README has no {start} block"));
    let code: Vec<&str> = block
        .lines()
        .skip_while(|l| !l.starts_with("```"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    code.join("\n")
}

#[test]
fn the_readme_snippets_run_as_written() {
    let Some(Clients { modules, cast }) = Clients::provided() else { return };
    let (sandbox, address) = sandbox_with_an_account();
    let serve = Serve::start(&sandbox, None);
    let run = |program: &str, file: &std::path::Path| {
        let cast_dir = std::path::Path::new(&cast).parent().unwrap().to_owned();
        let path = format!("{}:{}", cast_dir.display(), std::env::var("PATH").unwrap_or_default());
        let output = Command::new(program)
            .arg(file)
            .env("ADDRESS", &address)
            .env("ROSSIGNOL_API_KEY", "unused-by-serve")
            .env("PATH", path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{file:?}: {stdout}{}", String::from_utf8_lossy(&output.stderr));
        stdout
    };
    // Beside node_modules, so that `import "ethers"` resolves as in a project.
    let project = std::path::Path::new(&modules).parent().unwrap();
    for name in ["ethers", "viem"] {
        let file = project.join(format!("readme-{name}-{}.mjs", std::process::id()));
        std::fs::write(&file, readme_snippet(name).replace("http://127.0.0.1:8545", &serve.base)).unwrap();
        let stdout = run("node", &file);
        let _ = std::fs::remove_file(&file);
        let signers: Vec<&str> = stdout.split_whitespace().collect();
        assert_eq!(signers.len(), 2, "{name}: {stdout}");
        assert!(signers.iter().all(|s| s.eq_ignore_ascii_case(&address)), "{name}: {stdout}");
    }
    let file = sandbox.path().join("readme-foundry.sh");
    std::fs::write(&file, readme_snippet("foundry").replace("http://127.0.0.1:8545", &serve.base)).unwrap();
    let stdout = run("bash", &file);
    assert!(stdout.contains(&format!("Address {address} signed this message")), "{stdout}");
    // cast prints the decoded transaction as a JSON string: its quotes escaped.
    let signer = format!("signer\\\": \\\"{}", address.to_lowercase());
    assert!(stdout.to_lowercase().contains(&signer), "{stdout}");
}
