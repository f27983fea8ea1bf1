#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace OmwBench {

// The omw-server under test, started by the benchmark so that its CPU time and memory can be
// read from /proc and every run starts from a fresh process.
class ServerProcess
{
public:
    ServerProcess() = default;
    ~ServerProcess();
    ServerProcess(const ServerProcess &) = delete;
    ServerProcess &operator=(const ServerProcess &) = delete;

    // Starts `program --port 0 ARGS...` pinned to `cpu` (negative: not pinned) at `niceness`,
    // with stderr
    // written to `logPath`, and waits up to 15 s for the "listening on ws://ADDRESS:PORT/socket"
    // line. Returns false with errorString() set when it does not come.
    bool start(const std::string &program, const std::vector<std::string> &arguments, int cpu,
               int niceness, const std::string &logPath, const std::string &loggingRules);
    // Sends SIGTERM, waits up to 5 s, then SIGKILL.
    void stop();

    pid_t pid() const { return m_pid; }
    int port() const { return m_port; }
    const std::string &errorString() const { return m_errorString; }
    // Reaps the process when it has exited.
    bool isRunning();

    // utime + stime of the server in seconds, from /proc/PID/stat (10 ms resolution).
    double cpuSeconds() const;
    // Seconds the server was ready to run but waited for its CPU, from /proc/PID/schedstat:
    // the time other processes on the same core took from it.
    double runQueueWaitSeconds() const;
    // VmRSS of the server in KiB, from /proc/PID/status.
    long rssKiB() const;

private:
    pid_t m_pid = -1;
    int m_port = 0;
    std::string m_errorString;
};

// Pins the calling process to one CPU. Returns false when the CPU does not exist.
bool pinToCpu(int cpu);
// CPU seconds (user + system) used by the calling process so far.
double ownCpuSeconds();
// Seconds the calling process waited for a CPU while ready to run, from /proc/self/schedstat.
double ownRunQueueWaitSeconds();

} // namespace OmwBench
