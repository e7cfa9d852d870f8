//! The Kiro Access binary: reads the configuration, builds the app (`startup`) and serves it,
//! over TCP locally or through `lambda_http` on Lambda; `server import-records` copies an older
//! stack's records from its bucket into its DynamoDB table.

use anyhow::Context;
use server::startup::{self, Application};
use server::Config;

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
    startup::load_parameters(&mut config).await?;
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("import-records") => return import_records(&config).await,
        Some(other) => anyhow::bail!(
            "unknown command {other:?}: run with none to serve, or `import-records` to copy a \
             bucket's records into the DynamoDB table"
        ),
    }
    // Keys are generated only on a local run: Lambda's file system is read-only.
    let generated = !on_lambda && config.ensure_local_keys()?;
    let leptos_options = startup::leptos_options()?;
    let addr = leptos_options.site_addr;
    let app = Application::build(&config, leptos_options).await?;
    if on_lambda {
        return server::lambda::run(app.router, app.services).await;
    }
    startup::sweep_every(app.services.clone(), config.sweep_every);

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
            config.member_keys[0].expose(),
            config.admin_keys[0].expose()
        );
    }
    axum::serve(listener, app.router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")
}

/// `server import-records`: the bucket's records into the table, with what was copied printed.
async fn import_records(config: &Config) -> anyhow::Result<()> {
    match startup::import_records(config).await? {
        Some(found) => println!("{found} (the bucket's objects stay)"),
        None => println!("these records were imported before; nothing to do"),
    }
    Ok(())
}
