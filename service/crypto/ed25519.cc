#include "service/crypto/ed25519.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace posd::crypto {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Bio = std::unique_ptr<BIO, BioFree>;

const unsigned char* Bytes(std::string_view data) {
  return reinterpret_cast<const unsigned char*>(data.data());
}

absl::StatusOr<Pkey> PrivateKeyFromSeed(std::string_view seed) {
  if (seed.size() != kEd25519SeedSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("an Ed25519 private key is 32 bytes, not ", seed.size()));
  }
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(seed), seed.size()));
  if (key == nullptr) return absl::InternalError("OpenSSL refused an Ed25519 private key");
  return key;
}

absl::StatusOr<Pkey> PublicKeyFromBytes(std::string_view public_key) {
  if (public_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("an Ed25519 public key is 32 bytes, not ", public_key.size()));
  }
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(public_key),
                                       public_key.size()));
  if (key == nullptr) return absl::InvalidArgumentError("not a valid Ed25519 public key");
  return key;
}

std::string RawPublicKey(EVP_PKEY* key) {
  std::string raw(kEd25519PublicKeySize, '\0');
  std::size_t length = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &length) !=
          1 ||
      length != kEd25519PublicKeySize) {
    return "";
  }
  return raw;
}

std::string RawSeed(EVP_PKEY* key) {
  std::string raw(kEd25519SeedSize, '\0');
  std::size_t length = raw.size();
  if (EVP_PKEY_get_raw_private_key(key, reinterpret_cast<unsigned char*>(raw.data()), &length) !=
          1 ||
      length != kEd25519SeedSize) {
    return "";
  }
  return raw;
}

bool IsEd25519(EVP_PKEY* key) { return EVP_PKEY_get_id(key) == EVP_PKEY_ED25519; }

// Base64 of exactly `size` raw bytes, or nullopt.
std::optional<std::string> RawFromBase64(std::string_view text, std::size_t size) {
  std::string raw;
  if (!absl::Base64Unescape(absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size())), &raw) || raw.size() != size) {
    return std::nullopt;
  }
  return raw;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read key file ", path));
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

absl::Status NamePath(absl::Status status, const std::string& path) {
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}

}  // namespace

absl::StatusOr<Ed25519KeyPair> GenerateEd25519KeyPair() {
  std::string seed(kEd25519SeedSize, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), static_cast<int>(seed.size())) !=
      1) {
    return absl::UnavailableError("no randomness from the operating system");
  }
  auto public_key = Ed25519PublicKeyOf(seed);
  if (!public_key.ok()) return public_key.status();
  return Ed25519KeyPair{.public_key = *std::move(public_key), .seed = std::move(seed)};
}

absl::StatusOr<std::string> Ed25519PublicKeyOf(std::string_view seed) {
  auto key = PrivateKeyFromSeed(seed);
  if (!key.ok()) return key.status();
  std::string raw = RawPublicKey(key->get());
  if (raw.empty()) return absl::InternalError("OpenSSL gave no Ed25519 public key");
  return raw;
}

absl::StatusOr<std::string> Ed25519Sign(std::string_view seed, std::string_view message) {
  auto key = PrivateKeyFromSeed(seed);
  if (!key.ok()) return key.status();
  MdCtx context(EVP_MD_CTX_new());
  std::string signature(kEd25519SignatureSize, '\0');
  std::size_t length = signature.size();
  if (context == nullptr ||
      EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, key->get()) != 1 ||
      EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     Bytes(message), message.size()) != 1 ||
      length != kEd25519SignatureSize) {
    return absl::InternalError("OpenSSL could not make an Ed25519 signature");
  }
  return signature;
}

absl::Status Ed25519Verify(std::string_view public_key, std::string_view message,
                           std::string_view signature) {
  auto key = PublicKeyFromBytes(public_key);
  if (!key.ok()) return key.status();
  if (signature.size() != kEd25519SignatureSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("an Ed25519 signature is 64 bytes, not ", signature.size()));
  }
  MdCtx context(EVP_MD_CTX_new());
  if (context == nullptr ||
      EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, key->get()) != 1) {
    return absl::InternalError("OpenSSL could not start an Ed25519 verification");
  }
  if (EVP_DigestVerify(context.get(), Bytes(signature), signature.size(), Bytes(message),
                       message.size()) != 1) {
    return absl::UnauthenticatedError("signature does not verify");
  }
  return absl::OkStatus();
}

std::string Sha256(std::string_view data) {
  std::string digest(kSha256Size, '\0');
  SHA256(Bytes(data), data.size(), reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

std::string HexEncode(std::string_view bytes) {
  return absl::BytesToHexString(absl::string_view(bytes.data(), bytes.size()));
}

std::string Ed25519Fingerprint(std::string_view public_key) {
  return absl::StrCat("SHA256:", HexEncode(Sha256(public_key).substr(0, 16)));
}

absl::StatusOr<std::string> ParseEd25519PublicKey(std::string_view text) {
  if (text.find("-----BEGIN") == std::string_view::npos) {
    if (auto raw = RawFromBase64(text, kEd25519PublicKeySize)) return *raw;
    return absl::InvalidArgumentError(
        "not an Ed25519 public key: expected PEM or base64 of 32 bytes");
  }
  Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  Pkey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (key == nullptr) return absl::InvalidArgumentError("not a PEM public key");
  if (!IsEd25519(key.get())) return absl::InvalidArgumentError("the PEM key is not Ed25519");
  std::string raw = RawPublicKey(key.get());
  if (raw.empty()) return absl::InvalidArgumentError("the PEM key has no Ed25519 public part");
  return raw;
}

absl::StatusOr<std::string> ParseEd25519PrivateKey(std::string_view text) {
  if (text.find("-----BEGIN") == std::string_view::npos) {
    if (auto raw = RawFromBase64(text, kEd25519SeedSize)) return *raw;
    return absl::InvalidArgumentError(
        "not an Ed25519 private key: expected PEM or base64 of 32 bytes");
  }
  Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  Pkey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (key == nullptr) return absl::InvalidArgumentError("not a PEM private key");
  if (!IsEd25519(key.get())) return absl::InvalidArgumentError("the PEM key is not Ed25519");
  std::string raw = RawSeed(key.get());
  if (raw.empty()) return absl::InvalidArgumentError("the PEM key has no Ed25519 private part");
  return raw;
}

absl::StatusOr<std::string> Ed25519PublicKeyPem(std::string_view public_key) {
  auto key = PublicKeyFromBytes(public_key);
  if (!key.ok()) return key.status();
  Bio bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key->get()) != 1) {
    return absl::InternalError("OpenSSL could not write a PEM public key");
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> Ed25519PrivateKeyPem(std::string_view seed) {
  auto key = PrivateKeyFromSeed(seed);
  if (!key.ok()) return key.status();
  Bio bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PrivateKey(bio.get(), key->get(), nullptr, nullptr, 0,
                                                 nullptr, nullptr) != 1) {
    return absl::InternalError("OpenSSL could not write a PEM private key");
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> LoadEd25519PublicKeyFile(const std::string& path) {
  auto text = ReadKeyFile(path);
  if (!text.ok()) return text.status();
  auto key = ParseEd25519PublicKey(*text);
  if (!key.ok()) return NamePath(key.status(), path);
  return key;
}

absl::StatusOr<std::string> LoadEd25519PrivateKeyFile(const std::string& path) {
  auto text = ReadKeyFile(path);
  if (!text.ok()) return text.status();
  auto key = ParseEd25519PrivateKey(*text);
  if (!key.ok()) return NamePath(key.status(), path);
  return key;
}

}  // namespace posd::crypto
