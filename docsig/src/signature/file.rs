//! Reading a signed file or a document to sign from disk (issue #42 item 4): its length from the file system is
//! checked against the limit before a byte is read, and the read itself stops one byte past the limit, so a file
//! that grows meanwhile, or a device that never ends, is refused the same way instead of filling memory.

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// The largest signed file read for checking: the largest a format takes (a PDF, [`super::pades::MAX_PDF_SIZE`]);
/// an e-prescription's reader has its own smaller limit and says so.
pub const MAX_SIGNED_FILE: usize = super::pades::MAX_PDF_SIZE;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file is over the limit (`size` is what the file system said, or the limit plus one when it grew while
    /// being read).
    #[error(
        "{} is {size} bytes, over the limit of {limit} bytes: nothing was read; give a smaller file (split it, or \
         scan at a lower resolution)",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: usize,
    },
    /// The file cannot be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The bytes of `path`, at most `limit` of them: a longer file is refused before it is read.
pub fn read_at_most(path: &Path, limit: usize) -> Result<Vec<u8>, FileError> {
    let io = |source| FileError::Io { path: path.to_owned(), source };
    let too_large = |size| FileError::TooLarge { path: path.to_owned(), size, limit };
    let file = std::fs::File::open(path).map_err(io)?;
    let length = file.metadata().map_err(io)?.len();
    let bound = u64::try_from(limit).unwrap_or(u64::MAX);
    if length > bound {
        return Err(too_large(length));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    file.take(bound.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() > limit {
        return Err(too_large(bound.saturating_add(1)));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_is_checked_before_reading_and_the_read_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("letter.pdf");
        std::fs::write(&file, b"%PDF-1.7").unwrap();
        assert_eq!(read_at_most(&file, 8).unwrap(), b"%PDF-1.7");
        // 50 MB that nobody wrote (a sparse file): refused from its length, with the size named.
        let big = dir.path().join("big.pdf");
        std::fs::File::create(&big).unwrap().set_len(50_000_000).unwrap();
        let e = read_at_most(&big, MAX_SIGNED_FILE).unwrap_err();
        assert!(matches!(e, FileError::TooLarge { size: 50_000_000, .. }), "{e}");
        assert!(e.to_string().contains("50000000 bytes, over the limit of 20971520 bytes"), "{e}");
        // A device that never ends and reports no length: the read stops past the limit.
        let e = read_at_most(Path::new("/dev/zero"), 1024).unwrap_err();
        assert!(matches!(e, FileError::TooLarge { size: 1025, limit: 1024, .. }), "{e}");
        assert!(matches!(read_at_most(&dir.path().join("missing"), 8), Err(FileError::Io { .. })));
    }
}
