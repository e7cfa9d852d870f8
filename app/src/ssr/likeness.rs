//! Near-duplicates: a screenshot that is another account's granted one with a few pixels changed
//! (an email painted over, a re-save as JPEG, a resize) goes to review, not to a grant.
//!
//! A `Likeness` is the mean brightness of each cell of a 32 × 32 grid over the normalised image,
//! with the image's aspect. Two images are alike when their aspects agree within 2 % and at most
//! 3 % of the cells differ by more than 8 brightness levels (of 255). Measured on the fixtures:
//! an edited copy (one pixel, another email pasted in, JPEG at quality 70, scaled to 80 %) differs
//! in 0 % of the cells, a 10-pixel crop in 1.8 %, a different page of the same layout in ≥ 11 %.
//! Two pages that differ only in the email are alike by design: that is what the edit looks like.
//!
//! Granted images are remembered at `similar/{aspect}-{sha256}.json` in the audit store (who was
//! granted, and the screenshot's key for the administrator's side-by-side view); only entries of
//! a close aspect are read when a new request is checked.

use super::error::{AppError, AppResult};
use super::ports::AuditStore;
use crate::api::DecisionRecord;
use base64::Engine;
use image::RgbImage;
use serde::{Deserialize, Serialize};

const GRID: u32 = 32;
/// A cell differs when its brightness moved by more than this (of 255).
const CELL_TOLERANCE: u8 = 8;
/// Images are alike when at most this many of the 1,024 cells differ (3 %).
const MAX_DIFFERING_CELLS: usize = 30;
/// Aspects (width / height, in thousandths) within 2 % of each other may be alike.
const ASPECT_TOLERANCE: f64 = 0.02;
const FOLDER: &str = "similar/";

/// What two images are compared by: the aspect and a 32 × 32 grid of mean brightness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Likeness {
    /// Width / height, in thousandths.
    pub aspect: u32,
    /// Row by row, `GRID` × `GRID` cells.
    pub cells: Vec<u8>,
}

impl Likeness {
    /// Averages the brightness (Rec. 601 luma) of each cell of the image.
    pub fn of(rgb: &RgbImage) -> Self {
        let (width, height) = rgb.dimensions();
        let cells = (GRID * GRID) as usize;
        let mut sums = vec![0u64; cells];
        let mut counts = vec![0u64; cells];
        for (x, y, p) in rgb.enumerate_pixels() {
            let cell = ((y * GRID / height) * GRID + x * GRID / width) as usize;
            let [r, g, b] = p.0;
            sums[cell] += 299 * u64::from(r) + 587 * u64::from(g) + 114 * u64::from(b);
            counts[cell] += 1000;
        }
        let cells = sums
            .iter()
            .zip(&counts)
            .map(|(&sum, &count)| (sum / count.max(1)) as u8)
            .collect();
        Self {
            aspect: (u64::from(width) * 1000 / u64::from(height.max(1))) as u32,
            cells,
        }
    }

    fn aspect_close(&self, aspect: u32) -> bool {
        let (a, b) = (f64::from(self.aspect), f64::from(aspect));
        (a - b).abs() <= ASPECT_TOLERANCE * a.max(b)
    }

    /// Whether `other` is this image edited a little (see the module's doc for the measure).
    pub fn is_alike(&self, other: &Likeness) -> bool {
        self.aspect_close(other.aspect)
            && self.cells.len() == other.cells.len()
            && self
                .cells
                .iter()
                .zip(&other.cells)
                .filter(|(a, b)| a.abs_diff(**b) > CELL_TOLERANCE)
                .count()
                <= MAX_DIFFERING_CELLS
    }
}

/// A granted image, as remembered under `similar/`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantedImage {
    pub email: String,
    /// The screenshot's key in the audit store.
    pub screenshot_key: String,
    pub aspect: u32,
    /// The cells, base64.
    pub cells: String,
}

impl GrantedImage {
    fn likeness(&self) -> Option<Likeness> {
        let cells = base64::engine::general_purpose::STANDARD
            .decode(&self.cells)
            .ok()?;
        Some(Likeness {
            aspect: self.aspect,
            cells,
        })
    }
}

fn key(aspect: u32, sha256: &str) -> String {
    format!("{FOLDER}{aspect:06}-{sha256}.json")
}

fn aspect_in_key(key: &str) -> Option<u32> {
    key.strip_prefix(FOLDER)?.get(..6)?.parse().ok()
}

/// Remembers a granted image (written once: the first grant of these pixels stays).
pub async fn remember(
    audit: &dyn AuditStore,
    sha256: &str,
    likeness: &Likeness,
    email: &str,
    screenshot_key: &str,
) -> AppResult<()> {
    let entry = GrantedImage {
        email: email.to_owned(),
        screenshot_key: screenshot_key.to_owned(),
        aspect: likeness.aspect,
        cells: base64::engine::general_purpose::STANDARD.encode(&likeness.cells),
    };
    let bytes = serde_json::to_vec(&entry).expect("a GrantedImage always serialises");
    audit
        .create_once(&key(likeness.aspect, sha256), &bytes)
        .await?;
    Ok(())
}

/// Remembers the image of a record an administrator approved, read back from the audit store.
pub async fn remember_stored(audit: &dyn AuditStore, record: &DecisionRecord) -> AppResult<()> {
    let Some(png) = audit.screenshot(&record.screenshot_key).await? else {
        return Ok(());
    };
    let likeness = tokio::task::spawn_blocking(move || {
        image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .map(|img| Likeness::of(&img.into_rgb8()))
    })
    .await
    .map_err(|e| AppError::Internal(format!("image task failed: {e}")))?
    .map_err(|e| AppError::Internal(format!("a stored screenshot does not decode: {e}")))?;
    remember(
        audit,
        &record.image_sha256,
        &likeness,
        &record.email,
        &record.screenshot_key,
    )
    .await
}

/// A granted image of another email that `likeness` is alike to, if there is one.
pub async fn granted_to_another(
    audit: &dyn AuditStore,
    likeness: &Likeness,
    email: &str,
) -> AppResult<Option<GrantedImage>> {
    use futures::{StreamExt, TryStreamExt};
    let candidates = audit
        .keys_in(FOLDER)
        .await?
        .into_iter()
        .filter(|k| aspect_in_key(k).is_some_and(|a| likeness.aspect_close(a)));
    let entries: Vec<Option<Vec<u8>>> = futures::stream::iter(candidates)
        .map(|k| async move { audit.read_once(&k).await })
        .buffer_unordered(8)
        .try_collect()
        .await?;
    Ok(entries
        .into_iter()
        .flatten()
        .filter_map(|bytes| serde_json::from_slice::<GrantedImage>(&bytes).ok())
        .find(|g| {
            !g.email.eq_ignore_ascii_case(email)
                && g.likeness().is_some_and(|l| likeness.is_alike(&l))
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{imageops, ImageFormat};
    use std::io::Cursor;

    fn fixture(name: &str) -> RgbImage {
        let path = format!("{}/../end2end/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        image::open(path).unwrap().into_rgb8()
    }

    #[test]
    fn an_edited_copy_is_alike() {
        let ada = fixture("screenshots/depleted-light.png");
        let original = Likeness::of(&ada);

        let mut one_pixel = ada.clone();
        one_pixel.put_pixel(700, 450, image::Rgb([255, 0, 0]));
        assert!(original.is_alike(&Likeness::of(&one_pixel)));

        // Bob's email pasted over Ada's: the whole region where the two pages differ.
        let bob = fixture("screenshots/bob-depleted-light.png");
        let mut pasted = ada.clone();
        imageops::replace(
            &mut pasted,
            &*imageops::crop_imm(&bob, 375, 37, 158, 16),
            375,
            37,
        );
        assert_ne!(pasted, ada);
        assert!(original.is_alike(&Likeness::of(&pasted)));

        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 70)
            .encode_image(&ada)
            .unwrap();
        let jpeg = image::load(Cursor::new(jpeg), ImageFormat::Jpeg)
            .unwrap()
            .into_rgb8();
        assert!(original.is_alike(&Likeness::of(&jpeg)));

        let scaled = imageops::resize(&ada, 1152, 720, imageops::FilterType::Lanczos3);
        assert!(original.is_alike(&Likeness::of(&scaled)));
    }

    #[test]
    fn other_pages_are_not_alike() {
        let ada = Likeness::of(&fixture("screenshots/depleted-light.png"));
        for other in [
            "screenshots/depleted-dark.png",
            "screenshots/unrelated-text.png",
            "adversarial/genuine-web-light.png",
            "adversarial/genuine-ide-panel.png",
            "adversarial/genuine-cli-usage.png",
        ] {
            assert!(!ada.is_alike(&Likeness::of(&fixture(other))), "{other}");
        }
        // The same picture in another shape is not alike either.
        let ada_rgb = fixture("screenshots/depleted-light.png");
        let squeezed = imageops::resize(&ada_rgb, 1440, 1100, imageops::FilterType::Triangle);
        assert!(!ada.is_alike(&Likeness::of(&squeezed)));
    }

    #[test]
    fn keys_carry_the_aspect() {
        let k = key(1600, "ab");
        assert_eq!(k, "similar/001600-ab.json");
        assert_eq!(aspect_in_key(&k), Some(1600));
        assert_eq!(aspect_in_key("similar/x"), None);
    }
}
