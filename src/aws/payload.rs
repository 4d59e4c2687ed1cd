//! Reads a CloudFormation Lambda Hook's stack payload: a presigned S3 URL,
//! fetched with a plain GET (no credentials: the URL carries its own
//! signature), through the same HTTPS client the SDK uses.

use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::http::Request;
use aws_smithy_types::byte_stream::ByteStream;
use std::time::Duration;

/// The largest payload read: CloudFormation's templates are at most 1 MB
/// (from S3), and the payload holds the template and the previous one.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;

/// Fetches payload URLs.
#[derive(Clone)]
pub struct PayloadFetcher {
    connector: SharedHttpConnector,
}

impl PayloadFetcher {
    /// The SDK's default HTTPS connector (rustls), with short timeouts.
    pub fn new() -> Result<Self, String> {
        let settings = HttpConnectorSettings::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(10))
            .build();
        let sleep = SharedAsyncSleep::new(TokioSleep::new());
        let connector = aws_smithy_http_client::default_connector(&settings, Some(sleep))
            .ok_or_else(|| "no HTTPS client is built in".to_string())?;
        Ok(PayloadFetcher { connector })
    }

    /// GETs `url` within `limit`; the body, or why not. The URL's query (its
    /// signature) is never repeated in a message.
    pub async fn fetch(&self, url: &str, limit: Duration) -> Result<Vec<u8>, String> {
        let shown = url.split('?').next().unwrap_or_default();
        let request =
            Request::get(url).map_err(|e| format!("the payload URL {shown} is not a URL: {e}"))?;
        let call = async {
            let response = self.connector.call(request).await.map_err(|e| {
                format!(
                    "the stack payload could not be fetched from {shown}: {}",
                    aws_smithy_types::error::display::DisplayErrorContext(&e)
                )
            })?;
            let status = response.status().as_u16();
            if !(200..300).contains(&status) {
                return Err(format!("the stack payload could not be fetched from {shown}: HTTP {status} (an expired or wrong presigned URL?)"));
            }
            let declared = response
                .headers()
                .get("content-length")
                .and_then(|v| v.parse::<usize>().ok());
            if declared.is_some_and(|n| n > MAX_PAYLOAD_BYTES) {
                return Err(format!(
                    "the stack payload is larger than {MAX_PAYLOAD_BYTES} bytes"
                ));
            }
            let bytes = ByteStream::new(response.into_body())
                .collect()
                .await
                .map_err(|e| format!("the stack payload could not be read from {shown}: {e}"))?
                .into_bytes();
            if bytes.len() > MAX_PAYLOAD_BYTES {
                return Err(format!(
                    "the stack payload is larger than {MAX_PAYLOAD_BYTES} bytes"
                ));
            }
            Ok(bytes.to_vec())
        };
        tokio::time::timeout(limit, call).await.map_err(|_| {
            format!(
                "the stack payload did not arrive from {shown} within {} s",
                limit.as_secs()
            )
        })?
    }
}
