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

#[test]
fn deploy_uploads_the_package_and_sets_handler_and_environment() {
    let Some(endpoint) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let function = "rossignol-staging-getter";

    // The function as the template would have made it, with older code.
    let _ = aws(&endpoint, &["lambda", "delete-function", "--function-name", function]);
    let role = aws_json(
        &endpoint,
        &[
            "iam",
            "create-role",
            "--role-name",
            &format!("rossignol-deploy-test-{}", std::process::id()),
            "--assume-role-policy-document",
            r#"{"Version":"2012-10-17","Statement":[]}"#,
        ],
    )["Role"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let old = dir.path().join("old.zip");
    std::fs::write(dir.path().join("bootstrap"), "old").unwrap();
    package(&old, &dir.path().join("bootstrap"));
    aws_json(
        &endpoint,
        &[
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
            &format!("fileb://{}", old.display()),
            "--environment",
            "Variables={ROSSIGNOL_GETTER_ENABLED=false}",
        ],
    );

    let zip = dir.path().join("bootstrap.zip");
    package(&zip, Path::new(env!("CARGO_BIN_EXE_rossignol-lambda")));
    let output = Command::new("bash")
        .arg(workspace().join("scripts/deploy"))
        .args(["staging", "getter"])
        .env("ROSSIGNOL_DEPLOY_ZIP", &zip)
        .env("ROSSIGNOL_API_KEY_SHA256", "ab".repeat(32))
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_DEFAULT_REGION", "eu-central-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "deploy failed: {stderr}");
    assert!(stderr.contains("deployed rossignol-staging-getter"), "{stderr}");

    let config = aws_json(&endpoint, &["lambda", "get-function-configuration", "--function-name", function]);
    assert_eq!(config["Handler"], "getter");
    let expected_sha =
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(std::fs::read(&zip).unwrap()));
    assert_eq!(config["CodeSha256"], expected_sha);
    let variables = &config["Environment"]["Variables"];
    assert_eq!(variables["DYNAMO_DB_TABLE_NAME"], "rossignol_staging");
    assert_eq!(variables["ROSSIGNOL_KMS_KEY_ID"], "alias/rossignol-staging");
    assert_eq!(variables["ROSSIGNOL_ACCESS_TABLE_NAME"], "rossignol_staging_access");
    assert_eq!(variables["ROSSIGNOL_API_KEY_SHA256"], "ab".repeat(32));
    // The template's getter switch survives a deploy.
    assert_eq!(variables["ROSSIGNOL_GETTER_ENABLED"], "false");

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
