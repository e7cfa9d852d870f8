//! The readers on the unseen set (`end2end/fixtures/unseen.py`, drawn before the PP-OCR reader
//! and frozen) and on the older adversarial set: the targets of issue #21, held as tests.

use server::adapters::PpOcrAnalyzer;
use server::scorecard::{installed_ppocr, score};
use std::time::Duration;

/// The default reader, from where `scripts/install-tools.sh` put it.
pub fn ppocr() -> PpOcrAnalyzer {
    installed_ppocr().expect("the PP-OCR reader is installed (scripts/install-tools.sh)")
}

/// The default reader's card on one set, printed, after the two rules every set holds it to.
async fn never_grants_nor_denies_wrongly(set: &str) -> server::scorecard::Scorecard {
    let dir = crate::common::fixtures_dir().join(set);
    let card = score(&ppocr(), &dir).await.unwrap();
    println!("PP-OCR on the {set} set: {}", card.summary());
    for miss in card.misses() {
        println!("  {miss}");
    }
    let misses = card.misses().join("\n");
    assert_eq!(card.false_grants(), 0, "false grants:\n{misses}");
    assert_eq!(card.wrongly_denied(), 0, "genuine denied:\n{misses}");
    card
}

#[tokio::test]
async fn the_default_reader_meets_the_targets_on_the_unseen_set() {
    let card = never_grants_nor_denies_wrongly("unseen").await;
    assert!(
        card.genuine() >= 40 && card.others() >= 20,
        "the set shrank"
    );
    assert!(
        card.granted() * 10 >= card.genuine() * 9,
        "under 90 % of genuine pages granted: {}\n{}",
        card.summary(),
        card.misses().join("\n")
    );
    assert!(
        card.others_reviewed() * 5 <= card.others(),
        "over 20 % of non-qualifying pages sent to review: {}\n{}",
        card.summary(),
        card.misses().join("\n")
    );
}

#[tokio::test]
async fn the_default_reader_never_grants_an_adversarial_page() {
    never_grants_nor_denies_wrongly("adversarial").await;
}

/// Tesseract alone, on both sets, for the README's side-by-side figures: it may refuse genuine
/// pages (what issue #21 measured), but it must never grant one that does not qualify.
#[tokio::test]
async fn tesseract_alone_never_grants_a_page_that_does_not_qualify() {
    let tesseract = server::adapters::TesseractAnalyzer::new("tesseract", Duration::from_secs(60));
    for set in ["unseen", "adversarial"] {
        let card = score(&tesseract, &crate::common::fixtures_dir().join(set))
            .await
            .unwrap();
        println!("Tesseract alone on the {set} set: {}", card.summary());
        assert_eq!(
            card.false_grants(),
            0,
            "false grants:\n{}",
            card.misses().join("\n")
        );
    }
}
