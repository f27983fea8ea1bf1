#pragma once

#include <cstdint>

namespace OmwBench {

// Nanoseconds of CLOCK_MONOTONIC. The clock is shared by every process of the machine, so a
// send time written by one generator process compares with a receive time read in another.
int64_t monotonicNs();

// A single-threaded epoll loop. Handlers are registered per file descriptor and called with the
// ready events and the time at which epoll_wait returned, which is the receive time used for
// latency: it leaves out the generator's own work on the other sockets of the same batch.
class EventLoop
{
public:
    class Handler
    {
    public:
        virtual ~Handler() = default;
        virtual void handleEvents(uint32_t events, int64_t readyNs) = 0;
    };

    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop &) = delete;
    EventLoop &operator=(const EventLoop &) = delete;

    bool isValid() const { return m_epoll >= 0; }
    bool add(int fd, uint32_t events, Handler *handler);
    bool modify(int fd, uint32_t events, Handler *handler);
    void remove(int fd);

    // Waits at most `timeoutNs` (negative waits forever) and dispatches the ready events.
    // Returns the number of events dispatched.
    int runOnce(int64_t timeoutNs);

private:
    int m_epoll = -1;
};

} // namespace OmwBench
