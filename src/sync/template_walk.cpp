#include "sync/template_walk.h"

#include <set>

#include <spdlog/spdlog.h>

#include "api/page_parser.h"

namespace esim {

TemplateListing walk_templates(TemplateSource& source, int page_size, std::int64_t max_pages) {
  TemplateListing listing;
  std::set<std::int64_t> ids;
  std::set<std::int64_t> totals;
  bool duplicates = false;
  std::int64_t offset = 0;
  for (std::int64_t pages = 0;; ++pages) {
    if (pages == max_pages) {
      throw ApiError("GET package-templates: no empty page after " + std::to_string(max_pages) +
                         " pages (offset " + std::to_string(offset) + "): the catalogue never ends",
                     0);
    }
    TemplatePage page = source.fetch_templates(offset, page_size);
    if (page.templates.empty()) break;
    totals.insert(page.total);
    for (PackageTemplate& t : page.templates) {
      duplicates |= !ids.insert(t.id).second;
      listing.templates.push_back(std::move(t));
    }
    offset += static_cast<std::int64_t>(page.templates.size());  // step by what came back
  }
  // Complete: something listed (an empty catalogue is silence, and silence proves nothing),
  // one total throughout, no id twice, as many ids as it said.
  listing.complete = !ids.empty() && !duplicates && totals.size() == 1 &&
                     static_cast<std::int64_t>(ids.size()) == *totals.begin();
  return listing;
}

std::optional<TemplateListing> walk_templates_if_due(const TemplateWalkSettings& settings, std::int64_t run,
                                                     std::string& warning) {
  if (settings.source == nullptr || !templates_due(run, settings.every)) return std::nullopt;
  try {
    TemplateListing listing = walk_templates(*settings.source, settings.page_size);
    spdlog::debug("pass {}: the plan catalogue lists {} templates{}", run, listing.templates.size(),
                  listing.complete ? "" : " (an incomplete walk: it removes nothing)");
    return listing;
  } catch (const ApiError& e) {
    warning += std::string(warning.empty() ? "" : "; ") + "the plan catalogue was not read: " + e.what();
  } catch (const PayloadError& e) {
    warning += std::string(warning.empty() ? "" : "; ") + "the plan catalogue was not read: " + e.what();
  }
  spdlog::warn("pass {}: {}", run, warning);
  return std::nullopt;
}

}  // namespace esim
