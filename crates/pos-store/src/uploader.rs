//! One uploader per terminal: an exclusive lock on a file next to the store, which the
//! operating system releases when its holder exits, however it exits.
//!
//! A lease row in the store outlived a killed holder (every later round waited for it to run
//! out) and ran out under a round longer than the lease (letting a second uploader in). An OS
//! lock has neither problem: it lasts exactly as long as the handle that holds it.

use crate::{Result, Store};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Where a store's uploader lock lives.
#[derive(Debug, Clone)]
pub(crate) enum LockSite {
    /// `<store file>.sync-lock`, for a store on disk.
    File(PathBuf),
    /// A flag shared by the handles of one in-memory store: no other process can open that
    /// database, so the process is the whole world it needs to exclude.
    Memory(Arc<AtomicBool>),
}

impl LockSite {
    /// The site for a store opened at `opened`, whose database file SQLite names `db` (its
    /// absolute path, so a later change of directory does not move the lock; `None` or empty
    /// for an in-memory database, and `None` too for a path that is not UTF-8).
    pub(crate) fn for_database(db: Option<&str>, opened: &Path) -> Self {
        let file = match db.filter(|p| !p.is_empty()) {
            Some(db) => Path::new(db),
            None if opened.as_os_str().is_empty() || opened == Path::new(":memory:") => {
                return LockSite::Memory(Arc::default())
            }
            None => opened,
        };
        let mut name = file.as_os_str().to_owned();
        name.push(".sync-lock");
        LockSite::File(PathBuf::from(name))
    }
}

/// Proof that this handle is the terminal's one uploader; dropping it lets the next one in.
#[derive(Debug)]
pub struct UploaderLock {
    held: Held,
}

#[derive(Debug)]
enum Held {
    /// Closing the file releases the lock; so does the process ending.
    File(#[allow(dead_code)] File),
    Memory(Arc<AtomicBool>),
}

impl Drop for UploaderLock {
    fn drop(&mut self) {
        if let Held::Memory(flag) = &self.held {
            flag.store(false, Ordering::Release);
        }
    }
}

impl Store {
    /// Takes the uploader lock without waiting: `None` while another round (in this process or
    /// another) holds it. Hold the guard for the whole round, push and pull.
    pub fn uploader_lock(&self) -> Result<Option<UploaderLock>> {
        match &self.lock_site {
            LockSite::File(path) => {
                // Never truncated or removed: deleting a lock file lets two holders lock two
                // different files under one name.
                let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
                match file.try_lock() {
                    Ok(()) => Ok(Some(UploaderLock { held: Held::File(file) })),
                    Err(TryLockError::WouldBlock) => Ok(None),
                    Err(TryLockError::Error(e)) => Err(e.into()),
                }
            }
            LockSite::Memory(flag) => {
                Ok((!flag.swap(true, Ordering::AcqRel)).then(|| UploaderLock { held: Held::Memory(flag.clone()) }))
            }
        }
    }

    /// The file whose lock marks the uploader (`None` for an in-memory store).
    pub fn uploader_lock_path(&self) -> Option<&Path> {
        match &self.lock_site {
            LockSite::File(path) => Some(path),
            LockSite::Memory(_) => None,
        }
    }
}
