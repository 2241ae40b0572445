//! The DynamoDB store: one table per environment, partition key `address`
//! (S), no sort key.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, KeyType};

use super::{ADDRESS, AccountStore, Attr, Cursor, InitOutcome, Item, Page, Segment, TableReport, record};
use crate::account::Address;
use crate::aws::sdk_error;
use crate::error::{Error, Result};

mod table;
mod trail;

pub use trail::DynamoTrail;

const SERVICE: &str = "DynamoDB";

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// A custom endpoint (DynamoDB Local) reports less than AWS does.
    custom_endpoint: Option<String>,
    /// A customer-managed KMS key for table encryption; AWS-managed if unset.
    sse_kms_key_id: Option<String>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into(), custom_endpoint: None, sse_kms_key_id: None }
    }

    /// Marks the store as talking to a non-AWS endpoint such as DynamoDB
    /// Local, which does not report encryption or backup settings.
    pub fn with_custom_endpoint(mut self, endpoint: Option<String>) -> Self {
        self.custom_endpoint = endpoint;
        self
    }

    pub fn with_sse_kms_key(mut self, key_id: Option<String>) -> Self {
        self.sse_kms_key_id = key_id;
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn location(&self) -> String {
        self.custom_endpoint.clone().unwrap_or_else(|| "AWS".to_owned())
    }

    /// A conditional write's failure: `Changed` when its condition failed.
    fn conditional_error<E>(
        &self,
        e: aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
        address: String,
        operation: &'static str,
    ) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match e.code() {
            Some("ConditionalCheckFailedException") => Error::Changed { address, table: self.table.clone() },
            Some("ResourceNotFoundException") => self.table_missing(),
            _ => sdk_error(SERVICE, operation, e),
        }
    }

    fn table_missing(&self) -> Error {
        Error::TableMissing { table: self.table.clone() }
    }
}

/// An item as DynamoDB attributes (for raw writes such as batch loads).
pub fn to_attributes(item: &Item) -> HashMap<String, AttributeValue> {
    item.0.iter().map(|(name, attr)| (name.clone(), to_attribute(attr))).collect()
}

fn to_attribute(attr: &Attr) -> AttributeValue {
    match attr {
        Attr::S(s) => AttributeValue::S(s.clone()),
        Attr::N(n) => AttributeValue::N(n.clone()),
        Attr::B(b) => AttributeValue::B(Blob::new(b.clone())),
        Attr::Bool(b) => AttributeValue::Bool(*b),
    }
}

pub(crate) fn to_item(attributes: HashMap<String, AttributeValue>) -> Item {
    let mut item = Item::default();
    for (name, value) in attributes {
        let attr = match value {
            AttributeValue::S(s) => Attr::S(s),
            AttributeValue::N(n) => Attr::N(n),
            AttributeValue::B(b) => Attr::B(b.into_inner()),
            AttributeValue::Bool(b) => Attr::Bool(b),
            // Rossignol writes none of the others; keep the name visible to
            // audits without guessing at a value.
            other => Attr::S(format!("<unsupported DynamoDB type {:?}>", attribute_type(&other))),
        };
        item.0.insert(name, attr);
    }
    item
}

fn attribute_type(value: &AttributeValue) -> &'static str {
    match value {
        AttributeValue::L(_) => "L",
        AttributeValue::M(_) => "M",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
        AttributeValue::Null(_) => "NULL",
        _ => "unknown",
    }
}

/// Every attribute Rossignol writes. A replace also requires the ones
/// `current` lacks to be absent, so a row another writer changed by adding
/// one (`disable` adds `disabled_at`) is not clobbered.
const RECORD_ATTRIBUTES: &[&str] = &[
    record::PUBLIC_KEY,
    record::SEALED_PRIVATE_KEY,
    record::SEAL,
    record::SCHEME,
    record::CREATED_AT,
    record::CREATED_BY,
    record::SCHEMA_VERSION,
    record::DISABLED_AT,
    record::DISABLED_BY,
    record::LEGACY_PRIVATE_KEY,
    record::CREATED_API_KEY,
    record::SEALED_SHARE,
    record::SHARE_INDEX,
    record::THRESHOLD,
    record::SHARES,
    record::EPOCH,
    record::COMMITMENTS,
    record::NEXT_SEALED_SHARE,
    record::NEXT_SEAL,
    record::NEXT_EPOCH,
    record::NEXT_COMMITMENTS,
];

/// A condition that holds only while the stored item is still `current`:
/// every attribute of `current` has its value, and every attribute that
/// only `new` has, or that Rossignol writes and `current` lacks, is absent.
fn unchanged_condition(
    current: &Item,
    new: &Item,
) -> (String, HashMap<String, String>, HashMap<String, AttributeValue>) {
    let mut clauses = Vec::new();
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    for (i, (name, attr)) in current.0.iter().enumerate() {
        names.insert(format!("#c{i}"), name.clone());
        values.insert(format!(":c{i}"), to_attribute(attr));
        clauses.push(format!("#c{i} = :c{i}"));
    }
    let mut absent: Vec<&str> =
        new.0.keys().map(String::as_str).chain(RECORD_ATTRIBUTES.iter().copied()).collect();
    absent.sort_unstable();
    absent.dedup();
    for (i, name) in absent.into_iter().filter(|name| current.get(name).is_none()).enumerate() {
        names.insert(format!("#n{i}"), name.to_owned());
        clauses.push(format!("attribute_not_exists(#n{i})"));
    }
    (clauses.join(" AND "), names, values)
}

/// `SET` every attribute of `new` that `current` lacks or holds otherwise,
/// `REMOVE` every attribute only `current` has; `None` when they agree.
fn update_expression(
    current: &Item,
    new: &Item,
    names: &mut HashMap<String, String>,
    values: &mut HashMap<String, AttributeValue>,
) -> Option<String> {
    let mut set = Vec::new();
    let changed =
        new.0.iter().filter(|(name, attr)| name.as_str() != ADDRESS && current.get(name) != Some(*attr));
    for (i, (name, attr)) in changed.enumerate() {
        names.insert(format!("#s{i}"), name.clone());
        values.insert(format!(":s{i}"), to_attribute(attr));
        set.push(format!("#s{i} = :s{i}"));
    }
    let mut remove = Vec::new();
    for (i, name) in current.0.keys().filter(|name| new.get(name).is_none()).enumerate() {
        names.insert(format!("#r{i}"), name.clone());
        remove.push(format!("#r{i}"));
    }
    let clauses: Vec<String> = [("SET", set), ("REMOVE", remove)]
        .into_iter()
        .filter(|(_, parts)| !parts.is_empty())
        .map(|(verb, parts)| format!("{verb} {}", parts.join(", ")))
        .collect();
    (!clauses.is_empty()).then(|| clauses.join(" "))
}

#[async_trait]
impl AccountStore for DynamoStore {
    fn table(&self) -> &str {
        &self.table
    }

    async fn create(&self, item: &Item) -> Result<()> {
        let address = item.address().unwrap_or_default().to_owned();
        let attributes = to_attributes(item);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attributes))
            .condition_expression("attribute_not_exists(#address)")
            .expression_attribute_names("#address", ADDRESS)
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("ConditionalCheckFailedException") => {
                    Error::AlreadyExists { address, table: self.table.clone() }
                }
                Some("ResourceNotFoundException") => self.table_missing(),
                _ => sdk_error(SERVICE, "PutItem", e),
            })?;
        Ok(())
    }

    /// One conditional UpdateItem that sets and removes only what differs,
    /// so an attribute Rossignol does not know, added by another writer in
    /// the meantime, survives.
    async fn replace(&self, current: &Item, new: &Item) -> Result<()> {
        let address = super::replaced_address(current, new)?;
        let (condition, mut names, mut values) = unchanged_condition(current, new);
        let update = update_expression(current, new, &mut names, &mut values);
        self.client
            .update_item()
            .table_name(&self.table)
            .key(ADDRESS, AttributeValue::S(address.clone()))
            .set_update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .send()
            .await
            .map_err(|e| self.conditional_error(e, address, "UpdateItem"))?;
        Ok(())
    }

    async fn remove(&self, current: &Item) -> Result<()> {
        let address = current.address().unwrap_or_default().to_owned();
        let (condition, names, values) = unchanged_condition(current, current);
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(ADDRESS, AttributeValue::S(address.clone()))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .send()
            .await
            .map_err(|e| self.conditional_error(e, address, "DeleteItem"))?;
        Ok(())
    }

    async fn get(&self, address: &Address) -> Result<Option<Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ADDRESS, AttributeValue::S(address.to_storage()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("ResourceNotFoundException") => self.table_missing(),
                _ => sdk_error(SERVICE, "GetItem", e),
            })?;
        Ok(output.item.map(to_item))
    }

    async fn scan_segment(&self, segment: Segment, after: Option<&Cursor>, limit: usize) -> Result<Page> {
        let mut request =
            self.client.scan().table_name(&self.table).limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX));
        if segment.total > 1 {
            request = request.segment(segment.index as i32).total_segments(segment.total as i32);
        }
        if let Some(cursor) = after {
            request = request.exclusive_start_key(ADDRESS, AttributeValue::S(cursor.0.clone()));
        }
        let output = request.send().await.map_err(|e| match e.code() {
            Some("ResourceNotFoundException") => self.table_missing(),
            _ => sdk_error(SERVICE, "Scan", e),
        })?;
        let next = output
            .last_evaluated_key
            .and_then(|mut key| key.remove(ADDRESS))
            .and_then(|value| value.as_s().ok().cloned())
            .map(Cursor);
        let items = output.items.unwrap_or_default().into_iter().map(to_item).collect();
        Ok(Page { items, next })
    }

    async fn describe(&self) -> Result<TableReport> {
        let output =
            self.client.describe_table().table_name(&self.table).send().await.map_err(|e| {
                match e.code() {
                    Some("ResourceNotFoundException") => self.table_missing(),
                    _ => sdk_error(SERVICE, "DescribeTable", e),
                }
            })?;
        let table = output.table.ok_or_else(|| self.table_missing())?;
        let reports_settings = self.custom_endpoint.is_none();
        let checks = vec![
            table::key_schema_check(&table, &[(ADDRESS, KeyType::Hash)]),
            table::billing_check(&table),
            table::encryption_check(&table, reports_settings),
            table::backup_check(&self.client, &self.table).await?,
        ];
        Ok(TableReport {
            table: self.table.clone(),
            location: self.location(),
            item_count: table.item_count.and_then(|n| u64::try_from(n).ok()),
            item_count_is_estimate: true,
            checks,
        })
    }

    async fn init(&self) -> Result<InitOutcome> {
        let created = match self.describe().await {
            Ok(_) => false,
            Err(Error::TableMissing { .. }) => {
                let keys = [(ADDRESS, KeyType::Hash)];
                table::create(&self.client, &self.table, &keys, self.sse_kms_key_id.as_deref()).await?;
                table::enable_point_in_time_recovery(&self.client, &self.table).await?;
                true
            }
            Err(e) => return Err(e),
        };
        Ok(InitOutcome { created, report: self.describe().await? })
    }
}
