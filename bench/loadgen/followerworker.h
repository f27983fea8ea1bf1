#pragma once

#include "harness.h"

#include <string>
#include <vector>

namespace OmwBench {

// What one generator process of the fan-out, saturation and idle scenarios does: open
// `count` follower connections (global indexes from `firstIndex`), each joining the
// `following:` topic of its ride, and then handle the driver's commands on the control
// channel:
//   "step K FIRST LAST" waits until every joined follower has point LAST (or the drain timeout
//   passes) and replies "stepdone K ..." with the step's counters and latency histogram;
//   "quit" ends the process.
// It replies "ready ..." once every connection has joined or failed.
struct FollowerPlan
{
    Endpoint endpoint;
    std::vector<std::string> joinFrames; // one per ride
    std::string heartbeatFrame;
    int followersPerRide = 0;
    long firstIndex = 0;
    long count = 0;
    int sourceAddresses = 254;
    int concurrency = 512; // connections being opened at once
    int slowPerRide = 0; // followers of each ride that stop reading once joined
    double drainTimeout = 5;
    const SendTable *table = nullptr;
};

int runFollowerWorker(const FollowerPlan &plan, int channelFd);

} // namespace OmwBench
