//! PP-OCRv5 text recognition around the model: a text box cut out, scaled to the model's
//! height and normalised to [-1, 1] (BGR), several boxes padded into one batch; and the CTC
//! decoding of the model's per-step class probabilities into text with a confidence.

use image::RgbImage;

/// The recognition model's input height.
pub const HEIGHT: u32 = 48;
/// Inputs are at least this wide (PaddleOCR's 3 × 48 × 320), padded on the right.
const MIN_WIDTH: u32 = 320;
/// A box longer than this (in input pixels) is squeezed: no line on a usage page is longer.
const MAX_WIDTH: u32 = 2400;

/// The width a crop of `w` × `h` takes at the model's height.
pub fn scaled_width(w: u32, h: u32) -> u32 {
    ((HEIGHT as f32 * w as f32 / h.max(1) as f32).ceil() as u32).clamp(1, MAX_WIDTH)
}

/// A batch of crops, each scaled to `HEIGHT` and padded to the widest (and at least
/// `MIN_WIDTH`): NCHW floats and the shape.
pub fn batch(crops: &[&RgbImage]) -> (Vec<f32>, [usize; 4]) {
    let widths: Vec<u32> = crops
        .iter()
        .map(|c| scaled_width(c.width(), c.height()))
        .collect();
    let width = widths.iter().copied().max().unwrap_or(1).max(MIN_WIDTH);
    let plane = (HEIGHT * width) as usize;
    // Padding is 0 after normalisation: mid grey, as PaddleOCR pads.
    let mut data = vec![0f32; crops.len() * 3 * plane];
    for (n, (crop, w)) in crops.iter().zip(widths).enumerate() {
        let resized =
            image::imageops::resize(*crop, w, HEIGHT, image::imageops::FilterType::Triangle);
        let base = n * 3 * plane;
        for (x, y, pixel) in resized.enumerate_pixels() {
            let i = (y * width + x) as usize;
            for (c, value) in [pixel.0[2], pixel.0[1], pixel.0[0]].into_iter().enumerate() {
                data[base + c * plane + i] = f32::from(value) / 127.5 - 1.0;
            }
        }
    }
    (data, [crops.len(), 3, HEIGHT as usize, width as usize])
}

/// Greedy CTC decoding of one sequence (`steps` × `classes` probabilities): the most likely
/// class per step, repeats merged, blanks (class 0) dropped; class `i` is `dict[i - 1]`, and the
/// class after the dictionary is a space. The confidence is the mean probability of the kept
/// characters (0 when none).
pub fn decode(probs: &[f32], steps: usize, classes: usize, dict: &[String]) -> Decoded {
    let mut text = String::new();
    let (mut total, mut kept) = (0f32, 0usize);
    let mut previous = 0usize;
    for step in 0..steps {
        let row = &probs[step * classes..(step + 1) * classes];
        let (best, p) = row
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, f32::MIN),
                |acc, (i, p)| if p > acc.1 { (i, p) } else { acc },
            );
        if best != 0 && best != previous {
            text.push_str(dict.get(best - 1).map_or(" ", String::as_str));
            total += p;
            kept += 1;
        }
        previous = best;
    }
    let confidence = if kept == 0 { 0.0 } else { total / kept as f32 };
    Decoded { text, confidence }
}

/// A decoded sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub text: String,
    /// The mean probability of the characters.
    pub confidence: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(classes: usize, seq: &[usize]) -> Vec<f32> {
        seq.iter()
            .flat_map(|&c| (0..classes).map(move |i| if i == c { 0.9 } else { 0.01 }))
            .collect()
    }

    #[test]
    fn decodes_merging_repeats_and_dropping_blanks() {
        let dict: Vec<String> = ["a", "d", "@"].iter().map(|s| s.to_string()).collect();
        // a a _ d _ a a → "ada"; class 4 is the space after the dictionary.
        let probs = one_hot(5, &[1, 1, 0, 2, 0, 1, 1, 4, 3]);
        let decoded = decode(&probs, 9, 5, &dict);
        assert_eq!(decoded.text, "ada @");
        assert!((decoded.confidence - 0.9).abs() < 1e-5);
        // A blank between two equal characters keeps both.
        assert_eq!(decode(&one_hot(5, &[2, 0, 2]), 3, 5, &dict).text, "dd");
        let nothing = decode(&one_hot(5, &[0, 0]), 2, 5, &dict);
        assert_eq!((nothing.text.as_str(), nothing.confidence), ("", 0.0));
    }

    #[test]
    fn a_batch_is_padded_to_the_widest_and_at_least_320() {
        let small = RgbImage::from_pixel(20, 10, image::Rgb([255, 255, 255]));
        let long = RgbImage::from_pixel(400, 12, image::Rgb([0, 0, 0]));
        let (data, shape) = batch(&[&small, &long]);
        assert_eq!(shape, [2, 3, 48, 1600]);
        assert_eq!(data.len(), 2 * 3 * 48 * 1600);
        // White is 1, black -1, padding 0.
        assert!((data[0] - 1.0).abs() < 1e-5);
        assert_eq!(data[200], 0.0);
        assert!((data[3 * 48 * 1600] + 1.0).abs() < 1e-5);
        assert_eq!(scaled_width(10, 48), 10);
    }
}
