#include "workload_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace damond::testing {

WorkloadProcess::WorkloadProcess(const std::vector<std::string>& args) {
    const char* exe = std::getenv("DAMOND_WORKLOAD");
    std::vector<std::string> argv{exe ? exe : "damond-workload"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);

    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    const int rc = posix_spawn(&pid_, cargv[0], &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    stdin_fd_ = in[1];
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);

    std::string line;
    char c;
    pollfd p{out[0], POLLIN, 0};
    while (poll(&p, 1, 10000) == 1 && read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    layout_ = nlohmann::json::parse(line);
}

WorkloadProcess::~WorkloadProcess() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        finish();
    }
}

AddrRange WorkloadProcess::area(const std::string& name) const {
    return AddrRange{layout_.at(name)[0].get<uint64_t>(), layout_.at(name)[1].get<uint64_t>()};
}

int WorkloadProcess::finish() {
    if (stdin_fd_ >= 0) close(stdin_fd_);
    stdin_fd_ = -1;
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, 0) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return -1;
}

uint64_t smaps_field(pid_t pid, uint64_t start, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
    std::string line;
    bool in_mapping = false;
    while (std::getline(in, line)) {
        const auto dash = line.find('-');
        if (dash != std::string::npos && line.find(' ') > dash && std::isxdigit(static_cast<unsigned char>(line[0]))) {
            in_mapping = std::stoull(line.substr(0, dash), nullptr, 16) == start;
            continue;
        }
        if (in_mapping && line.rfind(field + ":", 0) == 0) {
            std::istringstream v(line.substr(field.size() + 1));
            uint64_t kb = 0;
            v >> kb;
            return kb * 1024;
        }
    }
    return 0;
}

}  // namespace damond::testing
