//! Bounded decoding, measured: each upload is decoded by a child process (`examples/decode_peak`)
//! whose peak resident memory is read from the kernel. A progressive 10,000 × 8,900 JPEG of a
//! few hundred KB is refused before its pixels are allocated; a progressive one just under the
//! pixel ceiling decodes within the memory the ceiling states (`app/src/domain.rs`: 4 bytes a
//! pixel of output and 2 a pixel for each of 3 components' coefficients, ~400 MB).

use app::domain::MAX_IMAGE_PIXELS;
use std::path::PathBuf;
use std::process::Command;

/// `cargo test` builds the package's examples beside the test binaries (target/…/examples).
fn decode_peak() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    profile_dir.join("examples").join("decode_peak")
}

/// (peak before the decode, peak after, what the decode said), in KiB.
fn decode(fixture: &str) -> (u64, u64, String) {
    let file = crate::common::fixtures_dir().join("decode").join(fixture);
    let out = Command::new(decode_peak())
        .arg(&file)
        .output()
        .expect("examples/decode_peak, which `cargo test -p server` builds with every target");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut words = text.trim().splitn(3, ' ');
    let mut number = || words.next().unwrap().parse::<u64>().unwrap();
    let (before, after) = (number(), number());
    (before, after, words.next().unwrap().to_owned())
}

#[test]
fn a_huge_progressive_jpeg_is_refused_before_its_pixels_are_allocated() {
    let (before, after, outcome) = decode("progressive-10000x8900.jpg");
    assert_eq!(outcome, "refused too_large");
    // 89 M pixels would be ~267 MB as RGB alone; the refusal costs next to nothing.
    assert!(
        after - before < 16 * 1024,
        "peak grew by {} KiB",
        after - before
    );
}

#[test]
fn a_progressive_jpeg_just_under_the_pixel_ceiling_decodes_within_the_stated_memory() {
    let (before, after, outcome) = decode("progressive-6300x6300.jpg");
    assert!(outcome.starts_with("decoded"), "{outcome}");
    let ceiling_kib = MAX_IMAGE_PIXELS * (4 + 3 * 2) / 1024;
    assert!(
        after - before <= ceiling_kib,
        "peak grew by {} KiB, over the {ceiling_kib} KiB the ceiling states",
        after - before
    );
}
