#include "util/conninfo.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "util/env_expand.h"

#include "util/cancel.h"

using util::with_connection_defaults;

TEST(ConnectionDefaults, AddedToUrisAndKeyValueStringsUnlessTheUserSetThem) {
  const std::vector<std::pair<std::string, std::string>> defaults = {{"keepalives", "1"}, {"connect_timeout", "10"}};
  EXPECT_EQ(with_connection_defaults("postgresql://u@h/db", defaults),
            "postgresql://u@h/db?keepalives=1&connect_timeout=10");
  EXPECT_EQ(with_connection_defaults("postgresql://u@h/db?sslmode=require&connect_timeout=3", defaults),
            "postgresql://u@h/db?sslmode=require&connect_timeout=3&keepalives=1");
  EXPECT_EQ(with_connection_defaults("host=h dbname=db keepalives=0", defaults),
            "host=h dbname=db keepalives=0 connect_timeout=10");
  EXPECT_EQ(with_connection_defaults("", defaults), "keepalives=1 connect_timeout=10");
}

TEST(CancelToken, HooksRunOnceWhenCancelledAndAtOnceWhenAddedLate) {
  util::CancelToken token;
  int runs = 0;
  auto id = token.add_hook([&] { ++runs; });
  token.add_hook([] { throw std::runtime_error("a failing hook stops nothing"); });
  token.cancel();
  token.cancel();
  EXPECT_EQ(runs, 1);
  token.remove_hook(id);
  token.add_hook([&] { runs += 10; });
  EXPECT_EQ(runs, 11);
}

TEST(ConnectionDefaults, TakenOffAgainToShowWhatTheUserWrote) {
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"connect_timeout", "10"}, {"keepalives", "1"}, {"tcp_user_timeout", "30000"}};
  for (const std::string written :
       {"postgresql://u@h/db", "postgresql://u@h/db?sslmode=require", "postgresql://u@h/db?connect_timeout=3",
        "host=h dbname=db", "host=h dbname=db keepalives=0", "", "postgresql://u@h/db?passfile=/run/x%20y"}) {
    EXPECT_EQ(util::without_connection_defaults(with_connection_defaults(written, defaults), defaults), written);
  }
}

TEST(LibpqMessage, OnOneLineWithoutItsLineBreaks) {
  EXPECT_EQ(util::libpq_message("connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n"
                                "\tIs the server running on that host and accepting TCP/IP connections?\n"),
            "connection to server at \"127.0.0.1\", port 1 failed: Connection refused; Is the server running on "
            "that host and accepting TCP/IP connections?");
  EXPECT_EQ(util::libpq_message("ERROR:  permission denied for database esim\n"),
            "ERROR:  permission denied for database esim");
}

namespace {

// A password file in a fresh directory, with the given mode.
struct PassFile {
  explicit PassFile(const std::string& text, mode_t mode = 0600) {
    char pattern[] = "/tmp/esim-pgpass-XXXXXX";
    dir = mkdtemp(pattern);
    path = dir + "/pgpass";
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
  }
  ~PassFile() {
    unlink(path.c_str());
    rmdir(dir.c_str());
  }
  std::string dir, path;
};

util::EnvLookup no_environment() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

const std::string kNoPassword = "connection to server at \"127.0.0.1\", port 5432 failed: fe_sendauth: no password supplied\n";

}  // namespace

TEST(PasswordFile, NamesThePassfileAndWhyNoLineMatched) {
  PassFile file("# esim\n127.0.0.1:5432:esim:esim_sync:secret-pw-1\nlocalhost:5432:esim_prod:esim_sync:secret-pw-2\n");
  const std::string said = util::explain_password_failure(
      "postgresql://esim_sync@localhost/esim?passfile=" + file.path, kNoPassword, no_environment());
  EXPECT_NE(said.find(file.path), std::string::npos) << said;
  EXPECT_NE(said.find("localhost:5432:esim:esim_sync"), std::string::npos) << said;  // what was looked for
  EXPECT_NE(said.find("line 2"), std::string::npos) << said;
  EXPECT_NE(said.find("host 127.0.0.1"), std::string::npos) << said;  // line 2 differs in its host
  EXPECT_NE(said.find("database esim_prod"), std::string::npos) << said;  // line 3 in its database
  EXPECT_EQ(said.find("secret-pw"), std::string::npos) << said;  // never a password
}

TEST(PasswordFile, SaysWhenThePassfileIsMissingUnreadableOrTooOpen) {
  const std::string missing = util::explain_password_failure(
      "host=localhost dbname=esim user=esim_sync passfile=/nonexistent/pgpass", kNoPassword, no_environment());
  EXPECT_NE(missing.find("/nonexistent/pgpass"), std::string::npos) << missing;
  EXPECT_NE(missing.find("No such file or directory"), std::string::npos) << missing;

  PassFile open_file("localhost:5432:esim:esim_sync:pw\n", 0644);
  const std::string too_open = util::explain_password_failure(
      "postgresql://esim_sync@localhost/esim?passfile=" + open_file.path, kNoPassword, no_environment());
  EXPECT_NE(too_open.find("chmod 0600 " + open_file.path), std::string::npos) << too_open;

  PassFile dir_file("");
  const std::string not_a_file = util::explain_password_failure(
      "postgresql://esim_sync@localhost/esim?passfile=" + dir_file.dir, kNoPassword, no_environment());
  EXPECT_NE(not_a_file.find("not a regular file"), std::string::npos) << not_a_file;

  // PGPASSFILE when the URL names none, and the defaults libpq takes (port 5432, dbname = user).
  PassFile from_env("localhost:5432:esim_sync:esim_sync:pw\n");
  auto env = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "PGPASSFILE") return from_env.path;
    return std::nullopt;
  };
  const std::string matched = util::explain_password_failure(
      "postgresql://esim_sync@localhost", "FATAL:  password authentication failed for user \"esim_sync\"\n", env);
  EXPECT_NE(matched.find(from_env.path + " line 1"), std::string::npos) << matched;

  // Not a password problem, or a password written in the URL: nothing to say of a passfile.
  EXPECT_EQ(util::explain_password_failure("postgresql://u@h/d", "Connection refused", no_environment()), "");
  EXPECT_EQ(util::explain_password_failure("postgresql://u:pw@h/d", kNoPassword, no_environment()), "");
}
