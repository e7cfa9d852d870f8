//! The offline analyzer: Tesseract OCR as a subprocess (hard timeout, one thread), three passes
//! over differently prepared images (normal, inverted, faint text made solid) whose texts are
//! merged into one piece of evidence.

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

/// Tesseract misses text close to an image's edge (a title bar): each pass gets a margin, of
/// its own background level where pure white would shift Tesseract's threshold on grey pages.
const MARGIN: u32 = 48;

/// The images Tesseract reads, one pass each, their texts merged (`ocr_text::Passes`):
/// 1. grayscale, dark pages inverted (text dark on light), upscaled 2x when small;
/// 2. the same inverted, for text of the other polarity (a dark title bar, a dark banner);
/// 3. every pixel that differs from the page's background made black, for faint text.
pub fn prepare_passes(png: &[u8]) -> PortResult<[Vec<u8>; 3]> {
    let gray = page_in_gray(png)?;
    let mut inverted = gray.clone();
    image::imageops::invert(&mut inverted);
    let faint = faint_text(&gray);
    let (page, faint_page) = (background_level(&gray), background_level(&faint));
    // The inverted page is mostly dark: a white margin makes a light title bar at its edge
    // read as text on a page rather than as a picture.
    Ok([
        encode(gray, page)?,
        encode(inverted, 255)?,
        encode(faint, faint_page)?,
    ])
}

/// One word's box (an email the PP-OCR reader found), with room around it, in gray, dark side
/// down and upscaled 2x: what the PP-OCR reader asks Tesseract for a second opinion on.
pub fn prepare_crop(
    image: &image::RgbImage,
    (x0, y0, x1, y1): (u32, u32, u32, u32),
) -> PortResult<Vec<u8>> {
    let room = (y1 - y0) / 2;
    let (x0, y0) = (x0.saturating_sub(room), y0.saturating_sub(room));
    let (x1, y1) = (
        (x1 + room).min(image.width()),
        (y1 + room).min(image.height()),
    );
    let crop = image::imageops::crop_imm(image, x0, y0, x1 - x0, y1 - y0).to_image();
    let gray = dark_side_down(DynamicImage::ImageRgb8(crop).to_luma8());
    let big = image::imageops::resize(
        &gray,
        gray.width() * 2,
        gray.height() * 2,
        FilterType::Lanczos3,
    );
    let level = background_level(&big);
    encode(big, level)
}

/// Grayscale, dark pages inverted, upscaled 2x when small.
fn page_in_gray(png: &[u8]) -> PortResult<GrayImage> {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .map_err(|e| PortError::unavailable(SERVICE, format!("OCR preprocessing: {e}")))?;
    let mut gray = dark_side_down(image.to_luma8());
    if gray.width() < UPSCALE_BELOW_WIDTH {
        gray = image::imageops::resize(
            &gray,
            gray.width() * 2,
            gray.height() * 2,
            FilterType::Lanczos3,
        );
    }
    Ok(gray)
}

/// The image inverted if it is mostly dark, so text is dark on light.
pub(super) fn dark_side_down(mut gray: GrayImage) -> GrayImage {
    let mean = gray.pixels().map(|p| u64::from(p.0[0])).sum::<u64>()
        / u64::from(gray.width() * gray.height()).max(1);
    if mean < 128 {
        image::imageops::invert(&mut gray);
    }
    gray
}

/// Black wherever a pixel is darker than the most common (background) level by a few steps:
/// text too faint for a normal pass becomes solid.
pub(super) fn faint_text(gray: &GrayImage) -> GrayImage {
    let threshold = background_level(gray).saturating_sub(3);
    GrayImage::from_fn(gray.width(), gray.height(), |x, y| {
        let level = gray.get_pixel(x, y).0[0];
        image::Luma([if level < threshold { 0 } else { 255 }])
    })
}

/// The most common gray level: the page's background.
fn background_level(gray: &GrayImage) -> u8 {
    let mut histogram = [0u64; 256];
    for p in gray.pixels() {
        histogram[usize::from(p.0[0])] += 1;
    }
    (0..=255u8)
        .max_by_key(|level| histogram[usize::from(*level)])
        .unwrap_or(255)
}

/// PNG bytes of the image inside a margin of gray level `margin`.
fn encode(gray: GrayImage, margin: u8) -> PortResult<Vec<u8>> {
    let mut framed = GrayImage::from_pixel(
        gray.width() + 2 * MARGIN,
        gray.height() + 2 * MARGIN,
        image::Luma([margin]),
    );
    image::imageops::replace(&mut framed, &gray, i64::from(MARGIN), i64::from(MARGIN));
    let mut out = Vec::new();
    DynamicImage::ImageLuma8(framed)
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
        let passes = tokio::task::spawn_blocking(move || prepare_passes(&png))
            .await
            .map_err(|e| PortError::unavailable(SERVICE, e))??;
        // One deadline for every pass together: the timeout bounds the whole analysis.
        let [normal, inverted, faint] = passes;
        let all = async {
            Ok::<_, PortError>(ocr_text::Passes {
                normal: self.read_text(normal).await?,
                inverted: self.read_text(inverted).await?,
                faint: self.read_text(faint).await?,
            })
        };
        let texts = tokio::time::timeout(self.timeout, all)
            .await
            .map_err(|_| PortError::timeout(SERVICE))??;
        Ok(ocr_text::parse_passes(&texts))
    }
}
