#include "followerworker.h"

#include <sys/epoll.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace OmwBench {

namespace {

constexpr int64_t heartbeatIntervalNs = 25'000'000'000;
// A connection that has not joined this long after its connect started is given up, so that a
// server that stops accepting (at its own file cap, for example) cannot stall the run.
constexpr int64_t joinTimeoutNs = 10'000'000'000;

class FollowerWorker;

// One follower connection. It decodes nothing but the event name and the latitude of
// `NEW_COORDS` broadcasts: a JSON parser per frame would cost the generator more than the
// server spends sending the frame.
class Follower : public WsClient
{
public:
    Follower(EventLoop *loop, FollowerWorker *worker, int ride, bool slow)
        : WsClient(loop), m_worker(worker), m_ride(ride), m_slow(slow)
    {
    }

    int ride() const { return m_ride; }
    int64_t startNs = 0;
    bool isJoined() const { return m_joined; }
    bool isSettled() const { return m_joined || state() == State::Closed; }
    // Joined, connected and reading: the followers whose frames are counted.
    bool isLive() const { return m_joined && !m_slow && state() == State::Open; }
    bool isSlow() const { return m_slow; }
    int64_t highest() const { return m_highest; }
    uint64_t takeInOrder()
    {
        const uint64_t value = m_inOrder;
        m_inOrder = 0;
        return value;
    }

protected:
    void opened(int64_t readyNs) override;
    void textReceived(const char *data, size_t size, int64_t readyNs) override;
    void closed() override;

private:
    FollowerWorker *m_worker;
    int m_ride;
    bool m_slow;
    bool m_joined = false;
    int64_t m_highest = 0; // the warm-up point is sequence 0
    uint64_t m_inOrder = 0;
};

class FollowerWorker
{
public:
    FollowerWorker(const FollowerPlan &plan, int channelFd) : m_plan(plan), m_channel(channelFd) { }

    int run();

    const FollowerPlan &plan() const { return m_plan; }
    void joinSucceeded() { --m_inProgress; }
    void joinFailed(const std::string &reason)
    {
        --m_inProgress;
        ++m_failures["join:" + reason];
    }
    void connectionClosed(bool wasJoined, bool slow, const std::string &reason)
    {
        if (wasJoined && slow) {
            ++m_failures["slow:" + reason];
        } else if (wasJoined) {
            ++m_disconnected;
            ++m_failures["after-join:" + reason];
        } else {
            --m_inProgress;
            ++m_failures[reason];
        }
    }
    void pointReceived(Follower &follower, int64_t sequence, int64_t readyNs, bool inOrder,
                       bool gap)
    {
        ++m_received;
        if (!inOrder)
            ++m_reordered;
        if (gap)
            ++m_gaps;
        const int64_t sent = m_plan.table->sendTime(follower.ride(), sequence);
        if (sent > 0)
            m_histogram.add(readyNs - sent);
    }
    void otherFrame() { ++m_otherFrames; }

private:
    void openMore();
    void abandonStalled(int64_t now);
    void sendHeartbeats();
    std::string stepReport(int step, int64_t first, int64_t last);

    const FollowerPlan &m_plan;
    EventLoop m_loop;
    LineChannel m_channel;
    std::vector<std::unique_ptr<Follower>> m_followers;
    long m_nextToOpen = 0;
    long m_inProgress = 0;
    std::map<std::string, uint64_t> m_failures;
    uint64_t m_disconnected = 0;
    uint64_t m_received = 0;
    uint64_t m_reordered = 0;
    uint64_t m_gaps = 0;
    uint64_t m_otherFrames = 0;
    LatencyHistogram m_histogram;
};

void Follower::opened(int64_t)
{
    sendText(m_worker->plan().joinFrames[size_t(m_ride)]);
}

void Follower::textReceived(const char *data, size_t size, int64_t readyNs)
{
    const std::string_view frame(data, size);
    // The event is the fourth element of a V2 array. The topic before it is a slug of words,
    // so the quoted event name cannot occur earlier.
    if (frame.find("\"NEW_COORDS\"") != std::string_view::npos) {
        const size_t at = frame.find("\"latitude\":");
        if (at == std::string_view::npos) {
            m_worker->otherFrame();
            return;
        }
        const int64_t sequence = sequenceFromLatitude(std::strtod(data + at + 11, nullptr));
        const bool inOrder = sequence > m_highest;
        const bool gap = sequence > m_highest + 1;
        if (inOrder) {
            m_highest = sequence;
            ++m_inOrder;
        }
        m_worker->pointReceived(*this, sequence, readyNs, inOrder, gap);
        return;
    }
    if (!m_joined && frame.find("\"phx_reply\"") != std::string_view::npos) {
        if (frame.rfind("\"status\":\"ok\"") != std::string_view::npos) {
            m_joined = true;
            m_worker->joinSucceeded();
            if (m_slow)
                pauseReading();
            return;
        }
        std::string reason = "error";
        const size_t at = frame.find("\"reason\":\"");
        if (at != std::string_view::npos) {
            const size_t end = frame.find('"', at + 10);
            reason = std::string(frame.substr(at + 10, end - at - 10));
            for (char &c : reason) {
                if (c == ' ' || c == ',' || c == '#' || c == '=')
                    c = '_';
            }
        }
        abort();
        m_worker->joinFailed(reason);
        return;
    }
    m_worker->otherFrame();
}

void Follower::closed()
{
    m_worker->connectionClosed(m_joined, m_slow, failure());
}

void FollowerWorker::openMore()
{
    while (m_nextToOpen < m_plan.count && m_inProgress < m_plan.concurrency) {
        const long index = m_plan.firstIndex + m_nextToOpen++;
        const int ride = int(index / m_plan.followersPerRide);
        const bool slow = index % m_plan.followersPerRide < m_plan.slowPerRide;
        auto follower = std::make_unique<Follower>(&m_loop, this, ride, slow);
        follower->startNs = monotonicNs();
        ++m_inProgress;
        if (!follower->start(m_plan.endpoint, sourceAddress(index, m_plan.sourceAddresses))) {
            --m_inProgress;
            ++m_failures[follower->failure()];
            // Out of files or addresses: opening more would fail the same way.
            if (follower->failure().rfind("socket:", 0) == 0
                || follower->failure() == "connect:EADDRNOTAVAIL") {
                m_nextToOpen = m_plan.count;
            }
        }
        m_followers.push_back(std::move(follower));
    }
}

void FollowerWorker::abandonStalled(int64_t now)
{
    static const char *const stateNames[] = {"idle", "connect", "handshake", "join", "closed"};
    for (auto &follower : m_followers) {
        if (follower->isSettled() || now - follower->startNs < joinTimeoutNs)
            continue;
        const std::string reason
            = std::string("timeout:") + stateNames[static_cast<int>(follower->state())];
        follower->abort();
        --m_inProgress;
        ++m_failures[reason];
    }
}

void FollowerWorker::sendHeartbeats()
{
    for (auto &follower : m_followers) {
        if (follower->state() == WsClient::State::Open)
            follower->sendText(m_plan.heartbeatFrame);
    }
}

std::string FollowerWorker::stepReport(int step, int64_t first, int64_t last)
{
    uint64_t lost = 0;
    uint64_t live = 0;
    const uint64_t expected = uint64_t(last - first + 1);
    for (auto &follower : m_followers) {
        const uint64_t inOrder = follower->takeInOrder();
        if (!follower->isLive())
            continue;
        ++live;
        if (inOrder < expected)
            lost += expected - inOrder;
    }
    std::string line = "stepdone step=" + std::to_string(step) + " live=" + std::to_string(live)
        + " received=" + std::to_string(m_received) + " lost=" + std::to_string(lost)
        + " gaps=" + std::to_string(m_gaps) + " reordered=" + std::to_string(m_reordered)
        + " disconnected=" + std::to_string(m_disconnected)
        + " other=" + std::to_string(m_otherFrames) + " cpu=" + std::to_string(ownCpuSeconds())
        + " wait=" + std::to_string(ownRunQueueWaitSeconds())
        + " failures=" + serializeFailures(m_failures) + " histogram=" + m_histogram.serialize();
    m_received = m_reordered = m_gaps = m_disconnected = m_otherFrames = 0;
    m_histogram.clear();
    return line;
}

int FollowerWorker::run()
{
    if (!m_loop.isValid())
        return 2;
    m_loop.add(m_channel.fd(), EPOLLIN, &m_channel);
    m_followers.reserve(size_t(m_plan.count));

    openMore();
    int64_t nextStallCheck = monotonicNs() + 500'000'000;
    while (m_inProgress > 0 || m_nextToOpen < m_plan.count) {
        m_loop.runOnce(10'000'000);
        const int64_t now = monotonicNs();
        if (now >= nextStallCheck) {
            abandonStalled(now);
            nextStallCheck = now + 500'000'000;
        }
        openMore();
        if (m_channel.isClosed())
            return 1;
    }
    long joined = 0;
    for (auto &follower : m_followers)
        joined += follower->isJoined() && follower->state() == WsClient::State::Open ? 1 : 0;
    m_channel.writeLine("ready joined=" + std::to_string(joined)
                        + " failed=" + std::to_string(m_plan.count - joined)
                        + " cpu=" + std::to_string(ownCpuSeconds())
                        + " wait=" + std::to_string(ownRunQueueWaitSeconds())
                        + " failures=" + serializeFailures(m_failures));
    m_failures.clear();
    m_received = m_otherFrames = 0;
    m_histogram.clear();

    int64_t nextHeartbeat = monotonicNs() + heartbeatIntervalNs;
    int step = -1;
    int64_t first = 0;
    int64_t last = 0;
    int64_t drainDeadline = 0;
    for (;;) {
        m_loop.runOnce(20'000'000);
        const int64_t now = monotonicNs();
        if (now >= nextHeartbeat) {
            sendHeartbeats();
            nextHeartbeat = now + heartbeatIntervalNs;
        }
        if (m_channel.isClosed())
            return 0;
        while (step < 0 && m_channel.hasLine()) {
            const std::string line = m_channel.takeLine();
            if (line == "quit")
                return 0;
            int parsedStep = 0;
            long long parsedFirst = 0;
            long long parsedLast = 0;
            if (std::sscanf(line.c_str(), "step %d %lld %lld", &parsedStep, &parsedFirst,
                            &parsedLast)
                == 3) {
                step = parsedStep;
                first = parsedFirst;
                last = parsedLast;
                drainDeadline = now + int64_t(m_plan.drainTimeout * 1e9);
            }
        }
        if (step >= 0) {
            bool drained = true;
            for (auto &follower : m_followers) {
                if (follower->isLive() && follower->highest() < last) {
                    drained = false;
                    break;
                }
            }
            if (drained || now >= drainDeadline) {
                m_channel.writeLine(stepReport(step, first, last));
                step = -1;
            }
        }
    }
}

} // namespace

int runFollowerWorker(const FollowerPlan &plan, int channelFd)
{
    WsClient::initHandshakeKey();
    FollowerWorker worker(plan, channelFd);
    return worker.run();
}

} // namespace OmwBench
