//! assets/template.yaml as CloudFormation reads it: who may Decrypt,
//! CreateGrant and PutKeyPolicy on the two KMS keys, and that every
//! function checks the API key itself. (scripts/test runs cfn-lint on it
//! too.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use saphyr::{LoadableYamlNode as _, ScalarOwned, YamlOwned};
use serde_json::{Map, Value, json};

/// The template as JSON; a short tag becomes a one-key object, so
/// `!GetAtt GetterRole.Arn` reads `{"!GetAtt": "GetterRole.Arn"}`.
fn template() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/template.yaml")).unwrap();
    to_json(&YamlOwned::load_from_str(&text).unwrap().remove(0))
}

fn to_json(node: &YamlOwned) -> Value {
    match node {
        YamlOwned::Value(ScalarOwned::String(s)) => Value::String(s.clone()),
        YamlOwned::Value(ScalarOwned::Boolean(b)) => Value::Bool(*b),
        YamlOwned::Value(ScalarOwned::Integer(i)) => json!(i),
        YamlOwned::Value(ScalarOwned::FloatingPoint(f)) => json!(f.into_inner()),
        YamlOwned::Value(ScalarOwned::Null) => Value::Null,
        YamlOwned::Sequence(items) => Value::Array(items.iter().map(to_json).collect()),
        YamlOwned::Mapping(map) => Value::Object(
            map.iter().map(|(k, v)| (k.as_str().expect("string keys").to_owned(), to_json(v))).collect(),
        ),
        YamlOwned::Tagged(tag, inner) => json!({ format!("!{}", tag.suffix): to_json(inner) }),
        other => panic!("unexpected YAML node in the template: {other:?}"),
    }
}

/// `one` or `[one, two]` as a list.
fn list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

/// IAM action globbing (`*` and `?`), case-insensitive.
fn matches(pattern: &str, action: &str) -> bool {
    fn glob(p: &[u8], a: &[u8]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some(b'*'), _) => glob(&p[1..], a) || (!a.is_empty() && glob(p, &a[1..])),
            (Some(b'?'), Some(_)) => glob(&p[1..], &a[1..]),
            (Some(x), Some(y)) => x.eq_ignore_ascii_case(y) && glob(&p[1..], &a[1..]),
            _ => false,
        }
    }
    glob(pattern.as_bytes(), action.as_bytes())
}

const DECRYPTING: &[&str] = &["kms:Decrypt", "kms:ReEncryptFrom"];

/// A statement's principals, each as compact JSON (`"*"`,
/// `{"!GetAtt":"GetterRole.Arn"}`, ...).
fn principals(statement: &Value) -> Vec<String> {
    match &statement["Principal"] {
        Value::Object(map) => map.values().flat_map(list).map(|p| p.to_string()).collect(),
        other => vec![other.to_string()],
    }
}

fn condition<'a>(statement: &'a Value, operator: &str, key: &str) -> &'a Value {
    &statement["Condition"][operator][key]
}

/// What a key policy allows more widely than it should. `sealing` picks
/// the rules: the sealing key (Decrypt for the getter and signer only, under
/// the context conditions; no CreateGrant) or the table key (Decrypt and
/// CreateGrant only through DynamoDB, grants only for AWS resources).
fn violations(policy: &Value, sealing: bool) -> Vec<String> {
    let admin = json!({"!Ref": "KeyAdminRoleArn"}).to_string();
    let decrypters =
        [json!({"!GetAtt": "GetterRole.Arn"}).to_string(), json!({"!GetAtt": "SignerRole.Arn"}).to_string()];
    let via_dynamodb = json!({"!Sub": "dynamodb.${AWS::Region}.amazonaws.com"});
    let mut found = Vec::new();
    for statement in list(&policy["Statement"]) {
        if statement["Effect"] != "Allow" {
            continue;
        }
        let sid = statement["Sid"].as_str().unwrap_or("(no Sid)").to_owned();
        if statement.get("NotAction").is_some() || statement.get("NotPrincipal").is_some() {
            found.push(format!("{sid}: an Allow with NotAction or NotPrincipal grants everything else"));
            continue;
        }
        let who = principals(&statement);
        let grants = |action: &str| {
            list(&statement["Action"]).iter().any(|p| p.as_str().is_some_and(|p| matches(p, action)))
        };
        let through_dynamodb = condition(&statement, "StringEquals", "kms:ViaService") == &via_dynamodb
            && !condition(&statement, "StringEquals", "kms:CallerAccount").is_null();
        if DECRYPTING.iter().any(|a| grants(a)) {
            let ok = if sealing {
                who.iter().all(|p| decrypters.contains(p))
                    && !condition(&statement, "StringEquals", "kms:EncryptionContext:table").is_null()
                    && condition(&statement, "Null", "kms:EncryptionContext:address") == "false"
            } else {
                through_dynamodb
            };
            if !ok {
                found.push(format!("{sid}: Decrypt for {who:?}"));
            }
        }
        if grants("kms:CreateGrant") {
            let for_aws =
                matches!(condition(&statement, "Bool", "kms:GrantIsForAWSResource"), Value::Bool(true))
                    || condition(&statement, "Bool", "kms:GrantIsForAWSResource") == "true";
            if sealing || !(through_dynamodb && for_aws) {
                found.push(format!("{sid}: CreateGrant for {who:?}"));
            }
        }
        if grants("kms:PutKeyPolicy") && who.iter().any(|p| *p != admin) {
            found.push(format!("{sid}: PutKeyPolicy for {who:?}"));
        }
    }
    found
}

fn key_policy(template: &Value, key: &str) -> Value {
    template["Resources"][key]["Properties"]["KeyPolicy"].clone()
}

#[test]
fn only_the_getter_and_signer_decrypt_and_only_the_key_admin_administers() {
    let template = template();
    assert_eq!(violations(&key_policy(&template, "SealingKey"), true), Vec::<String>::new());
    assert_eq!(violations(&key_policy(&template, "TableKey"), false), Vec::<String>::new());
    // The address context is required of everyone, not only allowed.
    let deny = list(&key_policy(&template, "SealingKey")["Statement"])
        .into_iter()
        .find(|s| s["Effect"] == "Deny")
        .unwrap();
    assert_eq!(deny["Principal"], "*");
    assert_eq!(condition(&deny, "Null", "kms:EncryptionContext:address"), "true");
    assert!(list(&deny["Action"]).contains(&json!("kms:Decrypt")));
}

#[test]
fn the_policy_check_catches_every_wider_grant() {
    let template = template();
    let root = json!({"AWS": {"!Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}});
    let add = |key: &str, statement: Value| {
        let mut policy = key_policy(&template, key);
        policy["Statement"].as_array_mut().unwrap().push(statement);
        policy
    };
    // What the template used to say, and other ways to widen it.
    for (key, sealing, statement) in [
        (
            "SealingKey",
            true,
            json!({"Sid": "Old", "Effect": "Allow", "Principal": root, "Action": ["kms:Create*", "kms:Put*"], "Resource": "*"}),
        ),
        (
            "TableKey",
            false,
            json!({"Sid": "Old", "Effect": "Allow", "Principal": root, "Action": "kms:*", "Resource": "*"}),
        ),
        (
            "SealingKey",
            true,
            json!({"Sid": "AdminDecrypts", "Effect": "Allow", "Principal": {"AWS": {"!Ref": "KeyAdminRoleArn"}}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:table": "t"}, "Null": {"kms:EncryptionContext:address": "false"}}}),
        ),
        (
            "SealingKey",
            true,
            json!({"Sid": "NoContext", "Effect": "Allow", "Principal": {"AWS": {"!GetAtt": "GetterRole.Arn"}}, "Action": "kms:ReEncrypt*", "Resource": "*"}),
        ),
        (
            "SealingKey",
            true,
            json!({"Sid": "Grants", "Effect": "Allow", "Principal": {"AWS": {"!GetAtt": "GetterRole.Arn"}}, "Action": "kms:CreateGrant", "Resource": "*"}),
        ),
        (
            "TableKey",
            false,
            json!({"Sid": "AnyGrant", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:CreateGrant", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "1", "kms:ViaService": {"!Sub": "dynamodb.${AWS::Region}.amazonaws.com"}}}}),
        ),
        (
            "TableKey",
            false,
            json!({"Sid": "Direct", "Effect": "Allow", "Principal": {"AWS": {"!GetAtt": "GetterRole.Arn"}}, "Action": "kms:Decrypt", "Resource": "*"}),
        ),
        (
            "TableKey",
            false,
            json!({"Sid": "Everything", "Effect": "Allow", "Principal": "*", "NotAction": "kms:Encrypt", "Resource": "*"}),
        ),
    ] {
        let sid = statement["Sid"].as_str().unwrap().to_owned();
        let found = violations(&add(key, statement), sealing);
        assert!(found.iter().any(|v| v.starts_with(&format!("{sid}:"))), "{key} {sid}: {found:?}");
    }
}

#[test]
fn every_function_checks_the_api_key_the_api_uses() {
    let template = template();
    let resources = template["Resources"].as_object().unwrap();
    let functions: Map<String, Value> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Lambda::Function")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(functions.len(), 3);
    for (name, function) in &functions {
        let variables = &function["Properties"]["Environment"]["Variables"];
        assert_eq!(variables["ROSSIGNOL_API_KEY_SHA256"], json!({"!Ref": "ApiKeySha256"}), "{name}");
    }
    assert_eq!(resources["ApiKey"]["Properties"]["Value"], json!({"!Ref": "ApiKeyValue"}));
    assert_eq!(template["Parameters"]["ApiKeyValue"]["NoEcho"], true);
    assert!(template["Parameters"]["ApiKeySha256"].get("Default").is_none(), "the hash must be given");
}

#[test]
fn the_three_rpc_paths_route_to_the_signer_behind_the_api_key() {
    let template = template();
    let resources = &template["Resources"];
    // Each path's resource, from the root: its parts.
    let path_of = |id: &str| {
        let (mut id, mut parts) = (id.to_owned(), Vec::new());
        while let Some(part) = resources[id.as_str()]["Properties"]["PathPart"].as_str() {
            parts.push(part.to_owned());
            match resources[id.as_str()]["Properties"]["ParentId"].get("!Ref").and_then(Value::as_str) {
                Some(parent) => id = parent.to_owned(),
                None => break,
            }
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    };
    let mut rpc_paths: Vec<String> = resources
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::ApiGateway::Method")
        .filter(|m| {
            m["Properties"]["Integration"]["Uri"]["!Sub"].as_str().unwrap().contains("SignerFunction.Arn")
        })
        .map(|m| {
            assert_eq!(m["Properties"]["HttpMethod"], "POST");
            assert_eq!(m["Properties"]["ApiKeyRequired"], true);
            path_of(m["Properties"]["ResourceId"]["!Ref"].as_str().unwrap())
        })
        .collect();
    rpc_paths.sort();
    assert_eq!(rpc_paths, ["/rpc", "/rpc/{chainId}", "/rpc/{chainId}/{address}", "/signer"]);
    // Each path matches Rossignol's own routing.
    for path in ["/rpc", "/rpc/1", "/rpc/1/0x3535353535353535353535353535353535353535"] {
        assert!(matches!(rossignol_core::rpc::Endpoint::from_path(path), Some(Ok(_))), "{path}");
    }
    let deployment = resources["Deployment"]["DependsOn"].as_array().unwrap();
    for method in ["RpcMethod", "RpcChainMethod", "RpcAccountMethod"] {
        assert!(deployment.contains(&json!(method)), "{method} is deployed");
    }
    let permission = resources["RpcPermission"]["Properties"]["SourceArn"]["!Sub"].as_str().unwrap();
    assert!(permission.ends_with("/*/POST/rpc*"), "{permission}");
    let signer = &resources["SignerFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(signer["ROSSIGNOL_POLICY"], json!({"!Ref": "SigningPolicy"}));
}

/// Which of the template's conditions hold for a stack: sharded or not,
/// with provider secrets or not.
#[derive(Debug, Clone, Copy)]
struct Stack {
    sharded: bool,
    secrets: bool,
}

const STACKS: [Stack; 3] = [
    Stack { sharded: false, secrets: false },
    Stack { sharded: true, secrets: false },
    Stack { sharded: true, secrets: true },
];

impl Stack {
    /// `None` for the conditions sharding does not touch.
    fn holds(self, condition: &str) -> Option<bool> {
        match condition {
            "Sharded" => Some(self.sharded),
            "ReadsProviderSecrets" => Some(self.sharded && self.secrets),
            _ => None,
        }
    }

    /// `value` as CloudFormation renders it for this stack: `!If` on a
    /// sharding condition picks a branch, and `AWS::NoValue` leaves the
    /// list item or key out.
    fn render(self, value: &Value) -> Option<Value> {
        let branches = value.get("!If").and_then(Value::as_array);
        let holds = branches.and_then(|b| self.holds(b[0].as_str().unwrap()));
        match value {
            _ if branches.is_some() && holds.is_some() => {
                let branches = branches.unwrap();
                self.render(if holds == Some(true) { &branches[1] } else { &branches[2] })
            }
            Value::Object(map) if map.get("!Ref") == Some(&json!("AWS::NoValue")) => None,
            Value::Object(map) => Some(Value::Object(
                map.iter().filter_map(|(k, v)| Some((k.clone(), self.render(v)?))).collect(),
            )),
            Value::Array(items) => Some(Value::Array(items.iter().filter_map(|v| self.render(v)).collect())),
            other => Some(other.clone()),
        }
    }

    /// A role's statements, as `(action, resource)` pairs.
    fn grants(self, template: &Value, role: &str) -> Vec<(String, Value)> {
        let role = self.render(&template["Resources"][role]).unwrap();
        let mut grants = Vec::new();
        for policy in list(&role["Properties"]["Policies"]) {
            for statement in list(&policy["PolicyDocument"]["Statement"]) {
                assert_eq!(statement["Effect"], "Allow");
                for action in list(&statement["Action"]) {
                    grants.push((action.as_str().unwrap().to_owned(), statement["Resource"].clone()));
                }
            }
        }
        grants
    }
}

#[test]
fn a_sharded_stack_adds_only_what_sharding_needs_per_function() {
    let template = template();
    let conditions = &template["Conditions"];
    assert_eq!(conditions["Sharded"], json!({"!Not": [{"!Equals": [{"!Ref": "ShardedConfig"}, ""]}]}));
    assert!(list(&conditions["ReadsProviderSecrets"]["!And"]).contains(&json!({"!Condition": "Sharded"})));
    assert_eq!(template["Parameters"]["ShardedConfig"]["Default"], "");
    assert_eq!(template["Parameters"]["ProviderSecretArns"]["Type"], "CommaDelimitedList");
    let accounts = json!({"!GetAtt": "AccountsTable.Arn"});
    let access = json!({"!GetAtt": "AccessTable.Arn"});
    let secrets = json!({"!Ref": "ProviderSecretArns"});
    for stack in STACKS {
        for role in ["SetterRole", "GetterRole", "SignerRole"] {
            let grants = stack.grants(&template, role);
            let of = |action: &str| -> Vec<&Value> {
                grants.iter().filter(|(a, _)| a.eq_ignore_ascii_case(action)).map(|(_, r)| r).collect()
            };
            let setter = role == "SetterRole";
            let expected_put = if setter { &accounts } else { &access };
            assert_eq!(of("dynamodb:PutItem"), [expected_put], "{stack:?} {role}");
            let expected_delete: Vec<&Value> = if setter && stack.sharded { vec![&accounts] } else { vec![] };
            assert_eq!(of("dynamodb:DeleteItem"), expected_delete, "{stack:?} {role}");
            let expected_secrets: Vec<&Value> =
                if stack.sharded && stack.secrets { vec![&secrets] } else { vec![] };
            assert_eq!(of("secretsmanager:GetSecretValue"), expected_secrets, "{stack:?} {role}");
            let unexpected: Vec<&String> = grants
                .iter()
                .map(|(a, _)| a)
                .filter(|a| {
                    ![
                        "dynamodb:PutItem",
                        "dynamodb:GetItem",
                        "dynamodb:DeleteItem",
                        "kms:Encrypt",
                        "kms:Decrypt",
                    ]
                    .contains(&a.as_str())
                        && !a.starts_with("logs:")
                        && a.as_str() != "secretsmanager:GetSecretValue"
                })
                .collect();
            assert!(unexpected.is_empty(), "{stack:?} {role}: {unexpected:?}");
        }
        for function in ["SetterFunction", "GetterFunction", "SignerFunction"] {
            let function = stack.render(&template["Resources"][function]).unwrap();
            let variables = &function["Properties"]["Environment"]["Variables"];
            if stack.sharded {
                assert_eq!(variables["ROSSIGNOL_CONFIG"], json!({"!Ref": "ShardedConfig"}));
                assert!(variables["ROSSIGNOL_DATA_DIR"].as_str().unwrap().starts_with("/tmp"));
            } else {
                assert!(
                    variables.get("ROSSIGNOL_CONFIG").is_none()
                        && variables.get("ROSSIGNOL_DATA_DIR").is_none()
                );
            }
        }
    }
}

/// Whether the sealing key's policy lets `principal` call `action` with
/// `context` (the stack's environment is `staging`): an explicit Deny wins,
/// else some Allow must match. Knows the condition operators the policy
/// uses, and fails on any other, so a new one is noticed here.
fn kms_allows(policy: &Value, principal: &Value, action: &str, context: &[(&str, String)]) -> bool {
    let value_of = |key: &str| {
        let name = key.strip_prefix("kms:EncryptionContext:").unwrap_or_else(|| panic!("unknown key {key}"));
        context.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    };
    let holds = |statement: &Value| {
        statement.get("Condition").and_then(Value::as_object).into_iter().flatten().all(
            |(operator, tests)| {
                tests.as_object().unwrap().iter().all(|(key, expected)| match operator.as_str() {
                    "StringEquals" => {
                        let expected = match expected {
                            Value::String(s) => s.clone(),
                            other => other["!Sub"].as_str().unwrap().replace("${Environment}", "staging"),
                        };
                        value_of(key) == Some(expected.as_str())
                    }
                    "Null" => (value_of(key).is_none()).to_string() == expected.as_str().unwrap(),
                    other => panic!("a condition operator this test does not know: {other}"),
                })
            },
        )
    };
    let applies = |statement: &Value| {
        let who = principals(statement);
        (who.contains(&"\"*\"".to_owned()) || who.contains(&principal.to_string()))
            && list(&statement["Action"]).iter().any(|p| matches(p.as_str().unwrap(), action))
            && holds(statement)
    };
    let statements = list(&policy["Statement"]);
    !statements.iter().any(|s| s["Effect"] == "Deny" && applies(s))
        && statements.iter().any(|s| s["Effect"] == "Allow" && applies(s))
}

#[test]
fn the_sealing_key_takes_a_shares_context_and_still_refuses_one_without_address_and_table() {
    use rossignol_core::seal::{SealContext, ShareBinding};
    let policy = key_policy(&template(), "SealingKey");
    let address = rossignol_core::PrivateKey::generate_os().address();
    let commitments = format!("0x{}", "ab".repeat(32));
    let binding = ShareBinding { index: 1, epoch: 0, commitments: &commitments };
    let share = SealContext::share(&address, "rossignol_staging", binding).pairs();
    assert!(share.len() > 2, "a share's context adds keys: {share:?}");
    let whole = SealContext::record(&address, "rossignol_staging").pairs();
    let without =
        |name: &str| -> Vec<(&str, String)> { share.iter().filter(|(k, _)| *k != name).cloned().collect() };
    let elsewhere: Vec<(&str, String)> = share
        .iter()
        .map(|(k, v)| (*k, if *k == "table" { "rossignol_production".to_owned() } else { v.clone() }))
        .collect();
    let setter = json!({"!GetAtt": "SetterRole.Arn"});
    let getter = json!({"!GetAtt": "GetterRole.Arn"});
    let signer = json!({"!GetAtt": "SignerRole.Arn"});
    for context in [&share, &whole] {
        assert!(kms_allows(&policy, &setter, "kms:Encrypt", context), "{context:?}");
        assert!(kms_allows(&policy, &getter, "kms:Decrypt", context), "{context:?}");
        assert!(kms_allows(&policy, &signer, "kms:Decrypt", context), "{context:?}");
        assert!(!kms_allows(&policy, &setter, "kms:Decrypt", context), "{context:?}");
        assert!(!kms_allows(&policy, &getter, "kms:Encrypt", context), "{context:?}");
    }
    for context in [without("address"), without("table"), elsewhere] {
        for (who, action) in [(&setter, "kms:Encrypt"), (&getter, "kms:Decrypt"), (&signer, "kms:Decrypt")] {
            assert!(!kms_allows(&policy, who, action, &context), "{who} {action} {context:?}");
        }
    }
}
