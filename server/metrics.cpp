#include "metrics.h"

#include "sessionmanager.h"

#include <QDir>
#include <QFile>

#include <unistd.h>

#include <atomic>

// QtCore's table of debugging hooks (qhooks_p.h, not installed with the public headers).
extern Q_CORE_EXPORT quintptr qtHookData[];

namespace Omw {

QString channelKindName(Metrics::ChannelKind kind)
{
    switch (kind) {
    case Metrics::Onboarding:
        return QStringLiteral("onboarding");
    case Metrics::Tracking:
        return QStringLiteral("tracking");
    case Metrics::Following:
        return QStringLiteral("following");
    case Metrics::Dispatch:
        return QStringLiteral("dispatch");
    case Metrics::ChannelKindCount:
        break;
    }
    return QString();
}

namespace {

class PrometheusWriter
{
public:
    void family(const char *name, const char *type, const char *help)
    {
        m_text
            += QByteArray("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n';
    }
    void sample(const char *name, double value, const QByteArray &labels = QByteArray())
    {
        m_text += name;
        if (!labels.isEmpty()) {
            m_text += '{' + labels + '}';
        }
        m_text += ' ' + QByteArray::number(value, 'g', 15) + '\n';
    }
    void metric(const char *name, const char *type, const char *help, double value)
    {
        family(name, type, help);
        sample(name, value);
    }
    QByteArray text() const { return m_text; }

private:
    QByteArray m_text;
};

QByteArray label(const char *name, const QString &value)
{
    return QByteArray(name) + "=\"" + value.toUtf8() + '"';
}

qint64 residentMemoryBytes()
{
    QFile statm(QStringLiteral("/proc/self/statm"));
    if (!statm.open(QIODevice::ReadOnly)) {
        return -1;
    }
    const QList<QByteArray> fields = statm.readAll().split(' ');
    return fields.size() > 1 ? fields.at(1).toLongLong() * sysconf(_SC_PAGESIZE) : -1;
}

// Live QObjects, counted through the add and remove hooks that QtCore exports for debugging
// tools (qtHookData, indices 3 and 4 in Qt 6; the layout is private API and versioned by
// qtHookData[0]). The hooks are installed when this file's static objects are initialised, before
// main(), so the count misses only objects created earlier, of which there are none in
// omw-server. It lets leak tests compare the number before and after a load.
class QObjectCounter
{
public:
    QObjectCounter()
    {
        s_previousAdd = reinterpret_cast<Callback>(qtHookData[addQObjectHook]);
        s_previousRemove = reinterpret_cast<Callback>(qtHookData[removeQObjectHook]);
        qtHookData[addQObjectHook] = reinterpret_cast<quintptr>(&QObjectCounter::added);
        qtHookData[removeQObjectHook] = reinterpret_cast<quintptr>(&QObjectCounter::removed);
    }
    static qint64 count() { return s_count.load(std::memory_order_relaxed); }

private:
    using Callback = void (*)(QObject *);
    static constexpr int addQObjectHook = 3;
    static constexpr int removeQObjectHook = 4;

    static void added(QObject *object)
    {
        s_count.fetch_add(1, std::memory_order_relaxed);
        if (s_previousAdd) {
            s_previousAdd(object);
        }
    }
    static void removed(QObject *object)
    {
        s_count.fetch_sub(1, std::memory_order_relaxed);
        if (s_previousRemove) {
            s_previousRemove(object);
        }
    }

    static inline std::atomic<qint64> s_count {0};
    static inline Callback s_previousAdd = nullptr;
    static inline Callback s_previousRemove = nullptr;
};

const QObjectCounter qobjectCounter;

} // namespace

QByteArray Metrics::toPrometheus(const SessionManager &sessions) const
{
    PrometheusWriter out;
    out.metric("omw_connections", "gauge", "Open WebSocket connections.", double(connections));
    out.metric("omw_qobjects", "gauge", "Live QObjects in the server process.",
               double(QObjectCounter::count()));
    out.metric("omw_connections_accepted_total", "counter",
               "WebSocket connections accepted since the start.", double(connectionsAccepted));
    out.metric("omw_connections_rejected_total", "counter",
               "Connections rejected before the upgrade (connection cap, unsupported vsn, Origin "
               "not allowed).",
               double(connectionsRejected));

    out.family("omw_channels", "gauge", "Joined channels, by kind.");
    for (int kind = 0; kind < ChannelKindCount; ++kind) {
        out.sample("omw_channels", double(channels[size_t(kind)]),
                   label("kind", channelKindName(ChannelKind(kind))));
    }

    out.family("omw_rides", "gauge", "Rides, by state.");
    out.sample("omw_rides", sessions.sessionCount(Session::State::Live),
               label("state", QStringLiteral("live")));
    out.sample("omw_rides", sessions.sessionCount(Session::State::Offline),
               label("state", QStringLiteral("offline")));
    out.metric("omw_ride_names_reserved", "gauge",
               "Reserved ride names: unclaimed onboarding names and recently ended rides.",
               sessions.reservationCount());
    out.metric("omw_rides_started_total", "counter", "Rides started since the start.",
               double(ridesStarted));
    out.family("omw_rides_ended_total", "counter", "Rides ended, by reason.");
    for (const EndReason reason : {EndReason::RiderLeft, EndReason::GraceExpired,
                                   EndReason::Inactivity, EndReason::MaxDuration}) {
        const QString name = endReasonName(reason);
        out.sample("omw_rides_ended_total", double(ridesEnded.value(name)), label("reason", name));
    }

    out.metric("omw_frames_received_total", "counter", "Text frames received.",
               double(framesReceived));
    out.metric("omw_frames_sent_total", "counter",
               "Text frames sent; a broadcast counts once per recipient.", double(framesSent));
    out.metric("omw_heartbeats_total", "counter", "Heartbeats answered.", double(heartbeats));
    out.metric("omw_messages_rate_limited_total", "counter",
               "Messages dropped for exceeding a connection's message rate.",
               double(messagesRateLimited));

    out.metric("omw_positions_accepted_total", "counter", "Positions accepted and broadcast.",
               double(positionsAccepted));
    out.metric("omw_positions_repeated_total", "counter",
               "Exact repeats of the current position, acknowledged and not broadcast.",
               double(positionsRepeated));
    out.family("omw_positions_rejected_total", "counter", "Positions rejected, by reason.");
    for (const Rejection rejection : allRejections()) {
        out.sample("omw_positions_rejected_total", double(positionsRejected.value(rejection)),
                   label("reason", rejectionCode(rejection)));
    }

    out.family("omw_closes_total", "counter", "Closed WebSocket connections, by close code.");
    for (auto it = closesByCode.cbegin(); it != closesByCode.cend(); ++it) {
        out.sample("omw_closes_total", double(it.value()),
                   label("code", QString::number(it.key())));
    }
    out.metric("omw_slow_followers_disconnected_total", "counter",
               "Connections closed because their send queue exceeded --send-queue-limit.",
               double(slowFollowersDisconnected));
    out.metric("omw_follow_joins_rate_limited_total", "counter",
               "Follow joins rejected by the per-address rate (an address over its allowance is "
               "rejected for live rides too).",
               double(followJoinsRateLimited));
    out.metric("omw_http_requests_total", "counter", "Plain HTTP requests (not upgrades).",
               double(httpRequests));

    out.metric("omw_accept_errors_total", "counter",
               "Failures to accept a connection, such as running out of file descriptors; "
               "each pauses accepting for 0.2 s.",
               double(acceptErrors));
    out.metric("omw_process_resident_memory_bytes", "gauge", "Resident memory of the server.",
               double(residentMemoryBytes()));
    out.metric("omw_process_open_fds", "gauge", "Open file descriptors of the server.",
               double(QDir(QStringLiteral("/proc/self/fd")).count()) - 2);
    return out.text();
}

} // namespace Omw
