// The idle scenario: server memory per idle follower connection, each count on a fresh server.

#include "followerworker.h"
#include "harness.h"

#include "phoenixcodec.h"

#include <QJsonArray>
#include <QJsonObject>

#include <unistd.h>

#include <cstdio>

namespace OmwBench {

int runIdle(const Options &options)
{
    int exitCode = 0;
    for (const int connections : options.connections) {
        const int processes = processesFor(options, connections);
        ServerProcess server;
        if (!startServer(options, server))
            return 2;
        pinToCpu(options.generatorCpu);
        WsClient::initHandshakeKey();
        EventLoop loop;
        const Endpoint endpoint = makeEndpoint(server.port());
        usleep(500'000);
        const long rssFresh = server.rssKiB();
        std::vector<Ride> rides;
        if (!createRides(loop, endpoint, 1, rides, nullptr))
            return 2;
        usleep(200'000);
        const long rssBefore = server.rssKiB();

        FollowerPlan plan;
        plan.endpoint = endpoint;
        plan.followersPerRide = connections;
        plan.sourceAddresses = options.sourceAddresses;
        plan.joinFrames.push_back(
            Omw::Phoenix::encode({"1", "1", QString::fromStdString("following:" + rides[0].slug),
                                  Omw::Phoenix::Event::join, QJsonObject {}},
                                 Omw::Phoenix::Serializer::V2)
                .toStdString());
        plan.heartbeatFrame
            = Omw::Phoenix::encode({QJsonValue::Null, "h", Omw::Phoenix::phoenixTopic,
                                    Omw::Phoenix::Event::heartbeat, QJsonObject {}},
                                   Omw::Phoenix::Serializer::V2)
                  .toStdString();

        WorkerSet workers;
        const bool started = workers.start(
            processes, options.generatorCpu,
            [&](int index, int channelFd) {
                FollowerPlan own = plan;
                own.firstIndex = long(connections) * index / processes;
                own.count = long(connections) * (index + 1) / processes - own.firstIndex;
                return runFollowerWorker(own, channelFd);
            },
            loop);
        if (!started)
            return 2;
        const int64_t joinStart = monotonicNs();
        long joined = 0;
        std::map<std::string, uint64_t> failures;
        for (const std::string &line : workers.collect(loop, "ready", 300)) {
            auto fields = parseFields(line);
            joined += std::atol(fields["joined"].c_str());
            mergeFailures(fields["failures"], failures);
        }
        const double joinSeconds = double(monotonicNs() - joinStart) / 1e9;
        runUntil(
            loop, [] { return false; }, options.settle);
        const long rssAfter = server.rssKiB();
        const double serverCpu = server.cpuSeconds();
        workers.broadcast("quit");
        workers.waitAll();
        server.stop();

        const double perConnection
            = joined > 0 ? double(rssAfter - rssBefore) * 1024.0 / double(joined) : 0;
        QJsonObject json {
            {"scenario", "idle"},
            {"connections_requested", connections},
            {"followers_joined", double(joined)},
            {"generator_processes", processes},
            {"join_s", joinSeconds},
            {"server_rss_fresh_kib", double(rssFresh)},
            {"server_rss_before_kib", double(rssBefore)},
            {"server_rss_after_kib", double(rssAfter)},
            {"server_rss_bytes_per_connection", perConnection},
            {"server_cpu_s_total", serverCpu},
            {"failures", QString::fromStdString(serializeFailures(failures))},
            {"limit_hit",
             QString::fromStdString(joined < connections ? limitHit(failures) : "none")},
        };
        printJson(json);
        std::printf("idle: %ld of %d followers joined in %.1f s; server RSS %ld KiB fresh, %ld "
                    "KiB with one ride, %ld KiB with the followers: %.0f bytes (%.1f KiB) per "
                    "idle follower%s%s\n",
                    joined, connections, joinSeconds, rssFresh, rssBefore, rssAfter, perConnection,
                    perConnection / 1024.0, joined < connections ? "; limit hit: " : "",
                    joined < connections ? limitHit(failures).c_str() : "");
        std::fflush(stdout);
        if (joined < connections)
            exitCode = 1;
    }
    return exitCode;
}

} // namespace OmwBench
