// The optional TCP listener: TLS always, bearer tokens with roles.
#include <fstream>

#include "google/protobuf/util/json_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posd/v1/admin.pb.h"
#include "posd/v1/audit.pb.h"
#include "tests/support/posd_instance.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace posd::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kPosd[] = POSD_BINARY;
constexpr char kPosctl[] = POSCTL_BINARY;

class PosdTcpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const CommandResult certificate = RunCommand(
        {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout",
         dir_.File("server.key").string(), "-out", dir_.File("server.crt").string()});
    ASSERT_EQ(certificate.exit_code, 0) << certificate.err;
    std::ofstream(dir_.File("operator.token")) << std::string(40, 'o') << "\n";
    std::ofstream(dir_.File("ui.token")) << std::string(40, 'u') << "\n";
    std::ofstream(dir_.File("wrong.token")) << std::string(40, 'x') << "\n";
    WritePosdConfig(paths_, "", "  tcp:\n"
                            "    address: 127.0.0.1:0\n"
                            "    tls_certificate_file: " + dir_.File("server.crt").string() + "\n"
                            "    tls_private_key_file: " + dir_.File("server.key").string() + "\n"
                            "    tokens:\n"
                            "      - {token_file: " + dir_.File("operator.token").string() +
                                ", role: operator}\n"
                            "      - {token_file: " + dir_.File("ui.token").string() +
                                ", role: ui}\n");
  }

  // The TCP address posd chose, read from its status over the Unix socket.
  std::string TcpAddress() {
    const CommandResult status =
        RunCommand({kPosctl, "--address", paths_.address(), "--output", "json", "status"});
    posd::v1::ServerInfo info;
    if (!google::protobuf::util::JsonStringToMessage(status.out, &info).ok() ||
        info.listen_addresses_size() < 2) {
      return "";
    }
    return info.listen_addresses(1);
  }

  CommandResult OverTcp(const std::string& token, std::vector<std::string> args) {
    args.insert(args.begin(), {kPosctl, "--address", TcpAddress(), "--timeout", "5s",
                               "--token-file", dir_.File(token).string(), "--ca-file",
                               dir_.File("server.crt").string()});
    return RunCommand(args);
  }

  TempDir dir_;
  PosdPaths paths_{dir_.path()};
};

TEST_F(PosdTcpTest, TokensAuthenticateAndCarryTheirRole) {
  Subprocess posd = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(posd.Running()) << posd.Stderr();
  ASSERT_THAT(TcpAddress(), HasSubstr("127.0.0.1:"));

  const CommandResult status = OverTcp("operator.token", {"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("database_path"));

  const CommandResult unknown = OverTcp("wrong.token", {"status"});
  EXPECT_EQ(unknown.exit_code, 64 + 16) << unknown.err;  // UNAUTHENTICATED

  // A UI may read but not change how posd runs.
  EXPECT_EQ(OverTcp("ui.token", {"status"}).exit_code, 0);
  const CommandResult denied = OverTcp("ui.token", {"log-level", "debug"});
  EXPECT_EQ(denied.exit_code, 64 + 7) << denied.err;  // PERMISSION_DENIED
  EXPECT_THAT(denied.err, HasSubstr("the ui role may not change the log level"));
  EXPECT_EQ(OverTcp("operator.token", {"log-level", "debug"}).exit_code, 0);
}

// A refusal the API decides (the role) never reaches the engine's commands,
// and is audited all the same.
TEST_F(PosdTcpTest, ARefusedResolutionIsAudited) {
  Subprocess posd = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(posd.Running()) << posd.Stderr();
  const CommandResult denied =
      OverTcp("ui.token", {"payments", "resolve", "pay_01ABC", "--approved", "--reason",
                           "the slip says approved", "--request-id", "resolve-by-ui"});
  EXPECT_EQ(denied.exit_code, 64 + 7) << denied.err;  // PERMISSION_DENIED
  EXPECT_THAT(denied.err, HasSubstr("the ui role may not resolve a payment by hand"));

  const CommandResult json = OverTcp(
      "operator.token", {"--output", "json", "audit", "list", "--outcome", "refused"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  posd::v1::ListAuditRecordsResponse listed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &listed).ok()) << json.out;
  ASSERT_EQ(listed.audit_records_size(), 1) << json.out;
  const posd::v1::AuditRecord& record = listed.audit_records(0);
  EXPECT_EQ(record.outcome(), posd::v1::AUDIT_OUTCOME_REFUSED);
  EXPECT_EQ(record.action(), posd::v1::AUDIT_ACTION_RESOLVE_PAYMENT);
  EXPECT_EQ(record.subject_id(), "pay_01ABC");
  EXPECT_EQ(record.request_id(), "resolve-by-ui");
  EXPECT_EQ(record.reason(), "the slip says approved");
  EXPECT_EQ(record.actor().role(), posd::v1::ROLE_UI);
  EXPECT_THAT(record.error_message(), HasSubstr("the ui role may not resolve a payment by hand"));

  const CommandResult table = OverTcp("operator.token", {"audit", "list"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("REFUSED  RESOLVE_PAYMENT payment pay_01ABC"));
  EXPECT_THAT(table.out, HasSubstr("request resolve-by-ui"));
  EXPECT_THAT(table.out, HasSubstr("error: the ui role may not resolve a payment by hand"));
  EXPECT_EQ(OverTcp("operator.token", {"audit", "list", "--outcome", "maybe"}).exit_code, 2);
}

TEST_F(PosdTcpTest, ShortTokenIsRefusedAtStart) {
  std::ofstream(dir_.File("ui.token")) << "short\n";
  Subprocess posd = Subprocess::Start({kPosd, "--config", paths_.config.string()}, dir_.path());
  EXPECT_EQ(posd.WaitForExit(std::chrono::seconds(20)), 1);
  EXPECT_THAT(posd.Stderr(), HasSubstr("shorter than 32 characters"));
}

}  // namespace
}  // namespace posd::testing
