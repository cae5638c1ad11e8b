#pragma once
// A plan of the catalogue (GET /package-templates) as one walk saw it: the id packages carry in
// package_template, and the object as sent (name, status and every other field are read from
// it by the store, whichever of the published shapes it has).
#include <cstdint>
#include <string>
#include <vector>

namespace esim {

struct PackageTemplate {
  std::int64_t id = 0;
  std::string raw_json;  // the object as sent
};

// One walk of the catalogue: what it listed, and whether the walk was complete (ended at an
// empty page, one total, no id twice, as many ids as total said): only a complete walk may
// count towards removing a template (the two-walk rule).
struct TemplateListing {
  std::vector<PackageTemplate> templates;
  bool complete = false;
};

}  // namespace esim
