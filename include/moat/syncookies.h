/*
 * The one list of SYN cookie modes, as `options { syncookies }`, a rule's
 * `syncookies` and `moat ctl syncookies` name them.  The rules parse them,
 * the engine resolves which one is in force for a SYN, and the SYN proxy's
 * decision (moat/syn_decide.h) reads it.
 *
 * Header-only and self-contained (no other moat header, no libc), so that
 * the XDP program of the fast path can include it beside moat/syn_decide.h
 * and read the same numbers from its maps.  The values are stable: they
 * are stored in configurations' compiled form and in those maps.
 */
#ifndef MOAT_SYNCOOKIES_H
#define MOAT_SYNCOOKIES_H

enum moat_syncookies_mode {
	MOAT_SYNCOOKIES_OFF = 0,   /* never cookies: SYNs go to the server */
	MOAT_SYNCOOKIES_ON = 1,    /* always cookies */
	MOAT_SYNCOOKIES_AUTO = 2,  /* cookies only while the destination is
				      flooded (the hybrid mode) */
};

#endif
