//! The records table as `infra/template.yaml` declares it (`RecordsTable`: keys, attributes,
//! global secondary indexes, time to live), made in moto: the adapter is tested against the
//! stack's table, not against a second description of it.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use serde_yaml::Value;

fn template_table() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");
    let text = std::fs::read_to_string(path).expect("infra/template.yaml");
    let template: Value = serde_yaml::from_str(&text).expect("the template is YAML");
    template["Resources"]["RecordsTable"]["Properties"].clone()
}

fn field<'a>(value: &'a Value, name: &str) -> &'a str {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {value:?}"))
}

fn key_schema(value: &Value) -> Vec<KeySchemaElement> {
    value
        .as_sequence()
        .expect("a KeySchema")
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(field(k, "AttributeName"))
                .key_type(KeyType::from(field(k, "KeyType")))
                .build()
                .unwrap()
        })
        .collect()
}

/// Makes the template's table under `name` at the client's endpoint, its time to live on.
pub async fn create(client: &aws_sdk_dynamodb::Client, name: &str) {
    create_keys_and_indexes(client, name).await;
    let ttl = &template_table()["TimeToLiveSpecification"];
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(field(ttl, "AttributeName"))
                .enabled(ttl["Enabled"].as_bool().expect("TTL Enabled"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("turning on the records table's TTL");
}

/// The template's table without its time to live, for a stand-in that has none (dynalite,
/// which the scale bench uses: nothing it times expires).
pub async fn create_keys_and_indexes(client: &aws_sdk_dynamodb::Client, name: &str) {
    let table = template_table();
    let attributes = table["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions")
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(field(a, "AttributeName"))
                .attribute_type(ScalarAttributeType::from(field(a, "AttributeType")))
                .build()
                .unwrap()
        })
        .collect();
    let indexes = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("GlobalSecondaryIndexes")
        .iter()
        .map(|i| {
            GlobalSecondaryIndex::builder()
                .index_name(field(i, "IndexName"))
                .set_key_schema(Some(key_schema(&i["KeySchema"])))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(field(
                            &i["Projection"],
                            "ProjectionType",
                        )))
                        .build(),
                )
                .build()
                .unwrap()
        })
        .collect();
    assert_eq!(field(&table, "BillingMode"), "PAY_PER_REQUEST");
    client
        .create_table()
        .table_name(name)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(&table["KeySchema"])))
        .set_global_secondary_indexes(Some(indexes))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("creating the records table");
    // moto makes it at once; dynalite, like DynamoDB, a moment later.
    for _ in 0..100 {
        let described = client.describe_table().table_name(name).send().await;
        let status = described.expect("describing the records table").table;
        if status
            .and_then(|t| t.table_status)
            .map(|s| s.as_str().to_owned())
            == Some("ACTIVE".into())
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the records table {name} did not become active");
}
