//! Atomic writes: the content goes to a hidden file beside the target, is
//! flushed to disk, and is renamed over the target. Private keys are created
//! with mode 0600 from the start, never widened later.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::PkiError;

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io {
        path: path.to_owned(),
        source,
    }
}

pub(crate) fn read_text(path: &Path) -> Result<String, PkiError> {
    fs::read_to_string(path).map_err(io_error(path))
}

/// Writes a key readable only by its owner.
pub(crate) fn write_private(path: &Path, content: &[u8]) -> Result<(), PkiError> {
    write_atomically(path, content, 0o600)
}

/// Writes a certificate, CRL or registry.
pub(crate) fn write_public(path: &Path, content: &[u8]) -> Result<(), PkiError> {
    write_atomically(path, content, 0o644)
}

fn write_atomically(path: &Path, content: &[u8], mode: u32) -> Result<(), PkiError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{file_name}.tmp"));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&temporary).map_err(io_error(&temporary))?;
    #[cfg(unix)]
    {
        // The mode above applies only to new files; a leftover temporary
        // file keeps its own, so set it explicitly.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(io_error(&temporary))?;
    }
    file.write_all(content).map_err(io_error(&temporary))?;
    file.sync_all().map_err(io_error(&temporary))?;
    drop(file);
    fs::rename(&temporary, path).map_err(io_error(path))
}
