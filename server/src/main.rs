//! The Kiro Access binary: reads the configuration, wires the adapters and serves the router.

use anyhow::Context;
use leptos::prelude::get_configuration;
use server::{app, AppState, Config};
use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,server=info,app=info".into()),
        )
        .init();

    let mut config = Config::from_env()?;
    config.load_parameters().await?;
    let generated = config.ensure_local_keys()?;
    let services = Arc::new(config.build_services().await?);
    let leptos_options = get_configuration(None)
        .context("reading the Leptos configuration")?
        .leptos_options;
    let addr = leptos_options.site_addr;
    let router = app(AppState {
        leptos_options,
        services,
        cors_origins: config.cors_origins.clone(),
    });

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    println!(
        "Kiro Access on http://{addr}  (data in {})",
        config.data_dir.display()
    );
    if generated {
        println!(
            "Keys were generated for this data directory ({}):\n  member key: {}\n  admin key:  {}",
            config.data_dir.join("keys.json").display(),
            config.member_keys[0],
            config.admin_keys[0]
        );
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")
}
