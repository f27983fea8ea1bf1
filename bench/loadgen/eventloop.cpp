#include "eventloop.h"

#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace OmwBench {

namespace {
constexpr int maxEventsPerWait = 4096;
}

int64_t monotonicNs()
{
    timespec now {};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

EventLoop::EventLoop() : m_epoll(epoll_create1(EPOLL_CLOEXEC)) { }

EventLoop::~EventLoop()
{
    if (m_epoll >= 0)
        close(m_epoll);
}

bool EventLoop::add(int fd, uint32_t events, Handler *handler)
{
    epoll_event event {};
    event.events = events;
    event.data.ptr = handler;
    return epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event) == 0;
}

bool EventLoop::modify(int fd, uint32_t events, Handler *handler)
{
    epoll_event event {};
    event.events = events;
    event.data.ptr = handler;
    return epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &event) == 0;
}

void EventLoop::remove(int fd)
{
    epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
}

int EventLoop::runOnce(int64_t timeoutNs)
{
    static epoll_event events[maxEventsPerWait];
    timespec timeout {};
    timespec *timeoutPointer = nullptr;
    if (timeoutNs >= 0) {
        timeout.tv_sec = timeoutNs / 1'000'000'000;
        timeout.tv_nsec = timeoutNs % 1'000'000'000;
        timeoutPointer = &timeout;
    }
    const int count = epoll_pwait2(m_epoll, events, maxEventsPerWait, timeoutPointer, nullptr);
    if (count <= 0)
        return 0;
    const int64_t readyNs = monotonicNs();
    for (int i = 0; i < count; ++i)
        static_cast<Handler *>(events[i].data.ptr)->handleEvents(events[i].events, readyNs);
    return count;
}

} // namespace OmwBench
