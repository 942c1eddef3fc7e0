//! The blocking half of a put: the temp file, its writes, and its commit.
//!
//! Why buffer-sized blocking tasks rather than one writer thread per put: a
//! thread held for a whole put waits on the network as long as the client
//! is slow, so a few hundred slow uploads would exhaust the blocking pool
//! that the metadata store also needs. Here a thread is held only while a
//! buffer is actually written.
//!
//! Why `O_DIRECT`: a part is written once and, on the upload path, never
//! read back (the hash frontier takes its bytes as they stream in). Through
//! the page cache, every byte is copied once more, written back by the
//! kernel later, and occupies memory that must first be found and faulted
//! in: with hundreds of uploads that bookkeeping, not the disk, became the
//! server's main cost (see docs/design.md, "Where the time goes"). Direct
//! writes go from the put's aligned buffer to the device. The tail of a
//! part that does not fill a block goes through a second, ordinary
//! descriptor, and filesystems that refuse `O_DIRECT` (some tmpfs, network
//! filesystems) get ordinary writes throughout. The fsync at commit covers
//! both: it syncs the file, whichever descriptor wrote it.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::buffers::ALIGN;
use crate::store::in_flight::InFlightToken as WriterToken;

/// How often a rename is retried when a concurrent delete pruned the
/// freshly created, still empty parent directory.
const RENAME_ATTEMPTS: usize = 8;

/// Dirty bytes after which the writer asks the kernel to start writing them
/// back, so that disk writes overlap with receiving the body and the final
/// fsync waits only for the tail. Measured on a 2-core VM: a 1 GiB put
/// (fsync included) went from ~1.2 GB/s to ~1.9 GB/s with 16-64 KiB chunks.
const WRITEBACK_STEP: u64 = 8 << 20;

/// A temp file that removes itself when dropped, unless committed. It
/// holds a [`WriterToken`] for as long as the file may exist, so
/// `wait_for_writers` waits for the removal of abandoned ones too.
pub(super) struct TempFile {
    path: PathBuf,
    file: Option<File>,
    /// The same file opened with `O_DIRECT`, where the filesystem allows.
    direct: Option<File>,
    written: u64,
    written_back: u64,
    _token: WriterToken,
}

impl TempFile {
    pub(super) fn create(dir: &Path, token: WriterToken) -> io::Result<TempFile> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        loop {
            let name = format!(
                "{:016x}-{:x}.tmp",
                rand::random::<u64>(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            );
            let path = dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    let direct = open_direct(&path);
                    return Ok(TempFile {
                        path,
                        file: Some(file),
                        direct,
                        written: 0,
                        written_back: 0,
                        _token: token,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(context("creating", &path, e)),
            }
        }
    }

    fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("temp file is open until commit")
    }

    pub(super) fn len(&self) -> u64 {
        self.written
    }

    /// Appends `data`: directly where the file, the offset and the
    /// buffer allow, the rest through the page cache.
    pub(super) fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let mut rest = data;
        let n = direct_prefix(rest, self.written);
        if n > 0
            && let Some(direct) = &self.direct
        {
            match direct.write_all_at(&rest[..n], self.written) {
                Ok(()) => {
                    self.written += n as u64;
                    rest = &rest[n..];
                }
                // The filesystem accepted O_DIRECT at open but not this
                // write: ordinary writes from here on (positional, so the
                // same range is simply written again).
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => self.direct = None,
                Err(e) => return Err(context("writing", &self.path, e)),
            }
        }
        if !rest.is_empty() {
            self.write_buffered(rest)?;
        }
        Ok(())
    }

    /// Appends `data` through the page cache, starting writeback every
    /// `WRITEBACK_STEP` bytes.
    fn write_buffered(&mut self, data: &[u8]) -> io::Result<()> {
        let at = self.written;
        self.file()
            .write_all_at(data, at)
            .map_err(|e| context("writing", &self.path, e))?;
        self.written += data.len() as u64;
        if self.written - self.written_back >= WRITEBACK_STEP {
            let (from, len) = (self.written_back, self.written - self.written_back);
            start_writeback(self.file(), from, len)
                .map_err(|e| context("writing back", &self.path, e))?;
            self.written_back = self.written;
        }
        Ok(())
    }

    /// fsync, make `dest`'s parents durably present, rename into place,
    /// fsync `dest`'s directory.
    pub(super) fn commit(mut self, objects: &Path, dest: &Path) -> io::Result<()> {
        self.direct = None;
        let file = self.file.take().expect("temp file is open until commit");
        file.sync_all()
            .map_err(|e| context("syncing", &self.path, e))?;
        drop(file);
        let parent = dest.parent().expect("an object path has a parent");
        let mut attempt = 1;
        loop {
            create_parents(objects, parent)?;
            match fs::rename(&self.path, dest) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < RENAME_ATTEMPTS => {
                    attempt += 1;
                }
                Err(e) => return Err(context("renaming into", dest, e)),
            }
        }
        // The temp name no longer exists: nothing for `drop` to remove.
        self.path = PathBuf::new();
        if let Err(e) = sync_dir(parent) {
            // Not durable, so not acknowledged: honour "after `Err` nothing
            // is readable" as far as we can.
            let _ = fs::remove_file(dest);
            return Err(e);
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // Close before unlinking (required on some platforms).
        drop(self.direct.take());
        drop(self.file.take());
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Makes sure every directory from `objects` down to `dir` exists and that
/// its entry is durable: each ancestor below `objects` is created if
/// missing and its parent fsynced, even when another put created it (that
/// put may not have fsynced the parent yet, and this put's acknowledgement
/// must not depend on it). `dir` itself is fsynced after the rename.
fn create_parents(objects: &Path, dir: &Path) -> io::Result<()> {
    let mut chain = Vec::new();
    let mut d = dir;
    while d != objects {
        chain.push(d);
        d = d.parent().expect("object directories are under objects/");
    }
    for d in chain.into_iter().rev() {
        match fs::create_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(context("creating", d, e)),
        }
        sync_dir(d.parent().expect("object directories are under objects/"))?;
    }
    Ok(())
}

/// How many leading bytes of `data` can be written directly at `offset`:
/// whole blocks, from an aligned address to an aligned offset.
fn direct_prefix(data: &[u8], offset: u64) -> usize {
    if !offset.is_multiple_of(ALIGN as u64) || data.as_ptr().align_offset(ALIGN) != 0 {
        return 0;
    }
    data.len() / ALIGN * ALIGN
}

/// Opens `path` again for direct writes; `None` where the filesystem (or
/// the platform) does not do `O_DIRECT`.
#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_path: &Path) -> Option<File> {
    None
}

/// Starts (does not wait for) writeback of `len` bytes at `offset`. A hint:
/// the fsync at commit is what makes the data durable.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // the crate's only unsafe: one syscall, see SAFETY below
fn start_writeback(file: &File, offset: u64, len: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain syscall on a file descriptor that `file` keeps open;
    // no memory is shared with the kernel.
    let rc = unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            offset as _,
            len as _,
            libc::SYNC_FILE_RANGE_WRITE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _offset: u64, _len: u64) -> io::Result<()> {
    Ok(())
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| context("syncing directory", dir, e))
}

fn context(what: &str, path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::super::buffers::BufferPool;
    use super::*;
    use crate::store::in_flight::InFlight;

    #[test]
    fn direct_writes_take_whole_blocks_from_aligned_buffers_only() {
        let pool = BufferPool::new(4 * ALIGN, 1);
        let mut buf = pool.take();
        buf.fill_from(&[1u8; 3 * ALIGN + 100]);
        let data = buf.as_slice();
        assert_eq!(direct_prefix(data, 0), 3 * ALIGN);
        assert_eq!(direct_prefix(data, 8 * ALIGN as u64), 3 * ALIGN);
        assert_eq!(direct_prefix(data, 100), 0, "unaligned offset");
        assert_eq!(direct_prefix(&data[1..], 0), 0, "unaligned address");
        assert_eq!(direct_prefix(&data[..100], 0), 0, "less than a block");
    }

    /// Full aligned buffers, then a tail: the file holds exactly the bytes,
    /// and where the filesystem opened the file for direct writes, the
    /// aligned writes did not fall back (they satisfied O_DIRECT's rules).
    #[test]
    fn aligned_buffers_and_a_tail_make_the_exact_file() {
        let dir = tempfile::tempdir().unwrap();
        let objects = dir.path().join("objects");
        fs::create_dir(&objects).unwrap();
        let writers = InFlight::default();
        let mut tmp = TempFile::create(dir.path(), writers.start()).unwrap();
        let opened_direct = tmp.direct.is_some();
        let pool = BufferPool::new(16 * ALIGN, 2);
        let mut expected = Vec::new();
        for (round, len) in [16 * ALIGN, 16 * ALIGN, 5 * ALIGN + 321]
            .into_iter()
            .enumerate()
        {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 + round * 7) as u8).collect();
            let mut buf = pool.take();
            assert_eq!(buf.fill_from(&data), len);
            tmp.write(buf.as_slice()).unwrap();
            assert_eq!(
                tmp.direct.is_some(),
                opened_direct,
                "no fallback on round {round}"
            );
            expected.extend_from_slice(&data);
            pool.give(buf);
        }
        assert_eq!(tmp.len(), expected.len() as u64);
        let dest = objects.join("s").join("obj");
        tmp.commit(&objects, &dest).unwrap();
        assert!(fs::read(&dest).unwrap() == expected, "content differs");
    }
}
