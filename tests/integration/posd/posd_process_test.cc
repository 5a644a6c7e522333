// posd as a real process on a temporary folder, driven by the real posctl.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <iterator>

#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "proto/grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "posd/v1/admin.pb.h"
#include "posd/v1/orders.grpc.pb.h"
#include "tests/support/posd_instance.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace posd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPosd[] = POSD_BINARY;
constexpr char kPosctl[] = POSCTL_BINARY;
constexpr auto kExitTimeout = std::chrono::seconds(20);

std::string ReadBytes(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

class PosdProcessTest : public ::testing::Test {
 protected:
  PosdProcessTest() : paths_(dir_.path()) {}

  CommandResult Posctl(std::vector<std::string> args) {
    args.insert(args.begin(), {kPosctl, "--address", paths_.address(), "--timeout", "5s"});
    return RunCommand(args);
  }

  TempDir dir_;
  PosdPaths paths_;
};

TEST_F(PosdProcessTest, StatusShowsVersionDatabaseAndSchema) {
  WritePosdConfig(paths_);
  Subprocess posd = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(posd.Running()) << posd.Stderr();

  const CommandResult table = Posctl({"status"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("database_path  " + paths_.database.string()));
  EXPECT_THAT(table.out, HasSubstr("schema_version  "));
  EXPECT_THAT(table.out, HasSubstr("listen_addresses[0]  " + paths_.address()));

  const CommandResult json = Posctl({"--output", "json", "status"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  posd::v1::ServerInfo info;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &info).ok()) << json.out;
  EXPECT_EQ(info.database_path(), paths_.database.string());
  EXPECT_GE(info.schema_version(), 2);
  EXPECT_FALSE(info.instance_id().empty());
  EXPECT_FALSE(info.version().empty());
  EXPECT_GT(info.uptime().seconds() * 1'000'000'000 + info.uptime().nanos(), 0);
}

TEST_F(PosdProcessTest, HealthIsZeroWhenServingAndOneWhenUnreachable) {
  WritePosdConfig(paths_);
  Subprocess posd = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(posd.Running()) << posd.Stderr();
  const CommandResult serving = Posctl({"health"});
  EXPECT_EQ(serving.exit_code, 0) << serving.err;
  EXPECT_THAT(serving.out, HasSubstr("SERVING"));

  const CommandResult unreachable = RunCommand(
      {kPosctl, "--address", "unix:" + dir_.File("nobody.sock").string(), "--timeout", "1s", "health"});
  EXPECT_EQ(unreachable.exit_code, 1);
}

TEST_F(PosdProcessTest, ExitCodesTellUsageFromUnreachable) {
  const std::string nowhere = "unix:" + dir_.File("nobody.sock").string();
  const CommandResult unavailable =
      RunCommand({kPosctl, "--address", nowhere, "--timeout", "1s", "status"});
  EXPECT_EQ(unavailable.exit_code, 64 + 14);  // UNAVAILABLE
  EXPECT_THAT(unavailable.err, HasSubstr("is posd running at " + nowhere));

  // The environment variable is the fallback for --address.
  const CommandResult from_env = RunCommand({kPosctl, "--timeout", "1s", "status"},
                                            std::chrono::seconds(30), {"POSD_ADDRESS=" + nowhere});
  EXPECT_EQ(from_env.exit_code, 64 + 14);
  EXPECT_THAT(from_env.err, HasSubstr(nowhere));

  EXPECT_EQ(RunCommand({kPosctl, "no-such-command"}).exit_code, 2);
  EXPECT_EQ(RunCommand({kPosctl}).exit_code, 2);
  EXPECT_EQ(RunCommand({kPosctl, "--timeout", "soon", "status"}).exit_code, 2);
  EXPECT_EQ(RunCommand({kPosctl, "--output", "xml", "status"}).exit_code, 2);
  EXPECT_EQ(RunCommand({kPosctl, "--help"}).exit_code, 0);
}

TEST_F(PosdProcessTest, SetLogLevelIsIdempotentByRequestId) {
  WritePosdConfig(paths_);
  Subprocess posd = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(posd.Running()) << posd.Stderr();
  const CommandResult first = Posctl({"log-level", "debug", "--request-id", "change-1"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("previous_level  LOG_LEVEL_INFO"));
  const CommandResult retry = Posctl({"log-level", "debug", "--request-id", "change-1"});
  EXPECT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_EQ(retry.out, first.out);
  const CommandResult reuse = Posctl({"log-level", "error", "--request-id", "change-1"});
  EXPECT_EQ(reuse.exit_code, 64 + 6) << reuse.err;  // ALREADY_EXISTS
  EXPECT_THAT(reuse.err, HasSubstr("already used"));
  const CommandResult status = Posctl({"status"});
  EXPECT_THAT(status.out, HasSubstr("log_level  LOG_LEVEL_DEBUG"));
  EXPECT_EQ(Posctl({"log-level", "chatty"}).exit_code, 2);
}

TEST_F(PosdProcessTest, UnknownConfigKeyIsRefusedByName) {
  WritePosdConfig(paths_, "logging:\n  levle: debug\n");
  Subprocess posd = Subprocess::Start({kPosd, "--config", paths_.config.string()}, dir_.path());
  EXPECT_EQ(posd.WaitForExit(kExitTimeout), 1);
  EXPECT_THAT(posd.Stderr(), HasSubstr("logging.levle: unknown key"));
  EXPECT_FALSE(std::filesystem::exists(paths_.database));
}

TEST_F(PosdProcessTest, BadConfigValueIsRefusedByName) {
  WritePosdConfig(paths_, "logging:\n  level: loud\n");
  Subprocess posd = Subprocess::Start({kPosd, "--config", paths_.config.string()}, dir_.path());
  EXPECT_EQ(posd.WaitForExit(kExitTimeout), 1);
  EXPECT_THAT(posd.Stderr(), HasSubstr("logging.level: 'loud' is not a log level"));
}

TEST_F(PosdProcessTest, MissingConfigFileIsReported) {
  Subprocess posd =
      Subprocess::Start({kPosd, "--config", dir_.File("absent.yaml").string()}, dir_.path());
  EXPECT_EQ(posd.WaitForExit(kExitTimeout), 1);
  EXPECT_THAT(posd.Stderr(), HasSubstr("does not exist"));
}

TEST_F(PosdProcessTest, BadCommandLineIsUsageError) {
  EXPECT_EQ(RunCommand({kPosd, "--no-such-flag"}).exit_code, 2);
  const CommandResult version = RunCommand({kPosd, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, HasSubstr("posd "));
}

TEST_F(PosdProcessTest, CorruptDatabaseIsRefusedAndLeftUntouched) {
  WritePosdConfig(paths_);
  std::string garbage(8192, '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 7919 % 251);
  std::ofstream(paths_.database, std::ios::binary) << garbage;
  Subprocess posd = Subprocess::Start({kPosd, "--config", paths_.config.string()}, dir_.path());
  EXPECT_EQ(posd.WaitForExit(kExitTimeout), 1);
  EXPECT_THAT(posd.Stderr(), HasSubstr("database refused"));
  EXPECT_THAT(posd.Stderr(), HasSubstr(paths_.database.string()));
  EXPECT_EQ(ReadBytes(paths_.database), garbage);
  EXPECT_FALSE(std::filesystem::exists(paths_.socket));
}

TEST_F(PosdProcessTest, SecondInstanceOnTheSameDatabaseFailsFast) {
  WritePosdConfig(paths_);
  Subprocess first = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(first.Running()) << first.Stderr();

  PosdPaths second_paths(dir_.path() / "second");
  std::filesystem::create_directories(dir_.path() / "second");
  second_paths.database = paths_.database;
  WritePosdConfig(second_paths);
  const auto started = std::chrono::steady_clock::now();
  Subprocess second =
      Subprocess::Start({kPosd, "--config", second_paths.config.string()}, dir_.path());
  EXPECT_EQ(second.WaitForExit(kExitTimeout), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_THAT(second.Stderr(), HasSubstr("already in use by another posd"));
  // The first one is not disturbed.
  EXPECT_EQ(Posctl({"health"}).exit_code, 0);
}

TEST_F(PosdProcessTest, SocketOfARunningPosdIsNotStolen) {
  WritePosdConfig(paths_);
  Subprocess first = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(first.Running()) << first.Stderr();

  PosdPaths second_paths(dir_.path() / "second");
  std::filesystem::create_directories(dir_.path() / "second");
  second_paths.socket = paths_.socket;
  WritePosdConfig(second_paths);
  Subprocess second =
      Subprocess::Start({kPosd, "--config", second_paths.config.string()}, dir_.path());
  EXPECT_EQ(second.WaitForExit(kExitTimeout), 1);
  EXPECT_THAT(second.Stderr(), HasSubstr("is serving on " + paths_.socket.string()));
  EXPECT_EQ(Posctl({"health"}).exit_code, 0);
}

TEST_F(PosdProcessTest, StaleSocketIsReplacedAndModeIs0660) {
  // A socket file nobody listens on, as a crashed posd leaves behind.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, paths_.socket.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  ::close(fd);
  ASSERT_TRUE(std::filesystem::is_socket(paths_.socket));

  WritePosdConfig(paths_);
  Subprocess posd = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(posd.Running()) << posd.Stderr();
  EXPECT_EQ(Posctl({"health"}).exit_code, 0);
  struct stat info {};
  ASSERT_EQ(::stat(paths_.socket.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0660u);
}

TEST_F(PosdProcessTest, AFileInPlaceOfTheSocketIsNeverDeleted) {
  std::ofstream(paths_.socket) << "not a socket";
  WritePosdConfig(paths_);
  Subprocess posd = Subprocess::Start({kPosd, "--config", paths_.config.string()}, dir_.path());
  EXPECT_EQ(posd.WaitForExit(kExitTimeout), 1);
  EXPECT_THAT(posd.Stderr(), HasSubstr("exists and is not a socket"));
  EXPECT_EQ(ReadBytes(paths_.socket), "not a socket");
}

TEST_F(PosdProcessTest, ReflectionListsTheApiAndHealth) {
  WritePosdConfig(paths_);
  Subprocess posd = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(posd.Running()) << posd.Stderr();
  auto channel = grpc::CreateChannel(paths_.address(), grpc::InsecureChannelCredentials());
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> services;
  for (const auto& service : response.list_services_response().service()) {
    services.push_back(service.name());
  }
  EXPECT_THAT(services, ::testing::Contains("posd.v1.AdminService"));
  EXPECT_THAT(services, ::testing::Contains("grpc.health.v1.Health"));

  // A client can fetch the schema of a method to call it without our protos.
  request.set_file_containing_symbol("posd.v1.AdminService");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_GT(response.file_descriptor_response().file_descriptor_proto_size(), 0);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(PosdProcessTest, UnknownMethodIsUnimplementedWithAMessage) {
  WritePosdConfig(paths_);
  Subprocess posd = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(posd.Running()) << posd.Stderr();
  auto channel = grpc::CreateChannel(paths_.address(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::ByteBuffer response;
  grpc::Status status;
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  grpc::Slice empty_message("");
  grpc::ByteBuffer request(&empty_message, 1);
  stub.UnaryCall(&context, "/posd.v1.NoSuchService/Nothing", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status result) {
                   const std::lock_guard lock(mutex);
                   status = std::move(result);
                   finished = true;
                   done.notify_one();
                 });
  std::unique_lock lock(mutex);
  ASSERT_TRUE(done.wait_for(lock, std::chrono::seconds(10), [&] { return finished; }));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(status.error_message(), HasSubstr("unknown method"));
}

TEST_F(PosdProcessTest, MethodNotLiveYetSaysSo) {
  WritePosdConfig(paths_);
  Subprocess posd = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(posd.Running()) << posd.Stderr();
  auto channel = grpc::CreateChannel(paths_.address(), grpc::InsecureChannelCredentials());
  auto stub = posd::v1::OrderService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  posd::v1::Order order;
  // A well-formed request: a malformed one is refused by the API edge first.
  posd::v1::UpdateOrderRequest request;
  request.set_request_id("update-1");
  request.mutable_order()->set_id("ord_01HF7YAT00V3DQ4XK2M8E9R6ZB");
  request.mutable_update_mask()->add_paths("note");
  const grpc::Status status = stub->UpdateOrder(&context, request, &order);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(status.error_message(), HasSubstr("is not live yet"));
}

TEST_F(PosdProcessTest, SigtermEndsWatchStreamsAndExitsZero) {
  WritePosdConfig(paths_);
  Subprocess posd = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(posd.Running()) << posd.Stderr();

  auto channel = grpc::CreateChannel(paths_.address(), grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = stub->Watch(&context, grpc::health::v1::HealthCheckRequest());
  grpc::health::v1::HealthCheckResponse update;
  ASSERT_TRUE(stream->Read(&update));
  EXPECT_EQ(update.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  const auto signalled = std::chrono::steady_clock::now();
  posd.Signal(SIGTERM);
  std::vector<grpc::health::v1::HealthCheckResponse::ServingStatus> seen;
  while (stream->Read(&update)) seen.push_back(update.status());
  stream->Finish();
  EXPECT_THAT(seen, ::testing::Contains(grpc::health::v1::HealthCheckResponse::NOT_SERVING));
  EXPECT_EQ(posd.WaitForExit(kExitTimeout), 0) << posd.Stderr();
  // The drain is bounded by shutdown_grace_ms (2 s in the test config).
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(10));
  EXPECT_THAT(posd.Stderr(), HasSubstr("posd stopped cleanly"));
  EXPECT_FALSE(std::filesystem::exists(paths_.socket));

  // The database was closed cleanly: a new posd opens it at once.
  Subprocess again = StartPosd(kPosd, paths_, dir_.path());
  ASSERT_TRUE(again.Running()) << again.Stderr();
  again.Signal(SIGINT);
  EXPECT_EQ(again.WaitForExit(kExitTimeout), 0);
}

TEST_F(PosdProcessTest, CheckConfigValidatesWithoutServing) {
  WritePosdConfig(paths_);
  const CommandResult check = RunCommand({kPosd, "--config", paths_.config.string(), "--check-config"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_FALSE(std::filesystem::exists(paths_.socket));
}

}  // namespace
}  // namespace posd::testing
