//! The AWS adapters: IAM Identity Center's Identity Store, S3, Bedrock (Converse) and
//! Parameter Store. Each is a thin mapping of the port onto the real SDK client.

pub mod bedrock;
pub mod identity_store;
pub mod parameters;
pub mod s3_audit;

pub use bedrock::BedrockAnalyzer;
pub use identity_store::IdentityStoreDirectory;
pub use s3_audit::S3AuditStore;

use app::ssr::ports::PortError;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};

/// The SDK's view of a failed call, as a port error: timeouts are timeouts, a service that
/// answered with an error is upstream trouble, anything else (no connection) is unavailable.
pub fn port_error<E, R>(service: &str, err: SdkError<E, R>) -> PortError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let detail = DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::TimeoutError(_) => PortError::Timeout(service.to_owned()),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => {
            PortError::Timeout(service.to_owned())
        }
        SdkError::ServiceError(_) => PortError::Upstream(format!("{service}: {detail}")),
        _ => PortError::Unavailable(format!("{service}: {detail}")),
    }
}
