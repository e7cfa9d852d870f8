//! Configuration from SSM Parameter Store, read once at cold start: every parameter under a
//! path (all pages, SecureStrings decrypted), keyed by the name below the path.

use super::port_error;
use app::ssr::ports::PortResult;
use aws_sdk_ssm::Client;
use std::collections::HashMap;

/// `/kiro-access/member-keys` under path `/kiro-access` is returned as `member-keys`.
pub async fn parameters_under(client: &Client, path: &str) -> PortResult<HashMap<String, String>> {
    let path = path.trim_end_matches('/');
    let mut pages = client
        .get_parameters_by_path()
        .path(path)
        .recursive(true)
        .with_decryption(true)
        .into_paginator()
        .page_size(10)
        .send();
    let mut found = HashMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| port_error("Parameter Store", e))?;
        for p in page.parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                let short = name
                    .strip_prefix(path)
                    .unwrap_or(name)
                    .trim_start_matches('/');
                found.insert(short.to_owned(), value.to_owned());
            }
        }
    }
    Ok(found)
}
