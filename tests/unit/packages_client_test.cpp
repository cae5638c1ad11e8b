#include "api/packages_client.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fakes.h"

#include <curl/curl.h>

#include "api/curl_transport.h"
#include "api/retrying_transport.h"

using esim::ApiError;
using esim::PackagesClient;
using esim::fakes::FakeTransport;

namespace {

const std::string kKey = "sk_live_do_not_leak";

esim::ApiSettings settings() {
  esim::ApiSettings s{"https://esim.example/api/v1/esim/", kKey, "user-7", {}};
  s.limits.timeout = std::chrono::seconds(9);
  return s;
}

std::string failure(FakeTransport& transport) {
  PackagesClient client(transport, settings());
  try {
    client.fetch_page(300, 100);
  } catch (const ApiError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(PackagesClient, SendsTheDocumentedRequest) {
  FakeTransport transport;
  transport.reply(200, R"({"total":0,"offset":0,"count":0,"packages":[]})");
  PackagesClient client(transport, settings());
  client.fetch_page(200, 100);
  ASSERT_EQ(transport.requests.size(), 1u);
  const auto& request = transport.requests[0];
  EXPECT_EQ(request.url, "https://esim.example/api/v1/esim/packages?offset=200&count=100");
  EXPECT_EQ(request.timeout, std::chrono::seconds(9));
  auto header = [&](const std::string& name) {
    for (const auto& [k, v] : request.headers) if (k == name) return v;
    return std::string("(missing)");
  };
  EXPECT_EQ(header("x-api-key"), kKey);
  EXPECT_EQ(header("x-user-id"), "user-7");
  EXPECT_EQ(header("Accept"), "application/json");
}

TEST(PackagesClient, AuthenticationFailureNamesStatusAndWhatToCheck) {
  FakeTransport transport;
  transport.reply(401, "Unauthorized: Invalid API Key");
  std::string message = failure(transport);
  EXPECT_NE(message.find("offset=300"), std::string::npos) << message;
  EXPECT_NE(message.find("HTTP 401: Unauthorized: Invalid API Key"), std::string::npos) << message;
  EXPECT_NE(message.find("check api.api_key and api.user_id"), std::string::npos) << message;
}

TEST(PackagesClient, JsonErrorBodyShowsItsMessage) {
  FakeTransport transport;
  transport.reply(400, R"({"message":"Invalid pagination parameters","statusCode":400})");
  std::string message = failure(transport);
  EXPECT_NE(message.find("HTTP 400: Invalid pagination parameters"), std::string::npos) << message;
  EXPECT_NE(message.find("api.page_size"), std::string::npos) << message;
}

TEST(PackagesClient, LongBodiesAreShortenedAndTheKeyNeverShows) {
  FakeTransport transport;
  transport.reply(500, "upstream said: " + kKey + std::string(5000, 'x'));
  std::string message = failure(transport);
  EXPECT_EQ(message.find(kKey), std::string::npos) << message;
  EXPECT_LT(message.size(), 400u);
}

TEST(PackagesClient, NoAnswerIsAnApiErrorWithStatusZero) {
  FakeTransport transport;  // no responses: the fake throws TransportError
  PackagesClient client(transport, settings());
  try {
    client.fetch_page(0, 100);
    FAIL() << "expected an error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_status(), 0);
    EXPECT_NE(std::string(e.what()).find("no answer: connection refused"), std::string::npos);
  }
}

namespace {

// A transport whose every request ends in an error a retry cannot mend (DNS, TLS).
class PermanentlyFailingTransport : public esim::HttpTransport {
 public:
  int calls = 0;
  esim::HttpResponse get(const esim::HttpRequest&) override {
    ++calls;
    throw esim::TransportError("SSL routines::wrong version number", false);
  }
};

}  // namespace

TEST(PackagesClient, TlsAndDnsErrorsAreNotRetriedAndNameTheBaseUrl) {
  PermanentlyFailingTransport failing;
  esim::fakes::FakeClock clock;
  esim::RetryingTransport retrying(failing, esim::RetryPolicy{}, clock);
  PackagesClient client(retrying, settings());
  try {
    client.fetch_page(0, 100);
    FAIL() << "expected an error";
  } catch (const ApiError& e) {
    EXPECT_NE(std::string(e.what()).find("wrong version number"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not retried: check api.base_url"), std::string::npos) << e.what();
  }
  EXPECT_EQ(failing.calls, 1);
  EXPECT_TRUE(clock.sleeps.empty());
}

TEST(PackagesClient, ABadRequestHintNamesTheFilterItCarried) {
  FakeTransport transport;
  transport.reply(400, R"({"message":"Invalid status","statusCode":400})");
  esim::ListingFilter filter;
  filter.status = "EXPIRED";
  PackagesClient client(transport, settings(), filter);
  try {
    client.fetch_page(0, 50);
    FAIL() << "expected an error";
  } catch (const ApiError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("check the filter status=EXPIRED"), std::string::npos) << message;
    EXPECT_EQ(message.find("rejected the pagination"), std::string::npos) << message;
  }
  FakeTransport plain;
  plain.reply(400, R"({"message":"Invalid pagination parameters","statusCode":400})");
  EXPECT_NE(failure(plain).find("the server rejected the pagination offset=300 count=100: check api.page_size"),
            std::string::npos)
      << failure(plain);
}

// A lookup by SIM that the server refuses names the SIM it carried, not the paging of the
// client's base filter (which carried none).
TEST(PackagesClient, ABadRequestOnALookupNamesTheLookupsFilter) {
  FakeTransport transport;
  transport.reply(400, R"({"message":"Invalid sim","statusCode":400})");
  PackagesClient client(transport, settings());
  esim::ListingFilter lookup;
  lookup.sim = "8914800000000000001";
  try {
    client.fetch_filtered_page(0, 100, lookup);
    FAIL() << "expected an error";
  } catch (const ApiError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("check the filter sim=8914800000000000001"), std::string::npos) << message;
    EXPECT_EQ(message.find("check api.page_size"), std::string::npos) << message;
  }
}

TEST(CurlTransport, DnsTlsAndCertificateErrorsArePermanentNetworkErrorsAreNot) {
  for (CURLcode code : {CURLE_COULDNT_RESOLVE_HOST, CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION,
                        CURLE_SSL_CACERT_BADFILE}) {
    EXPECT_TRUE(esim::curl_error_is_permanent(code)) << code;
  }
  for (CURLcode code : {CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR, CURLE_GOT_NOTHING}) {
    EXPECT_FALSE(esim::curl_error_is_permanent(code)) << code;
  }
}

TEST(PackagesClient, ErrorsNeverShowAPasswordInTheUrl) {
  FakeTransport transport;
  transport.reply(500, "boom");
  esim::ApiSettings s = settings();
  s.base_url = "https://reseller:pw-secret-9@esim.example/api/v1/esim";
  PackagesClient client(transport, s);
  try {
    client.fetch_page(0, 100);
    FAIL() << "expected an error";
  } catch (const ApiError& e) {
    EXPECT_EQ(std::string(e.what()).find("pw-secret-9"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("https://[REDACTED]@esim.example"), std::string::npos) << e.what();
  }
}

// The error goes into logs and onto the run's row, where PostgreSQL takes only UTF-8: a page in
// Latin-1, or a long one cut inside a character, must still give UTF-8.
TEST(PackagesClient, ErrorBodiesInAnyEncodingGiveUtf8Messages) {
  std::string cyrillic;
  for (int i = 0; i < 150; ++i) cyrillic += "\xD0\x96";
  for (const std::string& body : {std::string("Dienst nicht verf\xFCgbar"), "x" + cyrillic}) {
    FakeTransport transport;
    transport.reply(502, body);
    const std::string message = failure(transport);
    EXPECT_NO_THROW((void)nlohmann::json(message).dump()) << message;  // nlohmann writes only UTF-8
    EXPECT_NE(message.find("HTTP 502: "), std::string::npos) << message;
  }
}
