//! The AWS adapters: IAM Identity Center's Identity Store, S3, DynamoDB, Bedrock (Converse),
//! Parameter Store and SES. Each is a thin mapping of the port onto the real SDK client.

pub mod bedrock;
pub mod dynamo_index;
mod dynamo_likeness;
pub mod identity_store;
pub mod parameters;
pub mod s3_audit;
pub mod ses;

pub use bedrock::BedrockAnalyzer;
pub use dynamo_index::DynamoIndex;
pub use identity_store::IdentityStoreDirectory;
pub use s3_audit::S3AuditStore;
pub use ses::SesMailer;

use app::ssr::ports::PortError;
use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};

/// The SDK's view of a failed call, as a port error: timeouts are timeouts, a service that
/// answered with an error is upstream trouble, anything else (no connection) is unavailable.
pub fn port_error<E, R>(service: &'static str, err: SdkError<E, R>) -> PortError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    // The SDK's whole context (error code, message, connector cause) is the source: logged,
    // never shown.
    let detail = DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::TimeoutError(_) => PortError::timeout(service),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => PortError::timeout(service),
        SdkError::ServiceError(_) => PortError::upstream(service, detail),
        _ => PortError::unavailable(service, detail),
    }
}

/// An SDK configuration: the default chain (environment, Lambda role, profile), with a stand-in
/// endpoint, stand-in credentials and a default region when pointed at a local stand-in.
pub async fn sdk_config(
    endpoint: Option<&str>,
    region: Option<&str>,
    retry: RetryConfig,
    timeout: TimeoutConfig,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeout);
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                "stand-in",
                "stand-in",
                None,
                None,
                "local stand-in",
            ));
        }
        if region.is_none() && std::env::var_os("AWS_REGION").is_none() {
            loader = loader.region(Region::new("us-east-1"));
        }
    }
    loader.load().await
}
