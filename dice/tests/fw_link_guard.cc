// dice_fw_link's guard (linked whole): one symbol defined by each object of
// libmbedcrypto.a the firmware's dice/ must not pull. Were dice/ to need any
// of those objects, the linker would take it from the archive and fail on
// the duplicate definition; the bodies abort, so a direct call to one of
// these names fails the test instead of passing silently. The declarations
// use C linkage and stand-in parameter types: only the names must match.
#include <cstddef>
#include <cstdlib>

extern "C" {

void mbedtls_mpi_init(void* x);                                 // bignum.o
void mbedtls_ecp_group_init(void* grp);                         // ecp.o
int mbedtls_ecp_group_load(void* grp, int id);                  // ecp_curves.o
void mbedtls_ecdsa_init(void* ctx);                             // ecdsa.o
void mbedtls_hmac_drbg_init(void* ctx);                         // hmac_drbg.o
const void* mbedtls_md_info_from_type(int md_type);             // md.o
int mbedtls_ct_memcmp(const void* a, const void* b, size_t n);  // constant_time.o

void mbedtls_mpi_init(void*) { std::abort(); }
void mbedtls_ecp_group_init(void*) { std::abort(); }
int mbedtls_ecp_group_load(void*, int) { std::abort(); }
void mbedtls_ecdsa_init(void*) { std::abort(); }
void mbedtls_hmac_drbg_init(void*) { std::abort(); }
const void* mbedtls_md_info_from_type(int) { std::abort(); }
int mbedtls_ct_memcmp(const void*, const void*, size_t) { std::abort(); }

}  // extern "C"
