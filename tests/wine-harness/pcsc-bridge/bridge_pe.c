/*
 * TEST-HARNESS CODE (issue #44), never shipped: the PE half of the PC/SC bridge for Debian 12's Wine 8.0 (see
 * bridge.h). A Wine builtin DLL (hcpkipcsc.dll, marked by `winebuild --builtin`) exporting WinSCard's functions as
 * Windows programs call them; each forwards to the Unix half (hcpkipcsc.so) through __wine_unix_call. Programs reach
 * it through winscard.dll, a forwarder of these exports (winscard.def) installed in the prefix with the DLL override
 * winscard=n, because Wine 8.0 prefers its own stub winscard.dll over any builtin of that name found elsewhere.
 *
 * It covers what the pcsc crate (pcsc-sys) imports on Windows — the A variants, the three PCI structures — and
 * SCardAccessStartedEvent/SCardReleaseStartedEvent, whose event is set while pcscd answers (polled every 250 ms).
 * SCARD_AUTOALLOCATE is refused (SCARD_E_UNSUPPORTED_FEATURE): nothing the agent calls uses it.
 */
/* Lean: windows.h would otherwise bring winscard.h, whose dllimport declarations of the PCI structures clash with the
   definitions below. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "bridge.h"

typedef LONG NTSTATUS;
typedef UINT64 unixlib_handle_t;
/* ntdll's, from Wine's own import library: Wine's way from a builtin DLL to its Unix library. */
__declspec(dllimport) NTSTATUS WINAPI __wine_unix_call(unixlib_handle_t handle, unsigned int code, void *args);
__declspec(dllimport) NTSTATUS WINAPI NtQueryVirtualMemory(HANDLE process, const void *address, int info_class,
                                                           void *info, SIZE_T len, SIZE_T *returned);
#define MEMORY_WINE_UNIX_FUNCS 1000

/* winscard.h's values on Windows (not included: its data declarations are dllimport). */
typedef ULONG_PTR SCARDCONTEXT;
typedef ULONG_PTR SCARDHANDLE;
typedef struct {
    DWORD dwProtocol;
    DWORD cbPciLength;
} W_SCARD_IO_REQUEST;
/* The SCARD_ codes come from winerror.h. */
#define SCARD_AUTOALLOCATE ((DWORD)-1)
#define PCSCLITE_UNSUPPORTED_OR_UNEXPECTED ((LONG)0x8010001F)

static unixlib_handle_t unix_handle;

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) {
        DisableThreadLibraryCalls(instance);
        /* MemoryWineUnixFuncs: Wine loads hcpkipcsc.so from the x86_64-unix directory beside this DLL's. */
        if (NtQueryVirtualMemory(GetCurrentProcess(), instance, MEMORY_WINE_UNIX_FUNCS, &unix_handle,
                                 sizeof(unix_handle), NULL))
            return FALSE;
    }
    return TRUE;
}

/* One call to the Unix half; pcsc-lite's answer converted to Windows' code. */
static LONG call(enum bridge_call code, struct bridge_args *a)
{
    if (__wine_unix_call(unix_handle, code, a)) return SCARD_F_INTERNAL_ERROR;
    /* 0x8010001F is SCARD_E_UNSUPPORTED_FEATURE (and SCARD_E_UNEXPECTED) in pcsc-lite; Windows' unsupported feature is
       0x80100022, and its 0x8010001F means "unexpected". The bridge's callers ask only for features. */
    if (a->ret == PCSCLITE_UNSUPPORTED_OR_UNEXPECTED) return SCARD_E_UNSUPPORTED_FEATURE;
    return a->ret;
}

#define P(x) ((UINT64)(ULONG_PTR)(x))

const W_SCARD_IO_REQUEST g_rgSCardT0Pci = {1, sizeof(W_SCARD_IO_REQUEST)};
const W_SCARD_IO_REQUEST g_rgSCardT1Pci = {2, sizeof(W_SCARD_IO_REQUEST)};
const W_SCARD_IO_REQUEST g_rgSCardRawPci = {0x10000, sizeof(W_SCARD_IO_REQUEST)};

LONG WINAPI SCardEstablishContext(DWORD scope, const void *reserved1, const void *reserved2, SCARDCONTEXT *context)
{
    struct bridge_args a = {0};
    (void)reserved1;
    (void)reserved2;
    if (!context) return SCARD_E_INVALID_PARAMETER;
    a.scope = scope;
    a.context = P(context);
    return call(CALL_ESTABLISH, &a);
}

LONG WINAPI SCardReleaseContext(SCARDCONTEXT context)
{
    struct bridge_args a = {0};
    a.context = context;
    return call(CALL_RELEASE, &a);
}

LONG WINAPI SCardIsValidContext(SCARDCONTEXT context)
{
    struct bridge_args a = {0};
    a.context = context;
    return call(CALL_IS_VALID, &a);
}

LONG WINAPI SCardListReadersA(SCARDCONTEXT context, const char *groups, char *readers, DWORD *len)
{
    struct bridge_args a = {0};
    (void)groups;
    if (!len) return SCARD_E_INVALID_PARAMETER;
    if (*len == SCARD_AUTOALLOCATE) return SCARD_E_UNSUPPORTED_FEATURE;
    a.context = context;
    a.name = P(readers);
    a.name_len = P(len);
    return call(CALL_LIST_READERS, &a);
}

LONG WINAPI SCardConnectA(SCARDCONTEXT context, const char *reader, DWORD share, DWORD protocols, SCARDHANDLE *card,
                          DWORD *active)
{
    struct bridge_args a = {0};
    if (!reader || !card) return SCARD_E_INVALID_PARAMETER;
    a.context = context;
    a.name = P(reader);
    a.share = share;
    a.protocols = protocols;
    a.handle = P(card);
    a.active = P(active);
    return call(CALL_CONNECT, &a);
}

LONG WINAPI SCardReconnect(SCARDHANDLE card, DWORD share, DWORD protocols, DWORD initialization, DWORD *active)
{
    struct bridge_args a = {0};
    a.handle = card;
    a.share = share;
    a.protocols = protocols;
    a.disposition = initialization;
    a.active = P(active);
    return call(CALL_RECONNECT, &a);
}

LONG WINAPI SCardDisconnect(SCARDHANDLE card, DWORD disposition)
{
    struct bridge_args a = {0};
    a.handle = card;
    a.disposition = disposition;
    return call(CALL_DISCONNECT, &a);
}

LONG WINAPI SCardBeginTransaction(SCARDHANDLE card)
{
    struct bridge_args a = {0};
    a.handle = card;
    return call(CALL_BEGIN, &a);
}

LONG WINAPI SCardEndTransaction(SCARDHANDLE card, DWORD disposition)
{
    struct bridge_args a = {0};
    a.handle = card;
    a.disposition = disposition;
    return call(CALL_END, &a);
}

LONG WINAPI SCardStatusA(SCARDHANDLE card, char *names, DWORD *names_len, DWORD *state, DWORD *protocol, BYTE *atr,
                         DWORD *atr_len)
{
    struct bridge_args a = {0};
    if ((names_len && *names_len == SCARD_AUTOALLOCATE) || (atr_len && *atr_len == SCARD_AUTOALLOCATE))
        return SCARD_E_UNSUPPORTED_FEATURE;
    a.handle = card;
    a.name = P(names);
    a.name_len = P(names_len);
    a.state = P(state);
    a.active = P(protocol);
    a.atr = P(atr);
    a.atr_len = P(atr_len);
    return call(CALL_STATUS, &a);
}

LONG WINAPI SCardGetStatusChangeA(SCARDCONTEXT context, DWORD timeout, struct win_readerstate *states, DWORD count)
{
    struct bridge_args a = {0};
    if (count && !states) return SCARD_E_INVALID_PARAMETER;
    a.context = context;
    a.timeout = timeout;
    a.states = P(states);
    a.count = count;
    return call(CALL_GET_STATUS_CHANGE, &a);
}

LONG WINAPI SCardControl(SCARDHANDLE card, DWORD code, const void *in, DWORD in_len, void *out, DWORD out_size,
                         DWORD *returned)
{
    struct bridge_args a = {0};
    DWORD len = out_size;
    LONG rv;
    a.handle = card;
    a.code = code;
    a.in = P(in);
    a.in_len = in_len;
    a.out = P(out);
    a.out_len = P(&len);
    rv = call(CALL_CONTROL, &a);
    if (returned) *returned = len;
    return rv;
}

LONG WINAPI SCardGetAttrib(SCARDHANDLE card, DWORD id, BYTE *attr, DWORD *len)
{
    struct bridge_args a = {0};
    if (!len) return SCARD_E_INVALID_PARAMETER;
    if (*len == SCARD_AUTOALLOCATE) return SCARD_E_UNSUPPORTED_FEATURE;
    a.handle = card;
    a.code = id;
    a.out = P(attr);
    a.out_len = P(len);
    return call(CALL_GET_ATTRIB, &a);
}

LONG WINAPI SCardSetAttrib(SCARDHANDLE card, DWORD id, const BYTE *attr, DWORD len)
{
    struct bridge_args a = {0};
    a.handle = card;
    a.code = id;
    a.in = P(attr);
    a.in_len = len;
    return call(CALL_SET_ATTRIB, &a);
}

LONG WINAPI SCardTransmit(SCARDHANDLE card, const W_SCARD_IO_REQUEST *send_pci, const BYTE *send, DWORD send_len,
                          W_SCARD_IO_REQUEST *recv_pci, BYTE *recv, DWORD *recv_len)
{
    struct bridge_args a = {0};
    if (!send_pci || !recv_len) return SCARD_E_INVALID_PARAMETER;
    if (*recv_len == SCARD_AUTOALLOCATE) return SCARD_E_UNSUPPORTED_FEATURE;
    a.handle = card;
    a.send_protocol = send_pci->dwProtocol;
    a.in = P(send);
    a.in_len = send_len;
    a.out = P(recv);
    a.out_len = P(recv_len);
    if (recv_pci) *recv_pci = *send_pci;
    return call(CALL_TRANSMIT, &a);
}

LONG WINAPI SCardCancel(SCARDCONTEXT context)
{
    struct bridge_args a = {0};
    a.context = context;
    return call(CALL_CANCEL, &a);
}

LONG WINAPI SCardFreeMemory(SCARDCONTEXT context, const void *memory)
{
    (void)context;
    (void)memory;
    return SCARD_S_SUCCESS;
}

/* SCardAccessStartedEvent: a manual-reset event, set while pcscd answers and reset while it does not, kept in step by
   one thread polling every 250 ms (Windows' Smart Card service sets its own when it starts). */
static CRITICAL_SECTION started_lock;
static HANDLE started_event;
static LONG started_refs;

static DWORD WINAPI follow_service(void *unused)
{
    (void)unused;
    for (;;) {
        struct bridge_args a = {0};
        if (call(CALL_SERVICE_RUNNING, &a) == SCARD_S_SUCCESS)
            SetEvent(started_event);
        else
            ResetEvent(started_event);
        Sleep(250);
    }
    return 0;
}

static BOOL WINAPI init_started_lock(INIT_ONCE *once, void *param, void **context)
{
    (void)once;
    (void)param;
    (void)context;
    InitializeCriticalSection(&started_lock);
    return TRUE;
}

HANDLE WINAPI SCardAccessStartedEvent(void)
{
    static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
    HANDLE event;
    InitOnceExecuteOnce(&once, init_started_lock, NULL, NULL);
    EnterCriticalSection(&started_lock);
    if (!started_event) {
        started_event = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (started_event) {
            HANDLE thread = CreateThread(NULL, 0, follow_service, NULL, 0, NULL);
            if (thread) CloseHandle(thread);
        }
    }
    if (started_event) started_refs++;
    event = started_event;
    LeaveCriticalSection(&started_lock);
    return event;
}

void WINAPI SCardReleaseStartedEvent(void)
{
    EnterCriticalSection(&started_lock);
    if (started_refs > 0) started_refs--;
    LeaveCriticalSection(&started_lock);
}
