/*
 * detector_ole.h - the compound file (OLE2) reader, inside the detector
 *
 * A compound file is a small file system in a file: sectors chained by a
 * FAT, a directory of storages (folders) and streams (files), and small
 * streams kept in a mini stream with a FAT of their own. ole_open() reads
 * the header, the FAT, the mini FAT and the directory, checking every
 * sector number and every chain (a chain longer than the file has sectors
 * is a loop). ole_read() returns a stream's bytes, bounded by the caller.
 *
 * Used by detector_ole.c (which formats a file holds, and their streams),
 * detector_legacy.c (Word, Excel, PowerPoint 97-2003 text) and
 * detector_msg.c (Outlook messages).
 */
#ifndef DLP_DETECTOR_OLE_H
#define DLP_DETECTOR_OLE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define OLE_NONE    0xffffffffu
#define OLE_STORAGE 1
#define OLE_STREAM  2
#define OLE_ROOT    5

struct ole_entry {
	char name[128]; /* UTF-8 */
	uint8_t type;   /* OLE_STORAGE, OLE_STREAM, OLE_ROOT; 0: unused */
	uint32_t left, right, child;
	uint32_t start;
	uint64_t size;
	uint32_t parent; /* the storage it is in; OLE_NONE for the root */
	int used;        /* reached from the root */
};

struct ole {
	const char *d;
	size_t len;
	unsigned ssz;   /* sector size: 512 or 4096 */
	uint32_t nsect; /* sectors in the file */
	uint32_t *fat;
	size_t nfat;
	uint32_t *minifat;
	size_t nminifat;
	struct buf mini; /* the mini stream */
	uint32_t cutoff; /* smaller streams live in the mini stream */
	struct ole_entry *dir;
	size_t ndir;
};

int ole_open(struct ole *o, const char *d, size_t len, char *err, size_t errlen);
void ole_close(struct ole *o);
int ole_read(struct ole *o, uint32_t id, struct buf *out, size_t limit);
uint32_t ole_child(const struct ole *o, uint32_t storage, const char *name);

#endif
