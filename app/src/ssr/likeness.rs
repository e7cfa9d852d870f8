//! Near-duplicates: a screenshot that is another account's granted one with a few pixels changed
//! (an email painted over, a re-save as JPEG, a resize) goes to review, not to a grant.
//!
//! A `Likeness` is the mean brightness of each cell of a 32 × 32 grid over the page inside its
//! uniform borders (a frame of any colour and the page's own margins peeled off), with that
//! part's aspect, each cell's brightness stretched between the page's dark and light levels (its
//! 1st and 99th percentiles). So padding, moving the page in a larger frame, darkening it or
//! flattening its contrast leave the likeness as it was. Two images are alike when their aspects
//! agree within 2 % and at most 5 % of the cells differ by more than 10 levels (of 255).
//! Measured on the fixtures: an edited copy (one pixel, another email pasted in, JPEG at
//! quality 70, scaled to 80 %) differs in 0 % of the cells, a 10-pixel crop in 4.1 %; the
//! likeness-dodge set (`end2end/fixtures/likeness`) is alike but for a dark page crushed to
//! black; a page of the same layout with credits left differs in 8 % (Dan's in 27 %), another
//! theme or layout in over 30 %. Two pages that differ only in the email are alike by design:
//! that is what the edit looks like.
//!
//! Granted images are kept in the record index (`RecordIndex::reserve_likeness`) with their
//! band keys: 64 bands of 16 cells each (a fixed shuffle of the grid), every cell cut to 8 levels,
//! once as is and once shifted by half a level, hashed. An edited copy keeps bands whole (every
//! copy in the dodge set shares at least 2 of its 128 keys with its original: tested), so a
//! request reads only the entries that share its keys, a bounded number of
//! them, and compares their grids; it never lists the whole index.

use super::error::{AppError, AppResult};
use super::ports::{AuditStore, RecordIndex};
use crate::api::DecisionRecord;
use image::RgbImage;
use std::sync::OnceLock;

const GRID: u32 = 32;
/// A cell differs when its brightness moved by more than this (of 255).
const CELL_TOLERANCE: u8 = 10;
/// Images are alike when at most this many of the 1,024 cells differ (5 %).
const MAX_DIFFERING_CELLS: usize = 50;
/// Aspects (width / height, in thousandths) within 2 % of each other may be alike.
const ASPECT_TOLERANCE: f64 = 0.02;
/// How many bands of how many cells the band keys are made of.
const BANDS: usize = 64;
const BAND_CELLS: usize = 16;
/// A cell's brightness is cut into levels this wide for its band's key.
const LEVEL: u16 = 32;

/// What two images are compared by: the aspect and a 32 × 32 grid of mean brightness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Likeness {
    /// Width / height, in thousandths.
    pub aspect: u32,
    /// Row by row, `GRID` × `GRID` cells.
    pub cells: Vec<u8>,
}

impl Likeness {
    /// The page as compared: uniform borders trimmed (`content`), the brightness (Rec. 601 luma)
    /// of each cell averaged, then the cells stretched to the full range (`stretch`), so padding,
    /// darkening and a change of contrast leave the likeness as it was.
    pub fn of(rgb: &RgbImage) -> Self {
        let (width, height) = rgb.dimensions();
        let luma: Vec<u8> = rgb
            .pixels()
            .map(|p| {
                let [r, g, b] = p.0;
                ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b)) / 1000) as u8
            })
            .collect();
        let area = content(&luma, width, height);
        let (w, h) = (area.right - area.left, area.bottom - area.top);
        let cells = (GRID * GRID) as usize;
        let mut sums = vec![0u64; cells];
        let mut counts = vec![0u64; cells];
        for y in area.top..area.bottom {
            let row = &luma[(y * width) as usize..][..width as usize];
            let cell_row = (y - area.top) * GRID / h * GRID;
            for x in area.left..area.right {
                let cell = (cell_row + (x - area.left) * GRID / w) as usize;
                sums[cell] += u64::from(row[x as usize]);
                counts[cell] += 1;
            }
        }
        let (lo, hi) = levels(&luma, width, &area);
        let means = sums
            .iter()
            .zip(&counts)
            .map(|(&sum, &count)| stretch((sum / count.max(1)) as u8, lo, hi))
            .collect();
        Self {
            aspect: (u64::from(w) * 1000 / u64::from(h.max(1))) as u32,
            cells: means,
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

/// The part of an image inside its uniform borders, `[left, right) × [top, bottom)`.
struct Area {
    left: u32,
    top: u32,
    right: u32,
    bottom: u32,
}

/// A border row or column is uniform when its brightest and darkest pixels are this close.
const UNIFORM: u8 = 3;
/// Pixels at each end of a border line that may differ from the rest (`content`).
const EDGE: u32 = 2;

/// Peels uniform rows and columns off each side until none is left (a frame of any colour, the
/// page's own margins): what a padded or re-framed copy shares with its original. An image that
/// is nearly all border is kept whole.
fn content(luma: &[u8], width: u32, height: u32) -> Area {
    let whole = Area {
        left: 0,
        top: 0,
        right: width,
        bottom: height,
    };
    let pixel = |x: u32, y: u32| luma[(y * width + x) as usize];
    let uniform = |values: &mut dyn Iterator<Item = u8>| {
        let (lo, hi) = values.fold((u8::MAX, 0), |(lo, hi), v| (lo.min(v), hi.max(v)));
        hi.saturating_sub(lo) <= UNIFORM
    };
    // A line's own first and last `EDGE` pixels are not looked at: where a frame meets the
    // page, resizing blends a pixel or two of each into the other.
    let inner = |from: u32, to: u32| {
        if to - from > 4 * EDGE {
            from + EDGE..to - EDGE
        } else {
            from..to
        }
    };
    let mut a = Area { ..whole };
    loop {
        let before = (a.left, a.top, a.right, a.bottom);
        let row = |y: u32, a: &Area| uniform(&mut inner(a.left, a.right).map(|x| pixel(x, y)));
        let column = |x: u32, a: &Area| uniform(&mut inner(a.top, a.bottom).map(|y| pixel(x, y)));
        while a.top + 1 < a.bottom && row(a.top, &a) {
            a.top += 1;
        }
        while a.bottom > a.top + 1 && row(a.bottom - 1, &a) {
            a.bottom -= 1;
        }
        while a.left + 1 < a.right && column(a.left, &a) {
            a.left += 1;
        }
        while a.right > a.left + 1 && column(a.right - 1, &a) {
            a.right -= 1;
        }
        if before == (a.left, a.top, a.right, a.bottom) {
            break;
        }
    }
    let (w, h) = (a.right - a.left, a.bottom - a.top);
    if w < GRID
        || h < GRID
        || u64::from(w) * u64::from(h) * 16 < u64::from(width) * u64::from(height)
    {
        return whole;
    }
    a
}

/// The page's dark and light levels: the brightness 1 % of its content's pixels are darker
/// than, and the one 1 % are lighter than (text and background, on a screenshot).
fn levels(luma: &[u8], width: u32, area: &Area) -> (u8, u8) {
    let mut histogram = [0u64; 256];
    for y in area.top..area.bottom {
        let row = &luma[(y * width) as usize..][..width as usize];
        for &v in &row[area.left as usize..area.right as usize] {
            histogram[usize::from(v)] += 1;
        }
    }
    let total: u64 = histogram.iter().sum();
    let at = |share: u64| {
        let mut seen = 0;
        histogram
            .iter()
            .position(|&n| {
                seen += n;
                seen * 100 > total * share
            })
            .unwrap_or(255) as u8
    };
    (at(1), at(99))
}

/// A cell's brightness with the page's dark level as black and its light level as white: a
/// page made darker or lighter, or given less contrast, reads as it was. A page with nearly
/// one level throughout is left as it is.
fn stretch(v: u8, lo: u8, hi: u8) -> u8 {
    if hi.saturating_sub(lo) < 32 {
        return v;
    }
    let span = u32::from(hi - lo);
    ((u32::from(v.clamp(lo, hi) - lo) * 255 + span / 2) / span) as u8
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
    let Some(likeness) = of_stored(audit, &record.screenshot_key).await? else {
        return Ok(());
    };
    let entry = LikenessEntry {
        sha256: record.image_sha256.clone(),
        email: record.email.clone(),
        screenshot_key: record.screenshot_key.clone(),
        likeness,
    };
    remember(index, &entry).await
}

/// How likenesses are made now. Entries an index kept under an earlier version are made again
/// from their screenshots (`of_stored`) by the adapter's re-keying, once.
pub const LIKENESS_VERSION: u32 = 2;

/// The likeness of a screenshot the audit store keeps (the normalised PNG a request stored), or
/// `None` when it is no longer kept.
pub async fn of_stored(
    audit: &dyn AuditStore,
    screenshot_key: &str,
) -> AppResult<Option<Likeness>> {
    let Some(png) = audit.screenshot(screenshot_key).await? else {
        return Ok(None);
    };
    tokio::task::spawn_blocking(move || {
        image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .map(|img| Likeness::of(&img.into_rgb8()))
    })
    .await
    .map_err(|e| AppError::Internal(format!("image task failed: {e}")))?
    .map(Some)
    .map_err(|e| AppError::Internal(format!("a stored screenshot does not decode: {e}")))
}

/// What re-keying the kept likenesses did: made again from their screenshots, or removed
/// because their screenshot is no longer kept (nothing to compare a request with).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rekeyed {
    pub rekeyed: usize,
    pub removed: usize,
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

    fn normalised(name: &str) -> Likeness {
        let path = format!("{}/../end2end/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        super::super::normalise::normalise(&std::fs::read(path).unwrap())
            .unwrap()
            .likeness
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

    /// The likeness-dodge set (`end2end/fixtures/likeness.py`, drawn before the likeness was
    /// normalised, frozen): every copy reads as alike its original and is found by its keys,
    /// but for the two named here, which the grid cannot tell: a dark page darkened until its
    /// panels and its background are one black (what was drawn is gone, not moved).
    #[test]
    fn darkened_flattened_padded_and_reframed_copies_are_alike_and_found() {
        const NOT_CAUGHT: &[&str] = &[
            "cara-depleted-dark-darker-48.png",
            "cara-depleted-dark-darker-and-padded.png",
        ];
        let path = format!(
            "{}/../end2end/fixtures/likeness/expected.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let table: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert!(table.len() >= 20);
        let mut missed = Vec::new();
        for (file, entry) in table
            .iter()
            .filter(|(f, _)| !NOT_CAUGHT.contains(&f.as_str()))
        {
            // As a request sees them: decoded, downscaled, then compared.
            let original = normalised(entry["copy_of"].as_str().unwrap());
            let copy = normalised(&format!("likeness/{file}"));
            let theirs = copy.band_keys();
            let shared = original
                .band_keys()
                .iter()
                .filter(|k| theirs.contains(k))
                .count();
            if !original.is_alike(&copy) || shared < 2 {
                let differing = (original.cells.iter().zip(&copy.cells))
                    .filter(|(a, b)| a.abs_diff(**b) > CELL_TOLERANCE)
                    .count();
                missed.push(format!(
                    "{file}: {shared} keys shared, {differing} cells differ, aspects {} and {}",
                    original.aspect, copy.aspect
                ));
            }
        }
        assert!(missed.is_empty(), "{missed:#?}");
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
