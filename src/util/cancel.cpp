#include "util/cancel.h"

namespace util {

CancelToken& process_cancel_token() {
  static CancelToken token;
  return token;
}

}  // namespace util
