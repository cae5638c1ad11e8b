#include "api/curl_transport.h"

#include "esim_sync_version.h"

#include <curl/curl.h>

#include <cctype>

#include "util/cancel.h"
#include <mutex>

namespace esim {

namespace {

struct Receiver {
  HttpResponse* response;
  std::uint64_t limit;
  bool too_large = false;
};

size_t append_body(char* data, size_t size, size_t count, void* user) {
  auto* receiver = static_cast<Receiver*>(user);
  if (receiver->response->body.size() + size * count > receiver->limit) {
    receiver->too_large = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  receiver->response->body.append(data, size * count);
  return size * count;
}

// Called by libcurl about once a second and on every chunk: a non-zero answer aborts the transfer.
int check_cancel(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return util::process_cancel_token().cancelled() ? 1 : 0;
}

size_t read_header(char* data, size_t size, size_t count, void* user) {
  std::string line(data, size * count);
  static const std::string kName = "retry-after:";
  if (line.size() > kName.size()) {
    std::string head = line.substr(0, kName.size());
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head == kName) {
      std::string value = line.substr(kName.size());
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.erase(0, 1);
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
      static_cast<HttpResponse*>(user)->retry_after = value;
    }
  }
  return size * count;
}

// curl_global_init is not thread-safe; do it once for the process.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
};

}  // namespace

bool curl_error_is_permanent(int curl_code) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SSL_CONNECT_ERROR:  // "wrong version number": https:// to a plain-http server
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

CurlTransport::CurlTransport() {
  init_curl_once();
  handle_ = curl_easy_init();
  if (handle_ == nullptr) throw TransportError("libcurl could not create a handle");
}

CurlTransport::~CurlTransport() { curl_easy_cleanup(static_cast<CURL*>(handle_)); }

HttpResponse CurlTransport::get(const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(handle_);
  curl_easy_reset(curl);  // keeps the connection cache, forgets the previous request's options

  HeaderList headers;
  for (const auto& [name, value] : request.headers) {
    headers.list = curl_slist_append(headers.list, (name + ": " + value).c_str());
  }
  HttpResponse response;
  Receiver receiver{&response, request.max_response_size};
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  static const std::string user_agent = std::string("esim-sync/") + kVersion;  // curl copies it
  curl_easy_setopt(curl, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(request.low_speed_limit));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(std::max<long long>(1, request.low_speed_time.count() / 1000)));
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_response_size));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever compression curl supports
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &receiver);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, read_header);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, check_cancel);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);

  if (util::process_cancel_token().cancelled()) throw util::Cancelled("stop requested");
  CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_ABORTED_BY_CALLBACK) throw util::Cancelled("stop requested; the request was abandoned");
  if (receiver.too_large || code == CURLE_FILESIZE_EXCEEDED) {
    throw ResponseTooLarge("the response is larger than api.max_response_size (" +
                           std::to_string(request.max_response_size) + " bytes)");
  }
  if (code == CURLE_OPERATION_TIMEDOUT && error[0] != '\0' && std::string(error).find("too slow") != std::string::npos) {
    throw TransportError(std::string(error) + " (api.low_speed_limit/api.low_speed_time)");
  }
  if (code != CURLE_OK) {
    std::string detail = error[0] != '\0' ? error : curl_easy_strerror(code);
    throw TransportError(detail, !curl_error_is_permanent(code));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace esim
