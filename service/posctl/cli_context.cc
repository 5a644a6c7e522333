#include "service/posctl/cli_context.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace posd::posctl {
namespace {

std::string ReadFirstLine(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

std::string ReadAll(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

void PrintFields(const google::protobuf::Message& message, const std::string& prefix,
                 std::ostream& out);

// Table form: one "key  value" line per set field; nested messages flatten
// into dotted keys, repeated fields get [i].
void PrintFields(const google::protobuf::Message& message, const std::string& prefix,
                 std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  const auto* descriptor = message.GetDescriptor();
  const std::string full_name = descriptor->full_name();
  // Well-known types read best in their JSON form (timestamps, durations).
  if (full_name.rfind("google.protobuf.", 0) == 0) {
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(message, &json, options);
    out << prefix << "  " << json << "\n";
    return;
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  for (const auto* field : fields) {
    const std::string key = prefix.empty() ? field->name() : prefix + "." + field->name();
    const auto* reflection = message.GetReflection();
    const int count = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      const std::string item_key = field->is_repeated() ? key + "[" + std::to_string(i) + "]" : key;
      if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
        const auto& child = field->is_repeated() ? reflection->GetRepeatedMessage(message, field, i)
                                                 : reflection->GetMessage(message, field);
        PrintFields(child, item_key, out);
        continue;
      }
      std::string value;
      google::protobuf::TextFormat::PrintFieldValueToString(message, field,
                                                            field->is_repeated() ? i : -1, &value);
      if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING &&
          value.size() >= 2 && value.front() == '"') {
        value = field->is_repeated() ? reflection->GetRepeatedString(message, field, i)
                                     : reflection->GetString(message, field);
      }
      out << item_key << "  " << value << "\n";
    }
  }
}

}  // namespace

std::chrono::milliseconds CliContext::timeout() const {
  absl::Duration duration;
  if (!absl::ParseDuration(options_.timeout, &duration)) return std::chrono::seconds(5);
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(duration));
}

std::shared_ptr<grpc::Channel> CliContext::Channel() {
  if (channel_ != nullptr) return channel_;
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!options_.token_file.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!options_.ca_file.empty()) ssl.pem_root_certs = ReadAll(options_.ca_file);
    credentials = grpc::SslCredentials(ssl);
  }
  channel_ = grpc::CreateChannel(options_.address, credentials);
  return channel_;
}

std::unique_ptr<grpc::ClientContext> CliContext::NewCall() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout());
  if (!options_.token_file.empty()) {
    context->AddMetadata("authorization", "Bearer " + ReadFirstLine(options_.token_file));
  }
  return context;
}

void CliContext::Print(const google::protobuf::Message& message) const {
  if (options_.output == OutputFormat::kJson) {
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    options.add_whitespace = true;
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(message, &json, options);
    std::cout << json;
    if (json.empty() || json.back() != '\n') std::cout << "\n";
    return;
  }
  PrintFields(message, "", std::cout);
}

int CliContext::Fail(const grpc::Status& status, std::string_view what) const {
  std::cerr << "posctl: " << what << " failed: " << status.error_message() << " ("
            << "code " << status.error_code();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::cerr << ", is posd running at " << options_.address << "?";
  }
  std::cerr << ")\n";
  return kExitRpcBase + static_cast<int>(status.error_code());
}

}  // namespace posd::posctl
