//! Reading and writing files with errors that name the file, and atomic writes.
//!
//! Every output of a run (PNG, CSV, JSON, checkpoints) is written to a temporary name in the
//! same folder and renamed over the final name, so a crash or a kill mid-write leaves either
//! the previous file or the new one, never half of one.

use crate::error::{Error, Result};
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Reads a whole file, with an error naming it. A file larger than [`read_limit`] (or a device
/// without end, such as `/dev/zero`) is refused once that many bytes are read, before it fills
/// the memory.
pub fn read(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    if path.is_dir() {
        return Err(Error::format(
            path,
            "path",
            "is a directory, expected a file",
        ));
    }
    let limit = read_limit();
    let too_large = || {
        Error::format(
            path,
            "whole file",
            format!(
                "more than {}, the most a chapter loads from one file (an eighth of the \
                 available memory, at most 1 GiB)",
                crate::session::human_bytes(limit as f64)
            ),
        )
    };
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    // A regular file says its size; a device or a pipe is read until the limit.
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The most bytes [`read`] loads from one file: an eighth of the memory available (what a
/// chapter builds from the bytes, e.g. one index or one f64 per byte, is several times their
/// size), at most 1 GiB.
pub fn read_limit() -> u64 {
    const GIB: u64 = 1 << 30;
    crate::session::available_memory().map_or(GIB, |m| ((m / 8.0) as u64).min(GIB))
}

/// Reads a whole UTF-8 text file; invalid UTF-8 is reported with its byte offset.
pub fn read_text(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    let bytes = read(path)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        Error::format(path, format!("byte {at}"), "not valid UTF-8 text")
    })
}

/// Creates a folder and its parents, with an error naming it.
pub fn create_dir_all(path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    fs::create_dir_all(path).map_err(|e| Error::io(path, e))
}

/// The temporary name `path` is written under before the rename: same folder, same extension
/// (some writers, like the PNG encoder, pick the format from it), unique per process.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = match path.extension() {
        Some(ext) => format!(
            ".{}.tmp{}.{}",
            name.trim_end_matches(&format!(".{}", ext.to_string_lossy())),
            std::process::id(),
            ext.to_string_lossy()
        ),
        None => format!(".{name}.tmp{}", std::process::id()),
    };
    path.with_file_name(tmp)
}

/// Moves a finished temporary file over `path` (and syncs it first so the rename never
/// exposes an empty file after a power loss), then removes the temporaries of `path` that
/// killed writers left behind (those whose process id no longer exists).
pub fn commit_temp(tmp: &Path, path: &Path) -> Result<()> {
    if let Ok(f) = File::open(tmp) {
        let _ = f.sync_all();
    }
    fs::rename(tmp, path).map_err(|e| {
        let _ = fs::remove_file(tmp);
        Error::io(path, e)
    })?;
    remove_stale_temps(path);
    Ok(())
}

/// Removes what killed runs left behind: temporary files of `path` (named as [`temp_path`]
/// names them, with another process id) whose writing process no longer exists. Best effort:
/// errors are ignored, a live process's file is never touched, and where there is no `/proc`
/// to ask, nothing is removed.
fn remove_stale_temps(path: &Path) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let pid = std::process::id().to_string();
    let own = temp_path(path);
    let Some(own) = own.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    // `own` is `<prefix>.tmp<pid><suffix>`: any other pid in that place is a candidate.
    let Some((prefix, rest)) = own.split_once(&format!(".tmp{pid}")) else {
        return;
    };
    let (prefix, suffix) = (format!("{prefix}.tmp"), rest.to_string());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(digits) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(&suffix))
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits != pid
            && !proc.join(digits).exists()
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes `path` atomically: `write` fills a buffered temporary file, which is then renamed
/// over `path`. On any error the temporary file is removed and `path` is left untouched.
pub fn write_atomic(
    path: impl AsRef<Path>,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let path = path.as_ref();
    let tmp = temp_path(path);
    let result = (|| {
        let mut w = BufWriter::new(File::create(&tmp)?);
        write(&mut w)?;
        w.flush()?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    commit_temp(&tmp, path)
}

/// Writes bytes to `path` atomically.
pub fn write_bytes_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |w| w.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_bytes_atomic(&p, b"first").unwrap();
        write_bytes_atomic(&p, b"second").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn failed_write_keeps_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.bin");
        write_bytes_atomic(&p, b"good").unwrap();
        let err = write_atomic(&p, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(err.is_err());
        assert_eq!(fs::read(&p).unwrap(), b"good");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_finished_write_removes_temporaries_of_dead_writers_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        // A writer killed mid-write (no process has this id: Linux pids stay below 2²²), a
        // live one (this test's parent chain always has pid 1 on Linux), another file's
        // temporary, and a file that only looks similar.
        let dead = dir.path().join(".model.tmp999999999.safetensors");
        let live = dir.path().join(".model.tmp1.safetensors");
        let other = dir.path().join(".loss.tmp999999999.png");
        let similar = dir.path().join(".model.tmpx9.safetensors");
        for f in [&dead, &live, &other, &similar] {
            fs::write(f, b"partial").unwrap();
        }
        write_bytes_atomic(&path, b"whole").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"whole");
        if Path::new("/proc/self").exists() {
            assert!(!dead.exists(), "a dead writer's temporary stays");
            assert_eq!(live.exists(), Path::new("/proc/1").exists());
        }
        assert!(other.exists() && similar.exists());
    }

    #[test]
    fn temp_name_keeps_extension() {
        let t = temp_path(Path::new("runs/x/loss.png"));
        assert_eq!(t.extension().unwrap(), "png");
        assert_eq!(t.parent().unwrap(), Path::new("runs/x"));
    }

    #[test]
    fn reading_reports_file_and_offset() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.txt");
        fs::write(&p, b"abc\xff\xfe").unwrap();
        let e = read_text(&p).unwrap_err().to_string();
        assert!(e.contains("bad.txt") && e.contains("byte 3"), "{e}");
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("directory"), "{e}");
        let e = read(dir.path().join("missing")).unwrap_err().to_string();
        assert!(e.contains("missing"), "{e}");
    }
}
