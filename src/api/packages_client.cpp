#include "api/packages_client.h"

#include <nlohmann/json.hpp>

#include <vector>

#include "api/page_parser.h"
#include "util/escape.h"
#include "util/redact.h"
#include "util/url_encode.h"
#include "util/utf8.h"

namespace esim {

std::string error_body_summary(const std::string& body) {
  std::string text = body;
  try {
    auto parsed = nlohmann::json::parse(body);
    if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string()) {
      text = parsed["message"].get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
    // Plain-text bodies ("Unauthorized: Invalid API Key") are shown as they are.
  }
  // An error page in another encoding, or cut inside a character, would be text that
  // PostgreSQL refuses on the run's row, and the pass could not even record why it failed.
  text = util::valid_utf8(text);
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return util::shortened(text, 203);  // 200 bytes of the body and "..."
}

namespace {

// A 400 names what the request carried: the filters when there were any, else the paging.
std::string bad_request_hint(const ListingFilter& filter, std::int64_t offset, int count) {
  std::vector<std::string> sent;
  if (filter.status) sent.push_back("status=" + *filter.status);
  if (filter.sim) sent.push_back("sim=" + *filter.sim);
  if (filter.inventory) sent.push_back("inventory=" + std::to_string(*filter.inventory));
  if (filter.package_template) sent.push_back("package_template=" + std::to_string(*filter.package_template));
  const std::string paging = "offset=" + std::to_string(offset) + " count=" + std::to_string(count);
  if (sent.empty()) return " (the server rejected the pagination " + paging + ": check api.page_size)";
  std::string filters;
  for (const auto& s : sent) filters += (filters.empty() ? "" : ", ") + s;
  return " (the server rejected the request: check the filter " + filters + ", then the paging " + paging +
         " (--count, api.page_size))";
}

std::string hint_for(long status) {
  switch (status) {
    case 401:
    case 403: return " (authentication failed: check api.api_key and api.user_id)";
    case 404: return " (check api.base_url)";
    default: return "";
  }
}

}  // namespace

PackagesClient::PackagesClient(HttpTransport& transport, ApiSettings settings, ListingFilter filter)
    : transport_(transport), settings_(std::move(settings)), filter_(std::move(filter)) {
  while (!settings_.base_url.empty() && settings_.base_url.back() == '/') settings_.base_url.pop_back();
}

HttpRequest PackagesClient::page_request(std::int64_t offset, int count, const ListingFilter& filter) const {
  HttpRequest request = settings_.limits;
  request.url = settings_.base_url + "/packages?offset=" + std::to_string(offset) +
                "&count=" + std::to_string(count);
  if (filter.status) request.url += "&status=" + util::url_encode(*filter.status);
  if (filter.sim) request.url += "&sim=" + util::url_encode(*filter.sim);
  if (filter.inventory) request.url += "&inventory=" + std::to_string(*filter.inventory);
  if (filter.package_template) {
    request.url += "&package_template=" + std::to_string(*filter.package_template);
  }
  request.headers = {{"Accept", "application/json"},
                     {"x-api-key", settings_.api_key},
                     {"x-user-id", settings_.user_id}};
  return request;
}

Page PackagesClient::fetch_page(std::int64_t offset, int count) { return fetch_filtered_page(offset, count, {}); }

HttpRequest PackagesClient::package_request(const std::string& id) const {
  HttpRequest request = settings_.limits;
  request.url = settings_.base_url + "/packages/" + util::url_encode(id);
  request.headers = {{"Accept", "application/json"},
                     {"x-api-key", settings_.api_key},
                     {"x-user-id", settings_.user_id}};
  return request;
}

HttpResponse PackagesClient::exchange(const HttpRequest& request, const std::string& hint_for_400) {
  const std::string what = "GET " + request.url;
  HttpResponse response;
  try {
    response = transport_.get(request);
  } catch (const TransportError& e) {
    std::string message = what + ": no answer: " + e.what();
    if (!e.retryable()) {
      message += " (not retried: check api.base_url: its host name, https:// against a plain-http server, or the "
                 "server's certificate)";
    }
    throw ApiError(util::redact_url_userinfo(util::redact(message, {settings_.api_key})), 0);
  } catch (const ResponseTooLarge& e) {
    throw ApiError(util::redact_url_userinfo(util::redact(what + ": " + e.what(), {settings_.api_key})), 0);
  }
  if (response.status != 200) {
    std::string message = what + ": HTTP " + std::to_string(response.status);
    std::string summary = error_body_summary(response.body);
    if (!summary.empty()) message += ": " + summary;
    message += response.status == 400 ? hint_for_400 : hint_for(response.status);
    if (response.attempts > 1) message += " (gave up after " + std::to_string(response.attempts) + " attempts)";
    throw ApiError(util::redact_url_userinfo(util::redact(message, {settings_.api_key})), response.status);
  }
  return response;
}

Page PackagesClient::fetch_filtered_page(std::int64_t offset, int count, const ListingFilter& extra) {
  ListingFilter filter = filter_;
  if (extra.status) filter.status = extra.status;
  if (extra.sim) filter.sim = extra.sim;
  if (extra.inventory) filter.inventory = extra.inventory;
  if (extra.package_template) filter.package_template = extra.package_template;
  const auto requested = std::chrono::steady_clock::now();
  HttpResponse response = exchange(page_request(offset, count, filter), bad_request_hint(filter, offset, count));
  const auto answered = std::chrono::steady_clock::now();
  Page page = parse_packages_page(response.body, offset, settings_.volatile_fields);
  page.request_time = std::chrono::duration_cast<std::chrono::microseconds>(answered - requested);
  page.body_bytes = response.body.size();
  page.parse_time = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - answered);
  return page;
}

std::optional<Package> PackagesClient::fetch_package(const std::string& id) {
  try {
    return parse_package_body(exchange(package_request(id), " (the server rejected the package id)").body, id,
                              settings_.volatile_fields);
  } catch (const ApiError& e) {
    if (e.http_status() == 404) return std::nullopt;
    throw;
  }
}

}  // namespace esim
