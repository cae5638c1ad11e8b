#include "api/templates_client.h"

#include <nlohmann/json.hpp>

#include "api/page_parser.h"

namespace esim {

TemplatePage parse_templates_page(const std::string& body, std::int64_t offset) {
  const std::string where = "package-templates page at offset " + std::to_string(offset);
  nlohmann::json page;
  try {
    page = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    throw PayloadError(where + ": not JSON: " + e.what());
  }
  if (!page.is_object() || !page.contains("package_templates") || !page["package_templates"].is_array()) {
    throw PayloadError(where + ": no \"package_templates\" array");
  }
  TemplatePage out;
  out.offset = offset;
  if (page.contains("total") && page["total"].is_number_integer()) out.total = page["total"].get<std::int64_t>();
  for (const auto& item : page["package_templates"]) {
    // The id is what packages carry in package_template: an integer (a numeric string is read
    // as one). Without it a template could not be told from another.
    std::int64_t id = 0;
    if (item.is_object() && item.contains("id") && item["id"].is_number_integer()) {
      id = item["id"].get<std::int64_t>();
    } else if (item.is_object() && item.contains("id") && item["id"].is_string()) {
      try {
        std::size_t used = 0;
        const std::string text = item["id"].get<std::string>();
        id = std::stoll(text, &used);
        if (used != text.size()) throw std::invalid_argument(text);
      } catch (const std::exception&) {
        throw PayloadError(where + ": a template whose id is not a number: " + item["id"].dump());
      }
    } else {
      throw PayloadError(where + ": a template without an integer id");
    }
    // The store reads the id from the object: write it back as a number.
    nlohmann::json object = item;
    object["id"] = id;
    out.templates.push_back({id, object.dump()});
  }
  return out;
}

TemplatesClient::TemplatesClient(PackagesClient& client, ApiSettings settings)
    : client_(client), settings_(std::move(settings)) {
  while (!settings_.base_url.empty() && settings_.base_url.back() == '/') settings_.base_url.pop_back();
}

HttpRequest TemplatesClient::templates_request(std::int64_t offset, int count) const {
  HttpRequest request = settings_.limits;
  request.url = settings_.base_url + "/package-templates?offset=" + std::to_string(offset) +
                "&count=" + std::to_string(count);
  request.headers = {{"Accept", "application/json"},
                     {"x-api-key", settings_.api_key},
                     {"x-user-id", settings_.user_id}};
  return request;
}

TemplatePage TemplatesClient::fetch_templates(std::int64_t offset, int count) {
  return parse_templates_page(
      client_.exchange(templates_request(offset, count), " (the server rejected the catalogue's paging)").body, offset);
}

}  // namespace esim
