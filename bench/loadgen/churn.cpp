// The churn scenario: connects plus joins per second, each connection closed once joined.

#include "harness.h"

#include "phoenixcodec.h"

#include <QJsonObject>

#include <sys/epoll.h>

#include <cstdio>
#include <memory>

namespace OmwBench {

namespace {

struct ChurnPlan
{
    Endpoint endpoint;
    std::string joinFrame;
    long firstAddress = 0;
    int sourceAddresses = 254;
    int concurrency = 256;
    double duration = 10;
};

class ChurnClient : public WsClient
{
public:
    ChurnClient(EventLoop *loop, const std::string *joinFrame)
        : WsClient(loop), m_joinFrame(joinFrame)
    {
    }

    enum class Outcome { Running, Joined, Failed };
    Outcome outcome = Outcome::Running;
    int64_t startNs = 0;
    int64_t joinedNs = 0;
    std::string reason;

protected:
    void opened(int64_t) override { sendText(*m_joinFrame); }
    void textReceived(const char *data, size_t size, int64_t readyNs) override
    {
        const std::string_view frame(data, size);
        if (outcome != Outcome::Running || frame.find("\"phx_reply\"") == std::string_view::npos)
            return;
        if (frame.rfind("\"status\":\"ok\"") != std::string_view::npos) {
            outcome = Outcome::Joined;
            joinedNs = readyNs;
        } else {
            outcome = Outcome::Failed;
            reason = "join:error";
        }
    }
    void closed() override
    {
        if (outcome == Outcome::Running) {
            outcome = Outcome::Failed;
            reason = failure();
        }
    }

private:
    const std::string *m_joinFrame;
};

int runChurnWorker(const ChurnPlan &plan, int channelFd)
{
    WsClient::initHandshakeKey();
    EventLoop loop;
    LineChannel channel(channelFd);
    loop.add(channelFd, EPOLLIN, &channel);
    std::vector<std::unique_ptr<ChurnClient>> clients;
    for (int i = 0; i < plan.concurrency; ++i)
        clients.push_back(std::make_unique<ChurnClient>(&loop, &plan.joinFrame));

    uint64_t completed = 0;
    long nextAddress = plan.firstAddress;
    std::map<std::string, uint64_t> failures;
    LatencyHistogram histogram;
    const double cpuBefore = ownCpuSeconds();
    const double waitBefore = ownRunQueueWaitSeconds();
    const int64_t start = monotonicNs();
    const int64_t end = start + int64_t(plan.duration * 1e9);
    auto launch = [&](ChurnClient &client) {
        client.outcome = ChurnClient::Outcome::Running;
        client.reason.clear();
        client.startNs = monotonicNs();
        if (!client.start(plan.endpoint, sourceAddress(nextAddress++, plan.sourceAddresses))) {
            client.outcome = ChurnClient::Outcome::Failed;
            client.reason = client.failure();
        }
    };
    for (auto &client : clients)
        launch(*client);
    int64_t now = monotonicNs();
    long running = long(clients.size());
    while (running > 0 && now < end + 5'000'000'000) {
        loop.runOnce(5'000'000);
        now = monotonicNs();
        running = 0;
        for (auto &client : clients) {
            if (client->outcome == ChurnClient::Outcome::Running) {
                if (client->state() != WsClient::State::Idle)
                    ++running;
                continue;
            }
            if (client->state() == WsClient::State::Idle)
                continue;
            if (client->outcome == ChurnClient::Outcome::Joined) {
                if (client->joinedNs <= end) {
                    ++completed;
                    histogram.add(client->joinedNs - client->startNs);
                }
            } else {
                ++failures[client->reason];
            }
            client->abort();
            if (now < end) {
                launch(*client);
                ++running;
            } else {
                client->outcome = ChurnClient::Outcome::Running;
                client->reason.clear();
                // Parked: state Closed and outcome Running is never launched again.
            }
        }
        if (now >= end) {
            // Count only what is still in progress.
            running = 0;
            for (auto &client : clients) {
                if (client->outcome == ChurnClient::Outcome::Running
                    && client->state() != WsClient::State::Closed)
                    ++running;
            }
        }
    }
    const double seconds = double(std::min(now, end) - start) / 1e9;
    channel.writeLine(
        "churndone completed=" + std::to_string(completed) + " seconds=" + std::to_string(seconds)
        + " cpu=" + std::to_string(ownCpuSeconds() - cpuBefore)
        + " wait=" + std::to_string(ownRunQueueWaitSeconds() - waitBefore)
        + " failures=" + serializeFailures(failures) + " histogram=" + histogram.serialize());
    // Wait for the driver's quit so that the server is measured before the sockets close.
    while (!channel.isClosed()) {
        loop.runOnce(50'000'000);
        while (channel.hasLine()) {
            if (channel.takeLine() == "quit")
                return 0;
        }
    }
    return 0;
}

} // namespace

int runChurn(const Options &options)
{
    const int processes = options.processes > 0 ? options.processes : 1;
    ServerProcess server;
    if (!startServer(options, server))
        return 2;
    pinToCpu(options.generatorCpu);
    WsClient::initHandshakeKey();
    EventLoop loop;
    const Endpoint endpoint = makeEndpoint(server.port());
    std::vector<Ride> rides;
    if (!createRides(loop, endpoint, 1, rides, nullptr))
        return 2;

    ChurnPlan plan;
    plan.endpoint = endpoint;
    plan.sourceAddresses = options.sourceAddresses;
    plan.concurrency = options.concurrency;
    plan.duration = options.duration;
    plan.joinFrame
        = Omw::Phoenix::encode({"1", "1", QString::fromStdString("following:" + rides[0].slug),
                                Omw::Phoenix::Event::join, QJsonObject {}},
                               Omw::Phoenix::Serializer::V2)
              .toStdString();

    const double serverCpuBefore = server.cpuSeconds();
    const double serverWaitBefore = server.runQueueWaitSeconds();
    WorkerSet workers;
    const bool started = workers.start(
        processes, options.generatorCpu,
        [&](int index, int channelFd) {
            ChurnPlan own = plan;
            own.firstAddress = long(index) * 1'000'003;
            return runChurnWorker(own, channelFd);
        },
        loop);
    if (!started)
        return 2;
    uint64_t completed = 0;
    double seconds = 0;
    double generatorCpu = 0;
    double generatorWait = 0;
    std::map<std::string, uint64_t> failures;
    LatencyHistogram histogram;
    for (const std::string &line : workers.collect(loop, "churndone", options.duration + 60)) {
        auto fields = parseFields(line);
        completed += std::stoull("0" + fields["completed"]);
        seconds = std::max(seconds, std::atof(fields["seconds"].c_str()));
        generatorCpu += std::atof(fields["cpu"].c_str());
        generatorWait += std::atof(fields["wait"].c_str());
        mergeFailures(fields["failures"], failures);
        LatencyHistogram part;
        if (part.deserialize(fields["histogram"]))
            histogram.merge(part);
    }
    const double serverCpu = server.cpuSeconds() - serverCpuBefore;
    const double serverWait = server.runQueueWaitSeconds() - serverWaitBefore;
    workers.broadcast("quit");
    workers.waitAll();
    server.stop();

    uint64_t failed = 0;
    for (const auto &[reason, count] : failures)
        failed += count;
    const double rate = seconds > 0 ? double(completed) / seconds : 0;
    QJsonObject json {
        {"scenario", "churn"},
        {"generator_processes", processes},
        {"concurrency_per_process", options.concurrency},
        {"duration_s", seconds},
        {"joins_completed", double(completed)},
        {"joins_per_s", rate},
        {"failed", double(failed)},
        {"failures", QString::fromStdString(serializeFailures(failures))},
        {"connect_to_join_p50_ms", double(histogram.quantileNs(0.5)) / 1e6},
        {"connect_to_join_p99_ms", double(histogram.quantileNs(0.99)) / 1e6},
        {"server_cpu_s", serverCpu},
        {"server_cpu_us_per_join", completed ? serverCpu * 1e6 / double(completed) : 0},
        {"server_cpu_load", seconds > 0 ? serverCpu / seconds : 0},
        {"server_runqueue_wait_s", serverWait},
        {"generator_cpu_s", generatorCpu},
        {"generator_runqueue_wait_s", generatorWait},
    };
    printJson(json);
    std::printf("churn: %.0f connects+joins per second over %.1f s (%llu completed, %llu failed%s"
                "%s); connect to join reply p50 %.2f ms p99 %.2f ms; server %.0f CPU-us per "
                "join, load %.2f, waited %.1f s for its CPU; generator load %.2f, waited %.1f s\n",
                rate, seconds, static_cast<unsigned long long>(completed),
                static_cast<unsigned long long>(failed), failed ? ": " : "",
                failed ? serializeFailures(failures).c_str() : "",
                double(histogram.quantileNs(0.5)) / 1e6, double(histogram.quantileNs(0.99)) / 1e6,
                completed ? serverCpu * 1e6 / double(completed) : 0,
                seconds > 0 ? serverCpu / seconds : 0, serverWait,
                seconds > 0 ? generatorCpu / seconds : 0, generatorWait);
    return completed > 0 ? 0 : 1;
}

} // namespace OmwBench
