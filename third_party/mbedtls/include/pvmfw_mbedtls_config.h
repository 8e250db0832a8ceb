// The project's one mbedTLS configuration (MBEDTLS_CONFIG_FILE), for the
// firmware and the host. mbedTLS 3.6 LTS, built from Debian's source package
// (scripts/deps.lock); the sources are never patched: every choice is here.
//
// Firmware (__PVMFW_FIRMWARE__): exactly the crypto pvmfw runs and nothing
// that needs an operating system -- no file system, network, threads, time
// or entropy source. Its heap is a bounded static buffer
// (MBEDTLS_MEMORY_BUFFER_ALLOC_C, entry/heap.cc), reported and wiped at
// hand-off; before that buffer is installed every allocation fails.
//
// Host (tools, tests, fuzzers): the same, plus what the tools need: PK/PEM
// key parsing and writing, RSA key generation and signing, CTR-DRBG over the
// operating system's entropy, file I/O. The host links the libc heap.
//
// What pvmfw uses, and why each option is on:
//   verify/  RSA PKCS#1 v1.5 signature check of AVB vbmeta (SHA-256/512
//            DigestInfo: needs OID), key built from the AVB public-key blob;
//   dice/    SHA-256/512, HMAC, HKDF (open-dice derivation), HMAC_DRBG
//            (open-dice's key-from-seed), deterministic ECDSA P-256 (RFC 6979);
//   later    AES-256-GCM for the instance image.
#pragma once

// --- System support ---------------------------------------------------------
#define MBEDTLS_HAVE_ASM  // aarch64/x86-64 multiply-accumulate in bignum
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY  // calloc/free through mbedtls_platform_set_calloc_free
#define MBEDTLS_DEPRECATED_REMOVED

// --- Digests, MACs, key derivation ---------------------------------------------
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_HKDF_C
#define MBEDTLS_HMAC_DRBG_C

// --- Public-key crypto ----------------------------------------------------------
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_OID_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM          // the NIST fast reduction for P-256
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 1 // the generator's comb table is precomputed (rodata)
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC     // RFC 6979 nonces (mbedtls_ecdsa_sign_det_ext)

// --- Symmetric (the instance image) --------------------------------------------
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES          // tables in rodata, not built into RAM at run time
#define MBEDTLS_GCM_C
#define MBEDTLS_CIPHER_C

#if defined(__PVMFW_FIRMWARE__)
// --- Firmware only -----------------------------------------------------------------
// AES for GCM only: one table per direction (four times smaller, a rotation
// per round), and no decryption (GCM decrypts with the forward cipher).
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_BLOCK_CIPHER_NO_DECRYPT
// The heap: a static buffer (entry/heap.cc). Until it is installed, the
// default allocator is pvmfw_mbedtls_no_calloc, which returns NULL: mbedTLS
// never reaches a libc malloc (the firmware has none).
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#define MBEDTLS_PLATFORM_STD_CALLOC pvmfw_mbedtls_no_calloc
#define MBEDTLS_PLATFORM_STD_FREE pvmfw_mbedtls_no_free
#ifdef __cplusplus
extern "C" {
#endif
#include <stddef.h>
void* pvmfw_mbedtls_no_calloc(size_t n, size_t size);
void pvmfw_mbedtls_no_free(void* p);
#ifdef __cplusplus
}
#endif
// No entropy source and no clock: nothing here draws randomness through
// mbedTLS (deterministic ECDSA; the DRBG is seeded by the caller).
#define MBEDTLS_NO_PLATFORM_ENTROPY

// SHA-256/512 on the Armv8 instructions when the CPU has them. mbedTLS asks
// the operating system (getauxval(AT_HWCAP)); the firmware has none, so
// third_party/mbedtls/meson.build builds sha256.c and sha512.c as for Linux
// and entry/ answers getauxval from ID_AA64ISAR0_EL1 (Arm ARM D19.2.61:
// SHA2 field 1 = SHA-256, 2 = SHA-256 and SHA-512). The C code stays for CPUs
// without them.
#define MBEDTLS_SHA256_USE_ARMV8_A_CRYPTO_IF_PRESENT
#define MBEDTLS_SHA512_USE_A64_CRYPTO_IF_PRESENT
#else
// --- Host only -----------------------------------------------------------------------
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_FS_IO
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_GENPRIME               // pvm keygen
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_ERROR_C                // mbedtls_strerror: the host tools name mbedTLS failures
#define MBEDTLS_SELF_TEST              // the unit tests run the library's own self-tests
#endif

