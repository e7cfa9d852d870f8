//! The embedded default's data directory holds both keys, every screenshot and record and the
//! directory database: it is made the owner's alone (0700), and `keys.json` is 0600.

use anyhow::Context;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Only the owner may list, read or enter it.
pub const DIR_MODE: u32 = 0o700;
/// Only the owner may read or write it.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) as 0700, and tightens it to 0700 when it exists with
/// more: earlier versions made it 0755.
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    tighten(dir, DIR_MODE)
}

/// Writes a new file that only its owner can read.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Sets `path` to `mode` when its permissions allow more than that.
pub fn tighten(path: &Path, mode: u32) -> anyhow::Result<()> {
    let now = std::fs::metadata(path)
        .with_context(|| format!("reading the permissions of {}", path.display()))?
        .permissions()
        .mode()
        & 0o777;
    if now & !mode != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("making {} private", path.display()))?;
        tracing::info!(path = %path.display(), was = format!("{now:o}"), "made private");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_data_directory_and_its_parents_are_the_owners_alone() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b/data");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);
    }

    #[test]
    fn an_open_existing_directory_is_tightened() {
        let root = tempfile::tempdir().unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(root.path()).unwrap();
        assert_eq!(mode(root.path()), 0o700);
    }

    #[test]
    fn private_files_are_0600_and_never_overwrite() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("keys.json");
        write_private(&path, b"{}").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert!(write_private(&path, b"again").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
    }
}
