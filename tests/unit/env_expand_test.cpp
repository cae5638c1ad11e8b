#include "util/env_expand.h"

#include <gtest/gtest.h>

#include <map>

namespace {
util::EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST(EnvExpand, ReplacesEveryVariable) {
  auto result = util::expand_env("${A}-x-${B_2}", fake_env({{"A", "one"}, {"B_2", "two"}}));
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.value, "one-x-two");
}

TEST(EnvExpand, UnsetVariableIsAnErrorNamingIt) {
  auto result = util::expand_env("${BETATEL_API_KEY}", fake_env({}));
  EXPECT_NE(result.error.find("BETATEL_API_KEY"), std::string::npos);
}

TEST(EnvExpand, EmptyButSetVariableIsKept) {
  auto result = util::expand_env("a${E}b", fake_env({{"E", ""}}));
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.value, "ab");
}

TEST(EnvExpand, DollarEscapesAndLoneDollarsStay) {
  auto result = util::expand_env("p$$w${X}$", fake_env({{"X", "1"}}));
  EXPECT_EQ(result.value, "p$w1$");
}

TEST(EnvExpand, BadSyntaxIsAnError) {
  EXPECT_NE(util::expand_env("${UNTERMINATED", fake_env({})).error, "");
  EXPECT_NE(util::expand_env("${1BAD}", fake_env({})).error, "");
}
