#include "support/subprocess.h"

#include <curl/curl.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace esim::testing {

namespace {

pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::string& out_path, const std::string& err_path) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    if (!env.count(entry.substr(0, entry.find('=')))) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  return pid;
}

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

long http(const std::string& method, const std::string& url, std::string* body) {
  CURL* curl = curl_easy_init();
  std::string sink;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (method == "POST") curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, body != nullptr ? body : &sink);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) throw std::runtime_error(method + " " + url + ": " + curl_easy_strerror(code));
  return status;
}

}  // namespace

long http_get(const std::string& url, std::string* body) { return http("GET", url, body); }

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

RunResult run_command(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                      std::chrono::seconds timeout) {
  TempDir dir;
  pid_t pid = spawn(argv, env, dir.file("out"), dir.file("err"));
  RunResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.err = "[timed out]\n";
      status = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = read_file(dir.file("out"));
  result.err += read_file(dir.file("err"));
  return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path,
                                     const std::map<std::string, std::string>& env) {
  pid_ = spawn(argv, env, log_path, log_path + ".err");
}

int BackgroundProcess::terminate(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return -1;
}

bool BackgroundProcess::running() {
  int status = 0;
  return waitpid(pid_, &status, WNOHANG) == 0;
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "esim-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void TempDir::write(const std::string& name, const std::string& text) const {
  std::ofstream(file(name)) << text;
}

SimProcess::SimProcess(std::vector<std::string> extra_args) {
  std::vector<std::string> argv = {ESIM_API_SIM_BINARY, "--port", "0", "--port-file", dir_.file("port")};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<BackgroundProcess>(argv, dir_.file("log"));
  for (int i = 0; i < 1000 && port_ == 0; ++i) {
    std::string text = read_file(dir_.file("port"));
    if (!text.empty()) port_ = std::stoi(text);
    else std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (port_ == 0) throw std::runtime_error("esim-api-sim did not start: " + read_file(dir_.file("log.err")));
}

std::string SimProcess::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/esim";
}

long SimProcess::post(const std::string& path_and_query) {
  return http("POST", "http://127.0.0.1:" + std::to_string(port_) + path_and_query, nullptr);
}

std::map<std::string, std::string> SimProcess::truth() {
  std::string body;
  http("GET", "http://127.0.0.1:" + std::to_string(port_) + "/_sim/truth", &body);
  return nlohmann::json::parse(body).get<std::map<std::string, std::string>>();
}

long long SimProcess::package_requests() { return stat("package_requests"); }

long long SimProcess::most_in_flight() { return stat("most_in_flight"); }

long long SimProcess::stat(const std::string& name) {
  std::string body;
  http("GET", "http://127.0.0.1:" + std::to_string(port_) + "/_sim/stats", &body);
  return nlohmann::json::parse(body).at(name).get<long long>();
}

}  // namespace esim::testing
