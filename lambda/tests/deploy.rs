//! `scripts/deploy ENV LAMBDA` against moto's Lambda API: it uploads the
//! package to one function and sets its handler and environment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// moto's endpoint when it and the AWS CLI are there; `None` with a note
/// outside CI.
fn moto() -> Option<String> {
    let endpoint = std::env::var("ROSSIGNOL_TEST_KMS_ENDPOINT").ok().filter(|v| !v.is_empty());
    let cli = Command::new("aws").arg("--version").output().is_ok_and(|o| o.status.success());
    match (endpoint, cli) {
        (Some(endpoint), true) => Some(endpoint),
        _ if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("the deploy test needs moto and the AWS CLI; run `scripts/test`")
        }
        _ => {
            eprintln!("SKIPPED: moto or the AWS CLI is missing; `scripts/test` provides them");
            None
        }
    }
}

fn aws(endpoint: &str, args: &[&str]) -> Output {
    Command::new("aws")
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_DEFAULT_REGION", "eu-central-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the AWS CLI runs")
}

fn aws_json(endpoint: &str, args: &[&str]) -> Value {
    let output = aws(endpoint, args);
    assert!(output.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A Lambda package: `file` as `bootstrap` in the zip `zip`.
fn package(zip: &Path, file: &Path) {
    let status = Command::new("python3")
        .args(["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z: z.write(sys.argv[2], 'bootstrap')"])
        .arg(zip)
        .arg(file)
        .status()
        .unwrap();
    assert!(status.success());
}

/// `function` as the template would have made it, with older code and
/// the environment `variables` (`Variables={...}` shorthand, or none).
fn create_function(endpoint: &str, dir: &Path, function: &str, variables: Option<&str>) {
    let _ = aws(endpoint, &["lambda", "delete-function", "--function-name", function]);
    let role = aws_json(
        endpoint,
        &[
            "iam",
            "create-role",
            "--role-name",
            &format!("{function}-{}", hex::encode(rossignol_core::secret::random_bytes::<4>())),
            "--assume-role-policy-document",
            r#"{"Version":"2012-10-17","Statement":[]}"#,
        ],
    )["Role"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let old = dir.join("old.zip");
    std::fs::write(dir.join("old"), "old").unwrap();
    package(&old, &dir.join("old"));
    let code = format!("fileb://{}", old.display());
    let mut args = vec![
        "lambda",
        "create-function",
        "--function-name",
        function,
        "--runtime",
        "provided.al2023",
        "--architectures",
        "arm64",
        "--handler",
        "bootstrap",
        "--role",
        &role,
        "--zip-file",
        &code,
    ];
    if let Some(variables) = variables {
        args.extend(["--environment", variables]);
    }
    aws_json(endpoint, &args);
}

/// `scripts/deploy ENV LAMBDA` with `vars`, and `path_first` ahead of PATH.
fn deploy(
    endpoint: &str,
    zip: &Path,
    args: [&str; 2],
    vars: &[(&str, &str)],
    path_first: Option<&Path>,
) -> Output {
    let mut command = Command::new("bash");
    command
        .arg(workspace().join("scripts/deploy"))
        .args(args)
        .env("ROSSIGNOL_DEPLOY_ZIP", zip)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_DEFAULT_REGION", "eu-central-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .env_remove("ROSSIGNOL_API_KEY_SHA256")
        .env_remove("ROSSIGNOL_GETTER_ENABLED")
        .envs(vars.iter().copied());
    if let Some(dir) = path_first {
        command.env("PATH", format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default()));
    }
    command.output().unwrap()
}

fn configuration(endpoint: &str, function: &str) -> Value {
    aws_json(endpoint, &["lambda", "get-function-configuration", "--function-name", function])
}

/// The package under test: the built binary as `bootstrap`.
fn new_package(dir: &Path) -> PathBuf {
    let zip = dir.join("bootstrap.zip");
    package(&zip, Path::new(env!("CARGO_BIN_EXE_rossignol-lambda")));
    zip
}

#[test]
fn deploy_uploads_the_package_and_merges_the_environment() {
    let Some(endpoint) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let function = "rossignol-staging-getter";
    let digest = "cd".repeat(32);
    create_function(
        &endpoint,
        dir.path(),
        function,
        Some(&format!(
            "Variables={{ROSSIGNOL_GETTER_ENABLED=false,ROSSIGNOL_API_KEY_SHA256={digest},ROSSIGNOL_LOG=debug}}"
        )),
    );
    let zip = new_package(dir.path());

    // Nothing exported: the template's switch and key check, and any other
    // variable, survive; before, the key check and ROSSIGNOL_LOG were erased.
    let output = deploy(&endpoint, &zip, ["staging", "getter"], &[], None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "deploy failed: {stderr}");
    assert!(stderr.contains("deployed rossignol-staging-getter"), "{stderr}");
    let config = configuration(&endpoint, function);
    assert_eq!(config["Handler"], "getter");
    let expected_sha =
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(std::fs::read(&zip).unwrap()));
    assert_eq!(config["CodeSha256"], expected_sha);
    let variables = &config["Environment"]["Variables"];
    assert_eq!(variables["DYNAMO_DB_TABLE_NAME"], "rossignol_staging");
    assert_eq!(variables["ROSSIGNOL_KMS_KEY_ID"], "alias/rossignol-staging");
    assert_eq!(variables["ROSSIGNOL_ACCESS_TABLE_NAME"], "rossignol_staging_access");
    assert_eq!(variables["ROSSIGNOL_API_KEY_SHA256"], digest.as_str());
    assert_eq!(variables["ROSSIGNOL_GETTER_ENABLED"], "false");
    assert_eq!(variables["ROSSIGNOL_LOG"], "debug");

    // What is exported replaces the function's value, and only that.
    let output = deploy(
        &endpoint,
        &zip,
        ["staging", "getter"],
        &[("ROSSIGNOL_API_KEY_SHA256", &"ab".repeat(32)), ("ROSSIGNOL_GETTER_ENABLED", "true")],
        None,
    );
    assert!(output.status.success(), "deploy failed: {}", String::from_utf8_lossy(&output.stderr));
    let variables = configuration(&endpoint, function)["Environment"]["Variables"].clone();
    assert_eq!(variables["ROSSIGNOL_API_KEY_SHA256"], "ab".repeat(32));
    assert_eq!(variables["ROSSIGNOL_GETTER_ENABLED"], "true");
    assert_eq!(variables["ROSSIGNOL_LOG"], "debug");

    let _ = aws(&endpoint, &["lambda", "delete-function", "--function-name", function]);
}

#[test]
fn deploy_changes_nothing_when_it_cannot_read_the_configuration_or_the_key_check_would_be_lost() {
    let Some(endpoint) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let zip = new_package(dir.path());

    // No such function: stop, and create nothing.
    let _ = aws(&endpoint, &["lambda", "delete-function", "--function-name", "rossignol-production-signer"]);
    let output = deploy(
        &endpoint,
        &zip,
        ["production", "signer"],
        &[("ROSSIGNOL_API_KEY_SHA256", &"ab".repeat(32))],
        None,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "cannot read the current configuration of rossignol-production-signer, so nothing was changed"
        ),
        "{stderr}"
    );
    assert!(
        !aws(&endpoint, &["lambda", "get-function", "--function-name", "rossignol-production-signer"])
            .status
            .success()
    );

    // Reading is denied while writing would be allowed (an `aws` in front
    // that refuses GetFunctionConfiguration): before, the getter switch
    // was dropped, which turned the getter on.
    let function = "rossignol-production-getter";
    let digest = "cd".repeat(32);
    create_function(
        &endpoint,
        dir.path(),
        function,
        Some(&format!("Variables={{ROSSIGNOL_GETTER_ENABLED=false,ROSSIGNOL_API_KEY_SHA256={digest}}}")),
    );
    let before = configuration(&endpoint, function);
    let shim = dir.path().join("shim");
    std::fs::create_dir(&shim).unwrap();
    let real = Command::new("sh").args(["-c", "command -v aws"]).output().unwrap();
    let real = String::from_utf8(real.stdout).unwrap().trim().to_owned();
    std::fs::write(
        shim.join("aws"),
        format!(
            "#!/usr/bin/env bash\nfor a in \"$@\"; do\n  if [ \"$a\" = get-function-configuration ]; then\n    echo 'An error occurred (AccessDeniedException) when calling the GetFunctionConfiguration operation: denied' >&2\n    exit 254\n  fi\ndone\nexec {real} \"$@\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(shim.join("aws"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let output = deploy(&endpoint, &zip, ["production", "getter"], &[], Some(&shim));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("AccessDeniedException"), "{stderr}");
    let after = configuration(&endpoint, function);
    assert_eq!(after["CodeSha256"], before["CodeSha256"]);
    assert_eq!(after["Handler"], "bootstrap");
    assert_eq!(after["Environment"], before["Environment"]);

    // A function without the key check's variable, and none exported:
    // the new code would not start, so nothing is changed.
    create_function(&endpoint, dir.path(), function, Some("Variables={ROSSIGNOL_GETTER_ENABLED=false}"));
    let before = configuration(&endpoint, function);
    let output = deploy(&endpoint, &zip, ["production", "getter"], &[], None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("has no ROSSIGNOL_API_KEY_SHA256"), "{stderr}");
    let after = configuration(&endpoint, function);
    assert_eq!(after["CodeSha256"], before["CodeSha256"]);
    assert_eq!(after["Environment"], before["Environment"]);
    // `unchecked` is for local runs, never deployed.
    let output =
        deploy(&endpoint, &zip, ["production", "getter"], &[("ROSSIGNOL_API_KEY_SHA256", "unchecked")], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("for local runs only"));

    let _ = aws(&endpoint, &["lambda", "delete-function", "--function-name", function]);
}

#[test]
fn deploy_refuses_unknown_environments_and_lambdas() {
    for args in [["dev", "getter"], ["staging", "minter"]] {
        let output =
            Command::new("bash").arg(workspace().join("scripts/deploy")).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("usage: scripts/deploy"));
    }
}
