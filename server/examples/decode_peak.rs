//! Decodes one upload as a request would (`normalise`) and prints this process's peak resident
//! memory before and after, in KiB: `decode_peak FILE` → `before_kib after_kib outcome`. The
//! integration tests run it as a child, so the peak is one decode's, not the test runner's.

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: decode_peak FILE");
    let bytes = std::fs::read(&path).expect("a readable file");
    let before = peak_kib();
    let outcome = match app::ssr::normalise::normalise(&bytes) {
        Ok(image) => format!("decoded {}x{}", image.width, image.height),
        Err(e) => format!("refused {}", e.code().as_str()),
    };
    println!("{before} {} {outcome}", peak_kib());
}
