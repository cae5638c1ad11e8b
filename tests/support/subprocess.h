#pragma once
// Runs the project's binaries from end-to-end tests: to completion, or in the background.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace esim::testing {

struct RunResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  std::string out, err;
};

// Runs argv with extra environment variables (added to this process's), up to timeout.
RunResult run_command(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env = {},
                      std::chrono::seconds timeout = std::chrono::seconds(120));

// A process that runs while the object lives; SIGTERM (then SIGKILL) when it goes.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path,
                    const std::map<std::string, std::string>& env = {});
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  pid_t pid() const { return pid_; }
  bool running();
  // Sends SIGTERM and waits up to `grace`; returns the exit code, or -1 if it had to be killed.
  int terminate(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  pid_t pid_ = -1;
};

// A new empty directory under the system temp dir; removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

std::string read_file(const std::string& path);

// GET url over real HTTP; returns the status (body into *body when given).
long http_get(const std::string& url, std::string* body = nullptr);

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// The simulator on a free port, with /_sim/* controls.
class SimProcess {
 public:
  explicit SimProcess(std::vector<std::string> extra_args = {});
  std::string base_url() const;  // http://127.0.0.1:PORT/api/v1/esim
  // POST to a control path ("/_sim/step?fraction=0.1"); returns the HTTP status.
  long post(const std::string& path_and_query);
  // The listing's ground truth: id -> status.
  std::map<std::string, std::string> truth();
  // Package requests the simulator has answered so far (lookups included).
  long long package_requests();
  // The most package requests it was ever answering at once: a client's real concurrency.
  long long most_in_flight();

 private:
  long long stat(const std::string& name);  // one number of GET /_sim/stats
  TempDir dir_;
  std::unique_ptr<BackgroundProcess> process_;
  int port_ = 0;
};

}  // namespace esim::testing
