#pragma once

#include "eventloop.h"
#include "latencyhistogram.h"
#include "serverprocess.h"
#include "wsclient.h"

#include "phoenixmessage.h"

#include <QJsonObject>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace OmwBench {

// Command-line settings shared by every scenario.
struct Options
{
    std::string scenario;
    std::string serverProgram;
    std::vector<std::string> serverArguments; // after the defaults that lift the limits
    std::string serverLog = "/tmp/omw-bench-server.log";
    std::string serverLoggingRules = "*.debug=false;omw.*.info=false;omw.server.info=true";
    int serverCpu = 1;
    int generatorCpu = 0;
    int niceness = 0; // applied to the server and the generator; negative favours them
    int processes = 0; // 0: one per 15,000 connections
    int sourceAddresses = 254; // 127.0.0.2 upwards
    int rides = 1;
    int followers = 1000; // per ride
    std::vector<double> rates = {10};
    double duration = 30; // seconds of sending per rate step
    double drainTimeout = 5; // seconds to wait for the last frames of a step
    double p99Limit = 100; // milliseconds, saturation: the highest rate kept stays under it
    bool keepGoing = false; // saturation: run every step even after one fails
    std::vector<int> connections = {1000}; // idle
    double settle = 3; // idle: seconds between the last join and the RSS reading
    int concurrency = 256; // churn: connections in progress per generator process
    int slowFollowers = 0; // fanout: followers per ride that stop reading once joined
};

// The server options every benchmark run passes, so that the server's abuse limits do not
// throttle the generator: connections up to the per-process file cap, no rate limits that one
// generator connection per ride would hit.
std::vector<std::string> defaultServerArguments();

// Source addresses 127.0.0.2 to 127.0.0.(1 + count), so that each address has its own range of
// ephemeral ports.
in_addr sourceAddress(long index, int count);

// One line-based control channel between the driver and a generator process, over a
// socketpair. Lines are short and rare; writes block.
class LineChannel : public EventLoop::Handler
{
public:
    explicit LineChannel(int fd) : m_fd(fd) { }
    ~LineChannel() override;

    int fd() const { return m_fd; }
    void writeLine(const std::string &line);
    bool hasLine() const { return !m_lines.empty(); }
    std::string takeLine();
    bool isClosed() const { return m_closed; }

    void handleEvents(uint32_t events, int64_t readyNs) override;

private:
    int m_fd;
    std::string m_buffer;
    std::deque<std::string> m_lines;
    bool m_closed = false;
};

// Send times of every point, written by the rider and read by the followers, in memory shared
// by the driver and its generator processes. Indexed by ride and sequence number; the sequence
// number travels in the point's latitude (see pointLatitude), and the timestamp field keeps the
// send time in epoch milliseconds as a rider would send it.
class SendTable
{
public:
    SendTable(int rides, int64_t sequences);
    ~SendTable();
    SendTable(const SendTable &) = delete;
    SendTable &operator=(const SendTable &) = delete;

    bool isValid() const { return m_times != nullptr; }
    int64_t sequences() const { return m_sequences; }
    void setSendTime(int ride, int64_t sequence, int64_t ns)
    {
        m_times[size_t(ride) * size_t(m_sequences) + size_t(sequence)].store(
            ns, std::memory_order_release);
    }
    int64_t sendTime(int ride, int64_t sequence) const
    {
        if (sequence < 0 || sequence >= m_sequences)
            return 0;
        return m_times[size_t(ride) * size_t(m_sequences) + size_t(sequence)].load(
            std::memory_order_acquire);
    }

private:
    std::atomic<int64_t> *m_times = nullptr;
    size_t m_bytes = 0;
    int64_t m_sequences = 0;
};

// Latitude that carries a point's sequence number: 10° north plus 1e-5° per point. The server
// relays numbers with their shortest round-trip form, so the follower recovers the sequence
// exactly.
double pointLatitude(int64_t sequence);
int64_t sequenceFromLatitude(double latitude);

// A client of the driver (riders and their onboarding), with full decoding of every frame by
// the project codec. Only a few of these exist per run, so their cost does not matter.
class PhoenixClient : public WsClient
{
public:
    using WsClient::WsClient;

    void send(const Omw::Phoenix::Message &message);
    std::deque<Omw::Phoenix::Message> &received() { return m_received; }
    std::function<void(const Omw::Phoenix::Message &)> onMessage; // takes messages when set

protected:
    void textReceived(const char *data, size_t size, int64_t readyNs) override;

private:
    std::deque<Omw::Phoenix::Message> m_received;
};

// A ride created through `CREATE_SESSION` and joined by its rider with the token.
struct Ride
{
    std::unique_ptr<PhoenixClient> rider;
    std::string slug;
    int64_t nextRef = 10;
    uint64_t accepted = 0;
    uint64_t pending = 0;
    std::map<std::string, uint64_t> rejected; // by reason
};

// Runs the loop until `done` returns true or `timeoutSeconds` pass. Returns `done()`.
bool runUntil(EventLoop &loop, const std::function<bool()> &done, double timeoutSeconds);

// Creates `count` rides, each on its own rider connection, and sends each one warm-up point
// (sequence 0) so that the rides are live before followers join. Prints the failure and returns
// false when any step fails.
bool createRides(EventLoop &loop, const Endpoint &endpoint, int count, std::vector<Ride> &rides,
                 SendTable *table);
// Sends point `sequence` of ride `index` and records its send time.
void sendPoint(Ride &ride, int index, int64_t sequence, SendTable *table);

// Generator processes forked by the driver, each pinned to the generator CPU and holding one
// end of a LineChannel.
class WorkerSet
{
public:
    ~WorkerSet();
    // Forks `count` processes that run `body(index, channelFd)` and exit with its result.
    bool start(int count, int cpu, const std::function<int(int, int)> &body, EventLoop &loop);
    std::vector<std::unique_ptr<LineChannel>> &channels() { return m_channels; }
    void broadcast(const std::string &line);
    // Runs the loop until every process sent one line starting with `prefix`; returns them.
    std::vector<std::string> collect(EventLoop &loop, const std::string &prefix,
                                     double timeoutSeconds);
    void waitAll();

private:
    std::vector<pid_t> m_pids;
    std::vector<std::unique_ptr<LineChannel>> m_channels;
};

// Key=value tokens of a line sent by a generator process.
std::map<std::string, std::string> parseFields(const std::string &line);
// Adds "reason=count" pairs of a "failures" field into `into`.
void mergeFailures(const std::string &field, std::map<std::string, uint64_t> &into);
std::string serializeFailures(const std::map<std::string, uint64_t> &failures);

// The failure that stopped connections from being opened, named for the report: the most
// frequent failure reason, or "none".
std::string limitHit(const std::map<std::string, uint64_t> &failures);

Endpoint makeEndpoint(int port);
// The server's GET /metrics text, or an empty string when the request fails (5 s timeout).
std::string fetchMetrics(int port);
// The value of an unlabelled sample `name` in Prometheus text, or -1 when it is absent.
double metricValue(const std::string &metrics, const std::string &name);
int processesFor(const Options &options, long connections);
bool startServer(const Options &options, ServerProcess &server);
// Prints one compact JSON line on stdout.
void printJson(const QJsonObject &object);

int runFanout(const Options &options, bool saturation);
int runIdle(const Options &options);
int runChurn(const Options &options);

} // namespace OmwBench
