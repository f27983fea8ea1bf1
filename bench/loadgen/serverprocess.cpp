#include "serverprocess.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace OmwBench {

bool pinToCpu(int cpu)
{
    if (cpu < 0)
        return true;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0;
}

double ownCpuSeconds()
{
    rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

namespace {

double schedstatWaitSeconds(const std::string &path)
{
    std::ifstream schedstat(path);
    unsigned long long runNs = 0;
    unsigned long long waitNs = 0;
    if (!(schedstat >> runNs >> waitNs))
        return -1;
    return double(waitNs) / 1e9;
}

} // namespace

double ownRunQueueWaitSeconds()
{
    return schedstatWaitSeconds("/proc/self/schedstat");
}

ServerProcess::~ServerProcess()
{
    stop();
}

bool ServerProcess::start(const std::string &program, const std::vector<std::string> &arguments,
                          int cpu, int niceness, const std::string &logPath,
                          const std::string &loggingRules)
{
    const int logFd = open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logFd < 0) {
        m_errorString = "cannot open the server log " + logPath + ": " + std::strerror(errno);
        return false;
    }
    std::vector<std::string> argv = {program, "--port", "0"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());

    m_pid = fork();
    if (m_pid < 0) {
        m_errorString = std::string("fork failed: ") + std::strerror(errno);
        close(logFd);
        return false;
    }
    if (m_pid == 0) {
        pinToCpu(cpu);
        // The server gets every file descriptor the hard limit allows, whatever the
        // generator's own soft limit.
        rlimit files {};
        if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
            files.rlim_cur = files.rlim_max;
            setrlimit(RLIMIT_NOFILE, &files);
        }
        if (niceness != 0 && setpriority(PRIO_PROCESS, 0, niceness) != 0)
            std::fprintf(stderr, "omw-bench: cannot set niceness %d: %s\n", niceness,
                         std::strerror(errno));
        dup2(logFd, STDERR_FILENO);
        dup2(logFd, STDOUT_FILENO);
        if (!loggingRules.empty())
            setenv("QT_LOGGING_RULES", loggingRules.c_str(), 1);
        std::vector<char *> pointers;
        for (auto &argument : argv)
            pointers.push_back(argument.data());
        pointers.push_back(nullptr);
        execv(program.c_str(), pointers.data());
        std::fprintf(stderr, "omw-bench: cannot run %s: %s\n", program.c_str(),
                     std::strerror(errno));
        _exit(127);
    }
    close(logFd);

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    const std::string marker = "listening on ws://";
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream log(logPath);
        std::string line;
        while (std::getline(log, line)) {
            const size_t at = line.find(marker);
            if (at == std::string::npos)
                continue;
            const size_t slash = line.find("/socket", at + marker.size());
            const size_t colon = line.rfind(':', slash);
            if (slash == std::string::npos || colon == std::string::npos || colon < at)
                continue;
            m_port = std::atoi(line.c_str() + colon + 1);
            if (m_port > 0)
                return true;
        }
        if (!isRunning()) {
            m_errorString = "the server exited before listening; see " + logPath;
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    m_errorString = "the server logged no \"listening on\" line within 15 s; see " + logPath;
    stop();
    return false;
}

bool ServerProcess::isRunning()
{
    if (m_pid <= 0)
        return false;
    int status = 0;
    if (waitpid(m_pid, &status, WNOHANG) == 0)
        return true;
    m_pid = -1;
    return false;
}

void ServerProcess::stop()
{
    if (m_pid <= 0)
        return;
    kill(m_pid, SIGTERM);
    for (int i = 0; i < 250; ++i) {
        int status = 0;
        if (waitpid(m_pid, &status, WNOHANG) != 0) {
            m_pid = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(m_pid, SIGKILL);
    waitpid(m_pid, nullptr, 0);
    m_pid = -1;
}

double ServerProcess::cpuSeconds() const
{
    std::ifstream stat("/proc/" + std::to_string(m_pid) + "/stat");
    std::string text;
    std::getline(stat, text);
    // The command name in parentheses may contain spaces: fields are counted after the last ')'.
    const size_t close = text.rfind(')');
    if (close == std::string::npos)
        return -1;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    // Field 3 of the stat line is the state; utime and stime are fields 14 and 15.
    for (int index = 3; index <= 15 && fields >> field; ++index) {
        if (index == 14)
            utime = std::stoull(field);
        else if (index == 15)
            stime = std::stoull(field);
    }
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

double ServerProcess::runQueueWaitSeconds() const
{
    return schedstatWaitSeconds("/proc/" + std::to_string(m_pid) + "/schedstat");
}

long ServerProcess::rssKiB() const
{
    std::ifstream status("/proc/" + std::to_string(m_pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            return std::atol(line.c_str() + 6);
    }
    return -1;
}

} // namespace OmwBench
