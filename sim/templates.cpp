#include "templates.h"

#include <fmt/format.h>
#include <httplib.h>

#include <map>
#include <mutex>
#include <set>

namespace sim {

namespace {

constexpr std::int64_t kFirstTemplate = 21145350;
constexpr int kListed = 7;  // 21145350..56; packages also carry 21145357

struct TemplateCatalog {
  std::mutex mutex;
  TemplateShape shape = TemplateShape::kRest;
  std::set<std::int64_t> hidden;
  std::map<std::int64_t, std::string> renamed;
  int failing_status = 0;  // every catalogue request answers this (0: none)

  std::string name(std::int64_t id) const {
    auto it = renamed.find(id);
    return it != renamed.end() ? it->second : fmt::format("Europe {} GB", id - kFirstTemplate + 1);
  }

  std::string render(std::int64_t id) const {
    const std::int64_t n = id - kFirstTemplate + 1;
    if (shape == TemplateShape::kRest) {
      return fmt::format(
          R"({{"id":{},"name":"{}","description":"{} GB for {} days in Europe","data_allowance":{},)"
          R"("validity_days":{},"price":{}.99,"currency":"EUR"}})",
          id, name(id), n, 7 * n, n * 1'073'741'824, 7 * n, 3 * n);
    }
    const char* status = n == 6 ? "Not Active" : n == 7 ? "De-activated" : "Active";
    return fmt::format(
        R"({{"id":{},"name":"{}","status":"{}","supported_countries":["DEU","FRA","ITA"],)"
        R"("data_usage_allowance":{},"voice_usage_allowance":0,"sms_usage_allowance":0,"activation_type":"AUTO",)"
        R"("activation_time_allowance":2592000,"time_allowance":{{"unit":"SECOND","duration":{}}},)"
        R"("earliest_activation_date":null,"latest_available_date":null,"deactivated_date":null,)"
        R"("created_date":1700000000000,"modified_date":1700000000000}})",
        id, name(id), status, n * 1'073'741'824, 7 * n * 86'400);
  }

  std::string page(std::int64_t offset, std::int64_t count) const {
    std::vector<std::int64_t> listed;
    for (std::int64_t id = kFirstTemplate; id < kFirstTemplate + kListed; ++id) {
      if (!hidden.count(id)) listed.push_back(id);
    }
    std::string items;
    std::int64_t returned = 0;
    for (std::int64_t i = offset; i < static_cast<std::int64_t>(listed.size()) && returned < count; ++i, ++returned) {
      items += (items.empty() ? "" : ",") + render(listed[static_cast<std::size_t>(i)]);
    }
    return fmt::format(R"({{"total":{},"offset":{},"count":{},"package_templates":[{}]}})", listed.size(), offset,
                       returned, items);
  }
};

std::int64_t number_param(const httplib::Request& req, const char* name, std::int64_t fallback) {
  return req.has_param(name) ? std::stoll(req.get_param_value(name)) : fallback;
}

}  // namespace

void add_template_routes(httplib::Server& http, TemplateShape shape,
                         std::function<bool(const httplib::Request&, httplib::Response&)> admit) {
  static TemplateCatalog catalog;  // one simulator per process
  catalog.shape = shape;
  http.Get("/api/v1/esim/package-templates", [admit](const httplib::Request& req, httplib::Response& res) {
    if (!admit(req, res)) return;
    std::int64_t offset = 0, count = 20;
    try {
      offset = number_param(req, "offset", 0);
      count = number_param(req, "count", 20);
    } catch (const std::exception&) {
      offset = -1;
    }
    if (offset < 0 || count < 1 || count > 1000) {
      res.status = 400;
      res.set_content(R"({"message":"Invalid pagination parameters","statusCode":400})", "application/json");
      return;
    }
    std::lock_guard lock(catalog.mutex);
    if (catalog.failing_status != 0) {
      res.status = catalog.failing_status;
      res.set_content(fmt::format(R"({{"message":"Catalogue unavailable","statusCode":{}}})", catalog.failing_status),
                      "application/json");
      return;
    }
    res.set_content(catalog.page(offset, count), "application/json");
  });
  http.Post("/_sim/templates", [](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(catalog.mutex);
    if (req.has_param("shape")) catalog.shape = req.get_param_value("shape") == "sdk" ? TemplateShape::kSdk : TemplateShape::kRest;
    if (req.has_param("fail")) catalog.failing_status = std::stoi(req.get_param_value("fail"));
    res.set_content("{}", "application/json");
  });
  http.Post(R"(/_sim/templates/(\d+)/(hide|unhide|rename))", [](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(catalog.mutex);
    const std::int64_t id = std::stoll(req.matches[1]);
    const std::string action = req.matches[2];
    if (action == "hide") catalog.hidden.insert(id);
    if (action == "unhide") catalog.hidden.erase(id);
    if (action == "rename") catalog.renamed[id] = req.get_param_value("name");
    res.set_content("{}", "application/json");
  });
}

}  // namespace sim
