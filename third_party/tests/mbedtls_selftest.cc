// mbedTLS's own self-tests (MBEDTLS_SELF_TEST, host configuration) for every
// module pvmfw uses, built from the same sources and configuration options
// as the firmware's: a check that the project's build of the library is
// sound before anything of ours runs on it.
#include <gtest/gtest.h>
#include <mbedtls/aes.h>
#include <mbedtls/base64.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hmac_drbg.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

namespace {

TEST(MbedtlsSelfTest, Digests) {
  EXPECT_EQ(mbedtls_sha256_self_test(0), 0);
  EXPECT_EQ(mbedtls_sha512_self_test(0), 0);
}

TEST(MbedtlsSelfTest, BigNumbersAndRsa) {
  EXPECT_EQ(mbedtls_mpi_self_test(0), 0);
  EXPECT_EQ(mbedtls_rsa_self_test(0), 0);
}

TEST(MbedtlsSelfTest, EllipticCurves) { EXPECT_EQ(mbedtls_ecp_self_test(0), 0); }

TEST(MbedtlsSelfTest, Drbgs) {
  EXPECT_EQ(mbedtls_hmac_drbg_self_test(0), 0);
  EXPECT_EQ(mbedtls_ctr_drbg_self_test(0), 0);
}

TEST(MbedtlsSelfTest, AesGcm) {
  EXPECT_EQ(mbedtls_aes_self_test(0), 0);
  EXPECT_EQ(mbedtls_gcm_self_test(0), 0);
}

TEST(MbedtlsSelfTest, Base64) { EXPECT_EQ(mbedtls_base64_self_test(0), 0); }

}  // namespace
