//! A scripted analyzer: answers with the evidence it was given (for one image, or for all), or
//! fails as told.

use super::{Failure, Failures};
use app::api::Evidence;
use app::ssr::ports::{Analyzer, NormalisedImage, PortResult};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Analyze;

#[derive(Debug)]
pub struct ScriptedAnalyzer {
    evidence: Mutex<Evidence>,
    /// Answers for particular images, by the normalised image's hash.
    per_image: Mutex<HashMap<String, Evidence>>,
    failures: Failures<Analyze>,
    calls: Mutex<usize>,
}

impl ScriptedAnalyzer {
    /// Answers every image with `evidence`.
    pub fn new(evidence: Evidence) -> Self {
        Self {
            evidence: Mutex::new(evidence),
            per_image: Mutex::default(),
            failures: Failures::new("the screenshot reader"),
            calls: Mutex::new(0),
        }
    }

    pub fn answer(&self, evidence: Evidence) {
        *self.evidence.lock().unwrap_or_else(|p| p.into_inner()) = evidence;
    }

    /// Answers the image whose normalised hash is `sha256` with `evidence` from now on.
    pub fn answer_for(&self, sha256: &str, evidence: Evidence) {
        self.per_image
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(sha256.to_owned(), evidence);
    }

    /// Makes every analysis fail from now on (`None`: work again).
    pub fn fail(&self, failure: Option<Failure>) {
        self.failures.set(Analyze, 0, failure);
    }

    /// How many images it was asked about.
    pub fn calls(&self) -> usize {
        *self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Analyzer for ScriptedAnalyzer {
    fn name(&self) -> String {
        "scripted".into()
    }

    async fn analyze(&self, image: &NormalisedImage) -> PortResult<Evidence> {
        *self.calls.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.failures.check(Analyze).await?;
        if let Some(evidence) = self
            .per_image
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&image.sha256)
        {
            return Ok(evidence.clone());
        }
        Ok(self
            .evidence
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone())
    }
}
