// The fan-out and saturation scenarios: riders send points at a fixed rate, followers in
// generator processes measure what arrives.

#include "followerworker.h"
#include "harness.h"

#include "phoenixcodec.h"

#include <QJsonArray>
#include <QJsonObject>

#include <cmath>
#include <cstdio>

namespace OmwBench {

namespace {

std::string encodeFrame(const Omw::Phoenix::Message &message)
{
    return Omw::Phoenix::encode(message, Omw::Phoenix::Serializer::V2).toStdString();
}

struct StepResult
{
    double rate = 0;
    double sendSeconds = 0;
    double deliverySeconds = 0; // first send to the last frame of the step, or the drain timeout
    uint64_t pointsSent = 0;
    uint64_t rejected = 0;
    uint64_t delivered = 0;
    uint64_t lost = 0;
    uint64_t gaps = 0;
    uint64_t reordered = 0;
    uint64_t disconnected = 0;
    uint64_t live = 0;
    double serverCpu = 0;
    double serverWait = 0;
    double generatorCpu = 0;
    double generatorWait = 0; // seconds the generator processes waited for their CPU
    LatencyHistogram histogram;
    std::map<std::string, uint64_t> failures;

    double deliveredPerSecond() const
    {
        const double seconds = std::max(sendSeconds, deliverySeconds);
        return seconds > 0 ? double(delivered) / seconds : 0;
    }
    double p50Ms() const { return double(histogram.quantileNs(0.50)) / 1e6; }
    double p99Ms() const { return double(histogram.quantileNs(0.99)) / 1e6; }
    double maxMs() const { return double(histogram.maxNs()) / 1e6; }
    double cpuPerMillion() const { return delivered ? serverCpu / (double(delivered) / 1e6) : 0; }
    QJsonObject toJson() const
    {
        return QJsonObject {
            {"rate_hz", rate},
            {"send_s", sendSeconds},
            {"points_sent", double(pointsSent)},
            {"points_rejected", double(rejected)},
            {"frames_delivered", double(delivered)},
            {"delivery_s", deliverySeconds},
            {"delivered_per_s", deliveredPerSecond()},
            {"latency_p50_ms", p50Ms()},
            {"latency_p99_ms", p99Ms()},
            {"latency_max_ms", maxMs()},
            {"server_cpu_s", serverCpu},
            {"server_cpu_s_per_million", cpuPerMillion()},
            {"server_cpu_load", sendSeconds > 0 ? serverCpu / sendSeconds : 0},
            {"server_runqueue_wait_s", serverWait},
            {"generator_cpu_s", generatorCpu},
            {"generator_runqueue_wait_s", generatorWait},
            {"lost", double(lost)},
            {"gaps", double(gaps)},
            {"reordered", double(reordered)},
            {"disconnected", double(disconnected)},
            {"live_followers", double(live)},
            {"disconnect_reasons", QString::fromStdString(serializeFailures(failures))},
        };
    }
};

} // namespace

int runFanout(const Options &options, bool saturation)
{
    const long total = long(options.rides) * options.followers;
    const int processes = processesFor(options, total);
    std::vector<int64_t> pointsPerStep;
    int64_t sequences = 2;
    for (const double rate : options.rates) {
        pointsPerStep.push_back(std::max<int64_t>(1, std::llround(rate * options.duration)));
        sequences += pointsPerStep.back();
    }

    SendTable table(options.rides, sequences);
    if (!table.isValid()) {
        std::fprintf(stderr, "omw-bench: cannot map the send-time table\n");
        return 2;
    }
    ServerProcess server;
    if (!startServer(options, server))
        return 2;
    pinToCpu(options.generatorCpu);
    WsClient::initHandshakeKey();
    EventLoop loop;
    const Endpoint endpoint = makeEndpoint(server.port());
    std::vector<Ride> rides;
    if (!createRides(loop, endpoint, options.rides, rides, &table))
        return 2;

    FollowerPlan plan;
    plan.endpoint = endpoint;
    plan.followersPerRide = options.followers;
    plan.sourceAddresses = options.sourceAddresses;
    plan.drainTimeout = options.drainTimeout;
    plan.slowPerRide = options.slowFollowers;
    plan.table = &table;
    for (const Ride &ride : rides) {
        plan.joinFrames.push_back(
            encodeFrame({"1", "1", QString::fromStdString("following:" + ride.slug),
                         Omw::Phoenix::Event::join, QJsonObject {}}));
    }
    plan.heartbeatFrame = encodeFrame({QJsonValue::Null, "h", Omw::Phoenix::phoenixTopic,
                                       Omw::Phoenix::Event::heartbeat, QJsonObject {}});

    WorkerSet workers;
    const bool started = workers.start(
        processes, options.generatorCpu,
        [&](int index, int channelFd) {
            FollowerPlan own = plan;
            own.firstIndex = total * index / processes;
            own.count = total * (index + 1) / processes - own.firstIndex;
            return runFollowerWorker(own, channelFd);
        },
        loop);
    if (!started)
        return 2;

    const int64_t joinStart = monotonicNs();
    long joined = 0;
    std::map<std::string, uint64_t> joinFailures;
    double generatorCpu = 0;
    double generatorWait = 0;
    for (const std::string &line : workers.collect(loop, "ready", 300)) {
        auto fields = parseFields(line);
        joined += std::atol(fields["joined"].c_str());
        generatorCpu += std::atof(fields["cpu"].c_str());
        generatorWait += std::atof(fields["wait"].c_str());
        mergeFailures(fields["failures"], joinFailures);
    }
    const double joinSeconds = double(monotonicNs() - joinStart) / 1e9;
    std::fprintf(stderr, "omw-bench: %ld of %ld followers joined in %.1f s over %d processes%s%s\n",
                 joined, total, joinSeconds, processes, joinFailures.empty() ? "" : "; failures ",
                 joinFailures.empty() ? "" : serializeFailures(joinFailures).c_str());

    std::vector<StepResult> results;
    int64_t nextSequence = 1;
    std::string stopReason = "all steps done";
    for (size_t step = 0; step < options.rates.size() && joined > 0; ++step) {
        StepResult result;
        result.rate = options.rates[step];
        uint64_t rejectedBefore = 0;
        for (const Ride &ride : rides) {
            for (const auto &[reason, count] : ride.rejected)
                rejectedBefore += count;
        }
        const double serverCpuBefore = server.cpuSeconds();
        const double serverWaitBefore = server.runQueueWaitSeconds();
        const double driverCpuBefore = ownCpuSeconds();
        const double driverWaitBefore = ownRunQueueWaitSeconds();
        const int64_t first = nextSequence;
        const int64_t count = pointsPerStep[step];
        const int64_t periodNs = int64_t(1e9 / result.rate);
        const int64_t start = monotonicNs();
        // Point k of ride r is due at start + (k + r / rides) periods: the rides are spread
        // evenly over each period instead of sending together.
        const int64_t slotCount = count * options.rides;
        for (int64_t slot = 0; slot < slotCount;) {
            const int64_t k = slot / options.rides;
            const int r = int(slot % options.rides);
            const int64_t due = start + k * periodNs + periodNs * r / options.rides;
            const int64_t now = monotonicNs();
            if (now < due) {
                loop.runOnce(due - now);
                continue;
            }
            sendPoint(rides[size_t(r)], r, first + k, &table);
            ++slot;
        }
        // Nominal length of the step: the points were due over count periods.
        result.sendSeconds = double(count) / result.rate;
        result.pointsSent = uint64_t(slotCount);
        const int64_t last = first + count - 1;
        nextSequence = last + 1;

        workers.broadcast("step " + std::to_string(step) + " " + std::to_string(first) + " "
                          + std::to_string(last));
        const auto lines = workers.collect(loop, "stepdone", options.drainTimeout + 60);
        result.deliverySeconds = double(monotonicNs() - start) / 1e9;
        runUntil(
            loop,
            [&] {
                for (const Ride &ride : rides) {
                    if (ride.pending > 0 && ride.rider->state() == WsClient::State::Open)
                        return false;
                }
                return true;
            },
            5);
        result.serverCpu = server.cpuSeconds() - serverCpuBefore;
        result.serverWait = server.runQueueWaitSeconds() - serverWaitBefore;
        double workerCpu = 0;
        double workerWait = 0;
        for (const std::string &line : lines) {
            auto fields = parseFields(line);
            result.live += std::stoull("0" + fields["live"]);
            result.delivered += std::stoull("0" + fields["received"]);
            result.lost += std::stoull("0" + fields["lost"]);
            result.gaps += std::stoull("0" + fields["gaps"]);
            result.reordered += std::stoull("0" + fields["reordered"]);
            result.disconnected += std::stoull("0" + fields["disconnected"]);
            workerCpu += std::atof(fields["cpu"].c_str());
            workerWait += std::atof(fields["wait"].c_str());
            mergeFailures(fields["failures"], result.failures);
            LatencyHistogram histogram;
            if (histogram.deserialize(fields["histogram"]))
                result.histogram.merge(histogram);
        }
        result.generatorCpu = workerCpu - generatorCpu + (ownCpuSeconds() - driverCpuBefore);
        generatorCpu = workerCpu;
        result.generatorWait
            = workerWait - generatorWait + (ownRunQueueWaitSeconds() - driverWaitBefore);
        generatorWait = workerWait;
        uint64_t rejectedAfter = 0;
        for (const Ride &ride : rides) {
            for (const auto &[reason, rejectedCount] : ride.rejected)
                rejectedAfter += rejectedCount;
        }
        result.rejected = rejectedAfter - rejectedBefore;
        // A rejected point is never broadcast, so it is no follower's loss.
        const uint64_t notBroadcast
            = result.rejected * uint64_t(options.followers - options.slowFollowers);
        result.lost = result.lost > notBroadcast ? result.lost - notBroadcast : 0;
        results.push_back(result);

        if (saturation) {
            std::printf("saturation step: %.0f Hz x %ld followers: %.0f frames/s, latency p50 "
                        "%.2f ms p99 %.2f ms max %.2f ms, server %.2f CPU-s/M frames (load "
                        "%.2f), lost %llu, disconnected %llu, rejected %llu\n",
                        result.rate, total, result.deliveredPerSecond(), result.p50Ms(),
                        result.p99Ms(), result.maxMs(), result.cpuPerMillion(),
                        result.serverCpu / result.sendSeconds,
                        static_cast<unsigned long long>(result.lost),
                        static_cast<unsigned long long>(result.disconnected),
                        static_cast<unsigned long long>(result.rejected));
            std::fflush(stdout);
            const bool overLimit = result.p99Ms() >= options.p99Limit;
            const bool lostFrames
                = result.lost > 0 || result.disconnected > 0 || result.rejected > 0;
            if ((overLimit || lostFrames) && stopReason == "all steps done")
                stopReason = overLimit ? "p99 over the limit" : "frames lost";
            if ((overLimit || lostFrames) && !options.keepGoing)
                break;
        }
    }
    const std::string metrics = fetchMetrics(server.port());
    workers.broadcast("quit");
    workers.waitAll();
    const long serverRss = server.rssKiB();
    server.stop();

    QJsonArray serverArguments;
    for (const auto &argument : defaultServerArguments())
        serverArguments.append(QString::fromStdString(argument));
    for (const auto &argument : options.serverArguments)
        serverArguments.append(QString::fromStdString(argument));
    QJsonObject json {
        {"scenario", saturation ? "saturation" : "fanout"},
        {"rides", options.rides},
        {"followers_per_ride", options.followers},
        {"followers_joined", double(joined)},
        {"join_s", joinSeconds},
        {"generator_processes", processes},
        {"join_failures", QString::fromStdString(serializeFailures(joinFailures))},
        {"limit_hit", QString::fromStdString(joined < total ? limitHit(joinFailures) : "none")},
        {"server_rss_kib_at_end", double(serverRss)},
        {"slow_followers", double(options.rides) * options.slowFollowers},
        {"server_slow_followers_disconnected",
         metricValue(metrics, "omw_slow_followers_disconnected_total")},
        {"server_arguments", serverArguments},
    };
    if (joined == 0) {
        printJson(json);
        std::printf("%s: no follower joined (%s)\n", saturation ? "saturation" : "fanout",
                    serializeFailures(joinFailures).c_str());
        return 1;
    }

    if (!saturation) {
        const StepResult &result = results.front();
        const QJsonObject step = result.toJson();
        for (auto it = step.begin(); it != step.end(); ++it)
            json.insert(it.key(), it.value());
        printJson(json);
        std::printf("fanout: %d ride(s) x %d followers at %.0f Hz for %.0f s: %.0f frames/s "
                    "delivered, latency p50 %.2f ms p99 %.2f ms max %.2f ms, server %.2f "
                    "CPU-s per million frames, lost %llu, gaps %llu, reordered %llu, "
                    "disconnected %llu, rejected %llu\n",
                    options.rides, options.followers, result.rate, result.sendSeconds,
                    result.deliveredPerSecond(), result.p50Ms(), result.p99Ms(), result.maxMs(),
                    result.cpuPerMillion(), static_cast<unsigned long long>(result.lost),
                    static_cast<unsigned long long>(result.gaps),
                    static_cast<unsigned long long>(result.reordered),
                    static_cast<unsigned long long>(result.disconnected),
                    static_cast<unsigned long long>(result.rejected));
        const bool clean = result.lost == 0 && result.gaps == 0 && result.reordered == 0
            && result.disconnected == 0 && result.rejected == 0 && joined == total;
        return clean ? 0 : 1;
    }

    QJsonArray steps;
    double highestKept = 0;
    bool allKeptSoFar = true;
    for (const StepResult &result : results) {
        steps.append(result.toJson());
        const bool kept = result.p99Ms() < options.p99Limit && result.lost == 0
            && result.disconnected == 0 && result.rejected == 0;
        allKeptSoFar = allKeptSoFar && kept;
        if (allKeptSoFar)
            highestKept = result.rate;
    }
    json.insert("steps", steps);
    json.insert("p99_limit_ms", options.p99Limit);
    json.insert("highest_rate_kept_hz", highestKept);
    json.insert("stopped_because", QString::fromStdString(stopReason));
    printJson(json);
    std::printf("saturation: %ld followers, highest rider rate kept with p99 under %.0f ms and "
                "nothing lost: %.0f Hz (%.0f frames/s); stopped: %s\n",
                total, options.p99Limit, highestKept, highestKept * double(total),
                stopReason.c_str());
    return highestKept > 0 ? 0 : 1;
}

} // namespace OmwBench
