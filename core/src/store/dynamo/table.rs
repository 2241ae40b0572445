//! Table bootstrap and settings checks, shared by the accounts table and
//! the access trail's table.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PointInTimeRecoverySpecification,
    ScalarAttributeType, SseSpecification, SseStatus, SseType, TableDescription, TableStatus,
};

use super::SERVICE;
use crate::aws::sdk_error;
use crate::error::{Error, Result};
use crate::store::{CheckStatus, SettingCheck};

/// How long `init` waits for a new table to become active.
const CREATE_TIMEOUT: Duration = Duration::from_secs(120);

/// A table key: attribute name (always a string) and role.
pub type Key<'a> = (&'a str, KeyType);

fn build_error(e: impl std::fmt::Display) -> Error {
    Error::Config(format!("invalid table definition: {e}"))
}

/// Creates `table` with string keys, on-demand billing and KMS encryption
/// (AWS-managed unless `sse_kms_key_id`), then waits until it is active.
/// A table someone else created meanwhile is fine.
pub async fn create(
    client: &Client,
    table: &str,
    keys: &[Key<'_>],
    sse_kms_key_id: Option<&str>,
) -> Result<()> {
    let mut request = client.create_table().table_name(table).billing_mode(BillingMode::PayPerRequest);
    for (name, role) in keys {
        let definition = AttributeDefinition::builder()
            .attribute_name(*name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(build_error)?;
        let key = KeySchemaElement::builder()
            .attribute_name(*name)
            .key_type(role.clone())
            .build()
            .map_err(build_error)?;
        request = request.attribute_definitions(definition).key_schema(key);
    }
    let sse = SseSpecification::builder()
        .enabled(true)
        .sse_type(SseType::Kms)
        .set_kms_master_key_id(sse_kms_key_id.map(str::to_owned))
        .build();
    match request.sse_specification(sse).send().await {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceInUseException") => {}
        Err(e) => return Err(sdk_error(SERVICE, "CreateTable", e)),
    }

    let deadline = tokio::time::Instant::now() + CREATE_TIMEOUT;
    loop {
        let status = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .ok()
            .and_then(|o| o.table)
            .and_then(|t| t.table_status);
        if status == Some(TableStatus::Active) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(Error::Service {
                service: SERVICE,
                operation: "CreateTable",
                message: format!("table {table} did not become active within {CREATE_TIMEOUT:?}"),
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Turns on point-in-time recovery. DynamoDB Local does not implement it;
/// the settings check says so instead of pretending.
pub async fn enable_point_in_time_recovery(client: &Client, table: &str) -> Result<()> {
    let spec = PointInTimeRecoverySpecification::builder()
        .point_in_time_recovery_enabled(true)
        .build()
        .map_err(build_error)?;
    match client
        .update_continuous_backups()
        .table_name(table)
        .point_in_time_recovery_specification(spec)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("UnknownOperationException") => Ok(()),
        Err(e) => Err(sdk_error(SERVICE, "UpdateContinuousBackups", e)),
    }
}

pub fn key_schema_check(table: &TableDescription, expected: &[Key<'_>]) -> SettingCheck {
    let setting = "key schema";
    let describe = |keys: &mut dyn Iterator<Item = (&str, &str)>| {
        keys.map(|(name, role)| format!("{name} ({role})")).collect::<Vec<_>>().join(", ")
    };
    let found = describe(&mut table.key_schema().iter().map(|k| (k.attribute_name(), k.key_type().as_str())));
    let wanted = describe(&mut expected.iter().map(|(name, role)| (*name, role.as_str())));
    let all_strings = expected.iter().all(|(name, _)| {
        table
            .attribute_definitions()
            .iter()
            .any(|d| d.attribute_name() == *name && d.attribute_type() == &ScalarAttributeType::S)
    });
    if found == wanted && all_strings {
        SettingCheck { setting, status: CheckStatus::Ok, detail: format!("{wanted}, strings") }
    } else {
        SettingCheck {
            setting,
            status: CheckStatus::Wrong,
            detail: format!("expected {wanted} (all strings), found {found}"),
        }
    }
}

pub fn billing_check(table: &TableDescription) -> SettingCheck {
    let setting = "billing";
    let mode = table.billing_mode_summary.as_ref().and_then(|b| b.billing_mode.clone());
    match mode {
        Some(BillingMode::PayPerRequest) => {
            SettingCheck { setting, status: CheckStatus::Ok, detail: "on-demand".into() }
        }
        other => SettingCheck {
            setting,
            status: CheckStatus::Wrong,
            detail: format!(
                "{}; on-demand is expected so that bulk creation is not throttled",
                other.as_ref().map_or("provisioned capacity", |m| m.as_str())
            ),
        },
    }
}

/// `reports_settings` is false for endpoints such as DynamoDB Local, which
/// accept an SSE specification but report none back.
pub fn encryption_check(table: &TableDescription, reports_settings: bool) -> SettingCheck {
    let setting = "encryption at rest";
    match table.sse_description.as_ref() {
        Some(sse) if sse.status == Some(SseStatus::Enabled) && sse.sse_type == Some(SseType::Kms) => {
            let key = sse.kms_master_key_arn.as_deref().unwrap_or("an AWS-managed key");
            SettingCheck { setting, status: CheckStatus::Ok, detail: format!("KMS ({key})") }
        }
        Some(sse) => SettingCheck {
            setting,
            status: CheckStatus::Wrong,
            detail: format!(
                "SSE is {:?} with type {:?}; use a KMS key (AWS-managed or customer-managed)",
                sse.status, sse.sse_type
            ),
        },
        None if !reports_settings => {
            SettingCheck { setting, status: CheckStatus::NotReported, detail: "not reported by this endpoint".into() }
        }
        None => SettingCheck {
            setting,
            status: CheckStatus::Wrong,
            detail: "encrypted with an AWS-owned key only; switch the table to a KMS key (AWS-managed or customer-managed)"
                .into(),
        },
    }
}

pub async fn backup_check(client: &Client, table: &str) -> Result<SettingCheck> {
    let setting = "point-in-time recovery";
    match client.describe_continuous_backups().table_name(table).send().await {
        Ok(output) => {
            let enabled = output
                .continuous_backups_description
                .and_then(|d| d.point_in_time_recovery_description)
                .and_then(|p| p.point_in_time_recovery_status)
                .is_some_and(|s| s.as_str() == "ENABLED");
            Ok(if enabled {
                SettingCheck { setting, status: CheckStatus::Ok, detail: "enabled".into() }
            } else {
                SettingCheck {
                    setting,
                    status: CheckStatus::Wrong,
                    detail: "disabled; enable it so that a mistaken write can be undone".into(),
                }
            })
        }
        Err(e) if e.code() == Some("UnknownOperationException") => Ok(SettingCheck {
            setting,
            status: CheckStatus::NotReported,
            detail: "not reported by this endpoint".into(),
        }),
        Err(e) => Err(sdk_error(SERVICE, "DescribeContinuousBackups", e)),
    }
}
