#include "util/redact.h"

#include <gtest/gtest.h>

TEST(Redact, RemovesEveryOccurrenceOfEachSecret) {
  EXPECT_EQ(util::redact("key=s3cr3t; again s3cr3t", {"s3cr3t"}), "key=[REDACTED]; again [REDACTED]");
  EXPECT_EQ(util::redact("nothing here", {"", "zzz"}), "nothing here");
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
