//! The Kiro Access binary: reads the configuration, wires the adapters and serves the router.

use anyhow::Context;
use leptos::prelude::get_configuration;
use server::{app, AppState, Config};
use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,server=info,app=info".into());
    if on_lambda {
        // One JSON object per line, with the span (and so Lambda's request id) in each.
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(true)
            .without_time() // CloudWatch stamps every line
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }

    let mut config = Config::from_env()?;
    config.load_parameters().await?;
    // Keys are generated only on a local run: Lambda's file system is read-only.
    let generated = !on_lambda && config.ensure_local_keys()?;
    let services = Arc::new(config.build_services().await?);
    let mut leptos_options = get_configuration(None)
        .context("reading the Leptos configuration")?
        .leptos_options;
    let hash_file = app::ssr::assets::hash_file_path(&leptos_options);
    let explicit = std::env::var("LEPTOS_HASH_FILES").ok();
    app::ssr::assets::detect_hashed_build(&mut leptos_options, explicit.as_deref(), &hash_file);
    let addr = leptos_options.site_addr;
    let router = app(AppState {
        leptos_options,
        services,
        cors_origins: config.cors_origins.clone(),
    });
    if on_lambda {
        return server::lambda::run(router).await;
    }

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
