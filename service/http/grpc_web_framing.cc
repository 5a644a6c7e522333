#include "service/http/grpc_web_framing.h"

#include <array>

#include "service/common/strings.h"

namespace posd::http {
namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeBase64Values() {
  std::array<int8_t, 256> values{};
  for (auto& v : values) v = -1;
  for (int i = 0; i < 64; ++i) values[static_cast<uint8_t>(kBase64Alphabet[i])] = static_cast<int8_t>(i);
  return values;
}
constexpr std::array<int8_t, 256> kBase64Values = MakeBase64Values();

uint32_t ReadLength(std::string_view header) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(header[1])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(header[2])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(header[3])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(header[4]));
}

void AppendFrameHeader(uint8_t flags, std::size_t length, std::string& out) {
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>((length >> 24) & 0xff));
  out.push_back(static_cast<char>((length >> 16) & 0xff));
  out.push_back(static_cast<char>((length >> 8) & 0xff));
  out.push_back(static_cast<char>(length & 0xff));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

absl::Status GrpcWebFrameDecoder::Feed(std::string_view bytes, std::vector<GrpcWebFrame>& frames) {
  if (!failed_.ok()) return failed_;
  buffer_.append(bytes);
  std::size_t offset = 0;
  while (buffer_.size() - offset >= kFrameHeaderSize) {
    const std::string_view header(buffer_.data() + offset, kFrameHeaderSize);
    const auto flags = static_cast<uint8_t>(header[0]);
    const uint32_t length = ReadLength(header);
    if ((flags & ~(kFrameCompressed | kFrameTrailers)) != 0) {
      failed_ = absl::InvalidArgumentError(
          StrCat("gRPC-Web frame with unknown flags 0x", absl::Hex(flags)));
    } else if ((flags & kFrameCompressed) != 0) {
      failed_ = absl::UnimplementedError(
          "compressed gRPC-Web frame: posd accepts identity encoding only");
    } else if (length > max_payload_) {
      failed_ = absl::ResourceExhaustedError(StrCat("gRPC-Web frame of ", length,
                                                    " bytes is over the limit of ", max_payload_));
    }
    if (!failed_.ok()) {
      buffer_.clear();
      return failed_;
    }
    if (buffer_.size() - offset - kFrameHeaderSize < length) break;
    frames.push_back({.trailers = (flags & kFrameTrailers) != 0,
                      .payload = buffer_.substr(offset + kFrameHeaderSize, length)});
    offset += kFrameHeaderSize + length;
  }
  buffer_.erase(0, offset);
  return absl::OkStatus();
}

absl::Status GrpcWebFrameDecoder::Finish() const {
  if (!failed_.ok()) return failed_;
  if (buffer_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      StrCat("gRPC-Web body ends inside a frame (", buffer_.size(), " bytes left over)"));
}

void AppendMessageFrame(std::string_view message, std::string& out) {
  AppendFrameHeader(0, message.size(), out);
  out.append(message);
}

void AppendTrailerFrame(const HeaderList& trailers, std::string& out) {
  std::string block;
  for (const auto& [key, value] : trailers) {
    block.append(key).append(": ").append(value).append("\r\n");
  }
  AppendFrameHeader(kFrameTrailers, block.size(), out);
  out.append(block);
}

absl::StatusOr<HeaderList> ParseTrailerBlock(std::string_view block) {
  HeaderList trailers;
  while (!block.empty()) {
    auto end = block.find("\r\n");
    std::string_view line = block.substr(0, end);
    block = end == std::string_view::npos ? std::string_view() : block.substr(end + 2);
    if (line.empty()) continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return absl::InvalidArgumentError("gRPC-Web trailer line without a key");
    }
    std::string key(Trim(line.substr(0, colon)));
    for (char& c : key) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    trailers.emplace_back(std::move(key), std::string(Trim(line.substr(colon + 1))));
  }
  return trailers;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kBase64Alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

absl::Status Base64StreamDecoder::Feed(std::string_view text, std::string& out) {
  for (char c : text) {
    if (c == '\r' || c == '\n') continue;
    pending_[pending_size_++] = c;
    if (pending_size_ < 4) continue;
    pending_size_ = 0;
    int values[4];
    int padding = 0;
    for (int i = 0; i < 4; ++i) {
      if (pending_[i] == '=') {
        // Padding only at the end of a group, and at most two.
        if (i < 2) return absl::InvalidArgumentError("misplaced '=' in base64 text");
        values[i] = 0;
        ++padding;
        continue;
      }
      if (padding > 0) return absl::InvalidArgumentError("data after '=' in a base64 group");
      values[i] = kBase64Values[static_cast<uint8_t>(pending_[i])];
      if (values[i] < 0) return absl::InvalidArgumentError("character outside base64 in text body");
    }
    const uint32_t v = (values[0] << 18) | (values[1] << 12) | (values[2] << 6) | values[3];
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    if (padding < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (padding < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  return absl::OkStatus();
}

absl::Status Base64StreamDecoder::Finish() const {
  if (pending_size_ == 0) return absl::OkStatus();
  return absl::InvalidArgumentError("base64 text body ends inside a group of four characters");
}

absl::StatusOr<std::chrono::nanoseconds> ParseGrpcTimeout(std::string_view value) {
  if (value.size() < 2 || value.size() > 9) {
    return absl::InvalidArgumentError(StrCat("grpc-timeout '", value, "' is not 1 to 8 digits and a unit"));
  }
  int64_t amount = 0;
  for (char c : value.substr(0, value.size() - 1)) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(StrCat("grpc-timeout '", value, "' is not a number and a unit"));
    }
    amount = amount * 10 + (c - '0');
  }
  using namespace std::chrono;
  switch (value.back()) {
    case 'H': return duration_cast<nanoseconds>(hours(amount));
    case 'M': return duration_cast<nanoseconds>(minutes(amount));
    case 'S': return duration_cast<nanoseconds>(seconds(amount));
    case 'm': return duration_cast<nanoseconds>(milliseconds(amount));
    case 'u': return duration_cast<nanoseconds>(microseconds(amount));
    case 'n': return nanoseconds(amount);
    default:
      return absl::InvalidArgumentError(
          StrCat("grpc-timeout '", value, "' has no unit (H, M, S, m, u or n)"));
  }
}

std::string PercentEncodeGrpcMessage(std::string_view message) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(message.size());
  for (char c : message) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte >= 0x20 && byte <= 0x7e && byte != '%') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 15]);
    }
  }
  return out;
}

std::string PercentDecodeGrpcMessage(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '%' && i + 2 < message.size() && HexValue(message[i + 1]) >= 0 &&
        HexValue(message[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(message[i + 1]) * 16 + HexValue(message[i + 2])));
      i += 2;
    } else {
      out.push_back(message[i]);
    }
  }
  return out;
}

}  // namespace posd::http
