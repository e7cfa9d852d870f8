//! The offline analyzer: Tesseract OCR as a subprocess (hard timeout, one thread), after the
//! preprocessing that helped most on usage pages: grayscale, dark pages inverted, small ones upscaled.

use super::ocr_text;
use app::api::Evidence;
use app::ssr::ports::{Analyzer, NormalisedImage, PortError, PortResult};
use async_trait::async_trait;
use image::{imageops::FilterType, DynamicImage, GrayImage};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Our name for this port in messages.
const SERVICE: &str = "the screenshot reader";

/// Pages narrower than this are upscaled 2x before OCR.
const UPSCALE_BELOW_WIDTH: u32 = 1600;

#[derive(Clone, Debug)]
pub struct TesseractAnalyzer {
    binary: PathBuf,
    timeout: Duration,
}

impl TesseractAnalyzer {
    pub fn new(binary: impl Into<PathBuf>, timeout: Duration) -> Self {
        Self {
            binary: binary.into(),
            timeout,
        }
    }

    /// Runs Tesseract on a PNG and returns the text it read. The program runs in a process
    /// group of its own, killed whole when the timeout strikes or the request is dropped, so
    /// nothing it started outlives it.
    pub async fn read_text(&self, png: Vec<u8>) -> PortResult<String> {
        let mut child = tokio::process::Command::new(&self.binary)
            .args(["stdin", "stdout", "--psm", "11"])
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                PortError::unavailable(
                    SERVICE,
                    format!(
                        "the OCR program {} could not be started ({e}); install tesseract-ocr",
                        self.binary.display()
                    ),
                )
            })?;
        let _group = child.id().map(ProcessGroup);
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let run = async move {
            stdin.write_all(&png).await?;
            drop(stdin);
            child.wait_with_output().await
        };
        let output = tokio::time::timeout(self.timeout, run)
            .await
            .map_err(|_| PortError::timeout(SERVICE))?
            .map_err(|e| PortError::unavailable(SERVICE, e))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(PortError::unavailable(
                SERVICE,
                format!(
                    "OCR failed ({}): {}",
                    output.status,
                    stderr.lines().last().unwrap_or("no message")
                ),
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// A child's process group, killed when this is dropped (after a normal exit there is nothing
/// left to kill, and the signal goes nowhere).
struct ProcessGroup(u32);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if let Ok(pgid) = i32::try_from(self.0) {
            // SAFETY: killpg only sends a signal; a group that is gone makes it fail harmlessly.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        }
    }
}

/// Grayscale; invert a dark page so text is dark on light; upscale 2x when small.
pub fn prepare_for_ocr(png: &[u8]) -> PortResult<Vec<u8>> {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .map_err(|e| PortError::unavailable(SERVICE, format!("OCR preprocessing: {e}")))?;
    let mut gray: GrayImage = image.to_luma8();
    let mean = gray.pixels().map(|p| u64::from(p.0[0])).sum::<u64>()
        / u64::from(gray.width() * gray.height()).max(1);
    if mean < 128 {
        image::imageops::invert(&mut gray);
    }
    if gray.width() < UPSCALE_BELOW_WIDTH {
        gray = image::imageops::resize(
            &gray,
            gray.width() * 2,
            gray.height() * 2,
            FilterType::Lanczos3,
        );
    }
    let mut out = Vec::new();
    DynamicImage::ImageLuma8(gray)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(|e| PortError::unavailable(SERVICE, format!("OCR preprocessing: {e}")))?;
    Ok(out)
}

#[async_trait]
impl Analyzer for TesseractAnalyzer {
    fn name(&self) -> String {
        "tesseract".into()
    }

    async fn analyze(&self, image: &NormalisedImage) -> PortResult<Evidence> {
        let png = image.png.clone();
        let prepared = tokio::task::spawn_blocking(move || prepare_for_ocr(&png))
            .await
            .map_err(|e| PortError::unavailable(SERVICE, e))??;
        let text = self.read_text(prepared).await?;
        Ok(ocr_text::parse(&text))
    }
}
