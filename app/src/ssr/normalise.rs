//! Image intake: check the format by magic bytes, decode within limits (a decompression bomb is
//! refused at the header), downscale the long side and re-encode as PNG.

use super::error::{AppError, AppResult};
use super::likeness::Likeness;
use super::ports::NormalisedImage;
use crate::domain::{
    downscaled_size, megabytes, ImageKind, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE,
};
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, ImageReader, Limits, RgbImage};
use sha2::{Digest, Sha256};
use std::io::Cursor;

/// Format and size checks that need no decoding.
pub fn check_upload(bytes: &[u8]) -> AppResult<ImageKind> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(AppError::TooLarge {
            limit_bytes: MAX_IMAGE_BYTES,
            message: format!(
                "The image is {}; the limit is {}.",
                megabytes(bytes.len()),
                megabytes(MAX_IMAGE_BYTES)
            ),
        });
    }
    ImageKind::sniff(bytes).ok_or_else(|| AppError::UnsupportedMedia(ImageKind::rejection(bytes)))
}

/// Decodes, downscales to `TARGET_LONG_SIDE` and re-encodes. CPU-bound: call from a blocking task.
pub fn normalise(bytes: &[u8]) -> AppResult<NormalisedImage> {
    let kind = check_upload(bytes)?;
    let format = match kind {
        ImageKind::Png => image::ImageFormat::Png,
        ImageKind::Jpeg => image::ImageFormat::Jpeg,
        ImageKind::Webp => image::ImageFormat::WebP,
    };
    let too_large = || AppError::TooLarge {
        limit_bytes: MAX_IMAGE_BYTES,
        message: format!(
            "The image is too large to process: at most {MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} pixels \
             and {} megapixels.",
            MAX_IMAGE_PIXELS / 1_000_000
        ),
    };
    // The header's size first: a decoder's working memory grows with the pixels, not the bytes.
    if let Ok((width, height)) =
        ImageReader::with_format(Cursor::new(bytes), format).into_dimensions()
    {
        if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS {
            return Err(too_large());
        }
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => too_large(),
        _ => AppError::UnprocessableImage(
            "The image could not be decoded: the file is damaged or not really an image.".into(),
        ),
    })?;
    if decoded.width() < 32 || decoded.height() < 32 {
        return Err(AppError::UnprocessableImage(
            "The image is too small to be a screenshot of the usage page.".into(),
        ));
    }
    let rgb = downscale(decoded.into_rgb8())?;
    let sha256 = hex(&Sha256::digest(rgb.as_raw()));
    let likeness = Likeness::of(&rgb);
    let mut png = Vec::new();
    PngEncoder::new_with_quality(&mut png, CompressionType::Fast, PngFilter::Adaptive)
        .write_image(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            ExtendedColorType::Rgb8,
        )
        .map_err(|e| AppError::Internal(format!("could not encode the image: {e}")))?;
    Ok(NormalisedImage {
        png,
        width: rgb.width(),
        height: rgb.height(),
        sha256,
        likeness,
    })
}

/// Shrinks the long side to `TARGET_LONG_SIDE` (SIMD Lanczos, keeps small text legible). Typed
/// to RGB8, so only that pixel type's resizer is compiled in (the untyped one links every pixel
/// type's: 3.6 MB of the Lambda package).
fn downscale(rgb: RgbImage) -> AppResult<RgbImage> {
    use fast_image_resize::{
        images::{TypedImage, TypedImageRef},
        pixels::U8x3,
        Resizer,
    };
    let (width, height) = rgb.dimensions();
    let (w, h) = downscaled_size(width, height);
    if (w, h) == (width, height) {
        return Ok(rgb);
    }
    let failed =
        |e: &dyn std::fmt::Display| AppError::Internal(format!("could not resize the image: {e}"));
    let source =
        TypedImageRef::<U8x3>::from_buffer(width, height, rgb.as_raw()).map_err(|e| failed(&e))?;
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    let mut target = TypedImage::<U8x3>::from_buffer(w, h, &mut pixels).map_err(|e| failed(&e))?;
    Resizer::new()
        .resize_typed(&source, &mut target, None)
        .map_err(|e| failed(&e))?;
    drop(rgb);
    RgbImage::from_raw(w, h, pixels).ok_or_else(|| failed(&"buffer size"))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::DynamicImage;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    /// A small JPEG whose frame header says 7,500 × 6,000 (45 megapixels: within the sides and
    /// the allocation limit, over the pixel ceiling): refused by its header, not decoded.
    #[test]
    fn a_header_with_too_many_pixels_is_refused_before_decoding() {
        let mut jpeg = Vec::new();
        DynamicImage::ImageRgb8(image::RgbImage::new(64, 64))
            .write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
            .unwrap();
        let sof = jpeg
            .windows(2)
            .position(|w| w[0] == 0xFF && matches!(w[1], 0xC0 | 0xC2))
            .unwrap();
        // FF Cx, length (2), precision (1), height (2), width (2).
        jpeg[sof + 5..sof + 7].copy_from_slice(&6000u16.to_be_bytes());
        jpeg[sof + 7..sof + 9].copy_from_slice(&7500u16.to_be_bytes());
        assert!(jpeg.len() < 4096);
        match normalise(&jpeg) {
            Err(AppError::TooLarge { message, .. }) => assert!(message.contains("40 megapixels")),
            other => panic!("{:?}", other.map(|n| (n.width, n.height))),
        }
    }

    #[test]
    fn downscales_the_long_side_and_keeps_the_aspect() {
        let n = normalise(&png(3200, 2000)).unwrap();
        assert_eq!((n.width, n.height), (1600, 1000));
        assert_eq!(ImageKind::sniff(&n.png), Some(ImageKind::Png));
        let small = normalise(&png(800, 600)).unwrap();
        assert_eq!((small.width, small.height), (800, 600));
    }

    #[test]
    fn same_pixels_same_hash() {
        let a = normalise(&png(400, 300)).unwrap();
        let b = normalise(&png(400, 300)).unwrap();
        let c = normalise(&png(401, 300)).unwrap();
        assert_eq!(a.sha256, b.sha256);
        assert_ne!(a.sha256, c.sha256);
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn refuses_bombs_at_the_header() {
        // A valid PNG header claiming 40,000 × 40,000 pixels, with no data behind it.
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&40_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&40_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(normalise(&bomb).unwrap_err().code().status(), 413);
    }

    #[test]
    fn refuses_wrong_types_damaged_files_and_oversize_uploads() {
        let status = |bytes: &[u8]| normalise(bytes).unwrap_err().code().status();
        assert_eq!(status(b"<svg xmlns='x'/>"), 415);
        assert_eq!(status(b"GIF89a......"), 415);
        let mut broken = png(100, 100);
        broken.truncate(60);
        assert_eq!(status(&broken), 422);
        assert_eq!(status(&png(8, 8)), 422);
        let mut huge = png(10, 10);
        huge.resize(MAX_IMAGE_BYTES + 1, 0);
        let err = normalise(&huge).unwrap_err();
        assert_eq!(err.code().status(), 413);
        assert!(err.to_string().contains("the limit is 4 MB"), "{err}");
    }
}
