/*
 * TEST-HARNESS CODE (issue #44), never shipped: the Unix half of the PC/SC bridge for Debian 12's Wine 8.0 (see
 * bridge.h). Wine loads it beside the builtin PE half and calls the functions of __wine_unix_call_funcs; each one
 * converts Windows' WinSCard shapes to pcsc-lite's, calls libpcsclite, and converts the answer back:
 *
 *   DWORD                 32 bits on Windows, unsigned long (64 bits) in pcsc-lite: every DWORD out-parameter
 *   SCARD_READERSTATE     ATR buffer 36 bytes on Windows, 33 in pcsc-lite; DWORD fields as above
 *   SCARD_IO_REQUEST      8 bytes on Windows, 16 in pcsc-lite (only the protocol travels)
 *   SCARD_PROTOCOL_RAW    0x10000 on Windows, 4 in pcsc-lite
 *   SCardStatus's state   an ordinal on Windows (SCARD_PRESENT = 2), a bit mask in pcsc-lite (0x4)
 *   control codes         SCARD_CTL_CODE(c) is 0x310000 | c << 2 on Windows, 0x42000000 + c in pcsc-lite
 *
 * Error codes are converted by the PE half. HCPKI_PCSC_BRIDGE_TRACE=1 prints every call and its answer to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <PCSC/winscard.h>
#include <PCSC/reader.h>

#include "bridge.h"

typedef int32_t NTSTATUS;
#define STATUS_SUCCESS 0

#define WIN_PROTOCOL_RAW 0x10000u
#define WIN_MAX_ATR 36u

static void trace(const char *call, long rv)
{
    static int on = -1;
    if (on < 0) on = getenv("HCPKI_PCSC_BRIDGE_TRACE") && !strcmp(getenv("HCPKI_PCSC_BRIDGE_TRACE"), "1");
    if (on) fprintf(stderr, "pcsc-bridge: %s -> 0x%08lx\n", call, (unsigned long)rv & 0xffffffffu);
}

static DWORD protocols_to_pcsc(uint32_t win)
{
    DWORD p = win & (SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1);
    if (win & WIN_PROTOCOL_RAW) p |= SCARD_PROTOCOL_RAW;
    return p;
}

static uint32_t protocol_to_win(DWORD pcsc)
{
    uint32_t p = (uint32_t)(pcsc & (SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1));
    if (pcsc & SCARD_PROTOCOL_RAW) p |= WIN_PROTOCOL_RAW;
    return p;
}

/* pcsc-lite's state bits, highest first, to Windows' ordinals (winscard.h: SCARD_UNKNOWN 0 ... SCARD_SPECIFIC 6). */
static uint32_t state_to_win(DWORD pcsc)
{
    if (pcsc & SCARD_SPECIFIC) return 6;
    if (pcsc & SCARD_NEGOTIABLE) return 5;
    if (pcsc & SCARD_POWERED) return 4;
    if (pcsc & SCARD_SWALLOWED) return 3;
    if (pcsc & SCARD_PRESENT) return 2;
    if (pcsc & SCARD_ABSENT) return 1;
    return 0;
}

static DWORD control_code_to_pcsc(uint32_t win)
{
    if ((win >> 16) == 0x31) return SCARD_CTL_CODE((win >> 2) & 0xfff);
    return win;
}

#define ARGS struct bridge_args *a = args
#define U32(p) ((uint32_t *)(uintptr_t)(p))

static NTSTATUS establish(void *args)
{
    ARGS;
    SCARDCONTEXT ctx = 0;
    LONG rv = SCardEstablishContext(a->scope, NULL, NULL, &ctx);
    if (rv == SCARD_S_SUCCESS) *(uint64_t *)(uintptr_t)a->context = (uint64_t)ctx;
    a->ret = (int32_t)rv;
    trace("SCardEstablishContext", rv);
    return STATUS_SUCCESS;
}

static NTSTATUS release(void *args)
{
    ARGS;
    a->ret = (int32_t)SCardReleaseContext((SCARDCONTEXT)a->context);
    trace("SCardReleaseContext", a->ret);
    return STATUS_SUCCESS;
}

static NTSTATUS is_valid(void *args)
{
    ARGS;
    a->ret = (int32_t)SCardIsValidContext((SCARDCONTEXT)a->context);
    return STATUS_SUCCESS;
}

static NTSTATUS list_readers(void *args)
{
    ARGS;
    DWORD len = *U32(a->name_len);
    LONG rv = SCardListReaders((SCARDCONTEXT)a->context, NULL, (char *)(uintptr_t)a->name, &len);
    *U32(a->name_len) = (uint32_t)len;
    a->ret = (int32_t)rv;
    trace("SCardListReaders", rv);
    return STATUS_SUCCESS;
}

static NTSTATUS connect_card(void *args)
{
    ARGS;
    SCARDHANDLE card = 0;
    DWORD active = 0;
    LONG rv = SCardConnect((SCARDCONTEXT)a->context, (const char *)(uintptr_t)a->name, a->share,
                           protocols_to_pcsc(a->protocols), &card, &active);
    if (rv == SCARD_S_SUCCESS) {
        *(uint64_t *)(uintptr_t)a->handle = (uint64_t)card;
        if (a->active) *U32(a->active) = protocol_to_win(active);
    }
    a->ret = (int32_t)rv;
    trace("SCardConnect", rv);
    return STATUS_SUCCESS;
}

static NTSTATUS reconnect(void *args)
{
    ARGS;
    DWORD active = 0;
    LONG rv = SCardReconnect((SCARDHANDLE)a->handle, a->share, protocols_to_pcsc(a->protocols), a->disposition,
                             &active);
    if (rv == SCARD_S_SUCCESS && a->active) *U32(a->active) = protocol_to_win(active);
    a->ret = (int32_t)rv;
    trace("SCardReconnect", rv);
    return STATUS_SUCCESS;
}

static NTSTATUS disconnect(void *args)
{
    ARGS;
    a->ret = (int32_t)SCardDisconnect((SCARDHANDLE)a->handle, a->disposition);
    trace("SCardDisconnect", a->ret);
    return STATUS_SUCCESS;
}

static NTSTATUS begin(void *args)
{
    ARGS;
    a->ret = (int32_t)SCardBeginTransaction((SCARDHANDLE)a->handle);
    trace("SCardBeginTransaction", a->ret);
    return STATUS_SUCCESS;
}

static NTSTATUS end(void *args)
{
    ARGS;
    a->ret = (int32_t)SCardEndTransaction((SCARDHANDLE)a->handle, a->disposition);
    trace("SCardEndTransaction", a->ret);
    return STATUS_SUCCESS;
}

static NTSTATUS status(void *args)
{
    ARGS;
    DWORD name_len = a->name_len ? *U32(a->name_len) : 0;
    DWORD state = 0, protocol = 0;
    BYTE atr[MAX_ATR_SIZE];
    DWORD atr_len = sizeof(atr);
    LONG rv = SCardStatus((SCARDHANDLE)a->handle, (char *)(uintptr_t)a->name, a->name_len ? &name_len : NULL, &state,
                          &protocol, atr, &atr_len);
    if (a->name_len) *U32(a->name_len) = (uint32_t)name_len;
    if (rv == SCARD_S_SUCCESS) {
        if (a->state) *U32(a->state) = state_to_win(state);
        if (a->active) *U32(a->active) = protocol_to_win(protocol);
        if (a->atr_len) {
            uint32_t room = *U32(a->atr_len);
            if (a->atr && room < atr_len) rv = SCARD_E_INSUFFICIENT_BUFFER;
            else if (a->atr) memcpy((void *)(uintptr_t)a->atr, atr, atr_len);
            *U32(a->atr_len) = (uint32_t)atr_len;
        }
    }
    a->ret = (int32_t)rv;
    trace("SCardStatus", rv);
    return STATUS_SUCCESS;
}

static NTSTATUS get_status_change(void *args)
{
    ARGS;
    struct win_readerstate *win = (struct win_readerstate *)(uintptr_t)a->states;
    SCARD_READERSTATE *states = calloc(a->count ? a->count : 1, sizeof(*states));
    uint32_t i;
    LONG rv;
    if (!states) {
        a->ret = (int32_t)SCARD_E_NO_MEMORY;
        return STATUS_SUCCESS;
    }
    for (i = 0; i < a->count; i++) {
        states[i].szReader = (const char *)(uintptr_t)win[i].reader;
        states[i].pvUserData = (void *)(uintptr_t)win[i].user_data;
        states[i].dwCurrentState = win[i].current_state;
    }
    rv = SCardGetStatusChange((SCARDCONTEXT)a->context, a->timeout, states, a->count);
    /* pcsc-lite fills the states on success and on a timeout (both are an answer about each reader). */
    if (rv == SCARD_S_SUCCESS || rv == SCARD_E_TIMEOUT) {
        for (i = 0; i < a->count; i++) {
            DWORD n = states[i].cbAtr < WIN_MAX_ATR ? states[i].cbAtr : WIN_MAX_ATR;
            win[i].event_state = (uint32_t)states[i].dwEventState;
            win[i].atr_len = (uint32_t)n;
            memcpy(win[i].atr, states[i].rgbAtr, n < MAX_ATR_SIZE ? n : MAX_ATR_SIZE);
        }
    }
    free(states);
    a->ret = (int32_t)rv;
    if (rv != SCARD_E_TIMEOUT) trace("SCardGetStatusChange", rv);
    return STATUS_SUCCESS;
}

static NTSTATUS control(void *args)
{
    ARGS;
    DWORD returned = 0;
    LONG rv = SCardControl((SCARDHANDLE)a->handle, control_code_to_pcsc(a->code), (const void *)(uintptr_t)a->in,
                           a->in_len, (void *)(uintptr_t)a->out, *U32(a->out_len), &returned);
    *U32(a->out_len) = (uint32_t)returned;
    a->ret = (int32_t)rv;
    trace("SCardControl", rv);
    return STATUS_SUCCESS;
}

static NTSTATUS get_attrib(void *args)
{
    ARGS;
    DWORD len = *U32(a->out_len);
    LONG rv = SCardGetAttrib((SCARDHANDLE)a->handle, a->code, (BYTE *)(uintptr_t)a->out, &len);
    *U32(a->out_len) = (uint32_t)len;
    a->ret = (int32_t)rv;
    trace("SCardGetAttrib", rv);
    return STATUS_SUCCESS;
}

static NTSTATUS set_attrib(void *args)
{
    ARGS;
    a->ret = (int32_t)SCardSetAttrib((SCARDHANDLE)a->handle, a->code, (const BYTE *)(uintptr_t)a->in, a->in_len);
    trace("SCardSetAttrib", a->ret);
    return STATUS_SUCCESS;
}

static NTSTATUS transmit(void *args)
{
    ARGS;
    SCARD_IO_REQUEST pci = {protocols_to_pcsc(a->send_protocol), sizeof(SCARD_IO_REQUEST)};
    DWORD len = *U32(a->out_len);
    LONG rv = SCardTransmit((SCARDHANDLE)a->handle, &pci, (const BYTE *)(uintptr_t)a->in, a->in_len, NULL,
                            (BYTE *)(uintptr_t)a->out, &len);
    *U32(a->out_len) = (uint32_t)len;
    a->ret = (int32_t)rv;
    trace("SCardTransmit", rv);
    return STATUS_SUCCESS;
}

static NTSTATUS cancel(void *args)
{
    ARGS;
    a->ret = (int32_t)SCardCancel((SCARDCONTEXT)a->context);
    trace("SCardCancel", a->ret);
    return STATUS_SUCCESS;
}

/* Whether pcscd answers now: what SCardAccessStartedEvent's event stands for. */
static NTSTATUS service_running(void *args)
{
    ARGS;
    SCARDCONTEXT ctx = 0;
    LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
    if (rv == SCARD_S_SUCCESS) SCardReleaseContext(ctx);
    a->ret = (int32_t)rv;
    return STATUS_SUCCESS;
}

typedef NTSTATUS (*unixlib_entry_t)(void *args);

/* In enum bridge_call's order. */
__attribute__((visibility("default"))) const unixlib_entry_t __wine_unix_call_funcs[] = {
    establish,  release, is_valid, list_readers, connect_card, reconnect,  disconnect, begin, end, status,
    get_status_change, control,  get_attrib,   set_attrib, transmit, cancel, service_running,
};

_Static_assert(sizeof(__wine_unix_call_funcs) / sizeof(__wine_unix_call_funcs[0]) == CALL_COUNT,
               "one function per enum bridge_call");
