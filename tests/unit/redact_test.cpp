#include "util/redact.h"

#include <gtest/gtest.h>

TEST(Redact, RemovesEveryOccurrenceOfEachSecret) {
  EXPECT_EQ(util::redact("key=s3cr3t; again s3cr3t", {"s3cr3t"}), "key=[REDACTED]; again [REDACTED]");
  EXPECT_EQ(util::redact("nothing here", {"", "zzz"}), "nothing here");
  EXPECT_EQ(util::redact("max_retries: 5", {"x"}), "max_retries: 5");  // too short to be a key
}

TEST(Redact, ConnectionStringPasswordsInBothForms) {
  EXPECT_EQ(util::redact_connection_string("postgresql://esim:hunter2@db.example/esim?sslmode=require"),
            "postgresql://esim:[REDACTED]@db.example/esim?sslmode=require");
  EXPECT_EQ(util::redact_connection_string("host=db user=esim password=hunter2 dbname=esim"),
            "host=db user=esim password=[REDACTED] dbname=esim");
  EXPECT_EQ(util::redact_connection_string("host=db password='a b\\'c' dbname=esim"),
            "host=db password=[REDACTED] dbname=esim");
  EXPECT_EQ(util::redact_connection_string("postgresql://esim@db/esim"), "postgresql://esim@db/esim");
}

#include "util/copy_text.h"

TEST(CopyLine, EscapesWhatCopyTextFormatNeedsAndMarksNulls) {
  util::CopyLine line;
  line.integer(42).text("plain").text(std::optional<std::string>()).text("tab\there\\back\nnew\rret").integer(std::nullopt);
  EXPECT_EQ(line.take(), "42\tplain\t\\N\ttab\\there\\\\back\\nnew\\rret\t\\N");
  line.text("");
  EXPECT_EQ(line.take(), "");  // an empty string, not NULL, and a fresh line after take()
}

TEST(Redact, UrlUserinfoIsHiddenWhereverTheUrlAppears) {
  EXPECT_EQ(util::redact_url_userinfo("GET https://u:pw-9@esim.example/api/packages?offset=0: HTTP 500"),
            "GET https://[REDACTED]@esim.example/api/packages?offset=0: HTTP 500");
  EXPECT_EQ(util::redact_url_userinfo("see HTTP://token@h/x and http://h/a@b"), "see HTTP://[REDACTED]@h/x and http://h/a@b");
  EXPECT_EQ(util::redact_url_userinfo("mail me@example.com"), "mail me@example.com");
}

TEST(Redact, APostgresRoleStaysVisibleOnlyItsPasswordIsHidden) {
  // The role names who connects: hiding it hides the mistake (a wrong role, a pgpass line).
  EXPECT_EQ(util::redact_url_userinfo("cannot connect to PostgreSQL at postgresql://esim_sync@db/esim: refused"),
            "cannot connect to PostgreSQL at postgresql://esim_sync@db/esim: refused");
  EXPECT_EQ(util::redact_url_userinfo("at postgres://esim:pw-77@db/esim and postgresql://r:@h/d"),
            "at postgres://esim:[REDACTED]@db/esim and postgresql://r:[REDACTED]@h/d");
  // Any other scheme keeps hiding the whole userinfo (a token may be the user part).
  EXPECT_EQ(util::redact_url_userinfo("see https://token-1@h/x"), "see https://[REDACTED]@h/x");
}
