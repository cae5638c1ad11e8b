#pragma once
// The plan catalogue, GET {base}/package-templates: the same {total, offset, count, <name>}
// envelope as the packages, a template per element in either published shape.
#include <cstdint>
#include <string>
#include <vector>

#include "api/packages_client.h"
#include "domain/package_template.h"

namespace esim {

struct TemplatePage {
  std::int64_t offset = 0;
  std::int64_t total = 0;
  std::vector<PackageTemplate> templates;
};

// The seam the sync walks the catalogue through; fakes stand in for it in unit tests.
class TemplateSource {
 public:
  virtual ~TemplateSource() = default;
  virtual TemplatePage fetch_templates(std::int64_t offset, int count) = 0;
};

// Reads one page's body: the envelope's total and each template (an object with an integer
// id); anything else is a PayloadError naming the offset.
TemplatePage parse_templates_page(const std::string& body, std::int64_t offset);

class TemplatesClient final : public TemplateSource {
 public:
  // Requests go through `client` (its headers, limits, retries and error messages).
  TemplatesClient(PackagesClient& client, ApiSettings settings);
  TemplatePage fetch_templates(std::int64_t offset, int count) override;
  HttpRequest templates_request(std::int64_t offset, int count) const;

 private:
  PackagesClient& client_;
  ApiSettings settings_;
};

}  // namespace esim
