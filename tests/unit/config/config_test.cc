#include "service/config/config.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace posd::config {
namespace {

using ::posd::testing::IsOk;
using ::posd::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ConfigTest, EmptyFileGivesEveryDefault) {
  auto config = ParseConfig("", "posd.yaml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->server().unix_socket(), kDefaultUnixSocket);
  EXPECT_EQ(config->server().unix_socket_mode(), "0660");
  EXPECT_EQ(config->server().shutdown_grace_ms(), 5000u);
  EXPECT_FALSE(config->server().has_tcp());
  EXPECT_EQ(config->storage().database_path(), kDefaultDatabasePath);
  EXPECT_EQ(config->logging().level(), "info");
}

TEST(ConfigTest, ReadsEveryKeyFromYaml) {
  auto config = ParseConfig(R"(
server:
  unix_socket: /tmp/x/posd.sock
  unix_socket_mode: "0600"
  shutdown_grace_ms: 250
storage:
  database_path: state/posd.db
logging:
  level: debug
)",
                            "posd.yaml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->server().unix_socket(), "/tmp/x/posd.sock");
  EXPECT_EQ(config->server().unix_socket_mode(), "0600");
  EXPECT_EQ(config->server().shutdown_grace_ms(), 250u);
  EXPECT_EQ(config->storage().database_path(), "state/posd.db");
  EXPECT_EQ(config->logging().level(), "debug");
}

TEST(ConfigTest, ReadsJson) {
  auto config = ParseConfig(R"({"storage": {"database_path": "/tmp/p.db"},
                                "server": {"shutdown_grace_ms": 10}})",
                            "posd.json");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->storage().database_path(), "/tmp/p.db");
  EXPECT_EQ(config->server().shutdown_grace_ms(), 10u);
}

TEST(ConfigTest, UnknownKeyIsNamedWithItsPathAndLine) {
  EXPECT_THAT(ParseConfig("storage:\n  databse_path: /x.db\n", "posd.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("posd.yaml:2: storage.databse_path: unknown key")));
  EXPECT_THAT(ParseConfig("colour: blue\n", "posd.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("colour: unknown key")));
}

TEST(ConfigTest, WrongTypesAreNamed) {
  EXPECT_THAT(ParseConfig("server:\n  shutdown_grace_ms: soon\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("server.shutdown_grace_ms: 'soon' is not a whole number")));
  EXPECT_THAT(ParseConfig("server:\n  shutdown_grace_ms: -1\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("server.shutdown_grace_ms")));
  EXPECT_THAT(ParseConfig("server: 3\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("server: expected a mapping of keys")));
  EXPECT_THAT(ParseConfig("storage:\n  database_path: [a, b]\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("storage.database_path: expected text, found a list")));
}

TEST(ConfigTest, HooksTakeDefaultsAndBoundedValues) {
  auto defaults = ParseConfig("", "posd.yaml");
  ASSERT_THAT(defaults, IsOk());
  EXPECT_EQ(defaults->hooks().before_hook_time_limit_ms(), 2000u);
  EXPECT_EQ(defaults->hooks().after_hook_max_attempts(), 10u);
  EXPECT_EQ(defaults->hooks().after_hook_initial_backoff_ms(), 1000u);
  EXPECT_EQ(defaults->hooks().after_hook_max_backoff_ms(), 600000u);

  auto set = ParseConfig(
      "hooks:\n  before_hook_time_limit_ms: 300\n  after_hook_max_attempts: 3\n"
      "  after_hook_initial_backoff_ms: 700000\n",
      "posd.yaml");
  ASSERT_THAT(set, IsOk());
  EXPECT_EQ(set->hooks().before_hook_time_limit_ms(), 300u);
  EXPECT_EQ(set->hooks().after_hook_max_attempts(), 3u);
  // The default maximum never undercuts a larger initial backoff.
  EXPECT_EQ(set->hooks().after_hook_max_backoff_ms(), 700000u);

  EXPECT_THAT(ParseConfig("hooks:\n  before_hook_time_limit_ms: 0\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("hooks.before_hook_time_limit_ms: 0 is outside 1 to 60000")));
  EXPECT_THAT(ParseConfig("hooks:\n  after_hook_max_attempts: 5000\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("hooks.after_hook_max_attempts: 5000 is outside 1 to 1000")));
  EXPECT_THAT(ParseConfig("hooks:\n  after_hook_initial_backoff_ms: 500\n"
                          "  after_hook_max_backoff_ms: 100\n",
                          "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("hooks.after_hook_max_backoff_ms: 100 is outside 500 to")));
  EXPECT_THAT(ParseConfig("hooks:\n  retries: 3\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hooks.retries")));
}

TEST(ConfigTest, BadValuesAreNamed) {
  EXPECT_THAT(ParseConfig("logging:\n  level: loud\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("logging.level: 'loud' is not a log level")));
  EXPECT_THAT(ParseConfig("server:\n  unix_socket_mode: \"0666\"\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("server.unix_socket_mode: '0666' lets every local user")));
  EXPECT_THAT(ParseConfig("server:\n  unix_socket_mode: \"rw\"\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("server.unix_socket_mode")));
  EXPECT_THAT(ParseConfig("server:\n  shutdown_grace_ms: 600000\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("server.shutdown_grace_ms: 600000 is above the limit")));
  EXPECT_THAT(ParseConfig("storage:\n  database_path: \"\"\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("storage.database_path")));
  EXPECT_THAT(ParseConfig("server:\n  unix_socket: /" + std::string(200, 'a') + "\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("server.unix_socket")));
}

TEST(ConfigTest, TcpNeedsTlsAndTokens) {
  EXPECT_THAT(ParseConfig("server:\n  tcp:\n    address: 127.0.0.1:7443\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("server.tcp.tls_certificate_file: is required")));
  EXPECT_THAT(ParseConfig(R"(server:
  tcp:
    address: 127.0.0.1:7443
    tls_certificate_file: c.pem
    tls_private_key_file: k.pem
)",
                          "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("server.tcp.tokens")));
  EXPECT_THAT(ParseConfig(R"(server:
  tcp:
    address: 127.0.0.1:7443
    tls_certificate_file: c.pem
    tls_private_key_file: k.pem
    tokens:
      - token_file: t
        role: cashier
)",
                          "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("server.tcp.tokens[0].role: 'cashier' is not one of")));
  auto config = ParseConfig(R"(server:
  tcp:
    address: 127.0.0.1:7443
    tls_certificate_file: c.pem
    tls_private_key_file: k.pem
    tokens:
      - {token_file: t, role: operator}
)",
                            "c.yaml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->server().tcp().tokens(0).role(), v1::ROLE_OPERATOR);
}

TEST(ConfigTest, PluginSettingsKeepTheirStructure) {
  auto config = ParseConfig(R"(plugins:
  - name: discount
    settings:
      codes:
        - {code: SUMMER, percent_basis_points: 1000, max_uses: 3}
      stackable: false
  - name: receipt
)",
                            "c.yaml");
  ASSERT_THAT(config, IsOk());
  ASSERT_EQ(config->plugins_size(), 2);
  const auto& settings = config->plugins(0).settings();
  EXPECT_FALSE(settings.fields().at("stackable").bool_value());
  const auto& code = settings.fields().at("codes").list_value().values(0).struct_value();
  EXPECT_EQ(code.fields().at("code").string_value(), "SUMMER");
  EXPECT_EQ(code.fields().at("max_uses").number_value(), 3);
  EXPECT_EQ(config->plugins(1).name(), "receipt");
}

TEST(ConfigTest, PluginListedTwiceIsRefused) {
  EXPECT_THAT(ParseConfig("plugins:\n  - name: tip\n  - name: tip\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("plugins[1].name: 'tip' is listed twice")));
  EXPECT_THAT(ParseConfig("plugins:\n  - settings: {a: 1}\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("plugins[0].name: is required")));
  EXPECT_THAT(ParseConfig("plugins:\n  - name: tip\n    settings: 5\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("plugins[0].settings: expected a mapping of settings")));
}

TEST(ConfigTest, DevicesTakeDefaultsForTheirLineSettings) {
  auto config = ParseConfig(
      "devices:\n  - id: counter-1\n    name: Counter 1\n    serial:\n"
      "      port: /dev/ttyUSB0\n  - id: bar\n    serial:\n      port: /dev/ttyUSB1\n"
      "      baud: 9600\n      parity: even\n      stop_bits: \"2\"\n"
      "      flow_control: rtscts\n      data_bits: 7\n",
      "c.yaml");
  ASSERT_THAT(config.status(), IsOk());
  ASSERT_EQ(config->devices_size(), 2);
  EXPECT_EQ(config->devices(0).id(), "counter-1");
  EXPECT_EQ(config->devices(0).name(), "Counter 1");
  EXPECT_EQ(config->devices(0).serial().baud(), 115200u);
  EXPECT_EQ(config->devices(0).serial().data_bits(), 8u);
  EXPECT_EQ(config->devices(0).serial().parity(), "none");
  EXPECT_EQ(config->devices(0).serial().stop_bits(), "1");
  EXPECT_EQ(config->devices(0).serial().flow_control(), "none");
  EXPECT_EQ(config->devices(1).serial().baud(), 9600u);
  EXPECT_EQ(config->devices(1).serial().data_bits(), 7u);
  EXPECT_EQ(config->devices(1).serial().parity(), "even");
  EXPECT_EQ(config->devices(1).serial().stop_bits(), "2");
  EXPECT_EQ(config->devices(1).serial().flow_control(), "rtscts");
}

TEST(ConfigTest, BadDevicesAreNamedWithTheirKey) {
  EXPECT_THAT(ParseConfig("devices:\n  - serial: {port: /dev/ttyS0}\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("devices[0].id: is required")));
  EXPECT_THAT(ParseConfig("devices:\n  - id: Counter\n    serial: {port: /dev/ttyS0}\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("devices[0].id: 'Counter'")));
  EXPECT_THAT(ParseConfig("devices:\n  - id: a\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("devices[0].serial.port: is required")));
  EXPECT_THAT(ParseConfig("devices:\n  - id: a\n    serial: {port: /dev/ttyS0}\n"
                          "  - id: a\n    serial: {port: /dev/ttyS1}\n",
                          "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("devices[1].id: 'a' is listed twice")));
  EXPECT_THAT(ParseConfig("devices:\n  - id: a\n    serial: {port: /dev/ttyS0}\n"
                          "  - id: b\n    serial: {port: /dev/ttyS0}\n",
                          "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("devices[1].serial.port: '/dev/ttyS0' is already used by device a")));
  EXPECT_THAT(ParseConfig("devices:\n  - id: a\n    serial: {port: /dev/ttyS0, baud: 12345}\n",
                          "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("devices[0].serial.baud: 12345 is not a standard rate")));
  EXPECT_THAT(ParseConfig("devices:\n  - id: a\n    serial: {port: /dev/ttyS0, data_bits: 9}\n",
                          "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("devices[0].serial.data_bits")));
  EXPECT_THAT(ParseConfig("devices:\n  - id: a\n    serial: {port: /dev/ttyS0, parity: odd2}\n",
                          "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("devices[0].serial.parity")));
  EXPECT_THAT(
      ParseConfig("devices:\n  - id: a\n    serial: {port: /dev/ttyS0, flow_control: cts}\n",
                  "c.yaml"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("devices[0].serial.flow_control")));
  EXPECT_THAT(ParseConfig("devices:\n  - id: a\n    serial: {port: /dev/ttyS0, speed: 9600}\n",
                          "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("speed")));
}

TEST(ConfigTest, TerminalTimersDefaultToTheProtocols) {
  auto config = ParseConfig("", "c.yaml");
  ASSERT_THAT(config, IsOk());
  const v1::Terminals& terminals = config->terminals();
  EXPECT_EQ(terminals.heartbeat_interval_ms(), 2000u);
  EXPECT_EQ(terminals.heartbeat_max_missed(), 3u);
  EXPECT_EQ(terminals.accept_timeout_ms(), 5000u);
  EXPECT_EQ(terminals.transaction_timeout_ms(), 120000u);
  EXPECT_EQ(terminals.status_query_timeout_ms(), 5000u);
  EXPECT_EQ(terminals.status_query_retry_ms(), 10000u);
  EXPECT_EQ(terminals.handshake_timeout_ms(), 5000u);
  EXPECT_EQ(terminals.handshake_retry_initial_ms(), 1000u);
  EXPECT_EQ(terminals.handshake_retry_max_ms(), 30000u);
  EXPECT_EQ(terminals.port_reopen_max_ms(), 5000u);
}

TEST(ConfigTest, TerminalTimersAreRead) {
  auto config = ParseConfig(R"(terminals:
  heartbeat_interval_ms: 300
  heartbeat_max_missed: 5
  accept_timeout_ms: 2000
  transaction_timeout_ms: 3000
  status_query_timeout_ms: 1000
  status_query_retry_ms: 500
  handshake_timeout_ms: 2000
  handshake_retry_initial_ms: 200
  handshake_retry_max_ms: 1000
  port_reopen_max_ms: 500
)",
                            "c.yaml");
  ASSERT_THAT(config, IsOk());
  const v1::Terminals& terminals = config->terminals();
  EXPECT_EQ(terminals.heartbeat_interval_ms(), 300u);
  EXPECT_EQ(terminals.heartbeat_max_missed(), 5u);
  EXPECT_EQ(terminals.accept_timeout_ms(), 2000u);
  EXPECT_EQ(terminals.transaction_timeout_ms(), 3000u);
  EXPECT_EQ(terminals.status_query_timeout_ms(), 1000u);
  EXPECT_EQ(terminals.status_query_retry_ms(), 500u);
  EXPECT_EQ(terminals.handshake_timeout_ms(), 2000u);
  EXPECT_EQ(terminals.handshake_retry_initial_ms(), 200u);
  EXPECT_EQ(terminals.handshake_retry_max_ms(), 1000u);
  EXPECT_EQ(terminals.port_reopen_max_ms(), 500u);
  // Keys left out keep their defaults.
  auto partial = ParseConfig("terminals:\n  transaction_timeout_ms: 5000\n", "c.yaml");
  ASSERT_THAT(partial, IsOk());
  EXPECT_EQ(partial->terminals().transaction_timeout_ms(), 5000u);
  EXPECT_EQ(partial->terminals().heartbeat_interval_ms(), 2000u);
}

TEST(ConfigTest, BadTerminalTimersAreNamedWithFileLineAndKey) {
  EXPECT_THAT(ParseConfig("logging: {level: info}\nterminals:\n  heartbeat_interval_ms: 0\n",
                          "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("c.yaml:3: terminals.heartbeat_interval_ms: 0 is outside 100 to "
                                 "60000 (default 2000)")));
  EXPECT_THAT(ParseConfig("terminals:\n  transaction_timeout_ms: 86400000\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("c.yaml:2: terminals.transaction_timeout_ms: 86400000 is outside")));
  EXPECT_THAT(ParseConfig("terminals:\n  heartbeat_max_missed: 0\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("c.yaml:2: terminals.heartbeat_max_missed: 0 is outside 1 to 100")));
  EXPECT_THAT(ParseConfig("terminals:\n  port_reopen_max_ms: 50\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("terminals.port_reopen_max_ms: 50 is outside 200")));
  EXPECT_THAT(ParseConfig("terminals:\n  handshake_retry_initial_ms: 5000\n"
                          "  handshake_retry_max_ms: 2000\n",
                          "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("c.yaml:3: terminals.handshake_retry_max_ms: 2000 is below "
                                 "terminals.handshake_retry_initial_ms (5000)")));
  // The initial wait alone above the default maximum: the maximum is the
  // default, so the message has no line to point at but still names the key.
  EXPECT_THAT(ParseConfig("terminals:\n  handshake_retry_initial_ms: 40000\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("c.yaml: terminals.handshake_retry_max_ms: 30000 is below")));
  EXPECT_THAT(ParseConfig("terminals:\n  heartbeat_interval_ms: -5\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("c.yaml:2: terminals.heartbeat_interval_ms")));
  EXPECT_THAT(ParseConfig("terminals:\n  heartbeat_ms: 500\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("c.yaml:2: terminals.heartbeat_ms: unknown key")));
}

TEST(ConfigTest, ValidationErrorsPointAtTheLineOfTheKey) {
  EXPECT_THAT(ParseConfig("storage:\n  database_path: x.db\nserver:\n  shutdown_grace_ms: 600000\n",
                          "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("c.yaml:4: server.shutdown_grace_ms: 600000 is above")));
  EXPECT_THAT(ParseConfig("devices:\n  - id: a\n    serial: {port: /dev/ttyS0}\n"
                          "  - id: b\n    serial:\n      port: /dev/ttyS1\n      baud: 12345\n",
                          "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("c.yaml:7: devices[1].serial.baud: 12345")));
}

TEST(ConfigTest, TheShippedExampleAndDemoConfigurationsLoad) {
  // The example documents every key with its default: it must say what an
  // empty file means.
  auto example = LoadConfigFile(POSD_DEPLOY_DIR "/posd.example.yaml");
  ASSERT_THAT(example, IsOk());
  auto defaults = ParseConfig("", "(defaults)");
  ASSERT_THAT(defaults, IsOk());
  EXPECT_EQ(example->DebugString(), defaults->DebugString());
  auto demo = LoadConfigFile(POSD_DEPLOY_DIR "/demo.yaml");
  ASSERT_THAT(demo, IsOk());
  ASSERT_EQ(demo->devices_size(), 1);
  EXPECT_EQ(demo->devices(0).id(), "counter-1");
}

TEST(ConfigTest, WebSocketDevicesTakeDefaultsAndAreChecked) {
  auto config = ParseConfig(
      "devices:\n  - id: bar-1\n    websocket: {address: '10.0.0.5:8080'}\n"
      "  - id: bar-2\n    websocket: {address: '[::1]:9', path: /t, terminal_id: t2, tls: true}\n",
      "c.yaml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->devices(0).websocket().path(), "/");
  EXPECT_EQ(config->devices(0).websocket().terminal_id(), "bar-1");
  EXPECT_FALSE(config->devices(0).websocket().tls());
  EXPECT_EQ(config->devices(1).websocket().terminal_id(), "t2");
  EXPECT_TRUE(config->devices(1).websocket().tls());
  EXPECT_EQ(config->websocket().ping_interval_ms(), 1000u);
  EXPECT_EQ(config->websocket().dead_peer_timeout_ms(), 3000u);

  const std::pair<std::string, std::string> bad[] = {
      {"devices:\n  - id: a\n    websocket: {address: host}\n", "is not HOST:PORT"},
      {"devices:\n  - id: a\n    websocket: {address: 'h:0'}\n", "is not HOST:PORT"},
      {"devices:\n  - id: a\n    websocket: {address: '::1:80'}\n", "is not HOST:PORT"},
      {"devices:\n  - id: a\n    websocket: {address: 'h:80', path: x}\n", "websocket.path"},
      {"devices:\n  - id: a\n    websocket: {address: 'h:80', terminal_id: X}\n",
       "websocket.terminal_id"},
      {"devices:\n  - id: a\n    serial: {port: /dev/ttyS0}\n    websocket: {address: 'h:1'}\n",
       "not both"},
      {"devices:\n  - id: a\n    websocket: {address: 'h:1'}\n"
       "  - id: b\n    websocket: {address: 'h:1'}\n",
       "already used by device a"},
      {"websocket: {dead_peer_timeout_ms: 100}\n", "websocket.dead_peer_timeout_ms"},
      {"websocket: {ping_interval_ms: 3000}\n", "websocket.ping_interval_ms"},
  };
  for (const auto& [yaml, why] : bad) {
    EXPECT_THAT(ParseConfig(yaml, "c.yaml"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(why)))
        << yaml;
  }
}

TEST(ConfigTest, AWebSocketDeviceWithoutAnAddressFollowsDiscovery) {
  auto config = ParseConfig(
      "devices:\n  - id: a\n    websocket: {}\n  - id: b\n    websocket: {terminal_id: t-b}\n",
      "c.yaml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->devices(0).websocket().address(), "");
  EXPECT_EQ(config->devices(0).websocket().terminal_id(), "a");
  EXPECT_EQ(config->devices(1).websocket().terminal_id(), "t-b");
}

TEST(ConfigTest, DiscoveryTakesDefaultsAndIsChecked) {
  auto defaults = ParseConfig("", "c.yaml");
  ASSERT_THAT(defaults, IsOk());
  EXPECT_TRUE(defaults->discovery().dns_sd());
  EXPECT_EQ(defaults->discovery().beacon_listen(), "0.0.0.0:47800");
  EXPECT_EQ(defaults->discovery().beacon_expiry_intervals(), 3u);
  EXPECT_FALSE(defaults->discovery().auto_add());

  auto set = ParseConfig(
      "discovery:\n  dns_sd: false\n  beacon_listen: '[::1]:9999'\n"
      "  beacon_expiry_intervals: 5\n  auto_add: true\n",
      "c.yaml");
  ASSERT_THAT(set, IsOk());
  EXPECT_FALSE(set->discovery().dns_sd());
  EXPECT_EQ(set->discovery().beacon_listen(), "[::1]:9999");
  EXPECT_EQ(set->discovery().beacon_expiry_intervals(), 5u);
  EXPECT_TRUE(set->discovery().auto_add());
  auto off = ParseConfig("discovery:\n  beacon_listen: ''\n", "c.yaml");
  ASSERT_THAT(off, IsOk());
  EXPECT_EQ(off->discovery().beacon_listen(), "");

  const std::pair<std::string, std::string> bad[] = {
      {"discovery:\n  beacon_listen: host:47800\n", "c.yaml:2: discovery.beacon_listen"},
      {"discovery:\n  beacon_listen: 0.0.0.0\n", "discovery.beacon_listen"},
      {"discovery:\n  beacon_listen: 0.0.0.0:0\n", "discovery.beacon_listen"},
      {"discovery:\n  beacon_expiry_intervals: 0\n", "discovery.beacon_expiry_intervals"},
      {"discovery:\n  beacon_expiry_intervals: 101\n", "discovery.beacon_expiry_intervals"},
  };
  for (const auto& [yaml, why] : bad) {
    EXPECT_THAT(ParseConfig(yaml, "c.yaml"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(why)))
        << yaml;
  }
}

TEST(ConfigTest, SyntaxErrorsGiveTheLine) {
  EXPECT_THAT(ParseConfig("server:\n  unix_socket: [\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not valid YAML")));
}

TEST(ConfigTest, DuplicateKeyIsRefused) {
  EXPECT_THAT(ParseConfig("storage:\n  database_path: a\n  database_path: b\n", "c.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("storage.database_path: given twice")));
}

TEST(ConfigTest, LoadsFromFileAndReportsMissingFile) {
  posd::testing::TempDir dir;
  EXPECT_THAT(LoadConfigFile(dir.File("absent.yaml")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("does not exist")));
  std::ofstream(dir.File("posd.yaml")) << "logging: {level: warn}\n";
  auto config = LoadConfigFile(dir.File("posd.yaml"));
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->logging().level(), "warn");
}

}  // namespace
}  // namespace posd::config
