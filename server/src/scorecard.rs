//! Scores an analyzer on a frozen screenshot set (`end2end/fixtures/unseen`, `adversarial`): each
//! screenshot's verdict under the rules, and the figures the README quotes (false grants,
//! genuine pages granted, sent to review, wrongly denied; review rate on the rest; seconds per
//! image). The unseen-set test and `benches/figures.rs` both count with it.

use app::api::Verdict;
use app::domain::EmailAddress;
use app::ssr::decision::decide;
use app::ssr::normalise::normalise;
use app::ssr::ports::Analyzer;
use std::path::Path;
use std::time::Instant;

/// One screenshot's outcome.
#[derive(Clone, Debug)]
pub struct Scored {
    pub file: String,
    /// A genuine depleted page of the requester's own account.
    pub genuine: bool,
    pub verdict: Verdict,
    pub why: String,
    pub seconds: f64,
}

/// A set's outcomes and their counts.
#[derive(Clone, Debug, Default)]
pub struct Scorecard {
    pub scored: Vec<Scored>,
}

impl Scorecard {
    fn count(&self, genuine: bool, verdict: Verdict) -> usize {
        self.scored
            .iter()
            .filter(|s| s.genuine == genuine && s.verdict == verdict)
            .count()
    }
    pub fn genuine(&self) -> usize {
        self.scored.iter().filter(|s| s.genuine).count()
    }
    pub fn others(&self) -> usize {
        self.scored.len() - self.genuine()
    }
    pub fn false_grants(&self) -> usize {
        self.count(false, Verdict::Granted)
    }
    pub fn granted(&self) -> usize {
        self.count(true, Verdict::Granted)
    }
    pub fn genuine_reviewed(&self) -> usize {
        self.count(true, Verdict::Review)
    }
    pub fn wrongly_denied(&self) -> usize {
        self.count(true, Verdict::Denied)
    }
    pub fn others_reviewed(&self) -> usize {
        self.count(false, Verdict::Review)
    }
    /// The `p`-quantile (0–1) of the seconds per image.
    pub fn seconds(&self, p: f64) -> f64 {
        let mut times: Vec<f64> = self.scored.iter().map(|s| s.seconds).collect();
        times.sort_by(f64::total_cmp);
        times
            .get(((times.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or_default()
    }

    /// One line of figures.
    pub fn summary(&self) -> String {
        format!(
            "false grants {}/{}; genuine granted {}/{}, review {}, wrongly denied {}; \
             others sent to review {}/{}; median {:.2} s, p95 {:.2} s per image",
            self.false_grants(),
            self.others(),
            self.granted(),
            self.genuine(),
            self.genuine_reviewed(),
            self.wrongly_denied(),
            self.others_reviewed(),
            self.others(),
            self.seconds(0.5),
            self.seconds(0.95)
        )
    }

    /// Every screenshot whose verdict is not the one it should get, with why.
    pub fn misses(&self) -> Vec<String> {
        self.scored
            .iter()
            .filter(|s| (s.verdict == Verdict::Granted) != s.genuine)
            .map(|s| {
                format!(
                    "{} ({}): {:?} — {}",
                    s.file,
                    if s.genuine { "genuine" } else { "never" },
                    s.verdict,
                    s.why
                )
            })
            .collect()
    }
}

/// Reads `dir/expected.json` — entries with a `requester` and either a `class` ("genuine" or
/// "never") or the `allowed` verdicts (genuine when a grant is allowed) — and scores `analyzer`
/// on every screenshot in it, one at a time.
pub async fn score(analyzer: &dyn Analyzer, dir: &Path) -> anyhow::Result<Scorecard> {
    let table: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json"))?)?;
    let table = table
        .as_object()
        .ok_or_else(|| anyhow::anyhow!("expected.json is not an object"))?;
    let mut card = Scorecard::default();
    for (file, entry) in table {
        let requester = EmailAddress::parse(entry["requester"].as_str().unwrap_or_default())
            .map_err(|e| anyhow::anyhow!("{file}: {e:?}"))?;
        let genuine = entry["class"] == "genuine"
            || entry["allowed"]
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == "granted"));
        let image = normalise(&std::fs::read(dir.join(file))?)
            .map_err(|e| anyhow::anyhow!("{file}: {e:?}"))?;
        let started = Instant::now();
        let evidence = analyzer.analyze(&image).await?;
        let seconds = started.elapsed().as_secs_f64();
        let decision = decide(&evidence, &requester);
        card.scored.push(Scored {
            file: file.clone(),
            genuine,
            verdict: decision.verdict,
            why: format!(
                "{:?}; read {:?} {:?} uncertain {:?}",
                decision.reason,
                evidence.emails_seen,
                evidence.counters,
                evidence.uncertain_counters
            ),
            seconds,
        });
    }
    Ok(card)
}

/// The default reader as `scripts/install-tools.sh` installs it, with Tesseract's second
/// opinion and one thread per model call: what the unseen-set test and the bench score.
pub fn installed_ppocr() -> app::ssr::ports::PortResult<crate::adapters::PpOcrAnalyzer> {
    crate::adapters::PpOcrAnalyzer::load(&crate::adapters::PpOcrSettings {
        dir: crate::config::default_ppocr_dir(std::env::var("HOME").ok()),
        timeout: std::time::Duration::from_secs(60),
        threads: 1,
        second_opinion: Some("tesseract".into()),
    })
}
