#pragma once

#include <QObject>

#include <cstdint>
#include <vector>

class QSocketNotifier;

namespace Omw {

// Something with a file descriptor in an EpollDispatcher.
class EpollClient
{
public:
    virtual void handleEvents(std::uint32_t events) = 0;

protected:
    ~EpollClient() = default;
};

// One epoll set for every plain connection, woken through a single QSocketNotifier on the epoll
// descriptor. Qt's own event dispatchers poll every socket notifier on each pass, which costs
// O(connections) per pass; epoll costs O(ready sockets).
class EpollDispatcher : public QObject
{
    Q_OBJECT

public:
    explicit EpollDispatcher(QObject *parent = nullptr);
    ~EpollDispatcher() override;

    bool isValid() const { return m_epoll >= 0; }
    QString errorString() const { return m_errorString; }

    bool add(int fd, std::uint32_t events, EpollClient *client);
    bool modify(int fd, std::uint32_t events, EpollClient *client);
    void remove(int fd);

    // Deletes `object` after the current batch of events, so that no later event of the same
    // batch reaches a deleted client.
    template<typename T> void retire(T *object)
    {
        m_retired.push_back({object, [](void *p) {
                                 delete static_cast<T *>(p);
                             }});
        if (!m_dispatching) {
            deleteRetired();
        }
    }

private:
    void dispatch();
    void deleteRetired();

    struct Retired
    {
        void *object;
        void (*destroy)(void *);
    };

    int m_epoll = -1;
    QSocketNotifier *m_notifier = nullptr;
    std::vector<Retired> m_retired;
    bool m_dispatching = false;
    QString m_errorString;
};

} // namespace Omw
