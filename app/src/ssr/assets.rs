//! The site's asset names. cargo-leptos (`hash-files = true`) puts a content hash in the name of
//! the script, the WASM and the stylesheet, and writes the hashes to `hash.txt` beside the server
//! binary (on Lambda: beside `bootstrap`). Hashed names can be cached for a year: a new build is
//! a new name. The links to all three, the bootstrap script and the switch itself are ours:
//! Leptos's own `HydrationScripts` writes the CSP nonce into the preload links' `crossorigin`
//! attribute, where it means nothing (only `anonymous`/`use-credentials` do).

use leptos::prelude::*;
use std::path::{Path, PathBuf};

/// One file's hash from the text of `hash.txt` (lines `js: …`, `wasm: …`, `css: …`).
pub fn hash_of<'a>(hash_txt: &'a str, file: &str) -> Option<&'a str> {
    hash_txt
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim() == file)
        .map(|(_, hash)| hash.trim())
        .filter(|hash| !hash.is_empty())
}

/// Where Leptos looks for the hash file: beside the running executable.
pub fn hash_file_path(options: &LeptosOptions) -> PathBuf {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    exe_dir.join(options.hash_file.as_ref())
}

/// Turns hashed names on when the build that placed this binary wrote a hash file, unless
/// `LEPTOS_HASH_FILES` says otherwise, so `target/release/server` run by hand serves the same
/// page as `cargo leptos serve` (which sets the variable).
pub fn detect_hashed_build(options: &mut LeptosOptions, explicit: Option<&str>, hash_file: &Path) {
    options.hash_files = match explicit {
        Some(value) => value.trim().eq_ignore_ascii_case("true"),
        None => hash_file.is_file(),
    };
}

/// An asset's URL (`kind` is `css`, `js` or `wasm`): `/pkg/{name}.{hash}.{kind}` on a hashed
/// build, `/pkg/{name}.{kind}` otherwise.
pub fn asset_href(options: &LeptosOptions, hash_file: &Path, kind: &str) -> String {
    let hash_txt = options
        .hash_files
        .then(|| std::fs::read_to_string(hash_file).ok())
        .flatten()
        .unwrap_or_default();
    let name = &options.output_name;
    let pkg = options.site_pkg_dir.trim_matches('/');
    match hash_of(&hash_txt, kind) {
        Some(hash) => format!("/{pkg}/{name}.{hash}.{kind}"),
        None => format!("/{pkg}/{name}.{kind}"),
    }
}

/// The stylesheet link, the preload links for the script and the WASM (`crossorigin=""`:
/// anonymous, as module scripts are fetched), and the module script that loads the WASM and
/// hydrates the page; only that script carries the response's nonce.
#[component]
pub fn AssetLinks(options: LeptosOptions) -> impl IntoView {
    let hash_file = hash_file_path(&options);
    let [css, js, wasm] = ["css", "js", "wasm"].map(|kind| asset_href(&options, &hash_file, kind));
    let boot = format!(
        "import({js:?}).then((m) => m.default({{ module_or_path: {wasm:?} }}).then(() => m.hydrate()));"
    );
    view! {
        <link rel="stylesheet" href=css/>
        <link rel="modulepreload" href=js crossorigin=""/>
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin=""/>
        <script type="module" nonce=leptos::nonce::use_nonce()>{boot}</script>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH_TXT: &str = "js: Ab3-x_9\nwasm: QwErTy12\ncss: ZZtop-1_\n";

    fn options(hash_files: bool) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name("kiro-access")
            .hash_files(hash_files)
            .build()
    }

    fn hash_file(contents: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "kiro-assets-{}-{}",
            std::process::id(),
            contents.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("hash.txt");
        std::fs::write(&file, contents).unwrap();
        (dir, file)
    }

    #[test]
    fn parses_what_cargo_leptos_writes() {
        assert_eq!(hash_of(HASH_TXT, "js"), Some("Ab3-x_9"));
        assert_eq!(hash_of(HASH_TXT, "wasm"), Some("QwErTy12"));
        assert_eq!(hash_of(HASH_TXT, "css"), Some("ZZtop-1_"));
        assert_eq!(hash_of("css:\nnonsense", "css"), None);
    }

    #[test]
    fn asset_links_carry_the_hash_on_a_hashed_build() {
        let (dir, file) = hash_file(HASH_TXT);
        assert_eq!(
            asset_href(&options(true), &file, "css"),
            "/pkg/kiro-access.ZZtop-1_.css"
        );
        assert_eq!(
            asset_href(&options(true), &file, "wasm"),
            "/pkg/kiro-access.QwErTy12.wasm"
        );
        assert_eq!(
            asset_href(&options(false), &file, "js"),
            "/pkg/kiro-access.js"
        );
        let missing = dir.join("absent.txt");
        assert_eq!(
            asset_href(&options(true), &missing, "css"),
            "/pkg/kiro-access.css"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_hash_file_beside_the_binary_turns_hashing_on_unless_told_otherwise() {
        let (dir, file) = hash_file("js: a\nwasm: b\ncss: c\n");
        let mut opts = options(false);
        detect_hashed_build(&mut opts, None, &file);
        assert!(opts.hash_files);
        detect_hashed_build(&mut opts, Some("false"), &file);
        assert!(!opts.hash_files);
        detect_hashed_build(&mut opts, None, &dir.join("absent.txt"));
        assert!(!opts.hash_files);
        detect_hashed_build(&mut opts, Some("true"), &dir.join("absent.txt"));
        assert!(opts.hash_files);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
