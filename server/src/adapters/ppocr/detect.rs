//! PP-OCRv5 text detection around the model: the image scaled to multiples of 32 and normalised
//! as PaddleOCR feeds it (BGR, ImageNet mean and deviation), and the DB post-processing of the
//! probability map into text boxes. Screenshots are upright, so boxes are axis-aligned: a
//! connected region of the thresholded map, its mean probability, grown by the unclip distance.

use image::RgbImage;

/// A probability above this marks a text pixel (PaddleOCR's `det_db_thresh`).
const PIXEL_THRESHOLD: f32 = 0.3;
/// A region whose mean probability is below this is dropped (`det_db_box_thresh`).
const BOX_THRESHOLD: f32 = 0.6;
/// How far a region grows, as area × ratio / perimeter (`det_db_unclip_ratio`).
const UNCLIP_RATIO: f32 = 1.6;
/// Regions with a shorter side (in map pixels) are noise.
const MIN_SIDE: usize = 3;
const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// A text box in the source image's pixels, with the detector's mean probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextBox {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    pub score: f32,
}

/// The detector's input: NCHW floats, its shape, and the scale from source to input.
pub struct DetectorInput {
    pub data: Vec<f32>,
    pub shape: [usize; 4],
    pub scale_x: f32,
    pub scale_y: f32,
}

/// Scales `image` so its long side is at most `max_side` (never up) with both sides rounded to
/// a multiple of 32, and normalises it channel by channel in BGR order.
pub fn input(image: &RgbImage, max_side: u32) -> DetectorInput {
    let (w, h) = image.dimensions();
    let ratio = (max_side as f32 / w.max(h) as f32).min(1.0);
    let round32 = |side: u32| (((side as f32 * ratio) / 32.0).round() as u32).max(1) * 32;
    let (tw, th) = (round32(w), round32(h));
    let resized = image::imageops::resize(image, tw, th, image::imageops::FilterType::Triangle);
    let plane = (tw * th) as usize;
    let mut data = vec![0f32; 3 * plane];
    for (i, pixel) in resized.pixels().enumerate() {
        // BGR, as OpenCV reads images for PaddleOCR.
        for (c, value) in [pixel.0[2], pixel.0[1], pixel.0[0]].into_iter().enumerate() {
            data[c * plane + i] = (f32::from(value) / 255.0 - MEAN[c]) / STD[c];
        }
    }
    DetectorInput {
        data,
        shape: [1, 3, th as usize, tw as usize],
        scale_x: tw as f32 / w as f32,
        scale_y: th as f32 / h as f32,
    }
}

/// Text boxes from the detector's probability map (`width` × `height`, row-major), in the
/// source image's pixels (`source` is its size), top to bottom then left to right.
pub fn boxes(
    map: &[f32],
    width: usize,
    height: usize,
    input: &DetectorInput,
    source: (u32, u32),
) -> Vec<TextBox> {
    let mut seen = vec![false; map.len()];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    for start in 0..map.len() {
        if seen[start] || map[start] <= PIXEL_THRESHOLD {
            continue;
        }
        // One 8-connected region: its bounding box and the sum of its probabilities.
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        let (mut sum, mut count) = (0f64, 0usize);
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % width, i / width);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            sum += f64::from(map[i]);
            count += 1;
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if nx < 0 || ny < 0 || nx >= width as i64 || ny >= height as i64 {
                        continue;
                    }
                    let j = ny as usize * width + nx as usize;
                    if !seen[j] && map[j] > PIXEL_THRESHOLD {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
        let score = (sum / count as f64) as f32;
        if bw.min(bh) < MIN_SIDE || score < BOX_THRESHOLD {
            continue;
        }
        let distance = (bw * bh) as f32 * UNCLIP_RATIO / (2 * (bw + bh)) as f32;
        let to_source =
            |v: f32, scale: f32, limit: u32| (v / scale).clamp(0.0, limit as f32) as u32;
        let (sw, sh) = source;
        out.push(TextBox {
            x0: to_source(x0 as f32 - distance, input.scale_x, sw),
            y0: to_source(y0 as f32 - distance, input.scale_y, sh),
            x1: to_source(x1 as f32 + 1.0 + distance, input.scale_x, sw),
            y1: to_source(y1 as f32 + 1.0 + distance, input.scale_y, sh),
            score,
        });
    }
    out.retain(|b| b.x1 > b.x0 + 1 && b.y1 > b.y0 + 1);
    out.sort_by_key(|b| (b.y0, b.x0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_input(w: usize, h: usize) -> DetectorInput {
        DetectorInput {
            data: vec![],
            shape: [1, 3, h, w],
            scale_x: 1.0,
            scale_y: 1.0,
        }
    }

    #[test]
    fn input_is_a_multiple_of_32_and_never_upscaled() {
        let image = RgbImage::from_pixel(100, 50, image::Rgb([255, 0, 0]));
        let input = input(&image, 960);
        assert_eq!(input.shape, [1, 3, 64, 96]);
        // Red is the last channel in BGR.
        let plane = 64 * 96;
        assert!((input.data[2 * plane] - (1.0 - MEAN[2]) / STD[2]).abs() < 1e-5);
        assert!((input.data[0] - (0.0 - MEAN[0]) / STD[0]).abs() < 1e-5);
        let big = RgbImage::new(3000, 1000);
        assert_eq!(super::input(&big, 1500).shape, [1, 3, 512, 1504]);
    }

    #[test]
    fn two_regions_become_two_grown_boxes_and_faint_ones_are_dropped() {
        let (w, h) = (40, 20);
        let mut map = vec![0f32; w * h];
        let mut paint = |x0: usize, x1: usize, y0: usize, y1: usize, p: f32| {
            for y in y0..y1 {
                for x in x0..x1 {
                    map[y * w + x] = p;
                }
            }
        };
        paint(2, 12, 4, 9, 0.9); // a word
        paint(20, 35, 4, 9, 0.9); // another, same row
        paint(5, 30, 14, 18, 0.4); // above the pixel threshold, below the box threshold
        let boxes = boxes(&map, w, h, &unit_input(w, h), (40, 20));
        assert_eq!(boxes.len(), 2, "{boxes:?}");
        assert!(boxes[0].x0 < 2 && boxes[0].x1 > 12 && boxes[0].y0 < 4 && boxes[0].y1 > 9);
        assert!(boxes[1].x0 > boxes[0].x1 - 4, "{boxes:?}");
    }
}
