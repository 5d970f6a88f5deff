/*
 * TEST-HARNESS CODE (issue #44), never shipped: bcryptprimitives.dll for Debian 12's Wine 8.0, which has none. Rust's
 * std (1.78 and later) imports ProcessPrng from it for its random numbers (HashMap keys), so without this DLL even
 * `hcpki-agent.exe --help` fails to start (exit 53, STATUS_DLL_NOT_FOUND). Windows 10/11 and newer Wine have the real
 * one. This one forwards to RtlGenRandom (advapi32's SystemFunction036), Wine's system random source.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
