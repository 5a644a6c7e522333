#include "service/http/grpc_web_codec.h"

#include "absl/strings/ascii.h"
#include "service/common/strings.h"
#include "service/http/http_policy.h"

namespace posd::http {
namespace {

// ASCII lower case: header names and media types are case-insensitive.
std::string Lower(std::string_view text) {
  return absl::AsciiStrToLower(absl::string_view(text.data(), text.size()));
}

}  // namespace

std::optional<GrpcWebMode> ParseGrpcWebContentType(std::string_view content_type) {
  std::string type = Lower(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  if (type == "application/grpc-web" || type == "application/grpc-web+proto") {
    return GrpcWebMode::kBinary;
  }
  if (type == "application/grpc-web-text" || type == "application/grpc-web-text+proto") {
    return GrpcWebMode::kText;
  }
  return std::nullopt;
}

std::string_view ResponseContentType(GrpcWebMode mode) {
  return mode == GrpcWebMode::kText ? "application/grpc-web-text+proto"
                                    : "application/grpc-web+proto";
}

bool IsGrpcMethodPath(std::string_view path) {
  if (path.size() < 4 || path.front() != '/') return false;
  const auto slash = path.find('/', 1);
  if (slash == std::string_view::npos || slash == 1 || slash + 1 == path.size()) return false;
  if (path.find('/', slash + 1) != std::string_view::npos) return false;
  for (char c : path) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '/';
    if (!ok) return false;
  }
  return path.substr(1, slash - 1).find('.') != std::string_view::npos;
}

absl::StatusOr<BridgedCallRequest> DecodeGrpcWebRequest(
    std::string_view method, GrpcWebMode mode, const HeaderList& headers, std::string_view body,
    const GrpcWebRequestLimits& limits, std::chrono::system_clock::time_point now) {
  BridgedCallRequest request;
  request.method = std::string(method);
  std::string decoded;
  if (mode == GrpcWebMode::kText) {
    Base64StreamDecoder base64;
    if (absl::Status fed = base64.Feed(body, decoded); !fed.ok()) return fed;
    if (absl::Status done = base64.Finish(); !done.ok()) return done;
    body = decoded;
  }
  GrpcWebFrameDecoder frames(limits.max_message_bytes);
  std::vector<GrpcWebFrame> parsed;
  if (absl::Status fed = frames.Feed(body, parsed); !fed.ok()) return fed;
  if (absl::Status done = frames.Finish(); !done.ok()) return done;
  for (auto& frame : parsed) {
    if (frame.trailers) {
      return absl::InvalidArgumentError("a gRPC-Web request may not carry a trailer frame");
    }
    request.messages.push_back(std::move(frame.payload));
  }
  for (const auto& [name, value] : headers) {
    if (Lower(name) != "grpc-timeout") continue;
    auto timeout = ParseGrpcTimeout(value);
    if (!timeout.ok()) return timeout.status();
    // Beyond a year is "no deadline" in practice; avoids overflowing the clock.
    if (*timeout < std::chrono::hours(24 * 365)) {
      request.deadline = now + std::chrono::duration_cast<std::chrono::system_clock::duration>(*timeout);
    }
  }
  auto metadata = ForwardedMetadata(headers);
  if (!metadata.ok()) return metadata.status();
  request.metadata = *std::move(metadata);
  return request;
}

std::string GrpcWebResponseEncoder::Message(std::string_view message) const {
  std::string frame;
  frame.reserve(message.size() + kFrameHeaderSize);
  AppendMessageFrame(message, frame);
  return mode_ == GrpcWebMode::kText ? Base64Encode(frame) : frame;
}

std::string GrpcWebResponseEncoder::Trailers(const grpc::Status& status,
                                             const HeaderList& trailing_metadata) const {
  HeaderList trailers = {{"grpc-status", StrCat(static_cast<int>(status.error_code()))}};
  if (!status.error_message().empty()) {
    trailers.emplace_back("grpc-message", PercentEncodeGrpcMessage(status.error_message()));
  }
  if (!status.error_details().empty()) {
    trailers.emplace_back("grpc-status-details-bin", Base64Encode(status.error_details()));
  }
  for (auto& header : MetadataToHttp(trailing_metadata)) trailers.push_back(std::move(header));
  std::string frame;
  AppendTrailerFrame(trailers, frame);
  return mode_ == GrpcWebMode::kText ? Base64Encode(frame) : frame;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace posd::http
