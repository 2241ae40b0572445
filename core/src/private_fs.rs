//! Files that hold keys (local key files) or sealed keys (the embedded
//! store's redb file), and the directories they are made in.
//!
//! Such a file must be a regular file (never a symbolic link, which could
//! point anywhere), owned by the user running Rossignol, and closed to
//! group and others. Anything else is refused with what to do about it.

use std::fs::{self, File, Metadata, OpenOptions};
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::Path;

use crate::error::{Error, Result};

/// Creates `dir` and any missing parent with mode 0700. A directory that
/// already exists is left as it is.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))
}

/// Opens `path` for reading without following a symbolic link, and checks
/// the file opened (not the name, which could change meanwhile). `what`
/// names it in messages (`local key`, `embedded store`).
pub fn open_private(path: &Path, what: &str, options: &mut OpenOptions) -> Result<File> {
    check_name(path, what)?;
    let file = options
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| Error::io(format!("opening {what} {}", path.display()), e))?;
    let metadata = file.metadata().map_err(|e| Error::io(format!("reading {what} {}", path.display()), e))?;
    check(&metadata, path, what, current_uid())?;
    Ok(file)
}

/// Checks the name itself (not what a link points to), for a message that
/// names the problem. A missing file passes: opening it then either
/// creates it or fails with an [`Error::Io`] of kind `NotFound`.
fn check_name(path: &Path, what: &str) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(metadata) => check(&metadata, path, what, current_uid()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("reading {what} {}", path.display()), e)),
    }
}

fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// The rule, for metadata read without following links.
fn check(metadata: &Metadata, path: &Path, what: &str, uid: u32) -> Result<()> {
    let display = path.display();
    let kind = metadata.file_type();
    if kind.is_symlink() {
        return Err(Error::Config(format!(
            "{what} {display} is a symbolic link; replace the symlink with the file it points to \
             (Rossignol does not follow links to key material)"
        )));
    }
    if !kind.is_file() {
        return Err(Error::Config(format!(
            "{what} {display} is not a regular file; point the configuration at the file itself"
        )));
    }
    if metadata.uid() != uid {
        return Err(Error::Config(format!(
            "{what} {display} is owned by uid {}, not by the user running Rossignol (uid {uid}); \
             run `chown {uid} {display}` or use a copy of your own",
            metadata.uid()
        )));
    }
    let mode = metadata.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::Config(format!(
            "{what} {display} is readable by others (mode {mode:o}); run `chmod 600 {display}`"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn open(path: &Path) -> Result<File> {
        open_private(path, "local key", OpenOptions::new().read(true))
    }

    #[test]
    fn a_private_regular_file_of_ours_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        fs::write(&path, b"x").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        open(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        open(&path).unwrap();
    }

    #[test]
    fn links_other_kinds_owners_and_open_modes_are_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        fs::write(&path, b"x").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();

        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let err = open(&link).unwrap_err().to_string();
        assert!(err.contains("replace the symlink"), "{err}");

        let err = open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");

        for mode in [0o640, 0o604, 0o660, 0o644] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let err = open(&path).unwrap_err().to_string();
            assert!(err.contains(&format!("chmod 600 {}", path.display())), "{mode:o}: {err}");
        }

        // Another user's file (the uid it is checked against is not its owner).
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let metadata = fs::symlink_metadata(&path).unwrap();
        let err = check(&metadata, &path, "local key", metadata.uid() + 1).unwrap_err().to_string();
        assert!(err.contains("chown"), "{err}");
    }

    #[test]
    fn directories_are_made_0700() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_private_dir(&nested).unwrap();
        for d in [dir.path().join("a"), nested] {
            assert_eq!(fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o700, "{}", d.display());
        }
    }
}
