#include "service/crypto/ed25519.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace posd::crypto {
namespace {

std::string Hex(const char* hex) { return absl::HexStringToBytes(hex); }

// RFC 8032, section 7.1, tests 1 and 2.
struct Vector {
  std::string seed, public_key, message, signature;
};
const Vector kRfc8032[] = {
    {Hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
     Hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), "",
     Hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
         "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")},
    {Hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"),
     Hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"), Hex("72"),
     Hex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
         "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")},
};

TEST(Ed25519, MatchesTheRfcVectors) {
  for (const Vector& vector : kRfc8032) {
    EXPECT_EQ(*Ed25519PublicKeyOf(vector.seed), vector.public_key);
    EXPECT_EQ(*Ed25519Sign(vector.seed, vector.message), vector.signature);
    EXPECT_TRUE(Ed25519Verify(vector.public_key, vector.message, vector.signature).ok());
  }
}

TEST(Ed25519, RefusesAChangedMessageSignatureOrKey) {
  const Vector& vector = kRfc8032[1];
  EXPECT_EQ(Ed25519Verify(vector.public_key, "s", vector.signature).code(),
            absl::StatusCode::kUnauthenticated);
  std::string signature = vector.signature;
  signature[10] ^= 0x01;
  EXPECT_EQ(Ed25519Verify(vector.public_key, vector.message, signature).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Ed25519Verify(kRfc8032[0].public_key, vector.message, vector.signature).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(Ed25519, RefusesWrongSizes) {
  const Vector& vector = kRfc8032[0];
  EXPECT_EQ(Ed25519Sign("short", "m").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519Verify("short", "m", vector.signature).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519Verify(vector.public_key, "m", "short").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Ed25519, GeneratedKeysSignAndDiffer) {
  auto first = GenerateEd25519KeyPair();
  auto second = GenerateEd25519KeyPair();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->seed, second->seed);
  auto signature = Ed25519Sign(first->seed, "hello");
  ASSERT_TRUE(signature.ok());
  EXPECT_TRUE(Ed25519Verify(first->public_key, "hello", *signature).ok());
  EXPECT_FALSE(Ed25519Verify(second->public_key, "hello", *signature).ok());
}

TEST(Ed25519, KeysRoundTripThroughPemAndBase64) {
  const Vector& vector = kRfc8032[0];
  auto public_pem = Ed25519PublicKeyPem(vector.public_key);
  auto private_pem = Ed25519PrivateKeyPem(vector.seed);
  ASSERT_TRUE(public_pem.ok() && private_pem.ok());
  EXPECT_NE(public_pem->find("BEGIN PUBLIC KEY"), std::string::npos);
  EXPECT_EQ(*ParseEd25519PublicKey(*public_pem), vector.public_key);
  EXPECT_EQ(*ParseEd25519PrivateKey(*private_pem), vector.seed);
  EXPECT_EQ(*ParseEd25519PublicKey(absl::Base64Escape(vector.public_key) + "\n"),
            vector.public_key);
  EXPECT_EQ(*ParseEd25519PrivateKey(absl::Base64Escape(vector.seed)), vector.seed);
}

TEST(Ed25519, RefusesKeysThatAreNotEd25519) {
  EXPECT_EQ(ParseEd25519PublicKey("bm90IGEga2V5").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEd25519PublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadEd25519PublicKeyFile("/nonexistent/key.pem").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(Sha256, MatchesTheKnownDigest) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Ed25519Fingerprint(kRfc8032[0].public_key).size(), 7u + 32u);
}

}  // namespace
}  // namespace posd::crypto
