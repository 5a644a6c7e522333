// Ed25519 signatures and SHA-256, the one place posd reaches OpenSSL's
// libcrypto for them: signed bundle manifests, HQ's fleet commands and
// terminal keys all use these functions.
//
// Keys travel as raw bytes (32-byte public key, 32-byte private seed,
// RFC 8032) inside posd; files hold them as PEM (what `openssl genpkey
// -algorithm ed25519` writes) or as base64 of the raw 32 bytes. All functions
// are thread-safe and keep no state.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace posd::crypto {

inline constexpr std::size_t kEd25519PublicKeySize = 32;
inline constexpr std::size_t kEd25519SeedSize = 32;
inline constexpr std::size_t kEd25519SignatureSize = 64;
inline constexpr std::size_t kSha256Size = 32;

struct Ed25519KeyPair {
  std::string public_key;  // 32 bytes
  std::string seed;        // 32 bytes: the private key; never log it
};

// A fresh key pair from the operating system's random source.
absl::StatusOr<Ed25519KeyPair> GenerateEd25519KeyPair();

// The public key of a 32-byte private seed.
absl::StatusOr<std::string> Ed25519PublicKeyOf(std::string_view seed);

// The 64-byte signature of `message` under the 32-byte private `seed`.
// INVALID_ARGUMENT for a seed of the wrong size.
absl::StatusOr<std::string> Ed25519Sign(std::string_view seed, std::string_view message);

// OK when `signature` is a valid signature of `message` under `public_key`;
// INVALID_ARGUMENT for a key or signature of the wrong size,
// UNAUTHENTICATED ("signature does not verify") otherwise.
absl::Status Ed25519Verify(std::string_view public_key, std::string_view message,
                           std::string_view signature);

// SHA-256 of `data`, 32 raw bytes.
std::string Sha256(std::string_view data);

// Lower-case hex of raw bytes.
std::string HexEncode(std::string_view bytes);

// A public key's short, stable name for configs, logs and operators:
// "SHA256:" + the first 16 bytes of SHA-256(public key) in lower-case hex.
std::string Ed25519Fingerprint(std::string_view public_key);

// Parses a public key written as PEM ("-----BEGIN PUBLIC KEY-----", an
// Ed25519 SubjectPublicKeyInfo) or as base64 of the raw 32 bytes.
// INVALID_ARGUMENT naming what is wrong otherwise.
absl::StatusOr<std::string> ParseEd25519PublicKey(std::string_view text);

// Parses a private key written as PEM ("-----BEGIN PRIVATE KEY-----", PKCS#8
// Ed25519) or as base64 of the raw 32-byte seed; returns the seed.
absl::StatusOr<std::string> ParseEd25519PrivateKey(std::string_view text);

// The PEM forms of a public key and of a private seed (PKCS#8), as openssl
// writes them.
absl::StatusOr<std::string> Ed25519PublicKeyPem(std::string_view public_key);
absl::StatusOr<std::string> Ed25519PrivateKeyPem(std::string_view seed);

// Reads a whole key file and parses it as above. The error names the path.
absl::StatusOr<std::string> LoadEd25519PublicKeyFile(const std::string& path);
absl::StatusOr<std::string> LoadEd25519PrivateKeyFile(const std::string& path);

}  // namespace posd::crypto
