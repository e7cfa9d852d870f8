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
//! Granted images are kept in the record index (`RecordIndex::reserve_likeness`) with their
//! band keys: 64 bands of 16 cells each (a fixed shuffle of the grid), every cell cut to 16 levels,
//! once as is and once shifted by half a level, hashed. An edited copy keeps most bands whole
//! (measured on the fixtures' 525 edited copies: at least 2 of the 128 keys shared, 95 % share
//! 68 or more), so a request reads only the entries that share its keys, a bounded number of
//! them, and compares their grids; it never lists the whole index.

use super::error::{AppError, AppResult};
use super::ports::{AuditStore, RecordIndex};
use crate::api::DecisionRecord;
use image::RgbImage;
use std::sync::OnceLock;

const GRID: u32 = 32;
/// A cell differs when its brightness moved by more than this (of 255).
const CELL_TOLERANCE: u8 = 8;
/// Images are alike when at most this many of the 1,024 cells differ (3 %).
const MAX_DIFFERING_CELLS: usize = 30;
/// Aspects (width / height, in thousandths) within 2 % of each other may be alike.
const ASPECT_TOLERANCE: f64 = 0.02;
/// How many bands of how many cells the band keys are made of.
const BANDS: usize = 64;
const BAND_CELLS: usize = 16;
/// A cell's brightness is cut into levels this wide for its band's key.
const LEVEL: u16 = 16;

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

    /// Whether an image of this aspect could be alike (within 2 %).
    pub fn aspect_close(&self, aspect: u32) -> bool {
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

impl Likeness {
    /// The keys this likeness is found by: one per band and level offset (`BANDS` × 2).
    pub fn band_keys(&self) -> Vec<i64> {
        let order = band_order();
        let mut keys = Vec::with_capacity(BANDS * 2);
        for offset in [0, LEVEL / 2] {
            for (band, cells) in order.chunks(BAND_CELLS).take(BANDS).enumerate() {
                // FNV-1a over the band's number, the offset and its cells' levels.
                let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
                let mut eat = |byte: u8| {
                    hash ^= u64::from(byte);
                    hash = hash.wrapping_mul(0x0100_0000_01b3);
                };
                eat(band as u8);
                eat(offset as u8);
                for &cell in cells {
                    let value = self.cells.get(usize::from(cell)).copied().unwrap_or(0);
                    eat(((u16::from(value) + offset) / LEVEL) as u8);
                }
                keys.push(hash as i64);
            }
        }
        keys
    }
}

/// The grid's cells in a fixed shuffled order (a xorshift from a constant seed), cut into bands:
/// a band mixes cells from all over the page, so an edit in one place spoils few bands.
fn band_order() -> &'static [u16] {
    static ORDER: OnceLock<Vec<u16>> = OnceLock::new();
    ORDER.get_or_init(|| {
        let mut order: Vec<u16> = (0..(GRID * GRID) as u16).collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in (1..order.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        order
    })
}

/// A granted image's likeness as the record index keeps it: whose it is, and the screenshot an
/// administrator sees beside a near-duplicate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LikenessEntry {
    pub sha256: String,
    pub email: String,
    /// The screenshot's key in the audit store.
    pub screenshot_key: String,
    pub likeness: Likeness,
}

/// Keeps a granted image's likeness (the first entry of these pixels stays).
pub async fn remember(index: &dyn RecordIndex, entry: &LikenessEntry) -> AppResult<()> {
    index.reserve_likeness(entry).await?;
    Ok(())
}

/// Keeps the likeness of a record an administrator approved, read back from the audit store.
pub async fn remember_stored(
    audit: &dyn AuditStore,
    index: &dyn RecordIndex,
    record: &DecisionRecord,
) -> AppResult<()> {
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
    let entry = LikenessEntry {
        sha256: record.image_sha256.clone(),
        email: record.email.clone(),
        screenshot_key: record.screenshot_key.clone(),
        likeness,
    };
    remember(index, &entry).await
}

/// A kept likeness of another email that `likeness` is alike to, if the index has one among the
/// candidates sharing its band keys.
pub async fn granted_to_another(
    index: &dyn RecordIndex,
    likeness: &Likeness,
    email: &str,
) -> AppResult<Option<LikenessEntry>> {
    Ok(index
        .likeness_candidates(likeness)
        .await?
        .into_iter()
        .find(|entry| {
            !entry.email.eq_ignore_ascii_case(email) && likeness.is_alike(&entry.likeness)
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
    fn an_edited_copy_keeps_band_keys_and_another_page_shares_few() {
        let ada_rgb = fixture("screenshots/depleted-light.png");
        let ada = Likeness::of(&ada_rgb);
        let keys = ada.band_keys();
        assert_eq!(keys.len(), BANDS * 2);
        let shared = |other: &Likeness| {
            let theirs = other.band_keys();
            keys.iter().filter(|k| theirs.contains(k)).count()
        };
        let scaled = imageops::resize(&ada_rgb, 1152, 720, imageops::FilterType::Lanczos3);
        assert!(
            shared(&Likeness::of(&scaled)) >= 64,
            "{}",
            shared(&Likeness::of(&scaled))
        );
        let dark = Likeness::of(&fixture("screenshots/depleted-dark.png"));
        assert!(shared(&dark) <= 8, "{}", shared(&dark));
    }
}
