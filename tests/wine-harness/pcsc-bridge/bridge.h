/*
 * TEST-HARNESS CODE (issue #44), never shipped: the calls between the two halves of the PC/SC bridge that lets
 * Windows programs under Debian 12's Wine 8.0 reach pcscd. Wine 8.0's winscard.dll is a stub (SCardEstablishContext
 * answers SCARD_F_INTERNAL_ERROR); Wine 9.0 and Windows have a real one, and a real Windows PC needs none of this.
 *
 * The PE half (bridge_pe.c, a Wine builtin DLL) passes one of these structures to the Unix half (bridge_unix.c,
 * linked to libpcsclite) through __wine_unix_call. Both are compiled from this header, by two different compilers
 * (mingw-w64 and the host gcc), so every field has a fixed width: pointers travel as uint64_t (one address space),
 * DWORDs as uint32_t (Windows' DWORD is 32-bit; pcsc-lite's is unsigned long, 64-bit), return codes as int32_t.
 */
#ifndef HCPKI_PCSC_BRIDGE_H
#define HCPKI_PCSC_BRIDGE_H

#include <stdint.h>

enum bridge_call {
    CALL_ESTABLISH,
    CALL_RELEASE,
    CALL_IS_VALID,
    CALL_LIST_READERS,
    CALL_CONNECT,
    CALL_RECONNECT,
    CALL_DISCONNECT,
    CALL_BEGIN,
    CALL_END,
    CALL_STATUS,
    CALL_GET_STATUS_CHANGE,
    CALL_CONTROL,
    CALL_GET_ATTRIB,
    CALL_SET_ATTRIB,
    CALL_TRANSMIT,
    CALL_CANCEL,
    CALL_SERVICE_RUNNING,
    CALL_COUNT
};

/* Windows' SCARD_READERSTATEA on x86-64, as the caller's array holds it (rgbAtr is 36 bytes; pcsc-lite's is 33). */
struct win_readerstate {
    uint64_t reader; /* const char * */
    uint64_t user_data;
    uint32_t current_state;
    uint32_t event_state;
    uint32_t atr_len;
    uint8_t atr[36];
};

/* Every call's arguments in one structure: `ret` is pcsc-lite's answer (an SCARD_* code, in 32 bits). */
struct bridge_args {
    int32_t ret;
    uint32_t scope;       /* establish */
    uint64_t context;     /* SCARDCONTEXT (in), or the address of one (establish: out) */
    uint64_t handle;      /* SCARDHANDLE (in), or the address of one (connect: out) */
    uint64_t name;        /* a reader name (connect), or the buffer of reader names (list, status) */
    uint64_t name_len;    /* uint32_t * */
    uint32_t share;       /* connect, reconnect */
    uint32_t protocols;   /* Windows' values (RAW = 0x10000) */
    uint32_t disposition; /* reconnect (initialization), disconnect, end */
    uint64_t active;      /* uint32_t *: the protocol chosen, in Windows' values */
    uint64_t state;       /* uint32_t *: status: Windows' ordinal (SCARD_PRESENT = 2 ...) */
    uint64_t atr;         /* status: BYTE[>= 36] */
    uint64_t atr_len;     /* uint32_t * */
    uint32_t timeout;     /* get_status_change, in ms */
    uint32_t count;       /* get_status_change: readers */
    uint64_t states;      /* struct win_readerstate * */
    uint32_t code;        /* control: Windows' control code; attributes: the attribute id */
    uint32_t in_len;
    uint64_t in;          /* control, set_attrib, transmit: what is sent */
    uint64_t out;         /* control, get_attrib, transmit: where the answer goes */
    uint64_t out_len;     /* uint32_t *: its size (in), the answer's length (out) */
    uint32_t send_protocol; /* transmit: the SCARD_IO_REQUEST's protocol, Windows' value */
};

#endif
