#include "epolldispatcher.h"

#include "logging.h"

#include <QSocketNotifier>

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <unistd.h>

namespace Omw {

EpollDispatcher::EpollDispatcher(QObject *parent) : QObject(parent)
{
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    if (m_epoll < 0) {
        m_errorString = QString::fromLocal8Bit(std::strerror(errno));
        qCCritical(lcServer).noquote() << "cannot create an epoll set:" << m_errorString;
        return;
    }
    m_notifier = new QSocketNotifier(m_epoll, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &EpollDispatcher::dispatch);
}

EpollDispatcher::~EpollDispatcher()
{
    deleteRetired();
    if (m_epoll >= 0) {
        ::close(m_epoll);
    }
}

bool EpollDispatcher::add(int fd, std::uint32_t events, EpollClient *client)
{
    epoll_event event {};
    event.events = events;
    event.data.ptr = client;
    return ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event) == 0;
}

bool EpollDispatcher::modify(int fd, std::uint32_t events, EpollClient *client)
{
    epoll_event event {};
    event.events = events;
    event.data.ptr = client;
    return ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &event) == 0;
}

void EpollDispatcher::remove(int fd)
{
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
}

void EpollDispatcher::dispatch()
{
    constexpr int batchSize = 256;
    epoll_event events[batchSize];
    // A few batches per wake-up, then back to the Qt event loop so that timers and the
    // listening socket get their turn under load.
    for (int round = 0; round < 8; ++round) {
        const int count = ::epoll_wait(m_epoll, events, batchSize, 0);
        if (count < 0) {
            if (errno != EINTR) {
                qCWarning(lcServer).noquote()
                    << "epoll_wait failed:" << QString::fromLocal8Bit(std::strerror(errno));
            }
            return;
        }
        m_dispatching = true;
        for (int i = 0; i < count; ++i) {
            static_cast<EpollClient *>(events[i].data.ptr)->handleEvents(events[i].events);
        }
        m_dispatching = false;
        deleteRetired();
        if (count < batchSize) {
            return;
        }
    }
}

void EpollDispatcher::deleteRetired()
{
    std::vector<Retired> retired;
    retired.swap(m_retired);
    for (const Retired &item : retired) {
        item.destroy(item.object);
    }
}

} // namespace Omw
