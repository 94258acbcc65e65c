/*
 * store-sqlite-vfs.c: a VFS over sqlite's own that hands the WAL its
 * commit's frames in one write.
 *
 * sqlite writes each WAL frame as two pwrite(2)s, a 24-byte header and
 * the page, so a commit of six pages is twelve writes that straddle the
 * file's blocks, then fdatasync.  Measured here (bench/RESULTS.md, issue
 * 18), fdatasync after those twelve writes takes four times as long as
 * after the same bytes written at once, and the commit is most of a
 * durable submit.  This VFS keeps the WAL's consecutive writes in a buffer
 * and writes them when sqlite syncs, reads, truncates, asks the size,
 * closes, or touches the shared-memory index: sqlite publishes new frames
 * to other connections only through that index (after its xShmBarrier),
 * so no reader anywhere sees a frame that is not in the file.
 *
 * It also writes the WAL's blocks ahead (zeros, up to STORE_WAL_AHEAD
 * bytes) and syncs them when sqlite starts a WAL in a file shorter than
 * that (a new WAL, or one a checkpoint truncated after a migration).
 * sqlite reuses its WAL from the start after each checkpoint, so in the
 * long run a commit overwrites blocks the file already has; but a new WAL
 * (every start: sqlite deletes it at close) grows with each commit, and on
 * ext4 an fdatasync that must also write the file's new size and blocks
 * took 0.086 ms against 0.054 ms for the same 12 KB overwritten (bench/
 * RESULTS.md): the first 4 MB of commits after a start were the slow
 * ones.  beanstalkd preallocates its binlog for the same reason.  Zeros
 * past the last frame are no frames to sqlite (a frame's salt must match
 * the header's).  It happens only while sqlite holds the WAL's write lock
 * (writing a header, truncating in a checkpoint), so no other process
 * writing the database (a sqlite3 shell) appends frames where the zeros
 * go.  Where the blocks cannot be had (a full disk, a file size limit)
 * the file is cut back and grows as before.
 *
 * Everything else, and every file but the WAL, goes to the default VFS
 * unchanged.
 */
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "base/base.h"
#include "store/store-backend.h"

/* sqlite's unix VFS writes at most 128 KiB - 1 a call (seekAndWrite). */
#define WALBUF_MAX	(127 * 1024)

struct wb_file {
	sqlite3_file	 base;		/* pMethods: wb_io */
	struct wb_file	*wal;		/* main database: its open WAL */
	struct wb_file	*db;		/* WAL: its main database */
	int		 is_wal;
	int		 no_ahead;	/* WAL: writing ahead failed once */
	unsigned char	*buf;		/* WAL: writes not yet made */
	sqlite3_int64	 buf_off;
	int		 buf_len;
	sqlite3_file	*real;		/* the default VFS's file, after us */
};

static sqlite3_vfs	*wb_base;

#define REAL(f)		(((struct wb_file *)(f))->real)

/* Writes the buffered frames; sqlite's error if the write fails. */
static int
wb_flush(struct wb_file *f)
{
	int	rc;

	if (f == NULL || f->buf_len == 0)
		return SQLITE_OK;
	rc = f->real->pMethods->xWrite(f->real, f->buf, f->buf_len,
	    f->buf_off);
	f->buf_len = 0;
	return rc;
}

static int
wb_close(sqlite3_file *file)
{
	struct wb_file	*f = (struct wb_file *)file;
	int		 rc, rc2;

	rc = wb_flush(f);
	if (f->db != NULL && f->db->wal == f)
		f->db->wal = NULL;
	if (f->wal != NULL)
		f->wal->db = NULL;
	free(f->buf);
	f->buf = NULL;
	rc2 = f->real->pMethods->xClose(f->real);
	return rc != SQLITE_OK ? rc : rc2;
}

static int
wb_read(sqlite3_file *file, void *p, int n, sqlite3_int64 off)
{
	int	rc;

	if ((rc = wb_flush((struct wb_file *)file)) != SQLITE_OK)
		return rc;
	return REAL(file)->pMethods->xRead(REAL(file), p, n, off);
}

/*
 * Writes the WAL's blocks up to STORE_WAL_AHEAD and syncs them.  Where it
 * cannot, the file keeps its size, and this file is not tried again (each
 * restart of the WAL would write and cut back as much).
 */
static void
wb_write_ahead(struct wb_file *f)
{
	static const char	zeros[64 * 1024];
	sqlite3_int64		size, off;
	int			n;

	if (f->no_ahead ||
	    f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK ||
	    size >= STORE_WAL_AHEAD)
		return;
	for (off = size; off < STORE_WAL_AHEAD; off += n) {
		n = STORE_WAL_AHEAD - off < (sqlite3_int64)sizeof zeros ?
		    (int)(STORE_WAL_AHEAD - off) : (int)sizeof zeros;
		if (f->real->pMethods->xWrite(f->real, zeros, n, off) !=
		    SQLITE_OK) {
			f->real->pMethods->xTruncate(f->real, size);
			f->no_ahead = 1;
			return;
		}
	}
	f->real->pMethods->xSync(f->real, SQLITE_SYNC_NORMAL);
}

/*
 * Takes a write into the buffer when it continues the buffered run or
 * falls inside it (a page written twice in one transaction); anything
 * else writes the run first.
 */
static int
wb_write(sqlite3_file *file, const void *p, int n, sqlite3_int64 off)
{
	struct wb_file	*f = (struct wb_file *)file;
	sqlite3_int64	 end = f->buf_off + f->buf_len;
	int		 rc;

	if (!f->is_wal || n > WALBUF_MAX)
		goto direct;
	if (off == 0)		/* a WAL starts over */
		wb_write_ahead(f);
	if (f->buf_len > 0 && off >= f->buf_off && off + n <= end) {
		memcpy(f->buf + (off - f->buf_off), p, n);
		return SQLITE_OK;
	}
	if (f->buf_len > 0 && (off != end || f->buf_len + n > WALBUF_MAX) &&
	    (rc = wb_flush(f)) != SQLITE_OK)
		return rc;
	if (f->buf == NULL && (f->buf = malloc(WALBUF_MAX)) == NULL)
		goto direct;
	if (f->buf_len == 0)
		f->buf_off = off;
	memcpy(f->buf + f->buf_len, p, n);
	f->buf_len += n;
	return SQLITE_OK;
direct:
	if ((rc = wb_flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xWrite(f->real, p, n, off);
}

static int
wb_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct wb_file	*f = (struct wb_file *)file;
	int		 rc;

	if ((rc = wb_flush(f)) != SQLITE_OK ||
	    (rc = f->real->pMethods->xTruncate(f->real, size)) != SQLITE_OK)
		return rc;
	/* a checkpoint that empties the WAL: at start, after a migration */
	if (f->is_wal && size == 0)
		wb_write_ahead(f);
	return SQLITE_OK;
}

static int
wb_sync(sqlite3_file *file, int flags)
{
	int	rc;

	if ((rc = wb_flush((struct wb_file *)file)) != SQLITE_OK)
		return rc;
	return REAL(file)->pMethods->xSync(REAL(file), flags);
}

static int
wb_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	int	rc;

	if ((rc = wb_flush((struct wb_file *)file)) != SQLITE_OK)
		return rc;
	return REAL(file)->pMethods->xFileSize(REAL(file), size);
}

static int
wb_lock(sqlite3_file *file, int lock)
{
	return REAL(file)->pMethods->xLock(REAL(file), lock);
}

static int
wb_unlock(sqlite3_file *file, int lock)
{
	return REAL(file)->pMethods->xUnlock(REAL(file), lock);
}

static int
wb_check_reserved(sqlite3_file *file, int *out)
{
	return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}

static int
wb_file_control(sqlite3_file *file, int op, void *arg)
{
	return REAL(file)->pMethods->xFileControl(REAL(file), op, arg);
}

static int
wb_sector_size(sqlite3_file *file)
{
	return REAL(file)->pMethods->xSectorSize(REAL(file));
}

static int
wb_device(sqlite3_file *file)
{
	return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}

/* The shared-memory index lives on the main database's file. */
static int
wb_shm_map(sqlite3_file *file, int page, int size, int extend,
    void volatile **p)
{
	return REAL(file)->pMethods->xShmMap(REAL(file), page, size, extend, p);
}

static int
wb_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	int	rc;

	if ((rc = wb_flush(((struct wb_file *)file)->wal)) != SQLITE_OK)
		return rc;
	return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}

/* sqlite calls it between writing new frames and making them visible. */
static void
wb_shm_barrier(sqlite3_file *file)
{
	struct wb_file	*f = (struct wb_file *)file;

	if (wb_flush(f->wal) != SQLITE_OK)
		log_warnx("store: cannot write the WAL's frames before "
		    "publishing them");
	REAL(file)->pMethods->xShmBarrier(REAL(file));
}

static int
wb_shm_unmap(sqlite3_file *file, int delete)
{
	return REAL(file)->pMethods->xShmUnmap(REAL(file), delete);
}

static int
wb_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **p)
{
	int	rc;

	if ((rc = wb_flush((struct wb_file *)file)) != SQLITE_OK)
		return rc;
	return REAL(file)->pMethods->xFetch(REAL(file), off, n, p);
}

static int
wb_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	return REAL(file)->pMethods->xUnfetch(REAL(file), off, p);
}

static const sqlite3_io_methods wb_io = {
	3, wb_close, wb_read, wb_write, wb_truncate, wb_sync, wb_file_size,
	wb_lock, wb_unlock, wb_check_reserved, wb_file_control,
	wb_sector_size, wb_device, wb_shm_map, wb_shm_lock, wb_shm_barrier,
	wb_shm_unmap, wb_fetch, wb_unfetch
};

static int
wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
    int *out_flags)
{
	struct wb_file	*f = (struct wb_file *)file;
	int		 rc;

	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)(f + 1);
	rc = wb_base->xOpen(wb_base, name, f->real, flags, out_flags);
	if (f->real->pMethods == NULL)
		return rc;
	/* The I/O methods this file wraps must have what wb_io calls. */
	if (f->real->pMethods->iVersion < 3) {
		f->real->pMethods->xClose(f->real);
		return SQLITE_CANTOPEN;
	}
	f->base.pMethods = &wb_io;
	if ((flags & SQLITE_OPEN_WAL) != 0 && name != NULL) {
		f->is_wal = 1;
		f->db = (struct wb_file *)sqlite3_database_file_object(name);
		f->db->wal = f;
	}
	return rc;
}

/*
 * The VFS's own calls go to the default VFS, with it as their first
 * argument (xOpen above wraps the file it opens).
 */
static int
wb_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	return wb_base->xDelete(wb_base, name, sync_dir);
}

static int
wb_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return wb_base->xAccess(wb_base, name, flags, out);
}

static int
wb_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return wb_base->xFullPathname(wb_base, name, n, out);
}

static int
wb_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	return wb_base->xRandomness(wb_base, n, out);
}

static int
wb_sleep(sqlite3_vfs *vfs, int usec)
{
	return wb_base->xSleep(wb_base, usec);
}

static int
wb_current_time(sqlite3_vfs *vfs, double *out)
{
	return wb_base->xCurrentTime(wb_base, out);
}

static int
wb_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return wb_base->xGetLastError(wb_base, n, out);
}

static int
wb_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	return wb_base->xCurrentTimeInt64(wb_base, out);
}

static sqlite3_vfs	 wb_vfs = {
	.iVersion = 2, .mxPathname = 0, .zName = "futured-walbuf",
	.xOpen = wb_open, .xDelete = wb_delete, .xAccess = wb_access,
	.xFullPathname = wb_full_pathname, .xRandomness = wb_randomness,
	.xSleep = wb_sleep, .xCurrentTime = wb_current_time,
	.xGetLastError = wb_last_error, .xCurrentTimeInt64 = wb_current_time64
};

/*
 * Registers the VFS once; its name for sqlite3_open_v2, or NULL when the
 * default VFS lacks what it needs (then the store opens without it).
 */
const char *
store_sqlite_vfs(void)
{
	sqlite3_vfs	*base;

	if (wb_base != NULL)
		return wb_vfs.zName;
	if ((base = sqlite3_vfs_find(NULL)) == NULL || base->iVersion < 2)
		return NULL;
	wb_vfs.szOsFile = sizeof(struct wb_file) + base->szOsFile;
	wb_vfs.mxPathname = base->mxPathname;
	wb_base = base;
	if (sqlite3_vfs_register(&wb_vfs, 0) != SQLITE_OK) {
		wb_base = NULL;
		return NULL;
	}
	return wb_vfs.zName;
}
