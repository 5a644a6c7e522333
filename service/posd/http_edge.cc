#include "service/posd/http_edge.h"

#include <cstdio>

#include "service/common/strings.h"

namespace posd {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, std::string_view what) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::FailedPreconditionError(StrCat("cannot read ", what, " ", path));
  std::string content;
  char buffer[4096];
  std::size_t count;
  while ((count = std::fread(buffer, 1, sizeof(buffer), file)) > 0) content.append(buffer, count);
  std::fclose(file);
  return content;
}

http::HttpRouterOptions RouterOptions(const config::v1::Http& http, http::BundleHost& bundles,
                                      metrics::Metrics& metrics) {
  http::HttpRouterOptions options;
  options.policy.allowed_hosts.assign(http.allowed_hosts().begin(), http.allowed_hosts().end());
  options.policy.cors_allowed_origins.assign(http.cors_allowed_origins().begin(),
                                             http.cors_allowed_origins().end());
  options.limits.max_message_bytes = http.max_request_bytes();
  options.bundles = &bundles;
  options.metrics = &metrics;
  return options;
}

}  // namespace

HttpEdge::HttpEdge(const config::Config& config, std::shared_ptr<grpc::Channel> in_process,
                   metrics::Metrics& metrics)
    : bundles_(config.bundles().dir()),
      bridge_(std::move(in_process)),
      router_(RouterOptions(config.http(), bundles_, metrics)) {}

absl::StatusOr<std::unique_ptr<HttpEdge>> HttpEdge::Start(const config::Config& config,
                                                          std::shared_ptr<grpc::Channel> in_process,
                                                          metrics::Metrics& metrics) {
  const config::v1::Http& http = config.http();
  if (http.listen().empty()) return std::unique_ptr<HttpEdge>();
  http::HttpServerOptions options;
  options.listen = http.listen();
  options.max_connections = http.max_connections();
  if (!http.tls_certificate_file().empty()) {
    auto chain = ReadPem(http.tls_certificate_file(), "the HTTP TLS certificate");
    if (!chain.ok()) return chain.status();
    auto key = ReadPem(http.tls_private_key_file(), "the HTTP TLS private key");
    if (!key.ok()) return key.status();
    options.tls_certificate_chain_pem = *std::move(chain);
    options.tls_private_key_pem = *std::move(key);
  }
  std::unique_ptr<HttpEdge> edge(new HttpEdge(config, std::move(in_process), metrics));
  auto server = http::HttpServer::Start(options, edge->router_, edge->bridge_);
  if (!server.ok()) return server.status();
  edge->server_ = *std::move(server);
  return edge;
}

}  // namespace posd
