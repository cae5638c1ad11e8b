#include "util/conninfo.h"

#include <gtest/gtest.h>

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
