#pragma once
// The walk of the plan catalogue that a pass makes every sync.templates_every passes: page by
// page to an empty page, like the packages (never to "total", never stopping at a short page),
// one request per page. What it lists goes to the apply with the pass; whether it was complete
// decides whether what it lacks may count towards removing a template (the two-walk rule).
#include <cstdint>
#include <optional>
#include <string>

#include "api/templates_client.h"
#include "domain/package_template.h"

namespace esim {

// Walks the whole catalogue. Throws what the source throws (ApiError, PayloadError), and an
// ApiError when the catalogue does not end within `max_pages` pages.
TemplateListing walk_templates(TemplateSource& source, int page_size, std::int64_t max_pages = 10'000);

// Whether the pass of run `run` walks the catalogue: every `every` runs (0: never).
inline bool templates_due(std::int64_t run, int every) { return every > 0 && run % every == 0; }

struct TemplateWalkSettings {
  TemplateSource* source = nullptr;  // none: the catalogue is never walked (tests of the pass alone)
  int page_size = 100;
  int every = 1;  // sync.templates_every
};

// The walk the pass of run `run` makes, if it is due. A catalogue that cannot be read does not
// fail the pass: its packages are applied, the templates wait for the next walk, and `warning`
// says why (nothing is removed on a failed walk).
std::optional<TemplateListing> walk_templates_if_due(const TemplateWalkSettings& settings, std::int64_t run,
                                                     std::string& warning);

}  // namespace esim
