//! Creating the pipeline's table outside AWS, where template.yaml does not run: against
//! moto in `make demo` and in the benchmarks.

use super::keys::{PARTITION_KEY, SORT_KEY};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

/// Creates `table` with the string keys `pk` (hash) and `sk` (range) and on-demand billing,
/// the layout that template.yaml declares.
pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(PARTITION_KEY)?)
        .attribute_definitions(attribute(SORT_KEY)?)
        .key_schema(key(PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(SORT_KEY, KeyType::Range)?)
        .send()
        .await?;
    Ok(())
}
